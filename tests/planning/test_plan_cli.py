"""The ``commonplan plan`` and ``commonplan cutoff`` commands, run through the real CLI app."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from commonplan.cli.main import app_typer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "planning"


def test_plan_command_writes_files(tmp_path):
    result = CliRunner().invoke(
        app_typer, ["plan", str(EXAMPLES / "bread_and_coal.toml"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "worst-met target" in result.output
    fulfilment = pd.read_parquet(tmp_path / "fulfilment.parquet")
    assert set(fulfilment["sector"]) == {"bread", "coal", "iron"}
    assert (tmp_path / "plan.xlsx").is_file() and (tmp_path / "report.txt").is_file()
    resources = pd.read_parquet(tmp_path / "resources.parquet")
    assert resources["binding"].all()


def test_plan_command_reports_spec_errors(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(
        (EXAMPLES / "bread_and_coal.toml")
        .read_text()
        .replace('product = "bread"', 'product = "cake"')
        .replace("bread_and_coal_flows.csv", str(EXAMPLES / "bread_and_coal_flows.csv"))
    )
    result = CliRunner().invoke(app_typer, ["plan", str(spec), "--output", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "unknown product 'cake'" in str(result.exception)


def test_cutoff_command(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    result = CliRunner().invoke(
        app_typer,
        [
            "cutoff",
            str(table),
            "--region",
            "COL",
            "--partner",
            "USA",
            "--periods",
            "2",
            "--output",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "share kept" in result.output
    lost = pd.read_parquet(tmp_path / "lost_inputs.parquet")
    assert (lost["partner"] == "USA").all() and lost["base_imports"].sum() > 0
