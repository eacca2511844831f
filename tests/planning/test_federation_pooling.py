"""A federation reports every member's share and the transfers between members, and can pool."""

from __future__ import annotations

import numpy as np
import pytest

from commonplan.errors import SpecError
from commonplan.io.icio import read_icio_arrays
from commonplan.planning.problem import harmony
from commonplan.planning.scenarios import TradeAssumptions, federation_scenario

MEMBERS = ["ARG", "BRA", "CHL", "COL", "CRI", "MEX", "PER"]


@pytest.fixture(scope="module")
def icio(shared_data):
    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


def _scenario(icio, pooling):
    assumptions = TradeAssumptions(
        periods=2, depreciation=0.05, member_trade="free", pooling=pooling
    )
    return federation_scenario(icio, MEMBERS, "USA", assumptions, compare=False)


def _piecewise_harmony(plan, fulfilment):
    # The LP's harmony: the minimum of the segments through the breakpoints, flat after the last.
    points = np.asarray(plan.problem.objective.breakpoints)
    values = harmony(points)
    slopes = np.append(np.diff(values) / np.diff(points), 0.0)
    intercepts = np.append(values[:-1] - slopes[:-1] * points[:-1], values[-1])
    return np.min(intercepts[None, :] + slopes[None, :] * np.asarray(fulfilment)[:, None], axis=1)


def test_every_member_share_and_the_transfers_are_reported(icio):
    uniform = _scenario(icio, "uniform")
    members = uniform.members
    assert set(members["member"]) == set(MEMBERS)
    worst = members.groupby("period")["share"].min()
    np.testing.assert_allclose(worst.to_numpy(), uniform.share.to_numpy(), rtol=1e-9)
    assert (members["delivered"] >= members["share"] - 1e-9).all()
    transfers = uniform.transfers
    assert len(transfers) and set(transfers["origin"]) <= set(MEMBERS)
    assert (transfers["origin"] != transfers["destination"]).all()
    assert (transfers["amount"] > 0).all()
    assert {"members", "transfers"} <= set(uniform.tables())
    assert "each member in the first period" in uniform.summary()


def test_harmony_pooling_is_optimal_for_its_weighted_total(icio):
    # The uniform plan is feasible for the harmony problem (same limits), so the harmony
    # plan's weighted total can be no lower than the uniform plan's, evaluated the same way.
    uniform, pooled = _scenario(icio, "uniform"), _scenario(icio, "harmony")
    weights = pooled.plan.problem.targets.weights
    f = uniform.plan.fulfilment
    rows = pooled.plan.problem.economy.products.get_indexer(
        list(zip(f["region"], f["sector"], strict=True))
    )
    periods = pooled.plan.problem.periods.get_indexer(f["period"])
    uniform_value = float(
        np.sum(weights[rows, periods] * _piecewise_harmony(pooled.plan, f["fulfilment"]))
    )
    assert pooled.plan.objective >= uniform_value - 1e-7 * max(1.0, abs(uniform_value))
    # Pooling trades the worst target for the total: each member keeps more of its deliveries
    # in the first period than the one uniform share.
    first = pooled.members[pooled.members["period"] == 1]
    assert (first["delivered"] > uniform.share.iloc[0]).all()


def test_unknown_pooling_is_refused():
    with pytest.raises(SpecError, match="pooling"):
        TradeAssumptions(pooling="max")
