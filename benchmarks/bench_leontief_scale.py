"""Benchmark: Leontief quantities and labour values at 10⁴, 10⁵ and 10⁶ products.

For each size a random sparse economy is generated with a skewed number of inputs per
product (log-normal, mean ≈ 40, at least 1) and column sums of ``A`` drawn in
[0.3, 0.7] (spectral radius well below 1, as in real tables). Commonplan's
:class:`~commonplan.analysis.LeontiefSolver` (default method for these sizes: GMRES on
the sparse matrix with a degree-2 Neumann-series preconditioner; nothing dense, nothing
factorised) then solves

* quantities ``x = (I − A)⁻¹ y`` and
* labour values ``λ = l (I − A)⁻¹`` (the transposed system),

each to a relative residual ‖b − (I − A)x‖₂/‖b‖₂ ≤ 1e-10, checked by the solver. The
figure is the time per solve divided by the time of one sparse matrix–vector product
``A @ v`` on the same matrix (the peer measurement, run in the same process): the
number of "matvec equivalents" a solve costs. Target ≤ 25. The residual reached, the
number of GMRES steps and of products with ``A`` are printed too. Timings are the best
of several runs, for the solves and for the product alike.

Usage: ``python benchmarks/bench_leontief_scale.py [--sizes 10000 100000 1000000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from commonplan.analysis import LeontiefSolver


def generate(n: int, mean_inputs: float = 40.0, seed: int = 0) -> sp.csr_array:
    """Sparse A with log-normal inputs per product (mean ≈ mean_inputs) and column sums in [0.3, 0.7]."""
    rng = np.random.default_rng(seed)
    sigma = 1.0
    inputs = rng.lognormal(np.log(mean_inputs) - sigma**2 / 2, sigma, n)
    inputs = np.clip(np.rint(inputs), 1, n).astype(np.int64)
    cols = np.repeat(np.arange(n, dtype=np.int64), inputs)
    rows = rng.integers(0, n, cols.size)
    values = rng.random(cols.size)
    sums = np.bincount(cols, weights=values, minlength=n)
    values *= rng.uniform(0.3, 0.7, n)[cols] / sums[cols]
    A = sp.csr_array((values, (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    return A


def best_of(function, argument, repeats: int) -> float:
    """Shortest of ``repeats`` timings of ``function(argument)``, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--tol", type=float, default=1e-10)
    args = parser.parse_args()
    print(
        f"bench_leontief_scale: relative residual ≤ {args.tol:g}; figure = time per solve / time of one A @ v"
    )
    rng = np.random.default_rng(1)
    for n in args.sizes:
        A = generate(n)
        y = rng.random(n) * 100.0
        labour = rng.random(n)
        v = rng.random(n)
        repeats = 20 if n <= 100_000 else 5
        matvec = best_of(A.__matmul__, v, repeats * 5)
        solver = LeontiefSolver(A, tol=args.tol)
        solver.solve_transpose(labour)  # builds the CSR transpose once (set-up, not per solve)
        quantity_time = best_of(solver.solve, y, max(3, repeats // 2))
        q_report = solver.last_report
        labour_time = best_of(solver.solve_transpose, labour, max(3, repeats // 2))
        l_report = solver.last_report
        print(
            f"  n = {n:>9,}  nnz = {A.nnz:>11,} ({A.nnz / n:.1f}/product, max {np.diff(A.tocsc().indptr).max()})  "
            f"matvec {matvec * 1e3:8.2f} ms"
        )
        for label, seconds, report in (
            ("quantities", quantity_time, q_report),
            ("labour values", labour_time, l_report),
        ):
            print(
                f"      {label:<14} {seconds * 1e3:9.1f} ms = {seconds / matvec:5.1f} matvecs "
                f"(target ≤ 25; {report.iterations} GMRES steps, {report.matvecs} products with A, "
                f"residual {report.max_relative_residual:.1e})"
            )


if __name__ == "__main__":
    main()
