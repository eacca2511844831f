"""Solve a :class:`PlanProblem`: structured closed forms where they apply, HiGHS otherwise.

``method`` is one of

* ``"auto"`` — the structured solver when the problem has the structure it needs (see
  :mod:`commonplan.planning.structured`) and its answer passes the LP's optimality
  conditions; otherwise HiGHS, by :func:`choose_method`: dual simplex for small models and
  for dense ones, interior point (with crossover to a basic solution) for sparse ones,
  the first-order PDLP method for the largest;
* ``"structured"`` — only the structured solver (an error if the problem lacks the structure);
* ``"simplex"``, ``"ipm"``, ``"pdlp"`` — that HiGHS solver.

A solver that stops without a proven optimum raises :class:`~commonplan.errors.SolverError`;
an infeasible problem raises :class:`~commonplan.errors.InfeasiblePlanError` explaining
which targets and limits conflict.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np

from commonplan.errors import SolverError
from commonplan.planning.model import LinearProgram, build_model, weighted_fulfilment_costs
from commonplan.planning.plan import Plan, Solution, SolveReport
from commonplan.planning.problem import PlanProblem
from commonplan.planning.tolerances import IPM_TOLERANCE_CAP, LEXICOGRAPHIC_SLACK, SOLVER_TOLERANCE

METHODS = ("auto", "structured", "simplex", "ipm", "pdlp")

SIMPLEX_MAX_NNZ = 20_000
"""Non-zeros up to which ``auto`` always uses dual simplex: both methods take under a second
there, and simplex ends on a vertex without a crossover."""

IPM_MAX_NNZ = 5_000_000
"""Non-zeros above which ``auto`` uses PDLP: interior point's factorisations outgrow memory."""

DENSE_NNZ_PER_COLUMN = 20.0
"""Mean non-zeros per column from which a model counts as dense, and ``auto`` keeps dual simplex.

Measured (issue 13, on 2 loaded cores; see ``benchmarks/bench_plan_general.py``): on sparse
random economies (8 inputs per technique, 5–8 non-zeros per column) interior point wins,
e.g. 10³ products × 2 techniques × 5 periods with two resources and capacities: IPM 80 s,
simplex over 97 s; without capacities IPM 5.7 s, simplex 25.7 s; Cockshott's UK 127 × 5
with capital stocks (3 per column): IPM 105 s, simplex over 200 s. On the dense ICIO
federation of seven regions (38 per column) dual simplex wins: 34 s, IPM over 60 s.
"""

#: HiGHS statuses that settle a problem (anything else is a stop without an answer).
PROVEN = (
    "Optimal",
    "Infeasible",
    "Unbounded",
    "Primal infeasible or unbounded",
    "Unbounded or infeasible",
)


@dataclass
class HighsResult:
    """The raw outcome of one HiGHS run."""

    status: str
    col_value: np.ndarray
    row_dual: np.ndarray
    col_dual: np.ndarray
    objective: float
    dual_objective: float
    iterations: int
    primal_infeasibility: float
    dual_infeasibility: float
    seconds: float
    highs: highspy.Highs


def choose_method(lp: LinearProgram) -> str:
    """The HiGHS solver ``auto`` picks for a model of this size and density.

    Simplex up to :data:`SIMPLEX_MAX_NNZ` non-zeros, PDLP above :data:`IPM_MAX_NNZ`; in
    between simplex where the model is dense (:data:`DENSE_NNZ_PER_COLUMN`), interior point
    where it is sparse: there simplex's basis factors of ``I − A`` fill in and its iterations
    grow as n² to n³, whereas interior point needs a few dozen iterations.
    """
    nnz = lp.A.nnz
    if nnz <= SIMPLEX_MAX_NNZ:
        return "simplex"
    if nnz > IPM_MAX_NNZ:
        return "pdlp"
    if nnz >= DENSE_NNZ_PER_COLUMN * max(lp.n_cols, 1):
        return "simplex"
    return "ipm"


