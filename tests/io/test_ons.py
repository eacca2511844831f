"""UK ONS 2010 analytical tables: the SIOT reader and the published oracle tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.errors import MissingBlockError
from commonplan.io.ons import (
    ons_published_coefficients,
    ons_published_leontief_inverse,
    ons_published_multipliers,
    read_ons_ioat,
)


@pytest.fixture(scope="module")
def folder(shared_data):
    return shared_data / "uk_ons_ioat_2010"


@pytest.fixture(scope="module")
def uk(folder):
    return read_ons_ioat(folder)


def test_shape_and_metadata(uk):
    assert uk.n_products == 127
    assert uk.metadata.year == 2010
    assert "GBP million" in uk.metadata.units
    assert uk.products[0] == ("GBR", "01")
    assert uk.metadata.extra["sector_names"]["01"].startswith("Products of agriculture")


def test_A_equals_published_coefficients(uk, folder):
    published = ons_published_coefficients(folder)
    assert published.index.equals(uk.products)
    np.testing.assert_allclose(uk.A.toarray(), published.to_numpy(), rtol=1e-10, atol=1e-15)


def test_published_inverse_and_multipliers_are_consistent(uk, folder):
    L = ons_published_leontief_inverse(folder)
    # Our A reproduces the published inverse (dense here: 127 products, a test oracle).
    ours = np.linalg.inv(np.eye(uk.n_products) - uk.A.toarray())
    np.testing.assert_allclose(ours, L.to_numpy(), rtol=1e-9, atol=1e-12)
    multipliers = ons_published_multipliers(folder).reindex(uk.products)
    assert not multipliers.isna().any().any()
    np.testing.assert_allclose(
        L.sum(axis=0).to_numpy(), multipliers["output_multiplier"].to_numpy(), rtol=1e-12
    )
    assert multipliers.loc[("GBR", "01"), "output_multiplier"] == pytest.approx(1.8311707586294628)


def test_accounts_and_totals_match_the_file(uk, folder):
    raw = pd.read_csv(folder / "uk2010_siot_domestic_pxp.csv", index_col=0)
    products = list(uk.sectors)
    np.testing.assert_allclose(
        uk.gross_output.to_numpy(), raw.loc["Total output", products].to_numpy(float)
    )
    totals = uk.account_totals()
    np.testing.assert_allclose(
        totals.loc["compensation_of_employees"].to_numpy(),
        raw.loc["Compensation of employees", products].to_numpy(float),
    )
    np.testing.assert_allclose(
        totals.loc["imports"].to_numpy(),
        raw.loc["Imported goods and services", products].to_numpy(float),
    )
    gva = totals.loc[
        [
            "compensation_of_employees",
            "gross_operating_surplus",
            "taxes_less_subsidies_on_production",
        ]
    ].sum()
    np.testing.assert_allclose(totals.loc["gross_value_added"].to_numpy(), gva.to_numpy())
    # Column identity: domestic inputs + imports + product taxes + GVA = output.
    inputs = (
        uk.flows().toarray().sum(axis=0)
        + totals.loc[["imports", "taxes_less_subsidies_on_products", "gross_value_added"]]
        .sum()
        .to_numpy()
    )
    np.testing.assert_allclose(inputs, uk.gross_output.to_numpy(), rtol=1e-6, atol=1.0)
    # Row identity.
    rows = uk.flows().toarray().sum(axis=1) + uk.final_demand.to_numpy().sum(axis=1)
    np.testing.assert_allclose(rows, uk.gross_output.to_numpy(), rtol=1e-6, atol=1.0)
    assert uk.final_demand.columns[0] == "households"


def test_missing_folder(tmp_path):
    with pytest.raises(MissingBlockError, match="uk2010_siot_domestic_pxp.csv"):
        read_ons_ioat(tmp_path)
