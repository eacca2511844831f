"""Benchmark: no size threshold makes the next size up hundreds of times faster.

Every Leontief solve goes through one kernel, :class:`commonplan.linalg.LeontiefSolver`,
which factorises densely up to ``DENSE_LIMIT`` products when ``n³ ≤ DENSE_WORK_RATIO ·
nnz(A)`` and runs block GMRES otherwise. This benchmark times, on both sides of the
size where that rule switches for the test matrices, of ``DENSE_LIMIT`` itself (until
issue 14 a plain size threshold: dense LU up to 2,000 products, GMRES above), and of
the former thresholds of the other solvers
(``Economy.from_coefficients`` used SuperLU below 5,000 products and GMRES above; the
structured planner SuperLU up to 4,000 and BiCGSTAB above):

* ``LeontiefSolver(A)`` set-up plus one quantity solve, and set-up plus 64 right-hand
  sides (the dense method's best case: one factorisation, many cheap solves);
* ``Economy.from_coefficients(A, y)`` (validation and the output solve ``x = L y``);
* ``solve(PlanProblem.build(economy, objective="min_resource", ...), method="structured")``.

Test matrices: ``n`` products, each with exactly ``--inputs`` (default 40) inputs drawn
uniformly, column sums of ``A`` in [0.3, 0.7]. For every pair of neighbouring sizes
``(n, n + 1)`` across a threshold it prints the ratio of their median times; the verdict
is true when no ratio exceeds 10 (same order of magnitude on both sides).

Usage: ``python benchmarks/bench_thresholds.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe_machine, timed  # noqa: E402

from commonplan import Economy  # noqa: E402
from commonplan.analysis import DENSE_LIMIT, LeontiefSolver  # noqa: E402

try:  # the dense/GMRES work rule (absent before issue 14: then DENSE_LIMIT alone decided)
    from commonplan.linalg import DENSE_WORK_RATIO  # noqa: E402
except ImportError:
    DENSE_WORK_RATIO = None
from commonplan.planning import PlanProblem, solve  # noqa: E402

SAME_ORDER = 10.0
"""Largest accepted ratio between the times of neighbouring sizes across a threshold."""
FORMER_THRESHOLDS = {"from_coefficients": (4999, 5000), "structured": (4000, 4001)}


def generate(n: int, inputs: int = 40, seed: int = 0) -> sp.csr_array:
    """``A`` with ``inputs`` random inputs per product and column sums in [0.3, 0.7]."""
    rng = np.random.default_rng(seed)
    k = min(inputs, n)
    cols = np.repeat(np.arange(n), k)
    rows = rng.integers(0, n, cols.size)
    A = sp.csr_array((rng.random(cols.size), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    sums = np.asarray(A.sum(axis=0)).ravel()
    return sp.csr_array(A @ sp.diags_array(rng.uniform(0.3, 0.7, n) / sums))


def _dense_switch(inputs: int) -> int:
    """Largest size of these test matrices that ``method="auto"`` still factorises densely."""
    n = int((DENSE_WORK_RATIO * inputs) ** 0.5) + 1  # n³ ≈ ratio · inputs · n at the switch
    while LeontiefSolver(generate(n, inputs)).method != "dense":
        n -= 1
    return n


def cases(n: int, inputs: int):
    """The timed operations at size ``n``: name → zero-argument function."""
    rng = np.random.default_rng(n)
    A = generate(n, inputs)
    y = rng.random(n) * 100.0
    B = rng.random((n, 64))
    labour = rng.random(n)
    economy = Economy.from_coefficients(A.copy(), y, accounts={"labour": labour})
    problem = PlanProblem.build(
        economy, target_share=1.0, objective="min_resource", resource="labour"
    )
    return {
        "solver, 1 rhs": lambda: LeontiefSolver(A).solve(y),
        "solver, 64 rhs": lambda: LeontiefSolver(A).solve(B),
        "from_coefficients": lambda: Economy.from_coefficients(
            A.copy(), y, accounts={"labour": labour}
        ),
        "structured": lambda: solve(problem, method="structured"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inputs", type=int, default=40)
    args = parser.parse_args()
    print("bench_thresholds: median wall time on both sides of each size threshold")
    print(describe_machine())
    pairs = [(DENSE_LIMIT, DENSE_LIMIT + 1), *FORMER_THRESHOLDS.values()]
    if DENSE_WORK_RATIO is not None:
        pairs.insert(0, (switch := _dense_switch(args.inputs), switch + 1))
    sizes = sorted({n for pair in pairs for n in pair})
    medians: dict[tuple[str, int], float] = {}
    for n in sizes:
        for name, function in cases(n, args.inputs).items():
            function()  # warm-up (imports, caches)
            timing = timed(function, args.repeats)
            medians[name, n] = timing.median
            method = LeontiefSolver(generate(n, args.inputs)).method
            print(f"  n = {n:>5} ({method:<5})  {name:<18} {timing}")
    worst = 1.0
    print(f"  ratio of neighbouring sizes (slower / faster; same order if ≤ {SAME_ORDER:g}):")
    for below, above in pairs:
        for name in ("solver, 1 rhs", "solver, 64 rhs", "from_coefficients", "structured"):
            a, b = medians[name, below], medians[name, above]
            ratio = max(a, b) / min(a, b)
            worst = max(worst, ratio)
            faster = f"{above} faster" if b < a else f"{below} faster"
            print(f"    {below:>5} | {above:<5} {name:<18} {ratio:7.1f}×  ({faster})")
    verdict = "no cliff" if worst <= SAME_ORDER else "CLIFF"
    print(f"  largest ratio {worst:.1f}× (DENSE_LIMIT = {DENSE_LIMIT}): {verdict}")


if __name__ == "__main__":
    main()
