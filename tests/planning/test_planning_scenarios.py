"""Partner cut-off and federation on the real OECD ICIO 2022 Americas table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan.errors import SpecError
from commonplan.io.icio import read_icio_arrays
from commonplan.planning.scenarios import (
    TradeAssumptions,
    cutoff_scenario,
    federation_scenario,
    trade_model,
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
    published = pd.read_csv(
        shared_data / "mrio" / "icio2025_y2022_americas_interm_imports_by_partner_sector.csv"
    )
    usa = published[(published["importer"] == "COL") & (published["partner"] == "USA")]
    expected = usa.groupby("supplier_sector")["usd_mn"].sum().sort_index()
    expected = expected[expected > 0]
    assert list(lost.index) == list(expected.index)
    np.testing.assert_allclose(lost.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-3)
    lost = colombia.lost_inputs
    assert (lost.filter(like="shadow_price").to_numpy() >= -1e-9).all()


def test_federation_plans_members_together(icio):
    result = federation_scenario(
        icio, ["COL", "PER"], "USA", TradeAssumptions(periods=2), compare=False
    )
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


# ---- federation with free trade between members (COL + PER + CHL, USA cut off) ----------

MEMBERS = ["COL", "PER", "CHL"]


def _federation(icio, member_trade: str, trade_cost: float = 0.05):
    assumptions = TradeAssumptions(periods=2, member_trade=member_trade, trade_cost=trade_cost)
    return federation_scenario(icio, MEMBERS, "USA", assumptions, compare=False)


@pytest.fixture(scope="module")
def federations(icio):
    return {
        "table": _federation(icio, "table"),
        "free 0": _federation(icio, "free", 0.0),
        "free 0.05": _federation(icio, "free", 0.05),
        "free 0.5": _federation(icio, "free", 0.5),
    }


def test_free_trade_keeps_at_least_the_table_share(icio, federations):
    # at zero cost, shipping can reproduce the table's inter-member flows: more freedom cannot hurt
    table, free = federations["table"], federations["free 0"]
    assert free.plan.objective >= table.plan.objective * (1 - 1e-9)
    assert (free.share.to_numpy() >= table.share.to_numpy() - 1e-7).all()
    # dearer shipping shrinks what is possible: the share falls (weakly) as the cost rises
    objectives = [federations[k].plan.objective for k in ("free 0", "free 0.05", "free 0.5")]
    assert objectives[0] >= objectives[1] * (1 - 1e-9) >= objectives[2] * (1 - 2e-9)
    # and free trade is actually used (the table's fixed flows bind in the cut-off)
    assert free.plan.objective > table.plan.objective * 1.01
    shipments = _model(icio, "free", 0.0).shipments
    assert free.plan.activity_levels.iloc[shipments.columns].to_numpy().sum() > 0


def _model(icio, member_trade: str, trade_cost: float = 0.05):
    """The trade model that :func:`_federation` solves, with its activities' index arrays."""
    assumptions = TradeAssumptions(periods=2, member_trade=member_trade, trade_cost=trade_cost)
    return trade_model(icio, MEMBERS, ["USA"], assumptions)


def test_each_member_keeps_its_own_limits(icio, federations):
    levels = icio.activity_levels
    region = icio.products.get_level_values(0)
    va = icio.account("value_added").to_numpy()
    for key, result in federations.items():
        plan = result.plan
        res = plan.resources.set_index(["account", "period"])
        for member in MEMBERS:
            # the limit is the member's own base-year value added (computed here from the table)
            own = float(va[region == member] @ levels[region == member])
            used = res.loc[f"value_added:{member}", "used"].to_numpy()
            np.testing.assert_allclose(
                res.loc[f"value_added:{member}", "limit"].to_numpy(), own, rtol=1e-12
            )
            assert (used <= own * (1 + 1e-9)).all(), (key, member)
        assert plan.resource_use("imports:USA").abs().max() < 1e-6
        # member activities within their capital stock; stocks grow only by investment
        n = plan.problem.economy.n_products
        x = plan.activity_levels.to_numpy()[:n]
        K, I = plan.capital_stocks.to_numpy(), plan.investment.to_numpy()  # noqa: E741
        assert (x <= K * (1 + 1e-9) + 1e-6).all(), key
        assert (K[:, 1] <= K[:, 0] + I[:, 0] + 1e-6).all(), key
        assert (K[:, 0] <= levels[np.isin(region, MEMBERS)] * (1 + 1e-9) + 1e-6).all(), (
            key
        )  # base-year capacity
        # import activities within their capacity (0 from the USA)
        cap = plan.problem.capacity
        assert (plan.activity_levels.to_numpy() <= cap * (1 + 1e-9) + 1e-6).all(), key


