"""Partner cut-off and federation on the real OECD ICIO 2022 Americas table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.errors import SpecError
from commonplan.io.icio import read_icio_arrays
from commonplan.planning.scenarios import (
    TradeAssumptions,
    cutoff_scenario,
    federation_scenario,
    trade_problem,
)


@pytest.fixture(scope="module")
def icio(shared_data):
    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


@pytest.fixture(scope="module")
def colombia(icio):
    return cutoff_scenario(icio, "COL", "USA", TradeAssumptions(periods=3))


def test_base_year_is_feasible_without_cutoff(colombia):
    # with nothing cut, the base year itself is a plan: the full share is kept every period
    np.testing.assert_allclose(colombia.baseline_share.to_numpy(), 1.0, atol=1e-6)


def test_cutoff_lowers_the_share_then_capacity_recovers_it(colombia):
    share = colombia.share.to_numpy()
    assert 0 < share[0] < 1
    assert np.all(np.diff(share) >= -1e-9)
    assert share[-1] > share[0]
    assert len(colombia.capacity_built) > 0
    plan = colombia.plan
    # nothing from the USA, and no member resource over its limit
    assert plan.resource_use("imports:USA").abs().max() < 1e-6
    res = plan.resources
    assert (res["used"] <= res["limit"] * (1 + 1e-7) + 1e-6).all()


def test_lost_inputs_are_the_published_imports(colombia, shared_data):
    """Base-year imports from the USA by sector equal the OECD file of Colombia's imports by partner."""
    lost = colombia.lost_inputs.set_index("sector")["base_imports"].sort_index()
    published = pd.read_csv(shared_data / "mrio" / "icio2025_y2022_americas_interm_imports_by_partner_sector.csv")
    usa = published[(published["importer"] == "COL") & (published["partner"] == "USA")]
    expected = usa.groupby("supplier_sector")["usd_mn"].sum().sort_index()
    expected = expected[expected > 0]
    assert list(lost.index) == list(expected.index)
    np.testing.assert_allclose(lost.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-3)
    lost = colombia.lost_inputs
    assert (lost.filter(like="shadow_price").to_numpy() >= -1e-9).all()


def test_federation_plans_members_together(icio):
    result = federation_scenario(icio, ["COL", "PER"], "USA", TradeAssumptions(periods=2), compare=False)
    plan = result.plan
    res = plan.resources.set_index(["account", "period"])
    assert {"value_added:COL", "value_added:PER"} <= set(res.index.get_level_values(0))
    assert plan.resource_use("imports:USA").abs().max() < 1e-6
    assert 0 < result.share.iloc[0] < 1


def test_scenario_errors(icio):
    with pytest.raises(SpecError, match="unknown region 'XXX'"):
        trade_problem(icio, ["COL"], ["XXX"])
    with pytest.raises(SpecError, match="cannot cut itself"):
        trade_problem(icio, ["COL"], ["COL"])
    with pytest.raises(SpecError, match="import_flexibility"):
        TradeAssumptions(import_flexibility=-1)
