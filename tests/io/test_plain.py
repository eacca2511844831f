"""Plain flow tables in every layout, written from real tables (DANE 2019, ONS 2010)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    NotProductiveError,
    ZeroOutputError,
)
from commonplan.io.dane import read_dane
from commonplan.io.plain import read_flow_table


@pytest.fixture(scope="module")
def colombia(shared_data):
    """Real flows of Colombia 2019, as pandas blocks read straight from the derived CSVs."""
    folder = shared_data / "colombia_dane_2019"
    Z = pd.read_csv(folder / "col2019_Z_68.csv", index_col=0, dtype={"sector": str})
    Z.index = [f"{int(i):02d}" for i in Z.index]
    sectors = pd.read_csv(folder / "col2019_sectors_fd_va_68.csv", index_col=0)
    sectors.index = Z.index
    Y = sectors[["Demanda_Final"]].rename(columns={"Demanda_Final": "final demand"})
    x = sectors["Tot_19"].rename("Total output")
    accounts = sectors[["VA", "Remune_asalariados"]].T.rename(
        index={"VA": "value added [COP bn]", "Remune_asalariados": "compensation"}
    )
    return Z, Y, x, accounts


def _one_table(Z, Y, x, accounts, *, totals=True):
    frame = pd.concat([Z, Y], axis=1)
    if totals:
        frame.insert(len(Z.columns), "Total intermediate", Z.sum(axis=1))
    frame["Total output"] = x
    body = pd.concat([frame, accounts.reindex(columns=frame.columns)])
    if totals:
        body.loc["Total inputs"] = body.loc[list(Z.index)].sum()
    body.index.name = "sector"
    return body


def _check(economy, Z, Y, x, accounts):
    np.testing.assert_allclose(economy.flows().toarray(), Z.to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(economy.gross_output.to_numpy(), x.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(economy.final_demand.to_numpy(), Y.to_numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        economy.account_totals().loc["value added"].to_numpy(),
        accounts.iloc[0].to_numpy(),
        rtol=1e-12,
    )


def test_one_csv_with_auto_detection(colombia, tmp_path, shared_data):
    Z, Y, x, accounts = colombia
    path = tmp_path / "colombia.csv"
    _one_table(Z, Y, x, accounts).to_csv(path)
    economy = read_flow_table(path, region="COL", units="COP thousand million", year=2019)
    _check(economy, Z, Y, x, accounts)
    assert list(economy.final_demand.columns) == ["final demand"]  # totals skipped
    assert economy.account_names == ("value added", "compensation")
    assert economy.account_units["value added"] == "COP bn"  # unit from the brackets
    assert economy.products[0] == ("COL", "01")
    # Same coefficients as the dedicated DANE workbook reader.
    workbook = read_dane(shared_data / "colombia_dane_2019" / "matrix_IO_2019.xlsx")
    np.testing.assert_allclose(economy.A.toarray(), workbook.A.toarray(), rtol=1e-9, atol=1e-15)


def test_one_excel_and_one_parquet(colombia, tmp_path):
    Z, Y, x, accounts = colombia
    table = _one_table(Z, Y, x, accounts, totals=False)
    excel = tmp_path / "colombia.xlsx"
    table.to_excel(excel, sheet_name="IOT")
    _check(read_flow_table(excel, sheet="IOT"), Z, Y, x, accounts)
    parquet = tmp_path / "colombia.parquet"
    table.reset_index().to_parquet(parquet)
    _check(read_flow_table(parquet), Z, Y, x, accounts)
    with pytest.raises(MissingBlockError, match="sheet 'Nope'"):
        read_flow_table(excel, sheet="Nope")


def test_block_files(colombia, tmp_path):
    Z, Y, x, accounts = colombia
    files = {}
    for name, block in {"Z": Z, "Y": Y, "x": x.to_frame(), "accounts": accounts}.items():
        files[name] = tmp_path / f"{name}.csv"
        block.to_csv(files[name])
    _check(read_flow_table(files), Z, Y, x, accounts)
    _check(read_flow_table(list(files.values())), Z, Y, x, accounts)
    # Parquet blocks, in a mapping.
    parquet = {}
    for name, block in {"Z": Z, "Y": Y}.items():
        parquet[name] = tmp_path / f"{name}.parquet"
        block.rename_axis("sector").reset_index().to_parquet(parquet[name])
    economy = read_flow_table(parquet)
    # No x block: output is Z·1 + Y·1, which DANE balances to 3e-8 relative.
    np.testing.assert_allclose(economy.gross_output.to_numpy(), x.to_numpy(), rtol=1e-7)


def test_explicit_names_and_regions(colombia, tmp_path):
    Z, Y, x, accounts = colombia
    table = _one_table(Z, Y, x, accounts, totals=False)
    relabel = {label: f"COL/{label}" for label in Z.index}
    table = table.rename(index=relabel, columns={**relabel, "final demand": "COL/households"})
    path = tmp_path / "regions.csv"
    table.to_csv(path)
    economy = read_flow_table(
        path,
        region_separator="/",
        final_demand=["COL/households"],
        output="Total output",
        accounts=["compensation"],
    )
    assert economy.products[5] == ("COL", "06")
    assert economy.final_demand.columns[0] == ("COL", "households")
    assert economy.account_names == ("compensation",)


def test_uk_table_round_trip(shared_data, tmp_path):
    raw = pd.read_csv(
        shared_data / "uk_ons_ioat_2010" / "uk2010_siot_domestic_pxp.csv", index_col=0
    )
    path = tmp_path / "uk.csv"
    raw.to_csv(path)
    economy = read_flow_table(path, balance_tolerance=1e-3)
    assert economy.n_products == 127
    assert economy.gross_output.sum() == pytest.approx(raw.loc["Total output"].iloc[:127].sum())
    assert "Compensation of employees" in economy.account_names
    assert "Households" in economy.final_demand.columns


# ---- bad input ---------------------------------------------------------------------------


def _write(colombia, tmp_path, edit):
    Z, Y, x, accounts = colombia
    table = _one_table(Z, Y, x, accounts, totals=False).astype(object)
    edit(table)
    path = tmp_path / "bad.csv"
    table.to_csv(path)
    return path


def test_negative_flow_names_file_and_cell(colombia, tmp_path):
    path = _write(
        colombia, tmp_path, lambda t: t.__setitem__("07", t["07"].where(t.index != "03", -1.0))
    )
    with pytest.raises(InvalidValueError) as info:
        read_flow_table(path)
    assert (
        "bad.csv" in str(info.value)
        and "row '03'" in str(info.value)
        and "column '07'" in str(info.value)
    )


@pytest.mark.parametrize("value", ["nan", "inf", "abc", "1.2.3"])
def test_non_numbers_are_named(colombia, tmp_path, value):
    path = _write(
        colombia, tmp_path, lambda t: t.__setitem__("12", t["12"].where(t.index != "05", value))
    )
    with pytest.raises(InvalidValueError, match=r"bad.csv, row '05', column '12'"):
        read_flow_table(path)


def test_unbalanced_output(colombia, tmp_path):
    path = _write(
        colombia, tmp_path, lambda t: t.__setitem__("Total output", t["Total output"] * 1.1)
    )
    with pytest.raises(InvalidValueError, match=r"bad.csv: .*output of"):
        read_flow_table(path)


def test_duplicate_and_mismatched_labels(colombia, tmp_path):
    Z, Y, x, accounts = colombia
    path = tmp_path / "dup.csv"
    table = _one_table(Z, Y, x, accounts, totals=False)
    table.index = [*table.index[:-3], "01", *table.index[-2:]]
    table.to_csv(path)
    with pytest.raises(LabelError, match="duplicate"):
        read_flow_table(path)
    files = {"Z": tmp_path / "Z.csv", "Y": tmp_path / "Y.csv"}
    Z.to_csv(files["Z"])
    Y.rename(index={"01": "99"}).to_csv(files["Y"])
    with pytest.raises(LabelError, match=r"Y.csv.*missing \['01'\].*unknown \['99'\]"):
        read_flow_table(files)
    Z.iloc[:, ::-1].to_csv(files["Z"])
    with pytest.raises(LabelError, match="same labels in another order"):
        read_flow_table(files)


def test_missing_blocks_and_files(colombia, tmp_path):
    Z, *_ = colombia
    Z.to_csv(tmp_path / "Z.csv")
    with pytest.raises(MissingBlockError, match="'Y'"):
        read_flow_table({"Z": tmp_path / "Z.csv"})
    with pytest.raises(MissingBlockError, match="not found"):
        read_flow_table(tmp_path / "none.csv")
    with pytest.raises(LabelError, match="which block"):
        read_flow_table([tmp_path / "Z.csv", tmp_path / "flows.csv"])
    # A table with only the square block: no final demand and no output.
    Z.to_csv(tmp_path / "square.csv")
    with pytest.raises(MissingBlockError, match="final-demand"):
        read_flow_table(tmp_path / "square.csv")


def test_wrong_kinds_of_file(tmp_path, shared_data):
    pdf = tmp_path / "table.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    with pytest.raises(FileFormatError, match="binary"):
        read_flow_table(pdf)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        read_flow_table(empty)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="not an Excel"):
        read_flow_table(fake)
    fake_parquet = tmp_path / "fake.parquet"
    fake_parquet.write_text("a,b\n1,2\n")
    with pytest.raises(FileFormatError, match="Parquet"):
        read_flow_table(fake_parquet)
    unmatched = tmp_path / "unmatched.csv"  # no column (not even Z_<row>) names a row
    unmatched.write_text("sector,X_sec1,Z_sec3,final_demand\nsec1,1,2,3\nsec2,4,5,6\n")
    with pytest.raises(FileFormatError, match="no intermediate block"):
        read_flow_table(unmatched)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("sector,a,fd\na,1,2\n\xe9,0,0\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="UTF-8"):
        read_flow_table(latin)


def test_zero_output_and_not_productive(tmp_path):
    # Miller & Blair (2009) Table 2.3 flows written as a plain table, then broken.
    table = pd.DataFrame(
        {
            "s1": [150.0, 200.0, 650.0],
            "s2": [500.0, 100.0, 1400.0],
            "fd": [350.0, 1700.0, 0.0],
            "x": [1000.0, 2000.0, 0.0],
        },
        index=["s1", "s2", "value added"],
    )
    path = tmp_path / "mb.csv"
    table.to_csv(path)
    economy = read_flow_table(path)
    np.testing.assert_allclose(economy.A.toarray(), [[0.15, 0.25], [0.2, 0.05]])
    zero = table.copy()
    zero.loc["s2", ["fd", "x"]] = [-300.0, 0.0]
    zero.to_csv(path)
    with pytest.raises(ZeroOutputError, match="mb.csv"):
        read_flow_table(path)
    unproductive = table.copy()
    unproductive.loc["s1", ["fd", "x"]] = [-350.0, 300.0]  # columns then cost more than they make
    unproductive.loc["s2", ["fd", "x"]] = [300.0, 600.0]
    unproductive.to_csv(path)
    with pytest.raises(NotProductiveError, match="mb.csv"):
        read_flow_table(path)
