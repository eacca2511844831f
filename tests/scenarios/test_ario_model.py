"""The ario model is BoARIO: our wrapper reproduces BoARIO's own example, and runs a pymrio test system."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pymrio
import pytest
from boario import event
from boario.extended_models import ARIOPsiModel
from boario.simulation import Simulation

from commonplan.io.pymrio_bridge import from_pymrio
from commonplan.scenarios import ARIOAssumptions, Shock, run
from commonplan.scenarios.ario import simulate, to_iosystem


@pytest.fixture(scope="module")
def test_mrio():
    """BoARIO's integration-test system: pymrio's test MRIO in 3 regions × 5 sectors."""
    mrio = pymrio.load_test()
    mrio.aggregate(
        region_agg=["reg1", "reg1", "reg2", "reg2", "reg3", "reg3"],
        sector_agg=[
            "food",
            "mining",
            "manufactoring",
            "other",
            "construction",
            "other",
            "other",
            "other",
        ],
    )
    mrio.calc_all()
    return mrio


def _boario_directly(mrio, impact, days, duration, **event_args):
    """BoARIO's documented use, written out: ARIOPsiModel with its defaults, one arbitrary event."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIOPsiModel(
            mrio,
            order_type="alt",
            alpha_base=1.0,
            alpha_max=1.25,
            alpha_tau=365,
            rebuild_tau=60,
            main_inv_dur=90,
            monetary_factor=10**6,
            temporal_units_by_step=1,
            iotable_year_to_temporal_unit_factor=365,
            psi_param=0.80,
            inventory_restoration_tau=60,
        )
        sim = Simulation(model, n_temporal_units_to_sim=days)
        sim.add_event(
            event.from_series(
                event_type="arbitrary", impact=impact, duration=duration, **event_args
            )
        )
        sim.loop()
    return sim.production_realised


def test_wrapper_reproduces_boarios_arbitrary_event_example(test_mrio):
    """BoARIO's test_arbitrary_events: 20 % of reg1 mining and 30 % of manufacturing lost for 20 days."""
    impact = pd.Series(
        [0.2, 0.3], index=pd.MultiIndex.from_tuples([("reg1", "mining"), ("reg1", "manufactoring")])
    )
    expected = _boario_directly(
        test_mrio, impact, 365, 20, recovery_function="concave", recovery_tau=180
    )
    system, placed = to_iosystem(from_pymrio(test_mrio))
    assert not placed
    got = simulate(
        system, impact, 365, 20, ARIOAssumptions(), recovery_tau=180, recovery_function="concave"
    )
    pd.testing.assert_frame_equal(got, expected, rtol=1e-9, check_names=False)
    hit = got[("reg1", "manufactoring")] / got[("reg1", "manufactoring")].iloc[0]
    assert hit.min() < 0.75 and hit.iloc[-1] > hit.min()


def test_ario_outcome_on_the_pymrio_test_system(test_mrio):
    economy = from_pymrio(test_mrio)
    shock = Shock("reg1", "reg2", 0.5, periods=3, duration=1)
    outcome = run(
        economy, shock, {"days_per_period": 40, "direct_loss": "leontief"}, model_name="ario"
    )
    # the capacity lost is the Leontief cap: half, for every reg1 industry buying from reg2
    A = economy.A.toarray()
    reg1 = np.asarray(economy.products.get_level_values(0) == "reg1")
    reg2 = np.asarray(economy.products.get_level_values(0) == "reg2")
    buys = A[np.ix_(reg2, reg1)].sum(axis=0) > 0
    np.testing.assert_array_equal(
        outcome.extra["capacity_lost"]["share"].to_numpy(), np.where(buys, 0.5, 0.0)
    )
    # the per-period loss is BoARIO's daily production averaged over each period's 40 days
    impact = pd.Series(0.5, index=economy.products[reg1][buys])
    daily = _boario_directly(test_mrio, impact, 120, 40, recovery_tau=1)
    lost = 1 - daily / daily.iloc[0]
    for period in (1, 2, 3):
        days = lost.iloc[(period - 1) * 40 : period * 40].mean()
        expected = days.loc["reg1"].reindex(outcome.loss().index)
        np.testing.assert_allclose(
            outcome.loss("loss_share")[period].to_numpy(),
            expected.to_numpy(),
            rtol=1e-9,
            atol=1e-12,
        )
    total = outcome.total()["loss_share"]
    assert total[1] > total[3] and total[1] > 0.05


def test_ario_on_a_table_without_final_demand_by_region(icio):
    """The ICIO arrays have one final-use column: it is placed in each product's own region."""
    system, placed = to_iosystem(icio)
    assert placed
    np.testing.assert_allclose(system.Y.sum(axis=1).to_numpy(), icio.total_final_demand.to_numpy())
    own = system.Y.loc["COL"].drop(columns="COL", level=0)
    assert (own.to_numpy() == 0).all()