def _highs_model(lp: LinearProgram) -> highspy.HighsLp:
    model = highspy.HighsLp()
    model.num_col_ = lp.n_cols
    model.num_row_ = lp.n_rows
    model.col_cost_ = lp.c
    model.col_lower_ = lp.col_lower
    model.col_upper_ = lp.col_upper
    model.row_lower_ = lp.row_lower
    model.row_upper_ = lp.row_upper
    A = lp.A
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32, copy=False)
    model.a_matrix_.index_ = A.indices.astype(np.int32, copy=False)
    model.a_matrix_.value_ = A.data
    model.a_matrix_.num_col_ = lp.n_cols
    model.a_matrix_.num_row_ = lp.n_rows
    return model


def _configure(h: highspy.Highs, method: str, time_limit: float | None, tolerance: float) -> None:
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", {"simplex": "simplex", "ipm": "ipm", "pdlp": "pdlp"}[method])
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    if method == "ipm":
        h.setOptionValue("ipm_optimality_tolerance", min(IPM_TOLERANCE_CAP, tolerance))
        # a basic solution: the plan is a vertex and its duals certify it as simplex's do
        h.setOptionValue("run_crossover", "on")
    if method == "pdlp":
        h.setOptionValue("pdlp_optimality_tolerance", tolerance)


def _collect(h: highspy.Highs, seconds: float) -> HighsResult:
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    solution = h.getSolution()
    iterations = (
        int(info.simplex_iteration_count)
        + max(int(info.ipm_iteration_count), 0)
        + max(int(info.pdlp_iteration_count), 0)
    )
    dual_objective = float("nan")
    return HighsResult(
        status=status,
        col_value=np.asarray(solution.col_value),
        row_dual=np.asarray(solution.row_dual),
        col_dual=np.asarray(solution.col_dual),
        objective=float(info.objective_function_value),
        dual_objective=dual_objective,
        iterations=iterations,
        primal_infeasibility=float(max(info.max_primal_infeasibility, 0.0)),
        dual_infeasibility=float(max(info.max_dual_infeasibility, 0.0)),
        seconds=seconds,
        highs=h,
    )


