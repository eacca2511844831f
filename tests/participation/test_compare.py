"""Labour of the procedure's plan against the minimum-labour plan."""

from __future__ import annotations

import numpy as np
import pytest
from demplan import MinimizeLabor, input_use_on, reference_solution, run
from demplan.prefabs import HahnelBook2021, hahnel
from demplan.tools.linearize import linearize

from commonplan.participation import compare_with_minimum_labour, run_procedure

from .oracle import to_demplan


@pytest.fixture(scope="module")
def five_percent_run(dep1ex01):
    return run_procedure(dep1ex01, years=1, stop_threshold=0.05)


def test_matches_demplans_reference_solution(dep1ex01, five_percent_run):
    """demplan's published comparison (public goods floored at their output) on dep1ex01."""
    ours = compare_with_minimum_labour(five_percent_run, public_goods_floor="supply")
    economy = to_demplan(dep1ex01)
    plan = run(HahnelBook2021(), economy, seed=0, differences=False).plan
    labor, public = hahnel.labor(economy), hahnel.shared_goods(economy)
    floor = plan.total_consumption(economy)
    floor[public] += plan.total_output(economy)[public]
    reference = reference_solution(
        linearize(economy, plan), MinimizeLabor(floor, counted=labor, shared=public)
    )
    np.testing.assert_allclose(
        ours.procedure_labour, input_use_on(economy, plan, labor), rtol=1e-10
    )
    np.testing.assert_allclose(ours.minimum_labour, reference.objective_value, rtol=1e-7)


def test_optimum_is_feasible_optimal_and_stated(dep1ex01, five_percent_run):
    comparison = compare_with_minimum_labour(five_percent_run)
    linear = five_percent_run.linearised_economy(1)
    y = comparison.activity_levels.to_numpy()
    net = (linear.make - linear.use) @ y
    assert (net >= comparison.floor.to_numpy() - 1e-6).all()
    g = dep1ex01.goods_per_class
    resources = linear.account_coefficients @ y
    assert (resources <= 1000 + 1e-6).all()
    labour = linear.account_coefficients[g:].sum(axis=0) @ y
    np.testing.assert_allclose(labour, comparison.minimum_labour, rtol=1e-9)
    # strong duality: floor·π − endowment·μ equals the optimum, with π, μ ≥ 0
    dual_value = (
        comparison.shadow_prices.to_numpy() @ comparison.floor.to_numpy()
        - 1000 * comparison.resource_shadow_prices.sum()
    )
    np.testing.assert_allclose(dual_value, comparison.minimum_labour, rtol=1e-7)
    assert (comparison.shadow_prices >= -1e-9).all() and (
        comparison.resource_shadow_prices >= -1e-9
    ).all()
    unlimited = compare_with_minimum_labour(five_percent_run, resource_limits=False)
    assert unlimited.minimum_labour <= comparison.minimum_labour * (1 + 1e-9)
    # the procedure's own activity levels are a plan of the linearised economy: its labour matches
    plan_labour = linear.account_coefficients[g:].sum(axis=0) @ comparison.plan_output.to_numpy()
    np.testing.assert_allclose(plan_labour, comparison.procedure_labour, rtol=1e-10)
    assert 1.0 < comparison.ratio < 3.0
    report = comparison.summary()
    for word in ("constant returns", "effort is not counted", "floor", "endowment", "HiGHS"):
        assert word in report


def test_linearised_economy_reproduces_the_plan(dep1ex01, five_percent_run):
    linear = five_percent_run.linearised_economy(1)
    plan = five_percent_run.plan(1)
    q = plan.worker_output.to_numpy()
    np.testing.assert_allclose(
        linear.use @ q,
        plan.demand.loc["intermediate"]
        .reindex(range(1, 11))
        .pipe(lambda s: np.r_[np.zeros(10), s.to_numpy(), np.zeros(10)]),
        rtol=1e-12,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        linear.account_coefficients @ q,
        np.r_[plan.demand.loc["nature"], plan.demand.loc["labour"]],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        linear.make @ q,
        np.r_[
            plan.supply.loc["private"], plan.supply.loc["intermediate"], plan.supply.loc["public"]
        ],
        rtol=1e-12,
    )
    assert linear.n_activities == 3000 and linear.n_products == 30


def test_floor_beyond_the_endowments_is_infeasible(five_percent_run):
    """A tenth of the endowments cannot deliver the plan's consumption: the error says what conflicts."""
    import dataclasses

    from commonplan.errors import InfeasiblePlanError

    run = five_percent_run.year(1)
    poorer = dataclasses.replace(run.economy, endowment=run.economy.endowment * 0.1)
    result = dataclasses.replace(
        five_percent_run, years=(dataclasses.replace(run, economy=poorer),)
    )
    with pytest.raises(InfeasiblePlanError, match="within the endowments") as raised:
        compare_with_minimum_labour(result)
    assert len(raised.value.conflicts) > 0
    # without the endowment limits the same floor is met
    assert compare_with_minimum_labour(result, resource_limits=False).minimum_labour > 0
