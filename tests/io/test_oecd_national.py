"""OECD national IOT (2023 edition), on the real Belgium 2020 file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.errors import FileFormatError, InvalidValueError, LabelError, MissingBlockError
from commonplan.io.oecd_national import read_oecd_national


@pytest.fixture(scope="module")
def path(shared_data):
    return shared_data / "textbook_examples" / "BEL2020ttl.csv"


@pytest.fixture(scope="module")
def raw(path):
    return pd.read_csv(path, index_col=0)


@pytest.fixture(scope="module")
def bel(path):
    return read_oecd_national(path)


def test_labels_year_and_units(bel):
    assert bel.n_products == 50
    assert bel.products[0] == ("BEL", "D01")
    assert bel.products[-1] == ("BEL", "D97T98")
    assert bel.metadata.year == 2020
    assert bel.metadata.units.startswith("USD million")
    assert list(bel.final_demand.columns) == [
        "HFCE",
        "NPISH",
        "GGFC",
        "GFCF",
        "INVNT",
        "DPABR",
        "CONS_NONRES",
        "EXPO",
        "IMPO",
    ]


def test_cells_and_totals_match_the_file(bel, raw):
    industries = [c for c in raw.columns if c[1:2].isdigit()]
    np.testing.assert_allclose(
        bel.gross_output.to_numpy(), raw.loc["OUTPUT", industries].to_numpy(float)
    )
    Z = bel.flows().toarray()
    assert Z[0, 8] == pytest.approx(raw.loc["TTL_01", "D10T12"])  # 7709: agriculture into food
    totals = bel.account_totals()
    assert totals.loc["value_added"].sum() == pytest.approx(raw.loc["VALU", industries].sum())
    assert totals.loc["taxes_less_subsidies_on_products"].sum() == pytest.approx(
        raw.loc["TXS_INT_FNL", industries].sum()
    )
    assert (bel.final_demand["IMPO"] <= 0).all()


def test_identities(bel):
    Z = bel.flows().toarray()
    x = bel.gross_output.to_numpy()
    np.testing.assert_allclose(Z.sum(axis=1) + bel.final_demand.to_numpy().sum(axis=1), x, atol=1.0)
    # With the explicit unallocated account, inputs + primary inputs = output exactly.
    np.testing.assert_allclose(Z.sum(axis=0) + bel.account_totals().sum().to_numpy(), x, atol=1e-6)
    assert "unallocated_primary_inputs" in bel.account_names


def test_reordered_rows_are_refused(raw, tmp_path):
    rows = list(raw.index)
    rows[0], rows[1] = rows[1], rows[0]
    path = tmp_path / "BEL2020ttl.csv"
    raw.loc[rows].to_csv(path)
    with pytest.raises(LabelError, match="do not match the industry columns"):
        read_oecd_national(path)


def test_missing_output_row_and_bad_cells(raw, tmp_path):
    path = tmp_path / "BEL2020ttl.csv"
    raw.drop(index="OUTPUT").to_csv(path)
    with pytest.raises(MissingBlockError, match="OUTPUT"):
        read_oecd_national(path)
    broken = raw.astype(object)
    broken.loc["TTL_05", "D20"] = "n.a."
    broken.to_csv(path)
    with pytest.raises(InvalidValueError, match=r"row 'TTL_05', column 'D20'"):
        read_oecd_national(path)
    negative = raw.copy()
    negative.loc["TTL_05", "D20"] = -3.0
    negative.to_csv(path)
    with pytest.raises(InvalidValueError, match="negative"):
        read_oecd_national(path)


def test_not_an_oecd_file(shared_data):
    with pytest.raises(FileFormatError, match="industry columns"):
        read_oecd_national(shared_data / "textbook_examples" / "miller_blair_2009_table2_3.csv")
