"""Every public result class has one shape (commonplan.results.Result) and one writer (io.writer)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonplan import Economy
from commonplan.errors import FileFormatError, UnsupportedOperationError
from commonplan.io.writer import EXCEL_MAX_COLUMNS, EXCEL_MAX_ROWS, write_tables
from commonplan.results import Result

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "planning"


def _analysis(shared_data):
    from commonplan.analysis import analyse

    Z = np.array([[10.0, 20.0, 5.0], [15.0, 5.0, 10.0], [5.0, 10.0, 20.0]])
    Y = pd.DataFrame(
        {"households": [30.0, 40.0, 50.0], "exports": [35.0, 30.0, 25.0]}, index=["a", "b", "c"]
    )
    x = Z.sum(axis=1) + Y.sum(axis=1).to_numpy()
    economy = Economy.from_flows(
        Z, Y, x, accounts={"compensation": 0.3 * x, "hours": 0.01 * x}, products=["a", "b", "c"]
    )
    return analyse(economy)


def _plan(shared_data):
    from commonplan.planning import read_spec, solve

    return solve(read_spec(EXAMPLES / "bread_and_coal.toml").problem)


def _icio(shared_data):
    from commonplan.io.icio import read_icio_arrays

    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


def _cutoff(shared_data):
    from commonplan.planning import TradeAssumptions, cutoff_scenario

    return cutoff_scenario(_icio(shared_data), "COL", "USA", TradeAssumptions(periods=2))


def _federation(shared_data):
    from commonplan.planning import TradeAssumptions, federation_scenario

    return federation_scenario(
        _icio(shared_data), ["COL", "PER"], "USA", TradeAssumptions(periods=1), compare=False
    )


def _participation(shared_data):
    from commonplan.participation import generate_economy, run_procedure

    return run_procedure(generate_economy(60, 40, 4, seed=3), years=2, stop_threshold=0.05)


def _labour_comparison(shared_data):
    from commonplan.participation import compare_with_minimum_labour

    return compare_with_minimum_labour(_participation(shared_data))


def _scenario_outcome(shared_data):
    from commonplan.scenarios import Shock, run

    return run(_icio(shared_data), Shock("COL", "USA", 0.5, periods=2), model_name="lp")


def _model_comparison(shared_data):
    from commonplan.scenarios import Shock, compare

    shock = Shock("COL", "USA", 0.5, periods=2, duration=1)
    return compare(_icio(shared_data), shock, ["leontief", "ghosh-price", "inoperability"])


BUILDERS = {
    "AnalysisResults": _analysis,
    "Plan": _plan,
    "ScenarioResult (cut-off)": _cutoff,
    "ScenarioResult (federation)": _federation,
    "ParticipationResult": _participation,
    "LabourComparison": _labour_comparison,
    "ScenarioOutcome": _scenario_outcome,
    "ModelComparison": _model_comparison,
}


@pytest.fixture(scope="module", params=list(BUILDERS))
def result(request, shared_data):
    return BUILDERS[request.param](shared_data)


def test_result_has_the_protocol(result):
    assert isinstance(result, Result)
    report = result.report
    assert dataclasses.is_dataclass(report) and report.__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(report, dataclasses.fields(report)[0].name, None)
    text = result.summary()
    assert isinstance(text, str) and text.strip() and len(text.splitlines()) < 60
    tables = result.tables()
    assert tables and all(isinstance(name, str) for name in tables)
    assert all(isinstance(frame, pd.DataFrame) for frame in tables.values())


@pytest.mark.parametrize("kind", ["parquet", "csv", "excel"])
def test_result_writes_every_table(result, kind, tmp_path):
    # an analysis writes its tables in tidy form (one header row, labels as columns)
    tables = getattr(result, "tidy_tables", result.tables)()
    paths = result.write(tmp_path, formats=(kind,))
    assert all(path.is_file() and path.parent == tmp_path for path in paths)
    if kind == "excel":
        workbooks = [path for path in paths if path.suffix == ".xlsx"]
        assert len(workbooks) == 1
        sheets = pd.read_excel(workbooks[0], sheet_name=None)
        assert len(sheets) == len(tables)
        return
    suffix = f".{kind}"
    assert {path.stem for path in paths if path.suffix == suffix} == set(tables)
    for name, frame in tables.items():
        if kind == "parquet":
            back = pd.read_parquet(tmp_path / f"{name}.parquet")
            assert back.shape == frame.shape, name
            numeric = frame.select_dtypes("number")
            np.testing.assert_array_equal(
                back.select_dtypes("number").to_numpy(float, na_value=np.nan),
                numeric.to_numpy(float, na_value=np.nan),
            )
        else:
            back = pd.read_csv(tmp_path / f"{name}.csv")
            assert len(back) >= len(frame), name


def test_participation_write_adds_its_run_configuration(tmp_path, shared_data):
    result = _participation(shared_data)
    paths = result.write(tmp_path)
    assert paths[-1].name == "run_configuration.json"
    config = json.loads(paths[-1].read_text())
    assert config["outcome"]["status"] == result.report.status == "converged"
    assert result.report.rounds == (result.year(1).rounds, result.year(2).rounds)


def test_scenario_tables_hold_the_share(shared_data):
    result = _cutoff(shared_data)
    share = result.tables()["share"]
    np.testing.assert_array_equal(share["share"].to_numpy(), result.share.to_numpy())
    np.testing.assert_array_equal(
        share["baseline_share"].to_numpy(), result.baseline_share.to_numpy()
    )
    assert result.report is result.plan.report


# ---- the writer ----------------------------------------------------------------------------


def test_writer_keeps_labels_and_drops_row_numbers(tmp_path):
    labelled = pd.DataFrame(
        {1: [1.0, 2.0], 2: [3.0, 4.0]}, index=pd.Index(["a", "b"], name="product")
    )
    plain = pd.DataFrame({"note": ["x", "y"]})
    paths = write_tables(
        {"labelled": labelled, "plain": plain}, tmp_path, ("parquet", "csv", "excel")
    )
    assert [p.name for p in paths] == [
        "labelled.parquet",
        "labelled.csv",
        "plain.parquet",
        "plain.csv",
        "results.xlsx",
    ]
    back = pd.read_parquet(tmp_path / "labelled.parquet")
    assert list(back.index) == ["a", "b"] and list(back.columns) == ["1", "2"]
    assert (tmp_path / "plain.csv").read_text().splitlines() == ["note", "x", "y"]
    assert (tmp_path / "labelled.csv").read_text().splitlines()[0] == "product,1,2"
    sheets = pd.read_excel(tmp_path / "results.xlsx", sheet_name=None)
    assert list(sheets["plain"].columns) == ["note"]
    assert list(sheets["labelled"].columns) == ["product", 1, 2]


def test_writer_gives_long_names_distinct_sheets(tmp_path):
    long = "a_table_name_longer_than_thirty_one_characters"
    tables = {f"{long}_1": pd.DataFrame({"v": [1]}), f"{long}_2": pd.DataFrame({"v": [2]})}
    write_tables(tables, tmp_path, ("excel",), workbook="book")
    sheets = pd.read_excel(tmp_path / "book.xlsx", sheet_name=None)
    assert len(sheets) == 2 and all(len(name) <= 31 for name in sheets)
    assert [frame["v"].item() for frame in sheets.values()] == [1, 2]


@pytest.mark.parametrize(
    "shape", [(EXCEL_MAX_ROWS, 1), (1, EXCEL_MAX_COLUMNS + 1)], ids=["rows", "columns"]
)
def test_writer_refuses_a_table_larger_than_a_sheet(tmp_path, shape):
    tables = {"small": pd.DataFrame({"v": [1]}), "big": pd.DataFrame(np.zeros(shape))}
    with pytest.raises(UnsupportedOperationError, match="'big' needs .* more than an Excel sheet"):
        write_tables(tables, tmp_path / "out", ("parquet", "excel"))
    assert not list((tmp_path / "out").iterdir())  # checked before anything is written


def test_writer_errors(tmp_path):
    with pytest.raises(UnsupportedOperationError, match="cannot write format 'xml'"):
        write_tables({"t": pd.DataFrame({"v": [1]})}, tmp_path, ("parquet", "xml"))
    target = tmp_path / "a_file"
    target.write_text("x")
    with pytest.raises(FileFormatError, match="not a folder"):
        write_tables({"t": pd.DataFrame({"v": [1]})}, target, ("parquet",))
