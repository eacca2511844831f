"""OECD ICIO readers: reduced arrays (real 2022 data) and the published wide CSV."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonplan import Economy
from commonplan.errors import (
    CommonplanError,
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    ShapeError,
)
from commonplan.io.icio import (
    EDITIONS,
    IcioTable,
    read_icio_arrays,
    read_icio_csv,
    read_icio_table,
    write_icio_csv,
)

AMERICAS = "mrio/icio2025_y2022_americas11x50.npz"
WORLD = "mrio/icio2025_y2022_80x10.npz"
CATEGORIES = ["HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"]


@pytest.fixture(scope="module")
def americas(shared_data: Path) -> Economy:
    return read_icio_arrays(shared_data / AMERICAS)


@pytest.fixture(scope="module")
def world(shared_data: Path) -> Economy:
    return read_icio_arrays(shared_data / WORLD)


@pytest.fixture(scope="module")
def world_table(shared_data: Path) -> IcioTable:
    """The real 80×10 arrays as ICIO blocks: fu_plus in each region's own HFCE column,
    va_plus split into TLS (10 %, rounded) and VA so that both rows carry real numbers."""
    return _table_from_npz(shared_data / WORLD)


def _table_from_npz(path: Path) -> IcioTable:
    data = np.load(path)
    products = pd.MultiIndex.from_tuples(
        [tuple(str(label).split("_", 1)) for label in data["labels"]], names=["region", "sector"]
    )
    regions = products.unique(0)
    fd_columns = pd.MultiIndex.from_product([regions, CATEGORIES], names=["region", "category"])
    Y = np.zeros((len(products), len(fd_columns)))
    own = fd_columns.get_indexer([(r, "HFCE") for r in products.get_level_values(0)])
    Y[np.arange(len(products)), own] = data["fu_plus"]
    taxes = np.round(data["va_plus"] * 0.1, 3)
    return IcioTable(
        Z=pd.DataFrame(data["Z"].astype(np.float64), index=products, columns=products),
        Y=pd.DataFrame(Y, index=products, columns=fd_columns),
        value_added=pd.Series(data["va_plus"] - taxes, index=products),
        taxes=pd.Series(taxes, index=products),
        output=pd.Series(data["x"], index=products),
    )


# ---- reduced arrays -----------------------------------------------------------------------


def test_americas_arrays_labels_and_metadata(americas: Economy) -> None:
    assert americas.n_products == 550
    assert list(americas.regions) == [
        "ARG",
        "BRA",
        "CAN",
        "CHL",
        "CHN",
        "COL",
        "CRI",
        "MEX",
        "PER",
        "USA",
        "OTH",
    ]
    assert americas.products[0] == ("ARG", "A01")
    assert ("USA", "C24A") in americas.products
    assert americas.metadata.year == 2022
    assert "USD million" in americas.metadata.units
    assert "OECD (2025)" in americas.metadata.citation
    assert "CC BY 4.0" in americas.metadata.extra["licence"]
    assert americas.account_names == ("value_added",)
    assert americas.account_units["value_added"] == "USD million"
    assert list(americas.final_demand_columns) == ["final_use_plus"]
    assert americas.metadata.extra["sector_names"]["A01"] == "Agriculture and hunting"
    assert len(americas.metadata.extra["oth_members"]) == 70


def test_americas_arrays_reproduce_the_flows(shared_data: Path, americas: Economy) -> None:
    data = np.load(shared_data / AMERICAS)
    np.testing.assert_array_equal(americas.gross_output.to_numpy(), data["x"])
    np.testing.assert_allclose(americas.flows().toarray(), data["Z"], rtol=1e-14, atol=1e-12)
    np.testing.assert_array_equal(americas.total_final_demand.to_numpy(), data["fu_plus"])
    # column identity x = 1ᵀZ + va_plus, exact to 1e-9 per the provenance
    active = data["x"] > 0
    column_total = (
        np.asarray(americas.A.sum(axis=0)).ravel() + americas.account("value_added").to_numpy()
    )
    np.testing.assert_allclose(column_total[active], 1.0, rtol=0, atol=1e-12)
    # row identity x = Z·1 + fu_plus within ≈3.4 USD million (two capped columns upstream)
    row_gap = data["Z"].sum(axis=1) + data["fu_plus"] - data["x"]
    assert np.abs(row_gap).max() < 3.5


def test_americas_imports_by_partner_match_the_published_extract(
    shared_data: Path, americas: Economy
) -> None:
    """Off-diagonal blocks of Z are the imports by partner: compare with the independent
    long-format extract (importer × partner × supplying industry, summed over users)."""
    extract = pd.read_csv(
        shared_data / "mrio/icio2025_y2022_americas_interm_imports_by_partner_sector.csv"
    )
    flows = pd.DataFrame(
        americas.flows().toarray(), index=americas.products, columns=americas.products
    )
    for importer, partner in [("COL", "USA"), ("COL", "CHN"), ("MEX", "USA"), ("BRA", "ARG")]:
        block = flows.loc[partner, importer].sum(axis=1)
        expected = extract.query("importer == @importer and partner == @partner").set_index(
            "supplier_sector"
        )["usd_mn"]
        np.testing.assert_allclose(
            block.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-4
        )
        assert np.abs(block.drop(expected.index)).max() < 1e-4  # nothing the extract omits
    usa_to_col = flows.loc["USA", "COL"].to_numpy().sum()
    assert usa_to_col == pytest.approx(12.9e3, rel=0.01)  # "USA→COL 12.9 bn" (provenance)


def test_world_arrays_match_the_country_totals(shared_data: Path, world: Economy) -> None:
    totals = pd.read_csv(
        shared_data / "mrio/icio2025_y2022_country80_totals_usdmn.csv", index_col="country"
    )
    output = world.gross_output.groupby(level="region").sum()
    np.testing.assert_allclose(
        output.reindex(totals.index), totals["gross_output"], rtol=1e-9, atol=2e-3
    )
    flows = world.flows()
    inputs = (
        pd.Series(np.asarray(flows.sum(axis=0)).ravel(), index=world.products)
        .groupby(level="region")
        .sum()
    )
    np.testing.assert_allclose(
        inputs.reindex(totals.index), totals["intermediate_inputs_from_80"], rtol=1e-5, atol=1.0
    )
    final = world.total_final_demand.groupby(level="region").sum()
    np.testing.assert_allclose(
        final.reindex(totals.index),
        totals["final_use_plus_sales_to_icio_row"],
        rtol=1e-9,
        atol=2e-3,
    )


def test_world_arrays_match_the_country_flow_matrix(shared_data: Path, world: Economy) -> None:
    published = pd.read_csv(
        shared_data / "mrio/icio2025_y2022_country80_Zint_usdmn.csv", index_col=0
    )
    regions = world.products.get_level_values("region")
    flows = pd.DataFrame(world.flows().toarray(), index=regions, columns=regions)
    by_country = flows.groupby(level=0).sum().T.groupby(level=0).sum().T
    by_country = by_country.loc[published.index, published.columns]
    np.testing.assert_allclose(by_country.to_numpy(), published.to_numpy(), rtol=2e-5, atol=0.5)
    col_from_usa = by_country.loc["USA", "COL"] / by_country.drop(index="COL")["COL"].sum()
    assert col_from_usa == pytest.approx(
        0.290, abs=0.001
    )  # USA 29.0 % of Colombia's intermediate imports


def test_npz_bad_input(tmp_path: Path, shared_data: Path) -> None:
    data = dict(np.load(shared_data / AMERICAS))
    with pytest.raises(MissingBlockError, match="not found"):
        read_icio_arrays(tmp_path / "absent.npz")

    missing = {k: v for k, v in data.items() if k != "va_plus"}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(MissingBlockError, match="va_plus"):
        read_icio_arrays(tmp_path / "missing.npz")

    raw = (shared_data / AMERICAS).read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FileFormatError, match="truncated.npz"):
        read_icio_arrays(tmp_path / "truncated.npz")

    nan = dict(data, Z=data["Z"].copy())
    nan["Z"][3, 7] = np.nan
    np.savez(tmp_path / "nan.npz", **nan)
    with pytest.raises(InvalidValueError, match=r"nan.npz, row 'ARG_B05', column 'ARG_B09'"):
        read_icio_arrays(tmp_path / "nan.npz")

    negative = dict(data, Z=data["Z"].copy())
    negative["Z"][0, 1] = -5.0
    np.savez(tmp_path / "negative.npz", **negative)
    with pytest.raises(InvalidValueError, match=r"negative.*row 'ARG_A01', column 'ARG_A02'"):
        read_icio_arrays(tmp_path / "negative.npz")

    duplicate = dict(data, labels=data["labels"].copy())
    duplicate["labels"][1] = duplicate["labels"][0]
    np.savez(tmp_path / "duplicate.npz", **duplicate)
    with pytest.raises(LabelError, match="ARG_A01"):
        read_icio_arrays(tmp_path / "duplicate.npz")

    short = dict(data, x=data["x"][:-1])
    np.savez(tmp_path / "short.npz", **short)
    with pytest.raises(ShapeError, match="x has 549 values"):
        read_icio_arrays(tmp_path / "short.npz")

    text = dict(data, Z=data["Z"].astype(str))
    np.savez(tmp_path / "text.npz", **text)
    with pytest.raises(InvalidValueError, match="not numbers"):
        read_icio_arrays(tmp_path / "text.npz")


# ---- published wide CSV -------------------------------------------------------------------


def test_csv_records_value_added_and_household_roles(
    tmp_path: Path, world_table: IcioTable
) -> None:
    economy = read_icio_csv(write_icio_csv(world_table, tmp_path / "ICIO2025_2022.csv"))
    assert economy.account_for("value_added") == "value_added"
    assert economy.metadata.account_roles == {
        "value_added": "value_added",
        "taxes_less_subsidies": "",
    }
    assert economy.account_for("imports") is None
    assert economy.final_demand_for("household_consumption") == "HFCE"


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_csv_round_trip_is_exact_on_real_data(
    tmp_path: Path, world_table: IcioTable, edition: int
) -> None:
    path = write_icio_csv(world_table, tmp_path / f"ICIO{edition}_2022.csv", edition=edition)
    table = read_icio_table(path)
    for block in ("Z", "Y"):
        pd.testing.assert_frame_equal(
            getattr(table, block), getattr(world_table, block), check_exact=True
        )
    for block in ("value_added", "taxes", "output"):
        np.testing.assert_array_equal(
            getattr(table, block).to_numpy(), getattr(world_table, block).to_numpy()
        )
    economy = read_icio_csv(path)
    direct = Economy.from_flows(
        world_table.Z,
        world_table.Y,
        world_table.output,
        accounts={
            "value_added": world_table.value_added,
            "taxes_less_subsidies": world_table.taxes,
        },
    )
    assert (economy.use != direct.use).nnz == 0  # bit-identical coefficients
    np.testing.assert_array_equal(economy.account_coefficients, direct.account_coefficients)
    assert economy.final_demand_columns.names == ["region", "category"]
    assert (
        economy.final_demand.loc[("COL", "AGR"), ("COL", "HFCE")]
        == world_table.Y.loc[("COL", "AGR"), ("COL", "HFCE")]
    )
    assert economy.metadata.year == 2022
    assert economy.metadata.extra["edition"] == edition
    assert f"OECD ({edition})" in economy.metadata.citation


def test_csv_editions_differ_only_in_row_names(tmp_path: Path, world_table: IcioTable) -> None:
    old = write_icio_csv(world_table, tmp_path / "ICIO2023_2022.csv", edition=2023)
    new = write_icio_csv(world_table, tmp_path / "2022_SML.csv", edition=2025)
    old_rows = [line.split(",", 1)[0] for line in old.read_text().splitlines()]
    new_rows = [line.split(",", 1)[0] for line in new.read_text().splitlines()]
    assert old_rows[-3:] == ["TLS", "VALU", "OUT"] and "VA" not in old_rows
    assert new_rows[-3:] == ["TLS", "VA", "OUT"] and "VALU" not in new_rows
    assert new_rows[0] == "V1"
    a, b = read_icio_csv(old), read_icio_csv(new)
    assert "VALU" in a.metadata.extra["layout"] and "VA," in b.metadata.extra["layout"]
    assert b.metadata.extra["edition"] is None and a.metadata.extra["edition"] == 2023
    assert (a.use != b.use).nnz == 0
    np.testing.assert_array_equal(a.account_coefficients, b.account_coefficients)


def test_csv_from_the_americas_table_keeps_final_use(
    tmp_path: Path, shared_data: Path, americas: Economy
) -> None:
    table = _table_from_npz(shared_data / AMERICAS)
    economy = read_icio_csv(write_icio_csv(table, tmp_path / "ICIO2025_2022.csv"))
    np.testing.assert_array_equal(
        economy.total_final_demand.to_numpy(), americas.total_final_demand.to_numpy()
    )
    assert (economy.use != americas.use).nnz == 0
    value_added_plus = economy.account("value_added") + economy.account("taxes_less_subsidies")
    np.testing.assert_allclose(
        value_added_plus.to_numpy(), americas.account("value_added").to_numpy(), rtol=1e-12
    )


def test_csv_split_mexico_and_china_are_aggregated(tmp_path: Path, world_table: IcioTable) -> None:
    """MEX and CHN split into MX1/MX2 and CN1/CN2 like the 'extended' files: the parent row
    is zero and the parts carry the flows; reading sums them back exactly."""
    split = _split(world_table, {"MEX": ("MX1", "MX2"), "CHN": ("CN1", "CN2")})
    path = write_icio_csv(split, tmp_path / "ICIO2023_2022.csv", edition=2023)
    text = path.read_text()
    assert "MX1_AGR" in text and "CN2_PUBOTH" in text
    table = read_icio_table(path)
    assert table.aggregated == {"MEX": ("MX1", "MX2"), "CHN": ("CN1", "CN2")}
    assert "MX1" not in table.Z.index.unique(0)
    pd.testing.assert_frame_equal(table.Z, world_table.Z, check_exact=True)
    pd.testing.assert_frame_equal(table.Y, world_table.Y, check_exact=True)
    np.testing.assert_array_equal(table.value_added.to_numpy(), world_table.value_added.to_numpy())
    np.testing.assert_array_equal(table.output.to_numpy(), world_table.output.to_numpy())
    economy = read_icio_csv(path)
    assert list(economy.regions) == list(world_table.Z.index.unique(0))
    assert economy.metadata.extra["aggregated_regions"] == {
        "MEX": ["MX1", "MX2"],
        "CHN": ["CN1", "CN2"],
    }


def _split(table: IcioTable, groups: dict[str, tuple[str, str]]) -> IcioTable:
    """Split each parent region's rows into parts a + (v − a) = v exactly (a a float32 share
    of 60 %, Sterbenz makes v − a exact) and its Z columns into halves (exact), leaving the
    parent's own rows and columns zero, as in the published 'extended' files."""
    products = table.Z.index
    labels = []
    for region, sector in products:
        parts = groups.get(region, ())
        labels += [(region, sector)] + [(part, sector) for part in parts]
    new = pd.MultiIndex.from_tuples(labels, names=products.names)
    position = new.get_indexer(products)
    first = new.get_indexer([(groups[r][0], s) if r in groups else ("", "") for r, s in products])
    second = new.get_indexer([(groups[r][1], s) if r in groups else ("", "") for r, s in products])
    split = np.array([r in groups for r, _ in products])

    def spread(values: np.ndarray, *, halves: bool = False) -> np.ndarray:
        out = np.zeros((len(new),) + values.shape[1:])
        out[position[~split]] = values[~split]
        v = values[split]
        a = v * 0.5 if halves else (np.float32(0.6) * v.astype(np.float32)).astype(np.float64)
        out[first[split]] = a
        out[second[split]] = v - a
        return out

    Z = spread(spread(table.Z.to_numpy()).T, halves=True).T
    vectors = {
        name: spread(getattr(table, name).to_numpy()) for name in ("value_added", "taxes", "output")
    }
    return IcioTable(
        Z=pd.DataFrame(Z, index=new, columns=new),
        Y=pd.DataFrame(spread(table.Y.to_numpy()), index=new, columns=table.Y.columns),
        value_added=pd.Series(vectors["value_added"], index=new),
        taxes=pd.Series(vectors["taxes"], index=new),
        output=pd.Series(vectors["output"], index=new),
    )


