"""Benchmark: all multipliers and the four footprint accounts, Commonplan vs pymrio ``calc_all``.

A realistic random multi-regional table (default 49 regions × 200 sectors = 9,800
products, like EXIOBASE's 49 regions) with three accounts is generated once; each tool
then runs in its own fresh subprocess from the same flows:

* pymrio (the peer): ``IOSystem(Z, Y, x)`` + one extension with ``F`` (3 accounts),
  ``calc_all()`` (dense ``A``, dense inverse ``L``, ``M``, ``D_cba/pba/imp/exp`` and their
  ``_reg``). It runs at its best configuration: OpenBLAS picks its own kernels (the
  ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` variables are removed from its environment
  if set) and uses all its threads.
* plain SciPy (a baseline beside the peer): ``scipy.sparse.linalg.gmres`` on the same
  right-hand sides Commonplan solves (``(I − A)ᵀ`` for each account restricted to each
  region and for the output multipliers, ``I − A`` for each region's final demand), one
  call per right-hand side, relative residual 1e-12.
* Commonplan: ``Economy.from_flows`` (sparse, validated) + ``footprints`` (``M`` and all
  ``D_*``) + Type I output multipliers, with the default solver (``LeontiefSolver(economy)``,
  relative residual ≤ 1e-12 per right-hand side).

Each is repeated (``--repeats``, pymrio ``--peer-repeats``) and the median and spread
are printed, with the machine's BLAS kernels and threads (threadpoolctl). It prints
memory (the growth of the peak resident set during the computation above the resident
set once the inputs are loaded — Linux ``VmHWM`` after resetting it through
``/proc/self/clear_refs`` — and the process's overall peak resident set), the ratios of
medians, and the largest relative difference between the two results (``D_*_reg`` and
``M``). No tracing is active while timing.

Table generator: per region, domestic blocks are denser (25 % of cells) than import
blocks (1 %); the number of cells is fixed, values uniform; column sums of ``A`` are
drawn in [0.3, 0.7] with 15–35 % of inputs imported, so the spectral radius is well
below 1; final demand: three categories per region, 85 % of it for domestic products.

Usage: ``python benchmarks/bench_multipliers.py [--size 49x200] [--seed 0] [--repeats 5]``
(``--size 10x50`` runs in seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import Timing, describe_machine, peer_environment  # noqa: E402

TARGET = 25.0
"""Speed-up over pymrio ``calc_all`` (ratio of medians) this benchmark is meant to show."""


def generate(regions: int, sectors: int, seed: int = 0):
    """A random MRIO (sparse A, final demand Y, accounts coefficients S); see module docstring."""
    rng = np.random.default_rng(seed)
    n = regions * sectors
    region_of = np.repeat(np.arange(regions), sectors)
    rows_list, cols_list = [], []
    for r in range(regions):  # generation only (not timed): one block-column per region
        cols = np.arange(r * sectors, (r + 1) * sectors)
        dom = rng.random((sectors, sectors)) < 0.25
        i, j = np.nonzero(dom)
        rows_list.append(r * sectors + i)
        cols_list.append(cols[j])
        k = int(0.01 * sectors * (n - sectors))
        foreign = rng.choice(n - sectors, size=k, replace=True)
        foreign = np.where(foreign >= r * sectors, foreign + sectors, foreign)
        rows_list.append(foreign)
        cols_list.append(rng.choice(cols, size=k))
    rows = np.concatenate(rows_list)
    cols = np.concatenate(cols_list)
    values = rng.random(rows.size)
    domestic = region_of[rows] == region_of[cols]
    A = sp.csr_array((values, (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    coo = A.tocoo()
    dom = region_of[coo.row] == region_of[coo.col]
    total = rng.uniform(0.3, 0.7, n)
    import_share = rng.uniform(0.15, 0.35, n)
    dom_sum = np.bincount(coo.col[dom], weights=coo.data[dom], minlength=n)
    for_sum = np.bincount(coo.col[~dom], weights=coo.data[~dom], minlength=n)
    scale = np.where(
        dom,
        total[coo.col] * (1 - import_share[coo.col]) / np.maximum(dom_sum[coo.col], 1e-300),
        total[coo.col] * import_share[coo.col] / np.maximum(for_sum[coo.col], 1e-300),
    )
    A = sp.csr_array((coo.data * scale, (coo.row, coo.col)), shape=(n, n))
    del domestic
    categories = 3
    Y = rng.random((n, regions * categories)) * 0.15 / regions
    for r in range(regions):
        Y[r * sectors : (r + 1) * sectors, r * categories : (r + 1) * categories] = rng.random(
            (sectors, categories)
        )
    Y *= rng.lognormal(0, 1, n)[:, None] * 100.0
    S = rng.random((3, n)) * np.array([[1.0], [0.3], [5.0]])
    return A, Y, S


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak_rss() -> int:
    """Reset the peak resident set (Linux clear_refs "5") and return the current one, bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _peak_rss() -> int:
    return _status("VmHWM")