def _new_highs() -> highspy.Highs:
    """A HiGHS instance, without the copyright banner HiGHS writes to the C-level stdout.

    The banner comes once per process, from the C++ constructor, before any option can
    silence it, so file descriptor 1 is pointed at /dev/null while the instance is made.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def run_highs(
    lp: LinearProgram,
    method: str,
    *,
    time_limit: float | None = None,
    tolerance: float = SOLVER_TOLERANCE,
) -> HighsResult:
    """Solve ``lp`` with HiGHS (``method`` ∈ simplex, ipm, pdlp) and collect the outcome."""
    h = _new_highs()
    _configure(h, method, time_limit, tolerance)
    h.passModel(_highs_model(lp))
    start = time.perf_counter()
    h.run()
    return _collect(h, time.perf_counter() - start)


def _rerun(result: HighsResult) -> HighsResult:
    start = time.perf_counter()
    result.highs.run()
    return _collect(result.highs, time.perf_counter() - start)


def _fail_unless_optimal(
    result: HighsResult, problem: PlanProblem, lp: LinearProgram, method: str
) -> HighsResult:
    status = result.status
    if status == "Optimal":
        return result
    if status in ("Infeasible", "Primal infeasible or unbounded", "Unbounded or infeasible"):
        if status != "Infeasible":
            # presolve cannot tell which; the simplex without presolve can
            result.highs.setOptionValue("presolve", "off")
            result.highs.setOptionValue("solver", "simplex")
            result = _rerun(result)
            status = result.status
            if status == "Optimal":
                return result
        if status == "Infeasible":
            from commonplan.planning.infeasibility import raise_infeasible

            raise_infeasible(problem)
    if status == "Unbounded":
        raise SolverError(
            "the plan is unbounded: no resource or capacity limit stops the objective from growing",
            where=f"problem {problem.name!r}",
            expected="a finite limit on at least one account used by every activity",
            fix="add a labour (or other resource) limit, or capacity limits",
        )
    raise SolverError(
        f"HiGHS ({method}) stopped without a proven optimum: {status}",
        where=f"problem {problem.name!r} ({lp.n_cols} variables, {lp.n_rows} constraints)",
        expected="status Optimal",
        fix="raise the time limit, try another method (simplex, ipm, pdlp), or check the data's units",
    )


def _solution_from_lp(
    problem: PlanProblem, lp: LinearProgram, primal: HighsResult, dual: HighsResult
) -> Solution:
    eco = problem.economy
    T, n, m = problem.n_periods, eco.n_products, eco.n_activities
    v = primal.col_value
    x = v[lp.columns["x"]].reshape(T, m).T
    d = v[lp.columns["d"]].reshape(T, n).T
    prices = dual.row_dual[lp.rows["balance"]].reshape(T, n).T
    n_res = len(problem.resources)
    if n_res:
        res = -dual.row_dual[lp.rows["resources"]].reshape(T, n_res).T
    else:
        res = np.zeros((0, T))
    q = problem.capital.n_pairs if problem.capital is not None else 0
    K = I = exports = None  # noqa: E741
    if q:
        K = v[lp.columns["K"]].reshape(T, q).T
        I = v[lp.columns["I"]].reshape(T, q).T  # noqa: E741
    ne = lp.export_products.size
    if ne:
        exports = v[lp.columns["e"]].reshape(T, ne).T
    objective = -dual.objective if lp.maximise else dual.objective
    return Solution(
        x=x,
        d=d,
        product_prices=prices,
        resource_prices=res,
        objective=objective,
        K=K,
        I=I,
        exports=exports,
        export_products=lp.export_products,
    )


def dual_objective(
    lp: LinearProgram, col_value: np.ndarray, row_dual: np.ndarray, col_dual: np.ndarray
) -> float:
    """The Lagrangian dual bound ``Σ y_i·b_i + Σ r_j·u_j`` of ``min c·v`` at the given duals.

    Each dual multiplies the bound its sign makes active (lower for ``≥ 0``, upper for ``< 0``);
    where that bound is infinite (a dual-infeasible sign) the primal activity stands in, so the
    gap then also measures the dual infeasibility.
    """
    activity = lp.A @ col_value

    def part(duals: np.ndarray, lower: np.ndarray, upper: np.ndarray, value: np.ndarray) -> float:
        bound = np.where(duals >= 0, lower, upper)
        bound = np.where(np.isfinite(bound), bound, value)
        return float(duals @ bound)

    return part(row_dual, lp.row_lower, lp.row_upper, activity) + part(
        col_dual, lp.col_lower, lp.col_upper, col_value
    )


def _relative_gap(result: HighsResult) -> float:
    if not np.isfinite(result.dual_objective):
        return float("nan")
    return abs(result.objective - result.dual_objective) / max(1.0, abs(result.objective))


def _try_structured(problem: PlanProblem, method: str, notes: list[str]) -> Plan | None:
    """The structured solver's plan, or ``None`` (and a note) where ``auto`` falls back to HiGHS."""
    if method not in ("auto", "structured"):
        return None
    from commonplan.planning.structured import StructureMismatch, solve_structured

    try:
        return solve_structured(problem)
    except StructureMismatch as reason:
        if method == "structured":
            raise SolverError(
                f"the structured solver does not apply: {reason}",
                where=f"problem {problem.name!r}",
                fix="use method='auto' to fall back to HiGHS",
            ) from None
        notes.append(f"structured solver not used: {reason}")
        return None


def _run_method(
    lp: LinearProgram,
    method: str,
    time_limit: float | None,
    tolerance: float,
    notes: list[str],
) -> tuple[HighsResult, str]:
    """HiGHS with ``method`` (``auto``: by size), and the solver that produced the result.

    PDLP's tolerance is relative to the data's scale; on tables in large money units it can
    stop without a proven optimum, so ``auto`` then solves again with interior point (the
    report's solve time counts both runs).
    """
    chosen = choose_method(lp) if method == "auto" else method
    result = run_highs(lp, chosen, time_limit=time_limit, tolerance=tolerance)
    if method == "auto" and chosen == "pdlp" and result.status not in PROVEN:
        notes.append(
            f"PDLP stopped with status {result.status!r} after {result.seconds:.3g} s; solved again with interior point"
        )
        chosen, pdlp_seconds = "ipm", result.seconds
        result = run_highs(lp, chosen, time_limit=time_limit, tolerance=tolerance)
        result.seconds += pdlp_seconds
    return result, chosen