# ---- bad CSV input ------------------------------------------------------------------------


@pytest.fixture()
def small_csv(tmp_path: Path, world_table: IcioTable) -> Path:
    regions = ["COL", "USA", "MEX"]
    keep = world_table.Z.index.get_level_values(0).isin(regions)
    fd = world_table.Y.columns.get_level_values(0).isin(regions)
    table = IcioTable(
        Z=world_table.Z.loc[keep, keep],
        Y=world_table.Y.loc[keep, fd],
        value_added=world_table.value_added[keep],
        taxes=world_table.taxes[keep],
        output=world_table.output[keep],
    )
    return write_icio_csv(table, tmp_path / "ICIO2025_2022.csv")


def _edit(path: Path, row: str, column: str, value: str) -> Path:
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    j = header.index(column)
    for k, line in enumerate(lines):
        cells = line.split(",")
        if cells[0] == row:
            cells[j] = value
            lines[k] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_non_numeric_cell_names_file_row_and_column(small_csv: Path) -> None:
    _edit(small_csv, "USA_MIN", "COL_CHEM", "n/a")
    with pytest.raises(
        InvalidValueError, match=r"ICIO2025_2022.csv, row 'USA_MIN', column 'COL_CHEM'.*'n/a'"
    ):
        read_icio_csv(small_csv)


