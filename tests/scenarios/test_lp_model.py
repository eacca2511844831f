"""The plan LP behind the scenario interface, on the OECD ICIO 2022 Americas table."""

from __future__ import annotations

import numpy as np
import pytest

from commonplan.planning.scenarios import TradeAssumptions, cutoff_scenario
from commonplan.scenarios import Shock, run


@pytest.fixture(scope="module")
def full_cut(icio):
    return run(icio, Shock("COL", "USA", 1.0, periods=3), model_name="lp")


def test_full_cut_is_the_cutoff_scenario(icio, full_cut):
    direct = cutoff_scenario(icio, "COL", "USA", TradeAssumptions(periods=3), compare=False)
    np.testing.assert_allclose(
        full_cut.extra["share_kept"]["share_kept"].to_numpy(), direct.share.to_numpy(), rtol=1e-7
    )
    levels = direct.plan.activity_levels.to_numpy()[:50]
    base = icio.gross_output.to_numpy()[np.asarray(icio.products.get_level_values(0) == "COL")]
    np.testing.assert_allclose(
        full_cut.loss().to_numpy(), base[:, None] - levels, rtol=1e-6, atol=1e-3
    )


@pytest.mark.parametrize("share", [1.0, 0.5])
def test_lp_never_loses_more_than_the_no_substitution_bound(icio, share):
    """Colombia without (part of) the USA's supplies: technique choice beats no substitution."""
    shock = Shock("COL", "USA", share, periods=3)
    lp = run(icio, shock, model_name="lp").total()
    bound = run(icio, shock, model_name="leontief").total()
    assert (lp["loss"] <= bound["loss"] + 1e-6).all()
    assert lp["loss"].iloc[0] > 0  # and the cut does cost something in period 1


def test_a_smaller_cut_keeps_more(icio, full_cut):
    half = run(icio, Shock("COL", "USA", 0.5, periods=3), model_name="lp")
    kept_full = full_cut.extra["share_kept"]["share_kept"].to_numpy()
    kept_half = half.extra["share_kept"]["share_kept"].to_numpy()
    assert (kept_half >= kept_full - 1e-9).all() and kept_half[0] > kept_full[0]
    nothing = run(icio, Shock("COL", "USA", 0.0, periods=1), model_name="lp")
    np.testing.assert_allclose(nothing.extra["share_kept"]["share_kept"], 1.0, atol=1e-6)


def test_sector_cut_limits_only_that_sectors_imports(icio):
    """Cutting only refined petroleum (C19) keeps more than cutting everything, less than nothing."""
    oil = run(icio, Shock("COL", "USA", {"C19": 1.0}), model_name="lp")
    kept = oil.extra["share_kept"]["share_kept"].iloc[0]
    everything = run(icio, Shock("COL", "USA", 1.0), model_name="lp")
    assert everything.extra["share_kept"]["share_kept"].iloc[0] < kept <= 1.0 + 1e-9
    assert oil.assumptions["import_flexibility"] == 1.0
