"""Closed-form checks on a real table (OECD ICIO 2022, 11 regions × 50 industries).

* With non-binding resources a one-period Leontief plan equals ``(I − A)⁻¹ y`` (dense solve here).
* The minimum-resource LP's duals equal the resource values ``λ = l (I − A)⁻¹`` (dense solve
  here, and ``commonplan.analysis.labour_values``); for value added in a balanced table
  ``λ = 1`` exactly, since ``v + 1ᵀA = 1``.
* With one technique and one binding resource the max-fulfilment optimum is
  ``z = L / (λ·y)`` and the plan is the scaled Leontief solution.
* Technique choice: the minimum over all 2ⁿ technique sets (enumerated) equals the optimum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from commonplan.analysis import labour_values
from commonplan.economy import Economy
from commonplan.io.icio import read_icio_arrays
from commonplan.planning import Objective, PlanProblem, solve


@pytest.fixture(scope="module")
def icio(shared_data):
    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


@pytest.fixture(scope="module")
def dense(icio):
    A = icio.A.toarray()
    n = A.shape[0]
    y = icio.final_demand_values.sum(axis=1)
    v = icio.account("value_added").to_numpy()
    return {
        "A": A,
        "y": y,
        "x": np.linalg.solve(np.eye(n) - A, y),
        "lam": np.linalg.solve(np.eye(n) - A.T, v),
    }


@pytest.mark.parametrize("method", ["structured", "simplex", "ipm"])
def test_min_value_added_plan_is_leontief(icio, dense, method):
    problem = PlanProblem.build(
        icio, target_share=1.0, objective="min_resource", resource="value_added"
    )
    plan = solve(problem, method=method)
    x = plan.activity_levels.iloc[:, 0].to_numpy()
    scale = dense["x"].max()
    np.testing.assert_allclose(x, dense["x"], rtol=0, atol=1e-7 * scale)
    # the table's own gross output (rows balance to 3.4 USD mn, see PROVENANCE; 5.6 after propagation)
    assert np.abs(x - icio.activity_levels).max() < 1e-5 * icio.activity_levels.max()
    prices = plan.product_prices.iloc[:, 0].to_numpy()
    active = dense["x"] > 1e-6 * scale
    np.testing.assert_allclose(prices[active], dense["lam"][active], atol=1e-6)
    np.testing.assert_allclose(prices[active], 1.0, atol=1e-6)
    reference = labour_values(icio, "value_added").to_numpy()
    np.testing.assert_allclose(prices[active], reference[active], atol=1e-6)
    assert plan.objective == pytest.approx(dense["lam"] @ dense["y"], rel=1e-7)


def test_max_fulfilment_scales_the_leontief_plan(icio, dense):
    limit = 0.8 * float(dense["lam"] @ dense["y"])
    problem = PlanProblem.build(icio, target_share=1.0, limits={"value_added": limit})
    for method in ("structured", "simplex"):
        plan = solve(problem, method=method)
        z = limit / float(dense["lam"] @ dense["y"])
        assert plan.objective == pytest.approx(z, rel=1e-7)
        x = plan.activity_levels.iloc[:, 0].to_numpy()
        np.testing.assert_allclose(x, z * dense["x"], atol=1e-6 * dense["x"].max())
        row = plan.resources.iloc[0]
        assert row["binding"]
        assert row["shadow_price"] == pytest.approx(
            1.0 / float(dense["lam"] @ dense["y"]), rel=1e-6
        )


def test_shadow_price_is_the_marginal_value(icio, dense):
    """Finite difference: one more unit of the resource raises the objective by its shadow price."""
    lam_y = float(dense["lam"] @ dense["y"])
    single = Objective(lexicographic=False)
    base = PlanProblem.build(
        icio, target_share=1.0, limits={"value_added": 0.8 * lam_y}, objective=single
    )
    more = PlanProblem.build(
        icio, target_share=1.0, limits={"value_added": 0.8 * lam_y + 1000.0}, objective=single
    )
    plan, plan_more = solve(base, method="simplex"), solve(more, method="simplex")
    price = plan.resources.iloc[0]["shadow_price"]
    assert (plan_more.objective - plan.objective) / 1000.0 == pytest.approx(price, rel=1e-6)


def _two_technique_economy(shared_data) -> tuple[Economy, np.ndarray, np.ndarray, np.ndarray]:
    """Cockshott's toy coefficients plus, for each product, a second technique that trades labour for inputs."""
    from commonplan.planning import read_cockshott

    base = read_cockshott(shared_data / "planning" / "cockshott_5yearplan" / "toy").economy
    A1 = base.use.toarray()
    l1 = base.account("labour").to_numpy()
    A2 = A1 * 1.6 + 0.02 * np.eye(4)[[1, 2, 0, 1]]  # more inputs (and some other input) ...
    l2 = l1 * np.array([0.5, 0.4, 0.9, 0.3])  # ... for less labour
    use = np.hstack([A1, A2])
    make = np.hstack([np.eye(4), np.eye(4)])
    products = base.products
    activities = pd.MultiIndex.from_tuples(
        [(r, f"{s}-1") for r, s in products] + [(r, f"{s}-2") for r, s in products]
    )
    eco = Economy(
        products=products,
        activities=activities,
        use=use,
        make=make,
        account_coefficients=np.concatenate([l1, l2])[None, :],
        account_names=("labour",),
        account_units={"labour": "person-years"},
        final_demand_values=np.array([[0.1], [3.0], [0.5], [2.0]]),
        final_demand_columns=pd.Index(["final_demand"]),
    )
    return eco, np.stack([A1, A2]), np.stack([l1, l2]), eco.final_demand_values[:, 0]


