"""Tables a new user brings, read by ``commonplan analyze`` with and without ``--format``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import commonplan
from commonplan.errors import MissingBlockError
from commonplan.io import FORMATS, detect_format, read_table
from commonplan.io.bea import read_bea_supply_use, supply_use_pair

CLI = [sys.executable, "-c", "from commonplan.cli.main import app; app()"]


SOURCE = str(Path(commonplan.__file__).resolve().parents[1])
"""The package under test, so the subprocess runs the same code from any working folder."""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SOURCE, "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=600, env=env
    )


def test_bea_supply_use_from_the_cli_with_format(shared_data, tmp_path):
    use = shared_data / "us_bea_2021_quantecon/use_71.csv"
    result = run("analyze", str(use), "--format", "bea-supply-use", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "analysed 73 products" in result.stdout
    multipliers = pd.read_csv(tmp_path / "out" / "output_multipliers.csv")
    assert len(multipliers) == 73


@pytest.mark.parametrize(
    ("relative", "size"),
    [
        ("us_bea_2021_quantecon", 71),  # the folder: the most detailed pair
        ("us_bea_2021_quantecon/use_71.csv", 71),
        ("us_bea_2021_quantecon/use_15.csv", 15),
        ("us_bea_2021_quantecon/make_15.csv", 15),
    ],
)
def test_bea_supply_use_is_detected_and_paired(shared_data, relative, size):
    path = shared_data / relative
    assert detect_format(path) == "bea-supply-use"
    folder = shared_data / "us_bea_2021_quantecon"
    assert supply_use_pair(path) == (folder / f"use_{size}.csv", folder / f"make_{size}.csv")
    economy = read_table(path)
    explicit = read_bea_supply_use(folder / f"use_{size}.csv", folder / f"make_{size}.csv")
    np.testing.assert_array_equal(economy.A.toarray(), explicit.A.toarray())
    assert economy.n_products == size + 2


def test_bea_summary_use_file_is_still_bea(shared_data):
    use = shared_data / "us_bea_summary_2023_useeior/Summary_Use_2023_PRO_BeforeRedef_17sch.csv"
    assert detect_format(use) == "bea"


def test_bea_supply_use_pair_missing_is_one_clear_error(shared_data, tmp_path):
    (tmp_path / "use_71.csv").write_bytes(
        (shared_data / "us_bea_2021_quantecon/use_71.csv").read_bytes()
    )
    with pytest.raises(MissingBlockError, match="make_71.csv"):
        read_table(tmp_path / "use_71.csv")
    result = run("analyze", str(tmp_path / "use_71.csv"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "make (supply) table make_71.csv is missing" in result.stderr


def test_version_option_and_command(tmp_path):
    for args in (["--version"], ["version"]):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"commonplan {commonplan.__version__}"


def test_analyze_help_lists_every_format(tmp_path):
    result = run("analyze", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in FORMATS:
        assert f"* {name}: " in result.stdout, name
