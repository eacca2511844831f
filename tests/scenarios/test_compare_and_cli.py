"""compare(): the side-by-side table and its spread; `commonplan cutoff --model` through the CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from commonplan.cli.main import app_typer
from commonplan.errors import SpecError
from commonplan.scenarios import MODELS, Shock, compare, run

CLI = [sys.executable, "-c", "from commonplan.cli.main import app; app()"]
FAST = ["lp", "leontief", "ghosh-price", "inoperability", "critical-inputs"]


@pytest.fixture(scope="module")
def comparison(icio):
    shock = Shock("COL", "USA", 0.5, periods=2, duration=1)
    return compare(icio, shock, FAST, {"inoperability": {"resilience": 0.8}})


def test_side_by_side_holds_each_models_outcome_and_the_spread(icio, comparison):
    wide = comparison.side_by_side()
    assert list(wide.columns) == [*FAST, "min", "max", "spread"]
    assert len(wide) == 2 * 50
    alone = run(icio, comparison.shock, {"resilience": 0.8}, model_name="inoperability")
    np.testing.assert_allclose(
        wide["inoperability"].to_numpy(), alone.losses["loss_share"].to_numpy(), rtol=1e-12
    )
    output = ["lp", "leontief", "inoperability", "critical-inputs"]
    assert comparison.output_models == output  # the price model is not in the spread
    np.testing.assert_allclose(wide["spread"], wide[output].max(axis=1) - wide[output].min(axis=1))
    totals = comparison.totals()
    assert (totals["spread"] >= 0).all() and totals.loc[1, "leontief"] > totals.loc[1, "lp"]
    assert comparison.outcomes["inoperability"].assumptions["resilience"] == 0.8


def test_compare_writes_its_tables(comparison, tmp_path):
    paths = comparison.write(tmp_path, formats=("parquet",))
    names = {p.stem for p in paths}
    assert {"side_by_side", "totals", "losses", "lp_share_kept", "lp_assumptions"} <= names
    back = pd.read_parquet(tmp_path / "side_by_side.parquet")
    assert len(back) == 100 and "spread" in back


def test_compare_errors(icio):
    with pytest.raises(SpecError, match="unknown model 'gravity'"):
        compare(icio, Shock("COL", "USA"), ["leontief", "gravity"])
    with pytest.raises(SpecError, match=r"compare.assumptions\['lp'\]"):
        compare(icio, Shock("COL", "USA"), ["leontief"], {"lp": {}})
    assert set(MODELS) == {*FAST, "ario"}


def test_cutoff_model_command_prints_the_side_by_side_table(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    args = ["cutoff", str(table), "--region", "COL", "--partner", "USA", "--periods", "2"]
    result = CliRunner().invoke(
        app_typer,
        [
            *args,
            "--model",
            "all",
            "--share",
            "0.5",
            "--duration",
            "1",
            "--top",
            "5",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in MODELS:
        assert name in result.output
    assert "widest spreads" in result.output and "spread" in result.output
    totals = pd.read_parquet(tmp_path / "totals.parquet")
    assert list(totals["period"]) == [1, 2]
    assert totals["ario"].iloc[0] > 0 and (totals["spread"] >= 0).all()
    chart = (tmp_path / "comparison.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in chart and '<script src="http' not in chart  # embedded, no CDN
    assert all(f'"name":"{n}' in chart for n in ("lp", "leontief", "ario"))


def test_cutoff_model_command_bad_input_is_one_line(tmp_path, shared_data):
    table = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    for bad, message in [
        (["--model", "cge"], "unknown model 'cge'"),
        (["--model", "leontief", "--share", "2"], "shock.share"),
    ]:
        done = subprocess.run(
            [*CLI, "cutoff", str(table), "--region", "COL", "--partner", "USA", *bad],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: ") and message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
