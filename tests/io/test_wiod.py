"""WIOD readers: world tables (arrays and the published WIOT layout) and national tables with hours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    ShapeError,
    ZeroOutputError,
)
from commonplan.io.wiod import SEA_ACCOUNTS, read_wiod_arrays, read_wiod_niot

NIOT = "us_wiod_niot_2000_2014"


@pytest.fixture(scope="module")
def wiot2011(shared_data: Path) -> Economy:
    return read_wiod_arrays(shared_data / "mrio/wiod2013_wiot_2011.npz")


@pytest.fixture(scope="module")
def usa2014(shared_data: Path) -> Economy:
    return read_wiod_niot(shared_data / NIOT / "usaiot.csv", year=2014)


# ---- world tables as arrays -------------------------------------------------------------


def test_wiot_arrays_labels_and_final_demand_by_destination(wiot2011: Economy) -> None:
    assert wiot2011.n_products == 41 * 35
    assert wiot2011.products[0] == ("AUS", "AtB")
    assert ("MEX", "30t33") in wiot2011.products and ("RoW", "P") in wiot2011.products
    assert wiot2011.final_demand_columns.names == ["region", "category"]
    assert wiot2011.final_demand_columns[:5].tolist() == [
        ("AUS", c) for c in ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN")
    ]
    assert wiot2011.metadata.year == 2011
    assert "Timmer" in wiot2011.metadata.citation
    assert (
        wiot2011.metadata.extra["industry_names"]["30t33"]
        == "30t33 Electrical and optical equipment"
    )


@pytest.mark.parametrize("year", [2000, 2005, 2008, 2011])
def test_wiot_arrays_accounting_identities(shared_data: Path, year: int) -> None:
    data = np.load(shared_data / f"mrio/wiod2013_wiot_{year}.npz")
    economy = read_wiod_arrays(shared_data / f"mrio/wiod2013_wiot_{year}.npz")
    x = economy.gross_output.to_numpy()
    np.testing.assert_array_equal(x, data["x"].astype(float))
    flows = economy.flows()
    np.testing.assert_allclose(flows.toarray(), data["Z"], rtol=1e-13, atol=1e-9)
    # x = Z·1 + F·1 up to the rounding of integer flows (≤ 108 USD million in 2011, provenance)
    residual = np.asarray(flows.sum(axis=1)).ravel() + economy.final_demand_values.sum(axis=1) - x
    assert np.abs(residual).max() <= (108 if year == 2011 else 120)
    # columns: 1ᵀA + value_added coefficient = 1 wherever output is positive
    active = x > 0
    column = np.asarray(economy.A.sum(axis=0)).ravel() + economy.account("value_added").to_numpy()
    np.testing.assert_allclose(column[active], 1.0, atol=1e-12)


def test_wiot_arrays_value_added_by_country_matches_gdp(wiot2011: Economy) -> None:
    """x − colsum(Z) by country, 2011 (provenance): USA 15,162 bn, MEX 1,148, CHN 7,388."""
    totals = wiot2011.account_totals().loc["value_added"].groupby(level="region").sum()
    assert totals["USA"] == pytest.approx(15_162e3, rel=1e-3)
    assert totals["MEX"] == pytest.approx(1_148e3, rel=1e-3)
    assert totals["CHN"] == pytest.approx(7_388e3, rel=1e-3)


def test_wiot_arrays_bad_input(tmp_path: Path, shared_data: Path) -> None:
    data = dict(np.load(shared_data / "mrio/wiod2013_wiot_2000.npz"))
    np.savez(tmp_path / "nofd.npz", **{k: v for k, v in data.items() if k != "F"})
    with pytest.raises(MissingBlockError, match=r"nofd.npz.*\['F'\]"):
        read_wiod_arrays(tmp_path / "nofd.npz")
    negative = dict(data, Z=data["Z"].copy())
    negative["Z"][36, 2] = -1
    np.savez(tmp_path / "neg.npz", **negative)
    with pytest.raises(
        InvalidValueError, match=r"neg.npz, row 'AUT_C', column 'AUS_15t16'.*negative"
    ):
        read_wiod_arrays(tmp_path / "neg.npz")
    short = dict(data, F=data["F"][:, :-5])
    np.savez(tmp_path / "short.npz", **short)
    with pytest.raises(ShapeError, match="F has shape"):
        read_wiod_arrays(tmp_path / "short.npz")
    zero = dict(data, x=data["x"].copy())
    zero["x"][0] = 0
    np.savez(tmp_path / "zero.npz", **zero)
    with pytest.raises(ZeroOutputError, match=r"zero.npz.*AUS.*AtB"):
        read_wiod_arrays(tmp_path / "zero.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(FileFormatError, match="junk.npz"):
        read_wiod_arrays(tmp_path / "junk.npz")


# ---- national table with hours ------------------------------------------------------------


def test_niot_gross_output_2014(usa2014: Economy) -> None:
    assert usa2014.gross_output.sum() == pytest.approx(30.97e6, rel=5e-4)  # 30.97 trillion USD
    assert usa2014.n_products == 56
    assert usa2014.products[0] == ("USA", "A01") and usa2014.products[-1] == ("USA", "U")
    assert list(usa2014.final_demand_columns) == [
        "CONS_h",
        "CONS_np",
        "CONS_g",
        "GFCF",
        "INVEN",
        "EXP",
    ]
    assert usa2014.metadata.year == 2014


def test_niot_rows_balance_to_1e_9(shared_data: Path, usa2014: Economy) -> None:
    raw = pd.read_csv(shared_data / NIOT / "usaiot.csv")
    raw = raw[raw["Year"] == 2014].set_index("Code")
    codes = [s for _, s in usa2014.products]
    Z = raw.loc[codes, codes].to_numpy()
    np.testing.assert_allclose(usa2014.flows().toarray(), Z, rtol=1e-13, atol=1e-9)
    uses = np.asarray(usa2014.flows().sum(axis=1)).ravel() + usa2014.final_demand_values.sum(axis=1)
    go = usa2014.gross_output.to_numpy()
    np.testing.assert_allclose(uses, go, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(
        usa2014.final_demand["EXP"].to_numpy(), raw.loc[codes, "EXP"].to_numpy()
    )


@pytest.mark.parametrize("year", [2000, 2007, 2014])
def test_niot_accounts_match_the_sea_rows(shared_data: Path, year: int) -> None:
    economy = read_wiod_niot(
        shared_data / NIOT / "usaiot.csv", shared_data / NIOT / "usasea.csv", year=year
    )
    sea = pd.read_csv(shared_data / NIOT / "usasea.csv")
    sea = sea[sea["year"] == year].set_index("code")
    totals = economy.account_totals()
    codes = [s for _, s in economy.products]
    for account, (column, unit, _) in SEA_ACCOUNTS.items():
        np.testing.assert_allclose(
            totals.loc[account].to_numpy(), sea.loc[codes, column].to_numpy(), rtol=1e-12, atol=1e-9
        )
        assert economy.account_units[account] == unit
    hours = economy.account("hours_worked_employees")
    assert hours.loc[("USA", "U")] == 0.0  # no output, no hours
    # hours per USD million of output, e.g. construction: H_EMPE / GO
    f = sea.loc["F"]
    assert hours.loc[("USA", "F")] == pytest.approx(
        f["H_EMPE"] / economy.gross_output.loc[("USA", "F")], rel=1e-12
    )


def test_niot_bad_input(tmp_path: Path, shared_data: Path) -> None:
    iot = shared_data / NIOT / "usaiot.csv"
    sea = shared_data / NIOT / "usasea.csv"
    assert read_wiod_niot(iot, year=None).metadata.year == 2014  # latest year by default
    with pytest.raises(MissingBlockError, match="no domestic rows for year 1999.*2000, 2001"):
        read_wiod_niot(iot, year=1999)
    frame = pd.read_csv(iot)
    bad = frame.copy()
    bad["C20"] = bad["C20"].astype(object)
    bad.loc[(bad["Year"] == 2010) & (bad["Code"] == "B"), "C20"] = "abc"
    bad.to_csv(tmp_path / "usaiot.csv", index=False)
    sea_frame = pd.read_csv(sea)
    sea_frame.to_csv(tmp_path / "usasea.csv", index=False)
    with pytest.raises(InvalidValueError, match=r"usaiot.csv, row .*column 'C20'.*'abc'"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    negative = frame.copy()
    negative.loc[(negative["Year"] == 2010) & (negative["Code"] == "B"), "C20"] = -3.0
    negative.to_csv(tmp_path / "usaiot.csv", index=False)
    with pytest.raises(InvalidValueError, match=r"row '2010 B', column 'C20'.*negative"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    unbalanced = frame.copy()
    unbalanced.loc[(unbalanced["Year"] == 2010) & (unbalanced["Code"] == "B"), "GO"] *= 1.01
    unbalanced.to_csv(tmp_path / "usaiot.csv", index=False)
    with pytest.raises(InvalidValueError, match=r"usaiot.csv.*output of \('USA', 'B'\)"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    duplicated = pd.concat([frame, frame[(frame["Year"] == 2010) & (frame["Code"] == "B")]])
    duplicated.to_csv(tmp_path / "usaiot.csv", index=False)
    with pytest.raises(LabelError, match="'B' appears twice"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    frame.drop(columns=["EXP"]).to_csv(tmp_path / "usaiot.csv", index=False)
    with pytest.raises(FileFormatError, match=r"usaiot.csv.*\['EXP'\]"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    frame.to_csv(tmp_path / "usaiot.csv", index=False)
    sea_frame[~((sea_frame["year"] == 2010) & (sea_frame["code"] == "C20"))].to_csv(
        tmp_path / "usasea.csv", index=False
    )
    with pytest.raises(
        MissingBlockError, match=r"usasea.csv.*no SEA row for 2010 and industries \['C20'\]"
    ):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    (tmp_path / "usasea.csv").unlink()
    with pytest.raises(MissingBlockError, match="no Socio-Economic Accounts file"):
        read_wiod_niot(tmp_path / "usaiot.csv", year=2010)
    (tmp_path / "other.csv").write_text("country,code,year\nUSA,A01,2010\n")
    with pytest.raises(FileFormatError, match=r"other.csv: columns \['NOMEXCH'"):
        read_wiod_niot(tmp_path / "usaiot.csv", tmp_path / "other.csv", year=2010)


# ---- published WIOT layout --------------------------------------------------------------

from commonplan.io.wiod import WIOT_RELEASES, WiotTable, read_wiot, read_wiot_table, write_wiot  # noqa: E402


def _wiot_table(shared_data: Path, regions: list[str] | None = None) -> WiotTable:
    data = np.load(shared_data / "mrio/wiod2013_wiot_2011.npz")
    names = [str(i) for i in data["industries"]]
    codes = [n.split(" ", 1)[0] for n in names]
    products = pd.MultiIndex.from_product(
        [[str(c) for c in data["countries"]], codes], names=["region", "sector"]
    )
    fd = pd.MultiIndex.from_tuples(
        [tuple(str(s).split("_", 1)) for s in data["fd_labels"]], names=["region", "category"]
    )
    keep = products.get_level_values(0).isin(regions) if regions else np.ones(len(products), bool)
    keep_fd = fd.get_level_values(0).isin(regions) if regions else np.ones(len(fd), bool)
    Z = pd.DataFrame(data["Z"].astype(float), index=products, columns=products).loc[keep, keep]
    x = pd.Series(data["x"].astype(float), index=products)[keep]
    va = x - Z.sum(axis=0)
    taxes = (va * 0.05).round()
    return WiotTable(
        Z=Z,
        Y=pd.DataFrame(data["F"].astype(float), index=products, columns=fd).loc[keep, keep_fd],
        rows=pd.DataFrame([va - taxes, taxes], index=["value_added", "taxes_less_subsidies"]),
        output=x,
        industry_names=dict(zip(codes, names, strict=True)),
        year=2011,
    )


@pytest.mark.parametrize(
    ("release", "suffix"), [(2013, "csv"), (2016, "csv"), (2013, "xlsx"), (2016, "xlsx")]
)
def test_wiot_layout_round_trip_is_exact(
    tmp_path: Path, shared_data: Path, release: int, suffix: str
) -> None:
    table = _wiot_table(
        shared_data,
        ["USA", "MEX", "CHN"] if suffix == "xlsx" else ["USA", "MEX", "CAN", "CHN", "BRA", "RoW"],
    )
    path = write_wiot(table, tmp_path / f"wiot11_row_sep12.{suffix}", release=release)
    back = read_wiot_table(path)
    assert back.release == release and back.year == 2011
    pd.testing.assert_frame_equal(back.Z, table.Z, check_exact=True)
    pd.testing.assert_frame_equal(back.Y, table.Y, check_exact=True)
    np.testing.assert_array_equal(back.output.to_numpy(), table.output.to_numpy())
    for row in ("value_added", "taxes_less_subsidies"):
        np.testing.assert_array_equal(back.rows.loc[row].to_numpy(), table.rows.loc[row].to_numpy())
    assert back.industry_names["30t33"] == "30t33 Electrical and optical equipment"
    economy = read_wiot(path)
    assert economy.metadata.extra["release"] == release
    assert (
        "value_added" in economy.account_names
        and economy.account_units["value_added"] == "USD million"
    )


def test_wiot_layout_full_world_table_equals_the_array_reader(
    tmp_path: Path, shared_data: Path, wiot2011: Economy
) -> None:
    table = _wiot_table(shared_data)
    path = write_wiot(table, tmp_path / "wiot11.csv", release=2013)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("World Input-Output Table 2011")
    assert lines[2].startswith("(industry-by-industry),,,,AtB,C,15t16")
    assert lines[5].startswith(",,,,c1,c2,c3") and ",c37,c38,c39,c41,c42," in lines[5]
    assert lines[-1].startswith(",Output at basic prices,TOT,r69")
    economy = read_wiot(path)
    assert (economy.use != wiot2011.use).nnz == 0
    np.testing.assert_array_equal(economy.final_demand_values, wiot2011.final_demand_values)
    assert economy.final_demand_columns.equals(wiot2011.final_demand_columns)
    assert economy.products.equals(wiot2011.products) and ("ROU", "AtB") in economy.products
    total = economy.account("value_added") + economy.account("taxes_less_subsidies")
    np.testing.assert_allclose(
        total.to_numpy(), wiot2011.account("value_added").to_numpy(), rtol=1e-12, atol=1e-15
    )


def test_wiot_layout_records_roles(tmp_path: Path, shared_data: Path) -> None:
    economy = read_wiot(write_wiot(_wiot_table(shared_data, ["USA", "MEX"]), tmp_path / "w.csv"))
    assert economy.account_for("value_added") == "value_added"
    assert economy.metadata.account_roles["taxes_less_subsidies"] == ""
    assert economy.final_demand_for("household_consumption") == "CONS_h"


def test_wiot_layout_bad_input(tmp_path: Path, shared_data: Path) -> None:
    path = write_wiot(_wiot_table(shared_data, ["USA", "MEX"]), tmp_path / "w.csv")
    lines = path.read_text().splitlines()

    def variant(name: str, new_lines: list[str]) -> Path:
        target = tmp_path / name
        target.write_text("\n".join(new_lines) + "\n")
        return target

    import csv
    import io

    def edited(value: str) -> str:
        cells = next(csv.reader([lines[8]]))
        cells[6] = value  # row 9 = MEX c3 (MEX sorts before USA), data column 3 = MEX c3
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells)
        return out.getvalue()

    with pytest.raises(
        InvalidValueError, match=r"bad.csv, row 'MEX_c3', column 'MEX_c3'.*'twelve'"
    ):
        read_wiot(variant("bad.csv", lines[:8] + [edited("twelve")] + lines[9:]))
    with pytest.raises(
        InvalidValueError, match=r"neg.csv, row 'MEX_c3', column 'MEX_c3'.*negative"
    ):
        read_wiot(variant("neg.csv", lines[:8] + [edited("-4")] + lines[9:]))
    with pytest.raises(MissingBlockError, match="value-added row"):
        read_wiot(variant("cut.csv", lines[:-4]))
    with pytest.raises(LabelError, match="duplicate row labels"):
        read_wiot(variant("dup.csv", lines[:7] + [lines[6]] + lines[7:]))
    with pytest.raises(FileFormatError, match="WIOD column code 'c1'"):
        read_wiot(shared_data / NIOT / "usaiot.csv")
    assert set(WIOT_RELEASES) == {2013, 2016}
