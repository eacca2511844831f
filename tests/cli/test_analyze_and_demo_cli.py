"""The ``analyze``, ``formats`` and ``demo`` commands, run as a user runs them (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from commonplan.errors import CommonplanError, FileFormatError
from commonplan.io import FORMATS, detect_format, read_table

CLI = [sys.executable, "-c", "from commonplan.cli.main import app; app()"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.parametrize(
    ("relative", "expected_format", "n_products"),
    [
        ("mrio/icio2025_y2022_americas11x50.npz", "icio-arrays", 550),
        ("mrio/wiod2013_wiot_2011.npz", "wiod-arrays", 1435),
        ("textbook_examples/BEL2020ttl.csv", "oecd-iot", 50),
        ("colombia_dane_2019/matriz19.xlsx", "dane", 25),
        ("us_bea_summary_2023_useeior", "bea", 73),
        ("uk_ons_ioat_2010", "ons", 127),
    ],
)
def test_read_table_detects_the_format(shared_data, relative, expected_format, n_products):
    path = shared_data / relative
    assert detect_format(path) == expected_format
    assert read_table(path).n_products == n_products


def test_read_table_errors_are_specific(shared_data, tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(FileFormatError, match="unknown format"):
        read_table(shared_data / "textbook_examples/BEL2020ttl.csv", format="nope")
    assert read_table(shared_data / "us_wiod_niot_2000_2014/usaiot.csv").metadata.year == 2014
    blob = tmp_path / "table.bin"
    blob.write_bytes(b"\x00\x01")
    with pytest.raises(FileFormatError, match="cannot tell"):
        read_table(blob)


def test_every_format_has_a_reader():
    for reader in FORMATS.values():
        assert callable(reader.load())


def test_analyze_writes_every_result(shared_data, tmp_path):
    result = run(
        "analyze",
        str(shared_data / "us_wiod_niot_2000_2014/usaiot.csv"),
        "--year",
        "2014",
        "--output",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "analysed 56 products" in result.stdout
    out = tmp_path / "out"
    multipliers = pd.read_parquet(out / "output_multipliers.parquet")
    assert len(multipliers) == 56
    assert (multipliers["type_I"] >= 1).all()
    assert (out / "labour_values.csv").exists() and (out / "linkages.parquet").exists()


def test_analyze_bad_table_prints_one_line_and_fails(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = run("analyze", str(bad), "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_prints_a_summary_and_writes_files(tmp_path):
    result = run("demo", "--output", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # Rich wraps long lines at the terminal width
    for words in (
        "USA BEA 2021",
        "73 products",
        "Ten key sectors",
        "Import dependence",
        "Bureau of Economic Analysis",
        "intermediate imports by partner",
        "Largest uniform share",
        "OECD (2025)",
    ):
        assert words in text
    assert "Running HiGHS" not in result.stdout
    report = (tmp_path / "demo" / "cutoff_COL_without_USA" / "report.txt").read_text()
    assert "COL without USA" in report
    linkages = pd.read_parquet(tmp_path / "demo" / "linkages.parquet")
    assert {"key", "weak"} & set(linkages["classification"])
    # The simulated execution: the monitor catches Colombia's shortfall and re-plans.
    assert "Watching the plan: USA's supplies to COL stop" in text
    assert "council (+0 h) → facilitators (+48 h) → assembly (+96 h)" in text
    alarms = pd.read_parquet(tmp_path / "demo" / "monitoring" / "alarms.parquet")
    assert alarms["product"].str.startswith("COL/").sum() >= 8
    assert (tmp_path / "demo" / "monitoring" / "replan_targets.parquet").is_file()


def test_errors_share_one_base():
    assert issubclass(FileFormatError, CommonplanError)
