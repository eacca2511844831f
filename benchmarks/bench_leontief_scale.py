"""Benchmark: Leontief quantities and labour values at 10⁴, 10⁵ and 10⁶ products.

The figure is the time per solve divided by the time of one sparse matrix–vector
product ``A @ v`` on the same matrix (the peer measurement, run in the same process):
the number of "matvec equivalents" a solve costs. Target ≤ 25. Commonplan's
:class:`~commonplan.linalg.LeontiefSolver` (GMRES on the sparse matrix with a degree-2
Neumann-series preconditioner at these sizes; nothing dense, nothing factorised) solves

* quantities ``x = (I − A)⁻¹ y`` and
* labour values ``λ = l (I − A)⁻¹`` (the transposed system),

each to a relative residual ‖b − (I − A)x‖₂/‖b‖₂ ≤ 1e-10, checked by the solver. The
residual reached, the number of GMRES steps and of products with ``A`` are printed, and
times are medians of several runs (with their spread).

Two kinds of test matrix, both with a skewed number of inputs per product (log-normal,
mean ≈ 40, at least 1):

* ``easy``: inputs drawn uniformly from all products, column sums of ``A`` in [0.3, 0.7].
  Such a random matrix has one Perron root (the average column sum) and all its other
  eigenvalues in a small disk around 0 (radius about the column sum over the square
  root of the inputs per product, ≈ 0.1), so GMRES gains a factor of about ten per
  product with ``A`` and needs the same handful of steps (7 at 1e-10) at every size.
  Real tables are harder.
* ``regional``: products grouped in regions of 200 sectors, 85 % of each product's
  inputs from its own region, column sums in [0.75, 0.95] (spectral radius close to 1,
  as in tables with much intermediate use). Each region's block has its own near-Perron
  eigenvalue, so the spectrum has one outlier per region, as in a multi-regional table:
  GMRES needs several times more steps.

Usage: ``python benchmarks/bench_leontief_scale.py [--sizes 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe_machine, timed  # noqa: E402

from commonplan.linalg import LeontiefSolver  # noqa: E402

TARGET = 25.0
"""Largest accepted cost of one solve, in products ``A @ v``."""
REGION_SIZE = 200
DOMESTIC_SHARE = 0.85


def generate(n: int, kind: str = "easy", mean_inputs: float = 40.0, seed: int = 0) -> sp.csr_array:
    """Sparse ``A`` of the given kind (see the module documentation)."""
    rng = np.random.default_rng(seed)
    sigma = 1.0
    inputs = rng.lognormal(np.log(mean_inputs) - sigma**2 / 2, sigma, n)
    inputs = np.clip(np.rint(inputs), 1, n).astype(np.int64)
    cols = np.repeat(np.arange(n, dtype=np.int64), inputs)
    rows = rng.integers(0, n, cols.size)
    low, high = (0.3, 0.7) if kind == "easy" else (0.75, 0.95)
    if kind == "regional":
        domestic = rng.random(cols.size) < DOMESTIC_SHARE
        start = (cols // REGION_SIZE) * REGION_SIZE
        width = np.minimum(REGION_SIZE, n - start)
        rows = np.where(domestic, start + rng.integers(0, 1 << 30, cols.size) % width, rows)
    values = rng.random(cols.size)
    sums = np.bincount(cols, weights=values, minlength=n)
    values *= rng.uniform(low, high, n)[cols] / sums[cols]
    A = sp.csr_array((values, (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    return A


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["easy", "regional"])
    parser.add_argument("--tol", type=float, default=1e-10)
    args = parser.parse_args()
    print(
        f"bench_leontief_scale: relative residual ≤ {args.tol:g}; figure = median time per solve / "
        f"median time of one A @ v (target ≤ {TARGET:g})"
    )
    print(describe_machine())
    rng = np.random.default_rng(1)
    cells = met = 0
    for kind in args.kinds:
        for n in args.sizes:
            A = generate(n, kind)
            y = rng.random(n) * 100.0
            labour = rng.random(n)
            v = rng.random(n)
            repeats = 20 if n <= 100_000 else 5
            matvec = timed(lambda: A @ v, repeats * 5)  # noqa: B023 - used at once
            solver = LeontiefSolver(A, tol=args.tol)
            solver.solve_transpose(labour)  # builds the CSR transpose once (set-up, not per solve)
            print(
                f"  {kind:<8} n = {n:>9,}  nnz = {A.nnz:>11,} ({A.nnz / n:.1f}/product, "
                f"max {np.diff(A.tocsc().indptr).max()}), method {solver.method}; A @ v: {matvec}"
            )
            for label, function, b in (
                ("quantities", solver.solve, y),
                ("labour values", solver.solve_transpose, labour),
            ):
                timing = timed(lambda f=function, b=b: f(b), max(3, repeats // 2))
                report = solver.last_report
                figure = timing.median / matvec.median
                cells += 1
                met += figure <= TARGET
                print(
                    f"      {label:<14} {timing.median * 1e3:9.1f} ms = {figure:5.1f} matvecs "
                    f"({'met' if figure <= TARGET else 'NOT met'}; spread {timing.spread:.0%}; "
                    f"{report.iterations} GMRES steps, {report.matvecs} products with A, "
                    f"residual {report.max_relative_residual:.1e})"
                )
    print(f"  target ≤ {TARGET:g} matvecs per solve met in {met} of {cells} cells")


if __name__ == "__main__":
    main()
