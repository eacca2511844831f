"""Re-planning the remaining periods from the reported state, against closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.datasets import load_demo
from commonplan.errors import ReportError
from commonplan.monitoring.replan import ExecutionState, remaining_problem, replan
from commonplan.monitoring.reports import product_label
from commonplan.planning import PlanProblem, solve


@pytest.fixture(scope="module")
def published():
    economy = load_demo()
    lam = np.linalg.solve(
        np.eye(economy.n_products) - economy.A.toarray().T,
        economy.account_coefficients[economy.account_names.index("value_added")],
    )
    y = economy.final_demand.sum(axis=1).to_numpy()
    limit = 0.8 * float(lam @ y)
    problem = PlanProblem.build(economy, periods=3, target_share=1.0, limits={"value_added": limit})
    return solve(problem)


def test_a_product_at_half_its_plan_halves_every_target_with_one_technique(published):
    # One technique per product and max-min fulfilment: x = L (z y), so capping one
    # activity at half its published level caps z at half its published value (z → z/2).
    z = published.worst_fulfilment.to_numpy()
    assert z == pytest.approx([z[0]] * 3, rel=1e-9) and 0.5 < z[0] < 1
    product = product_label(published.problem.economy.products[10])
    result = replan(published, ExecutionState(start=2, levels=pd.Series({product: 0.5})))
    assert list(result.revised.problem.periods) == [2, 3]
    assert result.revised.worst_fulfilment.to_numpy() == pytest.approx(0.5 * z[1:], rel=1e-6)
    assert result.targets["falls"].any()
    capacity = result.capacity
    assert set(capacity["activity"]) == {product}
    np.testing.assert_allclose(capacity["gap"], 0.5 * capacity["published"], rtol=1e-9)
    prices = result.prices
    assert (prices["shadow_price_published"] > 0).all()
    assert not prices["binding"].any()  # value added no longer limits the plan
    assert "targets fall" in result.summary()
    assert set(result.tables()) >= {"targets", "capacity", "prices", "plan_activity_levels"}


def test_on_plan_the_remaining_plan_is_the_published_one(published):
    result = replan(published, ExecutionState(start=2, levels=pd.Series(dtype=float)))
    np.testing.assert_allclose(
        result.revised.worst_fulfilment.to_numpy(),
        published.worst_fulfilment.to_numpy()[1:],
        rtol=1e-7,
    )
    assert not result.targets["falls"].any()
    assert result.capacity.empty


def test_bad_state_is_refused(published):
    with pytest.raises(ReportError, match="period 9 is not one of the plan's"):
        remaining_problem(published, ExecutionState(start=9, levels=pd.Series(dtype=float)))
    with pytest.raises(ReportError, match="unknown product 'XX/1'"):
        remaining_problem(published, ExecutionState(start=2, levels=pd.Series({"XX/1": 0.5})))
    label = product_label(published.problem.economy.products[0])
    with pytest.raises(ReportError, match="finite and non-negative"):
        remaining_problem(published, ExecutionState(start=2, levels=pd.Series({label: -0.5})))
