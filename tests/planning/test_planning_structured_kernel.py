"""The structured planner on the one Leontief kernel: GMRES-sized tables, warm starts, failures.

* One technique per product: the min-labour plan is ``(I − A)⁻¹ y`` and its prices the
  labour values ``l (I − A)⁻¹`` (independent dense solves as oracle), on a table large and
  sparse enough for the kernel to use GMRES.
* Two techniques per product (policy iteration, each step warm-started from the last):
  the structured optimum equals HiGHS simplex's.
* A Leontief solve that does not converge raises ``SolverError`` in ``cheapest_techniques``;
  ``solve(method="structured")`` reports it and ``solve()`` falls back to HiGHS.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import commonplan.planning.structured as structured
from commonplan import Economy
from commonplan.errors import SolverError
from commonplan.linalg import LeontiefSolver
from commonplan.planning import PlanProblem, solve
from random_matrices import sparse_coefficients

N = 600


@pytest.fixture(scope="module")
def one_technique():
    A = sparse_coefficients(N, 5, seed=0)
    rng = np.random.default_rng(1)
    y, labour = rng.random(N) * 10.0, rng.random(N)
    economy = Economy.from_coefficients(A.copy(), y, accounts={"labour": labour})
    return economy, A.toarray(), y, labour


def test_the_kernel_uses_gmres_here(one_technique):
    assert LeontiefSolver(one_technique[0]).method == "gmres"


def test_min_labour_plan_is_the_leontief_solution(one_technique):
    economy, A, y, labour = one_technique
    problem = PlanProblem.build(
        economy, target_share=1.0, objective="min_resource", resource="labour"
    )
    plan = solve(problem, method="structured")
    assert plan.report.method.startswith("structured")
    x = np.linalg.solve(np.eye(N) - A, y)
    values = np.linalg.solve(np.eye(N) - A.T, labour)
    np.testing.assert_allclose(plan.activity_levels.iloc[:, 0], x, rtol=1e-9)
    np.testing.assert_allclose(plan.product_prices.iloc[:, 0], values, rtol=1e-9)
    assert plan.objective == pytest.approx(values @ y, rel=1e-10)


def test_policy_iteration_with_warm_starts_matches_simplex():
    A1 = sparse_coefficients(N, 5, seed=2)
    A2 = sparse_coefficients(N, 5, seed=3)
    rng = np.random.default_rng(4)
    l1, l2 = rng.random(N), rng.random(N) * 0.8
    labels = pd.MultiIndex.from_tuples([("R", f"p{i}") for i in range(N)])
    activities = pd.MultiIndex.from_tuples([("R", f"p{i}-{t}") for t in (1, 2) for i in range(N)])
    economy = Economy(
        products=labels,
        activities=activities,
        use=sp.hstack([A1, A2], format="csr"),
        make=sp.hstack([sp.identity(N), sp.identity(N)], format="csr"),
        account_coefficients=np.concatenate([l1, l2])[None, :],
        account_names=("labour",),
        account_units={"labour": "hours"},
        final_demand_values=rng.random((N, 1)),
        final_demand_columns=pd.Index(["final_demand"]),
    )
    problem = PlanProblem.build(
        economy, target_share=1.0, objective="min_resource", resource="labour"
    )
    fast = solve(problem, method="structured")
    exact = solve(problem, method="simplex")
    assert "policy iteration" in fast.report.notes[0]
    assert not fast.report.notes[0].startswith("1 ")  # techniques did change
    assert fast.objective == pytest.approx(exact.objective, rel=1e-9)


def test_a_solve_that_does_not_converge(one_technique, monkeypatch):
    economy = one_technique[0]
    starved = functools.partial(LeontiefSolver, method="gmres", maxiter=1, restart=1)
    monkeypatch.setattr(structured, "LeontiefSolver", starved)
    product_of = np.arange(N)
    with pytest.raises(SolverError, match="relative residual"):
        structured.cheapest_techniques(
            economy.use, economy.account_coefficients[0], product_of, np.ones(N), N
        )
    problem = PlanProblem.build(
        economy, target_share=1.0, objective="min_resource", resource="labour"
    )
    with pytest.raises(SolverError, match="did not converge"):
        solve(problem, method="structured")
    plan = solve(problem)  # auto: falls back to HiGHS, and says why
    assert plan.report.method.startswith("highs")
    assert any("did not converge" in note for note in plan.report.notes)
