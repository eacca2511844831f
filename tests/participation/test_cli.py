"""The ``commonplan participate`` command."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from commonplan.cli.main import app_typer


def test_participate_runs_and_writes(experiment_paths, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app_typer,
        [
            "participate",
            str(experiment_paths[0]),
            "--threshold",
            "0.05",
            "--years",
            "2",
            "--output",
            str(out),
            "--compare",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "converged" in result.output and "minimum labour" in result.output
    config = json.loads((out / "run_configuration.json").read_text())
    assert config["parameters"]["stop_threshold"] == 0.05 and config["parameters"]["years"] == 2
    assert (
        config["outcome"]["summary"][0]["rounds"]
        == config["outcome"]["summary"][0]["first_round_below_5pct"]
        == 11
    )


def test_bad_file_prints_one_line_and_exits_2(tmp_path):
    bad = tmp_path / "bad.clj"
    bad.write_text("(def ccs [{:income 5000")
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from commonplan.cli.main import app; app()",
            "participate",
            str(bad),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "error:" in completed.stderr and "ends inside" in completed.stderr
    assert "Traceback" not in completed.stderr