def _labels(data):
    import pandas as pd

    regions, sectors, categories = (int(v) for v in data["shape"])
    products = pd.MultiIndex.from_product(
        [[f"R{r:02d}" for r in range(regions)], [f"s{s:03d}" for s in range(sectors)]],
        names=["region", "sector"],
    )
    fd_cols = pd.MultiIndex.from_product(
        [[f"R{r:02d}" for r in range(regions)], [f"c{c}" for c in range(categories)]],
        names=["region", "category"],
    )
    return products, fd_cols


def _flows(data) -> sp.csr_array:
    n = data["x"].size
    return sp.csr_array((data["Z_data"], data["Z_indices"], data["Z_indptr"]), shape=(n, n))


def _run_pymrio(path: str, repeats: int) -> dict:
    import pandas as pd
    import pymrio

    data = np.load(path)
    products, fd_cols = _labels(data)
    n = len(products)
    Z = pd.DataFrame(_flows(data).toarray(), index=products, columns=products)
    Y = pd.DataFrame(data["Y"], index=products, columns=fd_cols)
    x = pd.DataFrame({"indout": data["x"]}, index=products)
    F = pd.DataFrame(
        data["F"], index=pd.Index(["a0", "a1", "a2"], name="stressor"), columns=products
    )
    del data
    runs, cpus, peak = [], [], 0
    for _ in range(repeats):  # a fresh IOSystem each time (calc_all keeps what it computed)
        io = pymrio.IOSystem(Z=Z.copy(), Y=Y, x=x)
        io.ext = pymrio.Extension(name="ext", F=F)
        base = _reset_peak_rss()
        start, cpu = time.perf_counter(), time.process_time()
        io.calc_all()
        runs.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        peak = max(peak, _peak_rss() - base)
    result = {
        name: getattr(io.ext, name).to_numpy().tolist()
        for name in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg")
    }
    result["M"] = io.ext.M.to_numpy()[:, :: max(1, n // 500)].tolist()
    return {"runs": runs, "cpu": float(np.median(cpus)), "peak_bytes": peak, "result": result}


def _run_scipy(path: str, repeats: int) -> dict:
    """Plain SciPy: one ``gmres`` call per right-hand side of Commonplan's footprint solves."""
    from scipy.sparse.linalg import gmres

    data = np.load(path)
    regions, sectors, categories = (int(v) for v in data["shape"])
    n = regions * sectors
    x = data["x"]
    A = sp.csr_array(_flows(data) @ sp.diags_array(1.0 / x))
    S = data["F"] / x
    Yr = data["Y"].reshape(n, regions, categories).sum(axis=2)
    codes = np.repeat(np.arange(regions), sectors)
    identity = sp.identity(n, format="csr")
    system, transposed = sp.csr_array(identity - A), sp.csr_array(identity - A.T)
    right = [(transposed, np.ones(n))]
    for a in range(S.shape[0]):
        for r in range(regions):
            right.append((transposed, np.where(codes == r, S[a], 0.0)))
    right += [(system, Yr[:, r]) for r in range(regions)]
    runs, worst, failed = [], 0.0, 0
    for _ in range(repeats):
        start = time.perf_counter()
        answers = [gmres(M, b, rtol=1e-12, atol=0.0, restart=40, maxiter=1000) for M, b in right]
        runs.append(time.perf_counter() - start)
    for (M, b), (solution, info) in zip(right, answers, strict=True):
        failed += info != 0
        worst = max(worst, float(np.linalg.norm(b - M @ solution) / np.linalg.norm(b)))
    return {"runs": runs, "n_rhs": len(right), "failed": failed, "worst_residual": worst}


def _run_commonplan(path: str, repeats: int) -> dict:
    import pandas as pd

    from commonplan import Economy
    from commonplan.analysis import LeontiefSolver, footprints, output_multipliers

    data = np.load(path)
    products, fd_cols = _labels(data)
    n = len(products)
    Z = _flows(data)
    Y = pd.DataFrame(data["Y"], index=products, columns=fd_cols)
    x = data["x"]
    F = pd.DataFrame(data["F"], index=["a0", "a1", "a2"], columns=products)
    del data
    base = _reset_peak_rss()
    runs, cpus = [], []
    for _ in range(repeats):  # the whole computation from flows, repeated
        start, cpu = time.perf_counter(), time.process_time()
        economy = Economy.from_flows(Z, Y, x, accounts=F, products=products)
        solver = LeontiefSolver(economy)
        result_fp = footprints(economy, solver=solver)
        output_multipliers(economy, solver=solver)
        runs.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    peak = _peak_rss() - base
    result = {
        name: getattr(result_fp, name).to_numpy().tolist()
        for name in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg")
    }
    result["M"] = result_fp.M.to_numpy()[:, :: max(1, n // 500)].tolist()
    return {
        "runs": runs,
        "cpu": float(np.median(cpus)),
        "peak_bytes": peak,
        "result": result,
        "solver": solver.method,
    }


RUNNERS = {"pymrio": _run_pymrio, "scipy": _run_scipy, "commonplan": _run_commonplan}


def _child(tool: str, path: str, out: str, repeats: str) -> None:
    import resource

    outcome = RUNNERS[tool](path, int(repeats))
    outcome["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    Path(out).write_text(json.dumps(outcome))


def _spawn(tool: str, path: str, folder: str, repeats: int) -> dict:
    out = os.path.join(folder, f"{tool}.json")
    command = [sys.executable, __file__, "--child", tool, path, out, str(repeats)]
    environment = peer_environment() if tool == "pymrio" else None
    subprocess.run(command, check=True, env=environment)
    return json.loads(Path(out).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size", default="49x200", help="REGIONSxSECTORS (default 49x200 = 9,800 products)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="runs of Commonplan and SciPy")
    parser.add_argument("--peer-repeats", type=int, default=3, help="runs of pymrio (minutes each)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    regions, sectors = (int(v) for v in args.size.lower().split("x"))
    n = regions * sectors
    print(f"bench_multipliers: {regions} regions × {sectors} sectors = {n:,} products, 3 accounts")
    print(describe_machine())
    A, Y, S = generate(regions, sectors, args.seed)
    from commonplan.analysis import LeontiefSolver

    x = LeontiefSolver(A, tol=1e-13).solve(Y.sum(axis=1))
    Z = sp.csr_array(A @ sp.diags_array(x))
    F = S * x
    print(
        f"  A: {A.nnz:,} non-zeros ({A.nnz / n:.0f} per column), column sums {A.sum(axis=0).min():.2f}–{A.sum(axis=0).max():.2f}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "table.npz")
        np.savez(
            path,
            Z_data=Z.data,
            Z_indices=Z.indices,
            Z_indptr=Z.indptr,
            Y=Y,
            x=x,
            F=F,
            shape=np.array([regions, sectors, Y.shape[1] // regions]),
        )
        ours = _spawn("commonplan", path, folder, args.repeats)
        plain = _spawn("scipy", path, folder, args.repeats)
        print("  commonplan and scipy done; running pymrio (minutes at full size) …", flush=True)
        theirs = _spawn("pymrio", path, folder, args.peer_repeats)
    worst = 0.0
    for name in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg", "M"):
        a, b = np.asarray(ours["result"][name]), np.asarray(theirs["result"][name])
        worst = max(
            worst,
            float((np.abs(a - b) / np.maximum(np.abs(b), 1e-300 + 1e-12 * np.abs(b).max())).max()),
        )
    mib = 1024**2
    t_ours, t_plain, t_theirs = (Timing(tuple(r["runs"])) for r in (ours, plain, theirs))
    print(
        f"  commonplan ({ours['solver']}): {t_ours}; CPU {ours['cpu']:.2f} s; "
        f"peak RSS growth {ours['peak_bytes'] / mib:.0f} MiB, peak RSS {ours['maxrss_bytes'] / mib:.0f} MiB"
    )
    print(
        f"  plain SciPy gmres ({plain['n_rhs']} right-hand sides, {plain['failed']} not converged, "
        f"worst residual {plain['worst_residual']:.1e}): {t_plain}"
    )
    print(
        f"  pymrio calc_all: {t_theirs}; CPU {theirs['cpu']:.2f} s; "
        f"peak RSS growth {theirs['peak_bytes'] / mib:.0f} MiB, peak RSS {theirs['maxrss_bytes'] / mib:.0f} MiB"
    )
    speedup = t_theirs.median / t_ours.median
    verdict = "met" if speedup >= TARGET else "NOT met"
    print(
        f"  speed-up over pymrio (ratio of medians): {speedup:.1f}× (target ≥ {TARGET:g}×: {verdict}); "
        f"over plain SciPy gmres {t_plain.median / t_ours.median:.1f}×; "
        f"CPU time ratio {theirs['cpu'] / ours['cpu']:.1f}×"
    )
    print(
        f"  memory ratio (commonplan / pymrio peak RSS growth during the computation): "
        f"{ours['peak_bytes'] / theirs['peak_bytes']:.3f}   (target ≤ 0.25)"
    )
    print(
        f"  memory ratio (commonplan / pymrio peak RSS of the whole process): "
        f"{ours['maxrss_bytes'] / theirs['maxrss_bytes']:.3f}"
    )
    print(f"  largest relative difference in M and D_*_reg: {worst:.2e}")


if __name__ == "__main__":
    main()
