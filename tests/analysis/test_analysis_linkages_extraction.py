"""Key sectors against pymrio's dense L and G; extraction against explicit recomputation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymrio
import pytest

from commonplan.analysis import (
    CLASSES,
    classify,
    extract_partner_supply,
    extract_sectors,
    key_sectors,
    linkages,
)
from commonplan.errors import LabelError


def test_linkages_match_pymrio_leontief_and_ghosh(icio_data, icio_economy):
    Z, Y, x, _ = icio_data
    A = pymrio.calc_A(Z, x)
    L = pymrio.calc_L(A)
    G = pymrio.calc_G(pymrio.calc_B(Z, x))  # dense inverse of I − B
    table = linkages(icio_economy)
    np.testing.assert_allclose(table["backward"].to_numpy(), L.sum(axis=0).to_numpy(), rtol=1e-10)
    active = x.to_numpy() > 0
    np.testing.assert_allclose(
        table["forward"].to_numpy()[active], G.sum(axis=1).to_numpy()[active], rtol=1e-10
    )
    # inactive products (zero output): zero row of B, so G's row sum is 1
    np.testing.assert_allclose(table["forward"].to_numpy()[~active], 1.0)
    np.testing.assert_allclose(table["power_of_dispersion"].mean(), 1.0)
    assert set(table["classification"].astype(str)) <= set(CLASSES)


def test_linkages_within_region_normalise_per_region(icio_economy):
    table = linkages(icio_economy, within_region=True)
    means = table.groupby(level="region")[
        ["power_of_dispersion", "sensitivity_of_dispersion"]
    ].mean()
    np.testing.assert_allclose(means.to_numpy(), 1.0)


def test_four_way_classification_rules():
    power = pd.Series([1.2, 1.2, 0.8, 0.8, 1.0])
    sensitivity = pd.Series([1.1, 0.9, 1.1, 0.9, 1.0])
    assert list(classify(power, sensitivity)) == [
        "key",
        "backward-oriented",
        "forward-oriented",
        "weak",
        "weak",
    ]


def test_key_sectors_are_ranked(icio_economy):
    table = linkages(icio_economy)
    top = key_sectors(table, top=5)
    assert len(top) == 5 and (top["classification"] == "key").all()
    score = top["power_of_dispersion"] + top["sensitivity_of_dispersion"]
    assert score.is_monotonic_decreasing


def test_partner_supply_extraction_equals_recomputation(icio_economy):
    table = extract_partner_supply(icio_economy, "COL", "USA")
    A = icio_economy.A.toarray()
    region = icio_economy.products.get_level_values("region")
    A[np.ix_(np.asarray(region == "USA"), np.asarray(region == "COL"))] = 0.0
    y = icio_economy.total_final_demand.to_numpy()
    expected = np.linalg.solve(np.eye(len(y)) - A, y)
    np.testing.assert_allclose(table["output_after"].to_numpy(), expected, rtol=1e-9)
    lost = table["output_lost"].groupby(level="region").sum()
    assert lost["COL"] > 0 and lost["USA"] > 0
    assert table.attrs["total_output_lost"] == pytest.approx(table["output_lost"].sum())


def test_partner_supply_extraction_with_final_demand(wiod_economy):
    without = extract_partner_supply(wiod_economy, "MEX", "USA")
    with_fd = extract_partner_supply(wiod_economy, "MEX", "USA", include_final_demand=True)
    assert with_fd.attrs["total_output_lost"] > without.attrs["total_output_lost"] > 0


def test_sector_extraction_of_one_product_closed_form(miller_blair):
    economy, _ = miller_blair
    table = extract_sectors(economy, ["sec1"])
    # without sector 1, sector 2 produces its own final demand through its own input a22 = 0.05
    assert table.loc[("MB", "sec2"), "output_after"] == pytest.approx(1700 / 0.95)
    assert table.loc[("MB", "sec1"), "output_after"] == 0.0
    assert table.attrs["total_output_lost"] == pytest.approx(3000 - 1700 / 0.95)


def test_unknown_products_and_regions(icio_economy):
    with pytest.raises(LabelError, match="unknown product"):
        extract_sectors(icio_economy, [("COL", "nonsense")])
    with pytest.raises(LabelError, match="unknown region 'ATLANTIS'"):
        extract_partner_supply(icio_economy, "ATLANTIS", "USA")
    with pytest.raises(LabelError, match="two different regions"):
        extract_partner_supply(icio_economy, "COL", "COL")
