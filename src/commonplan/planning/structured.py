"""Structured solutions: technique choice by policy iteration on labour values, then Leontief solves.

When every activity makes one product, there is no capital, no trade balance, and one
resource is the only scarce one, the linear programme has a closed-form optimum
(the non-substitution theorem; Samuelson 1951, Koopmans 1951):

* the cheapest technique of each product is the same for every final demand, and the
  resource values ``λ`` solve ``λ_i = min over techniques t of i: l_t + Σ_k a_kt λ_k``
  (Bellman's equation; these are labour values when the resource is labour). They are
  the duals of the minimum-resource LP. We solve it by policy iteration (Howard 1960):
  fix a technique per product, solve ``(I − A_πᵀ) λ = l_π``, switch each product to a
  strictly cheaper technique, repeat — finitely many steps, each one exact linear solve;
* minimum resource (c): ``x = (I − A_π)⁻¹ y`` per period, with resource ``λ·y``;
* worst-met fulfilment (a) with one limited resource ``L_t``: ``z_t = L_t / (λ·y_t)`` and
  ``x_t = z_t (I − A_π)⁻¹ y_t`` (scale the Leontief solution).

Every answer is verified against the LP's optimality conditions — primal feasibility of
the balances, dual feasibility (no technique has negative reduced cost at ``λ``), and the
duality gap — and other limits (capacities, further accounts) must not bind; otherwise
:class:`StructureMismatch` is raised and :func:`commonplan.planning.solve` falls back to HiGHS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from commonplan.errors import SolverError
from commonplan.linalg import LeontiefSolver
from commonplan.planning.plan import Plan, Solution, SolveReport
from commonplan.planning.problem import PlanProblem
from commonplan.planning.tolerances import ACCEPT_TOLERANCE


class StructureMismatch(Exception):
    """The problem lacks the structure of a closed-form optimum (the reason is the message)."""


#: A technique replaces the chosen one only if cheaper by this much relative to the values
#: (smaller differences are rounding in the value solves, and would make the policy cycle).
IMPROVEMENT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class TechniqueChoice:
    """Cheapest technique per product and the resource values ``λ`` (resource per unit of product)."""

    activity_of_product: np.ndarray
    values: np.ndarray
    A: sp.csc_array
    """Input coefficients per unit of product of the chosen techniques (products × products)."""
    solver: LeontiefSolver
    """The Leontief solver of ``A`` (reused for the quantity solves)."""
    policy_iterations: int
    solver_iterations: int
    """GMRES steps of the value solves, summed over the policy iterations (0 when direct)."""


def _single_output(problem: PlanProblem) -> tuple[np.ndarray, np.ndarray]:
    make = sp.csc_array(problem.economy.make)
    counts = np.diff(make.indptr)
    if (counts != 1).any():
        raise StructureMismatch("some activity makes several products (joint production)")
    return make.indices.astype(np.int64), make.data.astype(float)


def cheapest_techniques(
    use: sp.sparray, cost: np.ndarray, product_of: np.ndarray, output: np.ndarray, n: int
) -> TechniqueChoice:
    """Policy iteration for ``λ_i = min_t (l_t + Σ_k a_kt λ_k)`` over the techniques ``t`` of product ``i``.

    ``use`` is products × activities, ``cost`` the resource per unit of activity,
    ``product_of[j]`` the product activity ``j`` makes, ``output[j]`` how much of it.
    Each step solves ``(I − A_πᵀ) λ = l_π`` with :class:`~commonplan.linalg.LeontiefSolver`,
    warm-started from the previous step's values; a solve that does not converge raises
    :class:`~commonplan.errors.SolverError`.
    """
    U = sp.csc_array(use) @ sp.diags_array(1.0 / output)
    U = sp.csc_array(U)
    unit_cost = cost / output
    m = unit_cost.size
    has = np.zeros(n, bool)
    has[product_of] = True
    if not has.all():
        raise StructureMismatch(f"{int((~has).sum())} product(s) have no activity making them")
    order = np.lexsort((unit_cost, product_of))
    first = np.unique(product_of[order], return_index=True)[1]
    choice = order[first]
    solver_iterations = 0
    values = None
    iteration = 0
    for iteration in range(1, 200):  # noqa: B007 - the count is reported
        A_pi = sp.csc_array(U[:, choice])
        solver = LeontiefSolver(A_pi)
        values = solver.solve_transpose(unit_cost[choice], x0=values)
        solver_iterations += solver.last_report.iterations
        if m == n:
            break
        reduced = unit_cost + U.T @ values
        current = reduced[choice]
        order = np.lexsort((reduced, product_of))
        best = order[np.unique(product_of[order], return_index=True)[1]]
        improve = reduced[best] < current - IMPROVEMENT_TOLERANCE * np.maximum(
            np.abs(values), 1e-300
        )
        if not improve.any():
            break
        choice = np.where(improve, best, choice)
    else:  # pragma: no cover - policy iteration terminates in finitely many steps
        raise StructureMismatch("policy iteration did not settle")
    return TechniqueChoice(choice, values, A_pi, solver, iteration, solver_iterations)


def solve_structured(problem: PlanProblem) -> Plan:
    """The closed-form optimum of ``problem``, verified; :class:`StructureMismatch` if none applies."""
    start = time.perf_counter()
    eco = problem.economy
    kind = problem.objective.kind
    if problem.capital is not None and problem.capital.n_pairs:
        raise StructureMismatch("capital stocks link the periods")
    if problem.balance_of_payments is not None:
        raise StructureMismatch("a balance of payments links trade and production")
    if kind == "harmony":
        raise StructureMismatch("the harmony objective has no closed form")
    if kind == "min_resource":
        resource = problem.objective.resource
    else:
        finite = [r for r in problem.resources if np.isfinite(r.limits).any()]
        if len(finite) != 1 or not np.isfinite(finite[0].limits).all():
            raise StructureMismatch(
                "objective (a) needs exactly one resource limited in every period"
            )
        resource = finite[0].account
    product_of, output = _single_output(problem)
    n, m, T = eco.n_products, eco.n_activities, problem.n_periods
    cost = eco.account_coefficients[eco.account_names.index(resource)]
    if (cost < 0).any():
        raise StructureMismatch(f"account {resource!r} has negative coefficients")
    try:
        choice = cheapest_techniques(eco.use, cost, product_of, output, n)
    except SolverError as error:
        raise StructureMismatch(f"the Leontief solve did not converge ({error.message})") from error
    lam = choice.values
    y = problem.targets.amounts
    if kind == "max_min_fulfilment":
        if not (lam[(y > 0).any(axis=1)] > 0).all():
            raise StructureMismatch(
                "some product needs none of the scarce resource, so its delivery is unbounded"
            )
        if not (y > 0).any(axis=0).all():
            raise StructureMismatch("a period without targets has unbounded fulfilment")
    try:
        base = np.maximum(choice.solver.solve(y), 0.0)  # x = (I − A_π)⁻¹ y, every period at once
    except SolverError as error:
        raise StructureMismatch(f"the Leontief solve did not converge ({error.message})") from error
    if kind == "min_resource":
        scale = np.ones(T)
        limit = None
    else:
        limit = problem.limit_of(resource)
        need = lam @ y  # resource per unit of fulfilment, per period
        scale = limit / need
    levels = base * scale[None, :]
    activity = choice.activity_of_product
    x = np.zeros((m, T))
    x[activity] = levels / output[activity][:, None]
    d = y * scale[None, :]

    # verification against the LP's optimality conditions
    net = sp.csr_array(eco.make - eco.use)
    produced = net @ x
    residual = np.abs(produced - d).max() / max(np.abs(d).max(), 1.0)
    U = sp.csc_array(eco.use) @ sp.diags_array(1.0 / output)
    reduced = cost / output + U.T @ lam - lam[product_of]
    dual_infeasibility = max(0.0, float(-(reduced / np.maximum(lam[product_of], 1e-300)).min()))
    used = cost @ x
    if kind == "min_resource":
        primal = float(used.sum())
        dual = float((lam[:, None] * y).sum())
        prices = np.repeat(lam[:, None], T, axis=1)
        resource_prices = np.zeros((len(problem.resources), T))
    else:
        achieved = np.where(
            y > 0, np.divide(produced, y, out=np.full_like(y, np.inf), where=y > 0), np.inf
        ).min(axis=0)
        primal = float(achieved.sum())
        mu = 1.0 / need
        dual = float((mu * limit).sum())
        if (used > limit * (1 + ACCEPT_TOLERANCE) + 1e-12).any():
            raise StructureMismatch(
                "the scaled plan exceeds the resource limit (numerical trouble)"
            )
        prices = lam[:, None] * mu[None, :]
        resource_prices = np.array(
            [mu if r.account == resource else np.zeros(T) for r in problem.resources]
        )
    gap = abs(primal - dual) / max(1.0, abs(primal))
    if max(residual, dual_infeasibility, gap) > ACCEPT_TOLERANCE:
        raise StructureMismatch(
            f"verification failed (residual {residual:.1e}, dual infeasibility {dual_infeasibility:.1e}, gap {gap:.1e})"
        )
    for limit_ in problem.resources:
        if limit_.account == resource and kind != "min_resource":
            continue
        use = eco.account_coefficients[eco.account_names.index(limit_.account)] @ x
        if (use > limit_.limits * (1 + 1e-9) + 1e-12).any():
            raise StructureMismatch(f"the limit on {limit_.account!r} binds as well")
    if problem.capacity is not None and (x > problem.capacity * (1 + 1e-9) + 1e-12).any():
        raise StructureMismatch("a capacity limit binds")

    seconds = time.perf_counter() - start
    report = SolveReport(
        method="structured (policy iteration on resource values + Leontief solves)",
        status="optimal",
        build_seconds=0.0,
        solve_seconds=seconds,
        iterations=choice.policy_iterations
        + choice.solver_iterations
        + choice.solver.last_report.iterations,
        objective=primal,
        relative_gap=gap,
        primal_infeasibility=float(residual),
        dual_infeasibility=dual_infeasibility,
        notes=(
            f"{choice.policy_iterations} policy iteration(s); verified against the LP optimality conditions",
        ),
    )
    solution = Solution(
        x=x, d=d, product_prices=prices, resource_prices=resource_prices, objective=primal
    )
    return Plan.from_solution(problem, solution, report)