def test_technique_choice_matches_enumeration(shared_data):
    eco, As, ls, y = _two_technique_economy(shared_data)
    best = np.inf
    best_values = None
    for choice in itertools.product([0, 1], repeat=4):
        A = np.column_stack([As[c][:, i] for i, c in enumerate(choice)])
        labour = np.array([ls[c][i] for i, c in enumerate(choice)])
        if np.abs(np.linalg.eigvals(A)).max() >= 1:
            continue
        values = np.linalg.solve(np.eye(4) - A.T, labour)
        if values @ y < best:
            best, best_values = values @ y, values
    problem = PlanProblem.build(
        eco, target_share=1.0, objective=Objective("min_resource", resource="labour")
    )
    for method in ("structured", "simplex"):
        plan = solve(problem, method=method)
        assert plan.objective == pytest.approx(best, rel=1e-9)
        np.testing.assert_allclose(plan.product_prices.iloc[:, 0], best_values, rtol=1e-8)
    # non-substitution: the same techniques are cheapest for any other final demand
    other = PlanProblem.build(
        eco,
        targets=pd.Series([1.0, 0.1, 2.0, 0.3], index=eco.products),
        objective="min_resource",
        resource="labour",
    )
    plan = solve(other, method="structured")
    assert plan.objective == pytest.approx(best_values @ np.array([1.0, 0.1, 2.0, 0.3]), rel=1e-9)


def test_structured_falls_back_when_a_second_limit_binds(shared_data):
    eco, *_ = _two_technique_economy(shared_data)
    eco = eco.replace(
        account_coefficients=np.vstack([eco.account_coefficients, np.ones((1, 8))]),
        account_names=("labour", "land"),
        account_units={"labour": "", "land": "ha"},
    )
    problem = PlanProblem.build(eco, target_share=1.0, limits={"labour": 5.0, "land": 4.0})
    plan = solve(problem)
    assert plan.report.method.startswith("highs")
    assert any("structured solver not used" in note for note in plan.report.notes)
    used = plan.resources.set_index("account")["used"]
    assert used["land"] <= 4.0 + 1e-7 and used["labour"] <= 5.0 + 1e-7


def test_a_limit_object_is_not_changed_by_the_problems_that_use_it(icio):
    from dataclasses import replace

    from commonplan.planning.problem import ResourceLimit

    limit = ResourceLimit("value_added", 1.0e6)
    one = replace(PlanProblem.build(icio, target_share=1.0, periods=1), resources=(limit,))
    three = replace(PlanProblem.build(icio, target_share=1.0, periods=3), resources=(limit,))
    assert limit.limits.size == 1
    assert one.resources[0].limits.size == 1 and three.resources[0].limits.size == 3
