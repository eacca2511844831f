"""Commonplan's planner on the general problems of issue 13, side by side with peers on the same LP.

Problems (``plan_problems.general_problem`` for the random ones):

* ``random-1e3``: 10³ products × 2 techniques × 5 periods, two limited resources, capacities
  and capital stocks per (good, activity);
* ``random-1e4``: the same at 10⁴ products (opt-in: ``--problems random-1e4``);
* ``random-1e6``: 10⁶ products × 1 technique × 1 period, three limited resources and
  capacities (opt-in);
* ``cockshott-uk127``: Cockshott's UK five-year plan, 127 products × 5 years with capital
  stocks (exact optimum 7.6815276);
* ``federation-latam``: ARG, BRA, CHL, COL, CRI, MEX, PER of the ICIO 2022 table planned
  together over 5 periods with capital stocks per (good, activity), the USA cut off.

For each, Commonplan's ``solve(method="auto")`` runs end to end; then the LP it builds
(:func:`~commonplan.planning.model.build_model`) goes to each peer directly: HiGHS dual
simplex, interior point and PDLP (``highspy``), and OR-Tools PDLP where ``ortools`` is
installed. Each run prints its time, the relative optimality gap ``|c·v − dual bound| /
max(1, |c·v|)`` (the dual bound from the returned duals, as the planner certifies), the
relative primal infeasibility (largest row or bound violation over ``max(1, largest finite
bound)``), and its time relative to Commonplan's. A run that stops at its time limit prints
``time limit``.

    .venv/bin/python benchmarks/bench_plan_general.py
    .venv/bin/python benchmarks/bench_plan_general.py --problems random-1e4 --time-limit 600
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _machine import describe_machine
from plan_problems import general_problem

from commonplan.planning import PlanProblem, read_cockshott, solve
from commonplan.planning.model import LinearProgram, build_model
from commonplan.planning.scenarios import TradeAssumptions, trade_problem
from commonplan.planning.solve import dual_objective, run_highs

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
LATAM = ("ARG", "BRA", "CHL", "COL", "CRI", "MEX", "PER")


def _federation() -> PlanProblem:
    from commonplan.io.icio import read_icio_arrays

    table = read_icio_arrays(DATA / "mrio" / "icio2025_y2022_americas11x50.npz")
    return trade_problem(table, list(LATAM), ["USA"], TradeAssumptions(periods=5))


PROBLEMS: dict[str, Callable[[], PlanProblem]] = {
    "random-1e3": lambda: general_problem(1_000, 5),
    "random-1e4": lambda: general_problem(10_000, 5),
    "random-1e6": lambda: general_problem(1_000_000, 1, techniques=1, resources=3, capital=False),
    "cockshott-uk127": lambda: read_cockshott(DATA / "planning" / "cockshott_5yearplan" / "uk_127"),
    "federation-latam": _federation,
}
DEFAULT = ("random-1e3", "cockshott-uk127", "federation-latam")


@dataclass(frozen=True)
class Run:
    """One solver's outcome on one LP (``gap`` and ``infeasibility`` relative, NaN without an answer)."""

    solver: str
    seconds: float
    finished: bool
    objective: float = float("nan")
    gap: float = float("nan")
    infeasibility: float = float("nan")


