"""Every command writes ``run.json``; the same run with the same inputs gives the same files, bit for bit."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import commonplan
from commonplan.cli.main import app_typer
from commonplan.runrecord import RUN_RECORD

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "planning"
PLATFORM_KEYS = {"python", "numpy", "scipy", "pandas", "pyarrow", "highspy", "os", "machine"}


def commands(shared_data: Path) -> dict[str, tuple[list[str], list[Path]]]:
    """Command → (arguments before ``-o FOLDER``, the input files run.json must list)."""
    icio = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    experiment = shared_data / "planning" / "pequod_dep1ex_3000" / "dep1ex01.clj.gz"
    niot = shared_data / "us_wiod_niot_2000_2014" / "usaiot.csv"
    spec = EXAMPLES / "bread_and_coal.toml"
    return {
        "analyze": (["analyze", str(niot), "--year", "2014"], [niot]),
        "plan": (["plan", str(spec)], [spec, EXAMPLES / "bread_and_coal_flows.csv"]),
        "cutoff": (
            ["cutoff", str(icio), "--region", "COL", "--partner", "USA", "--periods", "2"],
            [icio],
        ),
        "federation": (
            ["federation", str(icio), "--member", "COL", "--member", "PER", "--partner", "USA"]
            + ["--periods", "2", "--no-compare"],
            [icio],
        ),
        "participate": (
            ["participate", str(experiment), "--years", "1", "--threshold", "0.05"],
            [experiment],
        ),
    }


def run_into(args: list[str], folder: Path) -> None:
    option = "--output"
    result = CliRunner().invoke(app_typer, [*args, option, str(folder)])
    assert result.exit_code == 0, (result.output, result.exception)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != RUN_RECORD
    }


@pytest.mark.parametrize("command", ["analyze", "plan", "cutoff", "federation", "participate"])
def test_run_record_and_bit_identical_results(shared_data, tmp_path, command):
    args, inputs = commands(shared_data)[command]
    run_into(args, tmp_path / "first")
    run_into(args, tmp_path / "second")
    first, second = digests(tmp_path / "first"), digests(tmp_path / "second")
    assert first and first == second  # same names, same bytes
    record = json.loads((tmp_path / "first" / RUN_RECORD).read_text())
    assert record["command"] == command
    assert record["commonplan_version"] == commonplan.__version__
    listed = {Path(entry["path"]).resolve(): entry for entry in record["inputs"]}
    for path in inputs:
        entry = listed[path.resolve()]
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["bytes"] == path.stat().st_size
    assert {e["path"]: e["sha256"] for e in record["outputs"]} == first  # every result listed
    assert record["timings_s"]["total"] >= record["timings_s"]["compute"] > 0
    assert PLATFORM_KEYS <= set(record["platform"])
    assert record["parameters"]


def test_plan_writes_csv_and_cutoff_writes_without_output_option(
    shared_data, tmp_path, monkeypatch
):
    run_into(["plan", str(EXAMPLES / "bread_and_coal.toml")], tmp_path / "plan")
    assert (tmp_path / "plan" / "fulfilment.csv").is_file()
    icio = shared_data / "mrio" / "icio2025_y2022_americas11x50.npz"
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app_typer, ["cutoff", str(icio), "--region", "COL", "--partner", "USA", "--periods", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "share kept" in result.output  # the table is still printed
    folder = tmp_path / "cutoff-output"
    assert (folder / RUN_RECORD).is_file() and (folder / "share.csv").is_file()
