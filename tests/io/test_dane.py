"""DANE Colombia 2019 reader, on the real workbooks (68 and 25 sectors)."""

from __future__ import annotations

import shutil

import numpy as np
import openpyxl
import pytest

from commonplan.errors import FileFormatError, InvalidValueError, MissingBlockError
from commonplan.io.dane import read_dane


@pytest.fixture(scope="module")
def dane68(shared_data):
    return read_dane(shared_data / "colombia_dane_2019" / "matrix_IO_2019.xlsx")


@pytest.fixture(scope="module")
def dane25(shared_data):
    return read_dane(shared_data / "colombia_dane_2019" / "matriz19.xlsx")


def _sheet(path, name):
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = list(workbook[name].iter_rows(values_only=True))
    workbook.close()
    return rows


def test_68_totals_from_provenance(dane68):
    # PROVENANCE.md: total output 1,857,445 and VA 959,792 (thousand-million COP).
    assert dane68.n_products == 68
    assert dane68.gross_output.sum() == pytest.approx(1_857_445, abs=1.0)
    assert dane68.account_totals().loc["value_added"].sum() == pytest.approx(959_792, abs=1e-6)
    assert dane68.metadata.year == 2019
    assert "COP" in dane68.metadata.units
    assert set(dane68.regions) == {"COL"}


def test_68_row_and_column_identities(dane68):
    Z = dane68.flows().toarray()
    x = dane68.gross_output.to_numpy()
    y = dane68.final_demand.to_numpy().sum(axis=1)
    np.testing.assert_allclose(Z.sum(axis=1) + y, x, rtol=1e-9, atol=1e-3)
    totals = dane68.account_totals()
    inputs = (
        Z.sum(axis=0)
        + totals.loc["value_added"].to_numpy()
        + totals.loc["taxes_less_subsidies_on_products"].to_numpy()
    )
    np.testing.assert_allclose(inputs, x, rtol=1e-9, atol=1e-3)
    components = totals.loc[
        [
            "compensation_of_employees",
            "other_taxes_less_subsidies_on_production",
            "mixed_income",
            "gross_operating_surplus",
        ]
    ].sum()
    np.testing.assert_allclose(
        components.to_numpy(), totals.loc["value_added"].to_numpy(), atol=1e-6
    )


def test_68_cells_match_the_workbook(dane68, shared_data):
    path = shared_data / "colombia_dane_2019" / "matrix_IO_2019.xlsx"
    flows = _sheet(path, "Hoja1")
    Z = dane68.flows().toarray()
    # A few cells read independently: (row sector, column sector) → workbook position.
    for i, j in [(0, 0), (0, 1), (17, 42), (66, 66), (66, 0)]:
        assert Z[i, j] == pytest.approx(float(flows[i + 1][j + 1]), rel=1e-12, abs=1e-9)
    sectors = _sheet(path, "Hoja2")
    header = list(sectors[0])
    first = dict(zip(header, sectors[1], strict=True))
    assert dane68.gross_output.iloc[0] == pytest.approx(first["Tot_19"])
    assert dane68.metadata.extra["sector_names"]["01"] == first["Nombre"]
    fd = dane68.final_demand.iloc[0]
    assert fd["net_exports"] == pytest.approx(first["Exportaciones_Netas"])
    assert fd["gross_fixed_capital_formation"] == pytest.approx(first["FBKF"])


def test_68_negative_final_demand_is_kept_and_discrepancy_only_for_sector_68(dane68):
    fd = dane68.final_demand
    # Net exports are negative where imports exceed exports (43 sectors in 2019).
    assert int((fd["net_exports"] < 0).sum()) == 43
    gap = fd["statistical_discrepancy"]
    assert list(gap[gap != 0].index.get_level_values("sector")) == ["68"]
    assert gap.sum() == pytest.approx(5524.0)


def test_25_employment_and_output(dane25, shared_data):
    assert dane25.n_products == 25
    assert dane25.account_units["employment"] == "persons"
    totals = dane25.account_totals()
    rows = _sheet(shared_data / "colombia_dane_2019" / "matriz19.xlsx", "Sheet3")
    employment = [r[3] for r in rows[1:]]
    np.testing.assert_allclose(totals.loc["employment"].to_numpy(), employment)
    assert totals.loc["employment"].sum() == pytest.approx(19_756_243)
    assert dane25.gross_output.sum() == pytest.approx(1_857_445, abs=1.0)
    # Derived blocks: y = x − Z·1 and v = x − 1ᵀZ, so both sum to the same GDP-like total.
    assert dane25.final_demand.to_numpy().sum() == pytest.approx(totals.loc["value_added"].sum())
    Z = dane25.flows().toarray()
    flows = _sheet(shared_data / "colombia_dane_2019" / "matriz19.xlsx", "Sheet1")
    assert Z[0, 2] == pytest.approx(float(flows[1][3]))


def test_68_and_25_agree_on_total_intermediate_use(dane68, dane25):
    assert dane68.flows().sum() == pytest.approx(dane25.flows().sum(), rel=1e-9)


def test_negative_flow_names_the_cell(shared_data, tmp_path):
    path = tmp_path / "matrix_IO_2019.xlsx"
    shutil.copy(shared_data / "colombia_dane_2019" / "matrix_IO_2019.xlsx", path)
    workbook = openpyxl.load_workbook(path)
    workbook["Hoja1"].cell(row=4, column=3).value = -12.5  # sector 03 → sector 02
    workbook.save(path)
    with pytest.raises(InvalidValueError) as info:
        read_dane(path)
    message = str(info.value)
    assert "matrix_IO_2019.xlsx" in message and "'03'" in message and "'02'" in message


def test_text_in_a_cell_is_named(shared_data, tmp_path):
    path = tmp_path / "matriz19.xlsx"
    shutil.copy(shared_data / "colombia_dane_2019" / "matriz19.xlsx", path)
    workbook = openpyxl.load_workbook(path)
    workbook["Sheet2"].cell(row=3, column=2).value = "n/d"
    workbook.save(path)
    with pytest.raises(InvalidValueError, match=r"Sheet2.*'n/d'"):
        read_dane(path)


def test_wrong_workbook_and_wrong_file(shared_data, tmp_path):
    other = tmp_path / "other.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.title = "Data"
    workbook.save(other)
    with pytest.raises(FileFormatError, match="Hoja1"):
        read_dane(other)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"%PDF-1.4 not a workbook")
    with pytest.raises(FileFormatError):
        read_dane(fake)
    with pytest.raises(MissingBlockError):
        read_dane(tmp_path / "missing.xlsx")