def test_csv_blank_cell_is_zero(small_csv: Path) -> None:
    _edit(small_csv, "USA_MIN", "COL_CHEM", "")
    table = read_icio_table(small_csv)
    assert table.Z.loc[("USA", "MIN"), ("COL", "CHEM")] == 0.0


def test_csv_negative_flow_names_the_cell(small_csv: Path) -> None:
    _edit(small_csv, "MEX_AGR", "USA_AGR", "-12.5")
    with pytest.raises(
        InvalidValueError, match=r"row 'MEX_AGR', column 'USA_AGR': intermediate flow is negative"
    ):
        read_icio_csv(small_csv)


def test_csv_duplicate_labels(small_csv: Path, tmp_path: Path) -> None:
    lines = small_csv.read_text().splitlines()
    lines[2] = lines[1]
    (tmp_path / "dup_rows.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(LabelError, match="duplicate row labels.*COL_AGR"):
        read_icio_csv(tmp_path / "dup_rows.csv")
    header = lines[0].split(",")
    header[2] = header[1]
    (tmp_path / "dup_cols.csv").write_text(
        "\n".join([",".join(header)] + small_csv.read_text().splitlines()[1:]) + "\n"
    )
    with pytest.raises(LabelError, match="duplicate column labels.*COL_AGR"):
        read_icio_csv(tmp_path / "dup_cols.csv")


def test_csv_truncated_mid_row_and_at_a_row_boundary(small_csv: Path, tmp_path: Path) -> None:
    text = small_csv.read_text()
    (tmp_path / "cut.csv").write_text(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match="cut.csv.*truncated"):
        read_icio_csv(tmp_path / "cut.csv")
    lines = text.splitlines()
    (tmp_path / "rows.csv").write_text("\n".join(lines[:-2]) + "\n")  # VA and OUT rows lost
    with pytest.raises(MissingBlockError, match="rows.csv.*value-added row"):
        read_icio_csv(tmp_path / "rows.csv")


def test_csv_wrong_layout(shared_data: Path, tmp_path: Path, small_csv: Path) -> None:
    with pytest.raises(FileFormatError, match="usaiot.csv, row"):
        read_icio_csv(shared_data / "us_wiod_niot_2000_2014/usaiot.csv")
    shutil.copy(shared_data / WORLD, tmp_path / "binary.csv")
    with pytest.raises(FileFormatError):
        read_icio_csv(tmp_path / "binary.csv")
    _edit(small_csv, "OUT", "COL_AGR", "1")
    with pytest.raises(InvalidValueError, match="output row says 1 but the output column"):
        read_icio_csv(small_csv)
    lines = small_csv.read_text().splitlines()
    header = lines[0].split(",")
    header[-2] = "USA_EXPORTS"
    (tmp_path / "unknown.csv").write_text("\n".join([",".join(header)] + lines[1:]) + "\n")
    with pytest.raises(LabelError, match="column 'USA_EXPORTS'"):
        read_icio_csv(tmp_path / "unknown.csv")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_csv_fuzz_only_raises_commonplan_errors(
    small_csv: Path, tmp_path: Path, data: st.DataObject
) -> None:
    """Random damage to a real file (a byte replaced, a slice deleted) either still reads
    or raises one CommonplanError: never a pandas/pyarrow/numpy exception."""
    raw = bytearray(small_csv.read_bytes())
    position = data.draw(st.integers(0, len(raw) - 1))
    if data.draw(st.booleans()):
        raw[position] = data.draw(st.sampled_from(b'x,\n-.;"0e'))
    else:
        raw = raw[:position] + raw[position + data.draw(st.integers(1, 400)) :]
    target = tmp_path / "fuzzed.csv"
    target.write_bytes(bytes(raw))
    try:
        read_icio_csv(target)
    except CommonplanError as error:
        assert "fuzzed.csv" in str(error)


@settings(max_examples=20, deadline=None)
@given(
    regions=st.integers(1, 3),
    sectors=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    edition=st.sampled_from(sorted(EDITIONS)),
)
def test_csv_round_trip_property(
    tmp_path_factory: pytest.TempPathFactory, regions: int, sectors: int, seed: int, edition: int
) -> None:
    rng = np.random.default_rng(seed)
    products = pd.MultiIndex.from_product(
        [[f"R{r}" for r in range(regions)], [f"S_{s}" for s in range(sectors)]]
    )
    n = len(products)
    Z = rng.exponential(10.0, (n, n)) * (rng.random((n, n)) < 0.6)
    fd = pd.MultiIndex.from_product([[f"R{r}" for r in range(regions)], CATEGORIES[:3]])
    Y = rng.normal(20.0, 15.0, (n, len(fd)))
    output = Z.sum(axis=1) + Y.sum(axis=1) + rng.exponential(50.0, n)
    va = output - Z.sum(axis=0)
    table = IcioTable(
        Z=pd.DataFrame(Z, index=products, columns=products),
        Y=pd.DataFrame(Y, index=products, columns=fd),
        value_added=pd.Series(va * 0.9, index=products),
        taxes=pd.Series(va * 0.1, index=products),
        output=pd.Series(output, index=products),
    )
    path = write_icio_csv(table, tmp_path_factory.mktemp("icio") / "t.csv", edition=edition)
    back = read_icio_table(path)
    np.testing.assert_array_equal(back.Z.to_numpy(), Z)
    np.testing.assert_array_equal(back.Y.to_numpy(), Y)
    np.testing.assert_array_equal(back.output.to_numpy(), output)
    assert list(back.Z.index) == list(products)