def _quality(lp: LinearProgram, v: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Objective, relative gap and relative primal infeasibility of primal ``v`` and row duals ``y``."""
    reduced = lp.c - lp.A.T @ y
    primal = float(lp.c @ v)
    gap = abs(primal - dual_objective(lp, v, y, reduced)) / max(1.0, abs(primal))
    activity = lp.A @ v
    violation = max(
        float(np.max(np.maximum(lp.row_lower - activity, activity - lp.row_upper), initial=0.0)),
        float(np.max(np.maximum(lp.col_lower - v, v - lp.col_upper), initial=0.0)),
    )
    bounds = np.concatenate([lp.row_lower, lp.row_upper, lp.col_lower, lp.col_upper])
    scale = max(1.0, float(np.max(np.abs(bounds[np.isfinite(bounds)]), initial=0.0)))
    objective = -primal if lp.maximise else primal
    return objective, gap, violation / scale


def highs_peer(lp: LinearProgram, method: str, time_limit: float) -> Run:
    result = run_highs(lp, method, time_limit=time_limit)
    if result.status != "Optimal":
        return Run(f"HiGHS {method}", result.seconds, False)
    return Run(
        f"HiGHS {method}", result.seconds, True, *_quality(lp, result.col_value, result.row_dual)
    )


def ortools_pdlp(lp: LinearProgram, time_limit: float, tolerance: float = 1e-7) -> Run | None:
    """OR-Tools PDLP on the same LP (``None`` where ``ortools`` is not installed)."""
    try:
        from ortools.pdlp import solve_log_pb2, solvers_pb2
        from ortools.pdlp.python import pdlp
    except ImportError:
        return None
    qp = pdlp.QuadraticProgram()
    qp.objective_vector = lp.c
    qp.constraint_matrix = lp.A.tocsr()
    qp.constraint_lower_bounds = lp.row_lower
    qp.constraint_upper_bounds = lp.row_upper
    qp.variable_lower_bounds = lp.col_lower
    qp.variable_upper_bounds = lp.col_upper
    params = solvers_pb2.PrimalDualHybridGradientParams()
    criteria = params.termination_criteria
    criteria.simple_optimality_criteria.eps_optimal_relative = tolerance
    criteria.simple_optimality_criteria.eps_optimal_absolute = tolerance
    criteria.time_sec_limit = time_limit
    params.num_threads = 1
    start = time.perf_counter()
    result = pdlp.primal_dual_hybrid_gradient(qp, params)
    seconds = time.perf_counter() - start
    if result.solve_log.termination_reason != solve_log_pb2.TERMINATION_REASON_OPTIMAL:
        return Run("OR-Tools PDLP", seconds, False)
    v, y = np.asarray(result.primal_solution), np.asarray(result.dual_solution)
    return Run("OR-Tools PDLP", seconds, True, *_quality(lp, v, y))


def _row(run: Run, reference: float) -> str:
    if not run.finished:
        return f"  {run.solver:<22} {run.seconds:9.2f} {'time limit / no optimum':>44} {run.seconds / reference:8.2f}"
    return (
        f"  {run.solver:<22} {run.seconds:9.2f} {run.objective:16.9g} {run.gap:9.1e} {run.infeasibility:9.1e}"
        f"   {run.seconds / reference:8.2f}"
    )


def bench(name: str, time_limit: float) -> None:
    problem = PROBLEMS[name]()
    start = time.perf_counter()
    try:
        plan = solve(problem, time_limit=time_limit)
    except Exception as error:  # a stop without an answer is a result here
        ours = Run("Commonplan auto", time.perf_counter() - start, False)
        print(f"{name}: Commonplan failed: {type(error).__name__}: {str(error)[:200]}")
    else:
        r = plan.report
        ours = Run(
            f"Commonplan ({r.method})",
            time.perf_counter() - start,
            True,
            r.objective,
            r.relative_gap,
            r.primal_infeasibility,
        )
    lp = build_model(problem)
    print(
        f"\n{name}: {problem.name!r}, LP {lp.n_rows:,} rows × {lp.n_cols:,} columns, {lp.A.nnz:,} non-zeros"
    )
    print(
        f"  {'solver':<22} {'seconds':>9} {'objective':>16} {'rel. gap':>9} {'rel. inf.':>9}   {'× ours':>8}"
    )
    print(_row(ours, ours.seconds), flush=True)
    for method in ("simplex", "ipm", "pdlp"):
        print(_row(highs_peer(lp, method, time_limit), ours.seconds), flush=True)
    peer = ortools_pdlp(lp, time_limit)
    print(
        _row(peer, ours.seconds) if peer else "  OR-Tools PDLP          (ortools not installed)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--problems", default=",".join(DEFAULT), help=f"comma-separated, of {list(PROBLEMS)}"
    )
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per solver run")
    args = parser.parse_args()
    print(describe_machine())
    print(
        f"time limit per run: {args.time_limit:g} s; Commonplan's time is end to end (model build included)"
    )
    for name in args.problems.split(","):
        bench(name, args.time_limit)


if __name__ == "__main__":
    main()