def _lexicographic_stage(
    problem: PlanProblem, lp: LinearProgram, first: HighsResult, stage_one: float, notes: list[str]
) -> tuple[HighsResult, HighsResult, float, int]:
    """Stage 2 of a lexicographic objective (a): keep ``Σ z_t`` at its optimum, maximise weighted fulfilment.

    Warm-started from stage 1 in the same HiGHS instance. Returns the result whose primal is
    reported (stage 2's, or stage 1's where stage 2 fails), the one whose duals are reported
    (stage 1's: the prices of the plan's objective), and stage 2's seconds and iterations.
    Without a second stage both results are ``first``.
    """
    if not (
        problem.objective.kind == "max_min_fulfilment"
        and problem.objective.lexicographic
        and lp.target_index[0].size
    ):
        return first, first, 0.0, 0
    primal_z = first.col_value[lp.columns["z"]]
    first_values = {
        "x": first.col_value.copy(),
        "row_dual": first.row_dual.copy(),
        "dual_obj": first.dual_objective,
    }
    h = first.highs
    z_cols = np.arange(lp.columns["z"].start, lp.columns["z"].stop, dtype=np.int32)
    floor = stage_one - LEXICOGRAPHIC_SLACK * max(1.0, abs(stage_one))
    h.addRow(floor, highspy.kHighsInf, z_cols.size, z_cols, np.ones(z_cols.size))
    costs = weighted_fulfilment_costs(problem, lp)
    h.changeColsCost(lp.n_cols, np.arange(lp.n_cols, dtype=np.int32), costs)
    second = _rerun(first)
    if second.status == "Optimal":
        final = second
        notes.append(
            f"lexicographic stage 2 kept Σ z_t = {primal_z.sum():.8g} and maximised weighted fulfilment"
        )
    else:
        notes.append(
            f"lexicographic stage 2 ended with status {second.status}; the stage-1 plan is reported"
        )
        final = HighsResult(**{**first.__dict__, "col_value": first_values["x"]})
    first = HighsResult(
        **{
            **first.__dict__,
            "row_dual": first_values["row_dual"],
            "dual_objective": first_values["dual_obj"],
        }
    )
    return final, first, second.seconds, second.iterations


def solve(
    problem: PlanProblem,
    method: str = "auto",
    *,
    time_limit: float | None = None,
    tolerance: float = SOLVER_TOLERANCE,
) -> Plan:
    """Compute the optimal plan of ``problem``.

    Parameters
    ----------
    method:
        ``"auto"``, ``"structured"``, ``"simplex"``, ``"ipm"`` or ``"pdlp"`` (see module doc).
    time_limit:
        Seconds HiGHS may use per stage; a stage that runs out raises ``SolverError``.
    tolerance:
        Relative optimality tolerance asked of interior point and PDLP (simplex is exact to
        its feasibility tolerances, 1e-7).

    Returns
    -------
    Plan
        With ``plan.report`` saying which method ran, its status, timings, iterations and the
        achieved relative duality gap and infeasibilities.
    """
    if method not in METHODS:
        raise SolverError(
            f"unknown method {method!r}",
            where="solve(method=...)",
            expected=f"one of {list(METHODS)}",
        )
    notes: list[str] = []
    plan = _try_structured(problem, method, notes)
    if plan is not None:
        return plan

    start = time.perf_counter()
    lp = build_model(problem)
    build_seconds = time.perf_counter() - start
    result, chosen = _run_method(lp, method, time_limit, tolerance, notes)
    result = _fail_unless_optimal(result, problem, lp, chosen)
    result.dual_objective = dual_objective(lp, result.col_value, result.row_dual, result.col_dual)
    stage_one = -result.objective if lp.maximise else result.objective
    final, first, stage_two_seconds, stage_two_iterations = _lexicographic_stage(
        problem, lp, result, stage_one, notes
    )

    solution = _solution_from_lp(problem, lp, final, first)
    solution = Solution(**{**solution.__dict__, "objective": stage_one})
    report = SolveReport(
        method=f"highs-{chosen}",
        status="optimal",
        build_seconds=build_seconds,
        solve_seconds=result.seconds + stage_two_seconds,
        iterations=result.iterations + stage_two_iterations,
        objective=stage_one,
        relative_gap=_relative_gap(first),
        primal_infeasibility=max(first.primal_infeasibility, final.primal_infeasibility),
        dual_infeasibility=first.dual_infeasibility,
        notes=tuple(notes),
    )
    return Plan.from_solution(problem, solution, report)
