"""Plan alternatives from aggregated weights and trade-offs, on the shipped demo economy (BEA 2021)
and on Colombia 2019 (DANE): constraints hold, accounts balance, and the trade-offs move the plan
the way they say."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from commonplan.councils.alternatives import (
    DEFAULT_TRADE_OFFS,
    adjust_weights,
    compute_alternatives,
    investment_columns,
)
from commonplan.councils.ballots import TargetGroup
from commonplan.datasets import load_demo
from commonplan.errors import ParticipationInputError
from commonplan.services.demo import demo_target_groups

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from db_fixtures import read_colombia_2019  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    economy = load_demo()
    groups = demo_target_groups(economy)
    weights = {
        "food": 0.25,
        "housing": 0.2,
        "health": 0.2,
        "energy": 0.1,
        "investment": 0.15,
        "import independence": 0.1,
    }
    return economy, groups, weights, compute_alternatives(economy, groups, weights)


def test_five_alternatives_with_imports_three_without(demo, shared_data):
    economy, groups, weights, alternatives = demo
    assert [a.title for a in alternatives] == [t.title for t in DEFAULT_TRADE_OFFS]
    colombia = read_colombia_2019(shared_data)
    without_imports = compute_alternatives(colombia, demo_target_groups(colombia), weights)
    assert [a.title for a in without_imports] == [
        "As voted",
        "More consumption now",
        "More investment",
    ]
    for alternative in without_imports:
        assert alternative.figures["resource"] == "value added"
        assert "imports_used" not in alternative.figures


def test_limits_hold_and_the_resource_binds(demo):
    economy, _, _, alternatives = demo
    levels = np.asarray(economy.activity_levels)
    row = {name: economy.account_coefficients[k] for k, name in enumerate(economy.account_names)}
    base_value_added = row["value_added"] @ levels
    base_imports = row["imports"] @ levels
    for alternative in alternatives:
        f = alternative.figures
        assert f["resource"] == "value_added"
        assert f["resource_limit"] == pytest.approx(base_value_added)
        assert f["resource_used"] == pytest.approx(
            base_value_added, rel=1e-6
        )  # binding: targets exceed it
        x = alternative.plan.activity_levels.iloc[:, 0].to_numpy()
        assert row["value_added"] @ x == pytest.approx(f["resource_used"], rel=1e-9)
        assert row["imports"] @ x == pytest.approx(f["imports_used"], rel=1e-9)
        if f["imports_limit"] is not None:
            assert f["imports_used"] <= f["imports_limit"] * (1 + 1e-7)
    by_title = {a.title: a.figures for a in alternatives}
    assert by_title["Import independence"]["imports_limit"] == pytest.approx(0.9 * base_imports)
    assert by_title["Import independence"]["imports_used"] < by_title["As voted"]["imports_used"]


def test_deliveries_are_net_output_of_the_activity_levels(demo):
    """Material balance, computed independently of the solver: d = make·x − use·x ≥ 0."""
    economy, _, _, alternatives = demo
    for alternative in alternatives:
        x = alternative.plan.activity_levels.iloc[:, 0].to_numpy()
        net = economy.make @ x - economy.use @ x
        frame = alternative.plan_frame
        np.testing.assert_allclose(
            frame["delivered"].to_numpy(), net, rtol=1e-6, atol=1e-6 * np.abs(net).max()
        )
        assert (frame["delivered"] >= -1e-6 * np.abs(net).max()).all()
        total = frame["delivered"].sum()
        assert alternative.figures["total_deliveries"] == pytest.approx(total)
        parts = (
            alternative.figures["consumption_delivered"]
            + alternative.figures["investment_delivered"]
        )
        assert parts == pytest.approx(total)


def test_trade_offs_move_the_plan_the_stated_way(demo):
    _, _, _, alternatives = demo
    by_title = {a.title: a.figures for a in alternatives}
    voted, consume, invest = (
        by_title["As voted"],
        by_title["More consumption now"],
        by_title["More investment"],
    )
    assert (
        consume["investment_delivered"]
        < voted["investment_delivered"]
        < invest["investment_delivered"]
    )
    assert (
        consume["consumption_delivered"]
        > voted["consumption_delivered"]
        > invest["consumption_delivered"]
    )
    assert (
        invest["fulfilment_by_group"]["investment"] > consume["fulfilment_by_group"]["investment"]
    )


def test_weights_are_adjusted_and_renormalised(demo):
    _, groups, weights, alternatives = demo
    for alternative in alternatives:
        assert sum(alternative.weights.values()) == pytest.approx(1)
    more = adjust_weights(groups, weights, DEFAULT_TRADE_OFFS[2])
    ratio = more["investment"] / more["food"]
    assert ratio == pytest.approx(1.5 * weights["investment"] / weights["food"])
    assert alternatives[0].weights == pytest.approx(weights)


def test_a_higher_weight_raises_that_groups_fulfilment(demo):
    economy, groups, weights, _ = demo
    low = dict(weights, health=0.05)
    high = dict(weights, health=0.5)
    only = DEFAULT_TRADE_OFFS[:1]
    f_low = compute_alternatives(economy, groups, low, trade_offs=only)[0].figures[
        "fulfilment_by_group"
    ]["health"]
    f_high = compute_alternatives(economy, groups, high, trade_offs=only)[0].figures[
        "fulfilment_by_group"
    ]["health"]
    assert f_high > f_low


def test_investment_categories_are_recognised():
    economy = load_demo()
    flags = dict(zip(economy.final_demand_columns, investment_columns(economy), strict=True))
    assert (
        flags["F02S"]
        and flags["F10E"]
        and not flags["F010"]
        and not flags["F040"]
        and not flags["F06C"]
    )


def test_bad_weights_and_parameters_are_refused(demo):
    economy, groups, weights, _ = demo
    with pytest.raises(ParticipationInputError, match="unknown group"):
        compute_alternatives(economy, groups, {"transport": 1.0})
    with pytest.raises(ParticipationInputError, match="not all zero"):
        compute_alternatives(economy, groups, {g.name: 0.0 for g in groups})
    with pytest.raises(ParticipationInputError, match="ambition"):
        compute_alternatives(economy, groups, weights, base_problem={"ambition": -1})
    with pytest.raises(ParticipationInputError, match="unknown account"):
        compute_alternatives(economy, groups, weights, base_problem={"resource": "moonlight"})
    with pytest.raises(ParticipationInputError, match="finite"):
        compute_alternatives(
            economy, [TargetGroup("a"), TargetGroup("b")], {"a": float("nan"), "b": 1.0}
        )


def test_capacity_limits_from_a_replan_hold(demo):
    economy, groups, weights, alternatives = demo
    free = alternatives[0]
    levels = free.plan.activity_levels.iloc[:, 0]
    labels = ["/".join(map(str, a)) for a in levels.index]
    biggest = int(np.argmax(levels.to_numpy()))
    cap = 0.5 * float(levels.iloc[biggest])
    (capped,) = compute_alternatives(
        economy,
        groups,
        weights,
        base_problem={"capacity": {labels[biggest]: cap}},
        trade_offs=[DEFAULT_TRADE_OFFS[0]],
    )
    level = float(capped.plan.activity_levels.iloc[biggest, 0])
    assert level <= cap * (1 + 1e-9) and level == pytest.approx(cap, rel=1e-6)  # it binds
    assert capped.figures["objective"] <= free.figures["objective"] + 1e-9  # a tighter problem
    for bad, message in (
        ({"XX/none": 1.0}, "unknown activity"),
        ({labels[0]: -1.0}, "non-negative"),
        ({labels[0]: float("inf")}, "finite"),
        ([1.0], "must map activities"),
    ):
        with pytest.raises(ParticipationInputError, match=message):
            compute_alternatives(economy, groups, weights, base_problem={"capacity": bad})
