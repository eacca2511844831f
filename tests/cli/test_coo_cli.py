"""``commonplan analyze DIR`` on a long (COO) folder: detected, forced, and refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import commonplan
from commonplan.analysis import output_multipliers
from commonplan.io.coo import write_coo
from commonplan.io.icio import read_icio_arrays

CLI = [sys.executable, "-c", "from commonplan.cli.main import app; app()"]
SOURCE = str(Path(commonplan.__file__).resolve().parents[1])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SOURCE, "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=600, env=env
    )


def test_analyze_a_coo_folder(shared_data: Path, tmp_path: Path):
    economy = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    write_coo(economy, tmp_path / "coo", format="csv")
    for extra in ((), ("--format", "coo")):
        result = run("analyze", "coo", *extra, "-o", "out", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"analysed {economy.n_products} products in 11 region(s)" in result.stdout
    written = pd.read_csv(tmp_path / "out" / "output_multipliers.csv")
    np.testing.assert_allclose(
        np.sort(written["type_I"].to_numpy()),
        np.sort(output_multipliers(economy)["type_I"].to_numpy()),
        rtol=1e-12,
    )


def test_bad_coo_folder_is_one_line_rc_2(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "flows.csv").write_text(
        "row_region,row_sector,col_region,col_sector,value\nA,x,A,y,1\nA,x,A,y,2\n"
    )
    result = run("analyze", "bad", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "repeats a cell" in lines[0], lines
    assert "Traceback" not in result.stderr
