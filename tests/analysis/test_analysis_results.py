"""analyse() runs what applies; its results write every table so that it reads back equal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commonplan.analysis import HouseholdClosure, analyse
from commonplan.errors import FileFormatError, MissingBlockError


@pytest.fixture(scope="module")
def wiod_analysis(wiod_economy):
    calls = []
    results = analyse(
        wiod_economy, progress=lambda step, done, total: calls.append((step, done, total))
    )
    return results, calls


def test_analyse_multiregional_with_final_demand_by_destination(wiod_economy, wiod_analysis):
    results, calls = wiod_analysis
    assert calls[-1] == ("done", len(calls) - 1, len(calls) - 1)
    assert [done for _, done, _ in calls] == list(range(len(calls)))
    assert results.footprints is not None and results.value_added_origin is not None
    assert results.input_dependence is not None and results.imports_by_supplier is not None
    assert results.extraction is not None  # 1,435 products: dense ranking applies
    mex = results.value_added_origin["MEX"]
    assert (mex.sum() - mex["MEX"]) / mex.sum() == pytest.approx(0.205, abs=0.0005)
    assert all(r.max_relative_residual <= 1e-12 for r in results.report.solves)
    # the extraction ranking's closed form equals extracting the top product explicitly
    top = results.extraction["total_output_lost"].idxmax()
    from commonplan.analysis import extract_sectors

    explicit = extract_sectors(wiod_economy, [top]).attrs["total_output_lost"]
    assert results.extraction.loc[top, "total_output_lost"] == pytest.approx(explicit, rel=1e-9)


def test_analyse_single_region_with_type_ii(miller_blair):
    economy, _ = miller_blair
    results = analyse(economy)
    assert results.labour_values is not None and "labour" in results.labour_values.columns
    assert results.footprints is not None  # one region: all final demand is its own
    assert any("single region" in note for note in results.notes)
    assert "type_II" not in results.output_multipliers
    assert any(note.startswith("Type II multipliers") for note in results.notes)


def test_type_ii_closure_through_analyse(uk_like_economy):
    results = analyse(uk_like_economy, closure=HouseholdClosure("compensation", "households"))
    table = results.output_multipliers
    assert (table["type_II"] > table["type_I"]).all()
    # "auto" finds the same closure from the names; None skips Type II
    automatic = analyse(uk_like_economy).output_multipliers
    np.testing.assert_allclose(automatic["type_II"].to_numpy(), table["type_II"].to_numpy())
    assert "type_II" not in analyse(uk_like_economy, closure=None).output_multipliers
    # compensation is money paid to labour, not a labour account
    assert results.labour_values is None


@pytest.fixture()
def uk_like_economy():
    from commonplan import Economy

    Z = np.array([[10.0, 20.0, 5.0], [15.0, 5.0, 10.0], [5.0, 10.0, 20.0]])
    Y = pd.DataFrame(
        {"households": [30.0, 40.0, 50.0], "exports": [35.0, 30.0, 25.0]}, index=["a", "b", "c"]
    )
    x = Z.sum(axis=1) + Y.sum(axis=1).to_numpy()
    return Economy.from_flows(Z, Y, x, accounts={"compensation": 0.3 * x}, products=["a", "b", "c"])


def test_write_round_trips(tmp_path, wiod_analysis, miller_blair):
    economy, _ = miller_blair
    results = analyse(economy)
    written = results.write(tmp_path / "out", formats=("csv", "parquet", "excel"))
    assert (tmp_path / "out" / "results.xlsx") in written
    tables = results.tidy_tables()
    assert set(tables) == set(results.tables())
    for name, frame in tables.items():
        back = pd.read_parquet(tmp_path / "out" / f"{name}.parquet")
        assert back.shape == frame.shape, name
        numeric = frame.select_dtypes("number")
        if not numeric.empty:
            np.testing.assert_array_equal(
                back.select_dtypes("number").to_numpy(), numeric.to_numpy()
            )
        csv = pd.read_csv(tmp_path / "out" / f"{name}.csv")  # one header row
        assert list(csv.columns) == [str(c) for c in frame.columns] and len(csv) == len(frame)
    sheets = pd.read_excel(tmp_path / "out" / "results.xlsx", sheet_name=None)
    assert set(sheets) == {name[:31] for name in tables}
    # a large multi-regional result also writes (no Excel)
    big = wiod_analysis[0]
    paths = big.write(tmp_path / "wiod", formats=("csv", "parquet"))
    assert len(paths) == 2 * len(big.tables())
    back = pd.read_parquet(tmp_path / "wiod" / "footprint_D_cba.parquet")
    # long format: one row per (account, region, sector); pandas' own stack is the oracle
    D = big.footprints.D_cba
    oracle = D.stack(list(range(D.columns.nlevels)), future_stack=True)
    assert list(back.columns) == [*D.index.names, *D.columns.names, "value"]
    keys = pd.MultiIndex.from_frame(back.drop(columns="value").astype(str))
    assert keys.equals(oracle.index.map(lambda k: tuple(str(x) for x in k)))
    np.testing.assert_array_equal(back["value"].to_numpy(), oracle.to_numpy())
    # no table is wide by product: every written table has a handful of columns
    for path in paths:
        if path.suffix == ".parquet":
            assert pd.read_parquet(path).shape[1] <= 12, path.name


def test_write_into_a_file_path_is_an_error(tmp_path, miller_blair):
    economy, _ = miller_blair
    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(FileFormatError, match="not a folder"):
        analyse(economy).write(target)


def test_analyse_reports_what_does_not_apply(shared_data):
    from commonplan.io.icio import read_icio_arrays

    icio_economy = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    results = analyse(icio_economy)
    assert results.footprints is None
    assert any("not split by destination" in note for note in results.notes)
    assert "notes" in results.tables()
    with pytest.raises(MissingBlockError, match="no account named 'hours'"):
        analyse(icio_economy, accounts=["hours"])