def test_trade_costs_are_charged_as_documented(icio, federations):
    for key, cost in (("free 0.05", 0.05), ("free 0.5", 0.5)):
        plan = federations[key].plan
        eco = plan.problem.economy
        model = _model(icio, "free", cost)  # the model solved, with its index arrays
        assert model.problem.economy.activities.equals(eco.activities)
        shipments = model.shipments
        ship = shipments.columns
        assert ship.size == len(MEMBERS) * (len(MEMBERS) - 1) * 50
        use = eco.use.toarray()[:, ship] if hasattr(eco.use, "toarray") else eco.use[:, ship]
        make = eco.make.toarray()[:, ship] if hasattr(eco.make, "toarray") else eco.make[:, ship]
        # each shipment "ship O->D s" makes one unit of (D, s) from 1 + cost units of (O, s)
        routes = zip(shipments.origin, shipments.destination, shipments.sector, strict=True)
        for column, (j, (origin, destination, sector)) in enumerate(zip(ship, routes, strict=True)):
            assert eco.activities[j] == (destination, f"ship {origin}->{destination} {sector}")
            assert np.flatnonzero(make[:, column]).tolist() == [
                eco.products.get_loc((destination, sector))
            ]
            assert make[eco.products.get_loc((destination, sector)), column] == 1.0
            assert np.flatnonzero(use[:, column]).tolist() == [
                eco.products.get_loc((origin, sector))
            ]
            assert use[eco.products.get_loc((origin, sector)), column] == pytest.approx(1.0 + cost)
        # shipping uses no member resource
        assert np.all(eco.account_coefficients[:, ship] == 0)
        # the plan's product balances hold with the cost charged: make·x − use·x − bundle·I = d
        x = plan.activity_levels.to_numpy()
        net = (
            eco.make @ x
            - eco.use @ x
            - plan.problem.capital.stock_bundle @ plan.investment.to_numpy()
        )
        np.testing.assert_allclose(
            net, plan.deliveries.to_numpy(), atol=1e-6 * max(1.0, np.abs(x).max())
        )


def test_trade_activities_are_indexed(icio):
    """Imports and shipments carry their partner, sector and column: labels are never parsed."""
    model = _model(icio, "free")
    eco, imports, shipments = model.problem.economy, model.imports, model.shipments
    n = eco.n_products
    # columns: the members' own activities, then imports, then shipments
    np.testing.assert_array_equal(imports.columns, n + np.arange(len(imports)))
    np.testing.assert_array_equal(shipments.columns, n + len(imports) + np.arange(len(shipments)))
    assert eco.n_activities == n + len(imports) + len(shipments)
    # import k makes one unit of (member, sector), uses nothing, counts one unit on imports:partner
    member_sector = zip(imports.member, imports.sector, strict=True)
    assert imports.products.tolist() == [eco.products.get_loc(key) for key in member_sector]
    make, use = sp.csc_array(eco.make), sp.csc_array(eco.use)
    expected = np.zeros((n, len(imports)))
    expected[imports.products, np.arange(len(imports))] = 1.0
    np.testing.assert_array_equal(make[:, imports.columns].toarray(), expected)
    assert use[:, imports.columns].nnz == 0
    for partner in set(imports.partner):
        row = eco.account_coefficients[eco.account_names.index(f"imports:{partner}")]
        np.testing.assert_array_equal(
            np.flatnonzero(row), imports.columns[imports.partner == partner]
        )
        assert set(row[row != 0]) == {1.0}
    # its base-year flow is the table's: the partner's sector sold to the member's industries
    region = icio.products.get_level_values(0)
    flows = sp.csc_array(icio.use).toarray() * icio.activity_levels
    to_member = {r: flows[:, region == r].sum(axis=1) for r in MEMBERS}
    table = [
        to_member[r][icio.products.get_loc((p, s))]
        for r, p, s in zip(imports.member, imports.partner, imports.sector, strict=True)
    ]
    np.testing.assert_allclose(imports.flow, table, rtol=1e-12)
    assert (imports.flow > 0).all() and not set(imports.partner) & set(MEMBERS)
    # shipment k takes (origin, sector) to (destination, sector)
    assert shipments.from_products.tolist() == [
        eco.products.get_loc(key) for key in zip(shipments.origin, shipments.sector, strict=True)
    ]
    assert shipments.to_products.tolist() == [
        eco.products.get_loc(key)
        for key in zip(shipments.destination, shipments.sector, strict=True)
    ]
    assert (shipments.origin != shipments.destination).all()
