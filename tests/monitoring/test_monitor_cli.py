"""`commonplan monitor`: reports of a simulated cut-off against a plan, alarms, re-plan, files."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from commonplan.cli.main import app_typer
from commonplan.datasets import dataset_path
from commonplan.errors import CommonplanError, ReportError
from commonplan.monitoring.simulate import cutoff_execution
from commonplan.planning.solve import solve
from commonplan.planning.spec import read_spec

runner = CliRunner()


def _spec(tmp_path):
    table = dataset_path("icio2022_americas") / "icio2022_americas11x10.npz"
    spec = tmp_path / "plan.toml"
    spec.write_text(
        f'name = "americas"\nperiods = 3\n\n[economy]\ntable = "{table}"\n\n'
        '[target_share]\nshare = 1.0\n\n[[limits]]\naccount = "value_added"\nlimit = 4.0e7\n',
        encoding="utf-8",
    )
    return spec


def test_monitor_catches_the_cut_off_and_re_plans_the_last_period(tmp_path):
    spec = _spec(tmp_path)
    plan = solve(read_spec(spec).problem)
    execution = cutoff_execution(plan, "COL", "USA", seed=1)
    reports = execution.reports
    reports = reports[reports["period"] != "3"]  # two periods reported of three
    path = tmp_path / "reports.csv"
    reports.to_csv(path, index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app_typer, ["monitor", str(path), "--plan", str(spec), "--replan", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    alarms = pd.read_parquet(out / "alarms.parquet")
    colombia = set(alarms.loc[alarms["product"].str.startswith("COL/"), "product"])
    assert len(colombia) >= 8  # of the 10 products short by 5–10 %
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert len(posterior) == 24 * len(execution.targets.products)
    assert (out / "replan_targets.parquet").is_file()
    record = json.loads((out / "run.json").read_text())
    assert record["command"] == "monitor" and len(record["inputs"]) == 2
    assert "Re-plan of 1 remaining period" in result.output


def test_bad_reports_are_one_clear_error(tmp_path):
    # The CLI's entry point prints a CommonplanError as one line with rc 2 (see cli.main.app).
    spec = _spec(tmp_path)
    path = tmp_path / "reports.csv"
    path.write_text("product,period,sub_period,output\nXX/1,1,1,5\n", encoding="utf-8")
    result = runner.invoke(app_typer, ["monitor", str(path), "--plan", str(spec)])
    assert isinstance(result.exception, ReportError)
    assert "reports.csv, row 1: unknown product 'XX/1'" in str(result.exception)
    binary = tmp_path / "reports.parquet"
    binary.write_bytes(bytes(range(256)))
    result = runner.invoke(app_typer, ["monitor", str(binary), "--plan", str(spec)])
    assert isinstance(result.exception, CommonplanError) and "\n" not in str(result.exception)
    result = runner.invoke(app_typer, ["monitor", str(path), "--plan", str(tmp_path)])
    assert isinstance(result.exception, CommonplanError)
    assert "no outputs.parquet" in str(result.exception)
