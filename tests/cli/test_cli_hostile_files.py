"""Every CLI command that takes a file, fed hostile files: one clear line, rc 2, no traceback.

The files are what a user hands over by mistake: a binary blob, an empty file, a CSV cut
off in the middle of a row, a file whose suffix lies about its content, a spreadsheet
saved as ``.csv``. The commands run in-process through Typer's runner (as
:func:`commonplan.cli.main.app` runs them: a :class:`CommonplanError` becomes one line
and exit code 2; anything else would be a traceback), and a few run as a subprocess too.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import commonplan
from commonplan.cli.main import app_typer
from commonplan.errors import CommonplanError, UnsupportedOperationError

SOURCE = str(Path(commonplan.__file__).resolve().parents[1])


def hostile_files(folder: Path, suffix: str) -> dict[str, Path]:
    """Five bad files with the suffix the command expects (and one with a lying suffix)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "binary": b"\x00\x9f\x92\x96\xff\xfe\x00garbage\x00" * 64,
        "empty": b"",
        "truncated": b",a,b,final_demand\na,1,2,3\nb,4,",
        "wrong_extension": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "only_header": b",a,b,final_demand\n",
    }
    paths = {}
    for name, data in files.items():
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        paths[name] = path
    gz = folder / f"gzip_of_nothing{suffix}"
    gz.write_bytes(gzip.compress(b"\x00\x01\x02"))
    paths["gzip"] = gz
    return paths


def commands(tmp: Path) -> dict[str, tuple[str, list[str]]]:
    """Command name → (suffix of its file, arguments with ``FILE`` for the file)."""
    db = f"sqlite:///{tmp / 'fuzz.db'}"
    return {
        "analyze": (".csv", ["analyze", "FILE", "-o", str(tmp / "out")]),
        "analyze-xlsx": (".xlsx", ["analyze", "FILE", "-o", str(tmp / "out")]),
        "analyze-parquet": (".parquet", ["analyze", "FILE", "-o", str(tmp / "out")]),
        "analyze-npz": (".npz", ["analyze", "FILE", "-o", str(tmp / "out")]),
        "plan": (".toml", ["plan", "FILE", "-o", str(tmp / "plan")]),
        "cutoff": (".csv", ["cutoff", "FILE", "--region", "COL", "--partner", "USA"]),
        "federation": (".csv", ["federation", "FILE", "--member", "COL", "--member", "MEX"]),
        "participate": (".clj", ["participate", "FILE", "--years", "1"]),
        "participate-gz": (".clj.gz", ["participate", "FILE", "--years", "1"]),
        "db restore": (".db", ["db", "restore", "FILE", "--yes", "--database-url", db]),
        "audit anchor": (
            ".key",
            ["audit", "anchor", "--key", "FILE", "-o", str(tmp / "a.json"), "--database-url", db],
        ),
    }


def test_every_file_command_refuses_hostile_files_in_one_line(tmp_path):
    runner = CliRunner()
    failures = []
    for command, (suffix, args) in commands(tmp_path).items():
        for kind, path in hostile_files(tmp_path / command.replace(" ", "_"), suffix).items():
            argv = [str(path) if a == "FILE" else a for a in args]
            result = runner.invoke(app_typer, argv)
            error = result.exception
            if isinstance(error, SystemExit) and result.exit_code == 2:
                continue  # a usage error from the parser: its own message, rc 2
            if not isinstance(error, CommonplanError):
                failures.append(f"{command} {kind}: {type(error).__name__}: {error}")
            elif "\n" in str(error):
                failures.append(f"{command} {kind}: the message has several lines: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("command", "kind"),
    [("analyze", "binary"), ("analyze", "truncated"), ("plan", "binary"), ("cutoff", "empty")],
)
def test_hostile_files_as_a_user_runs_them(tmp_path, command, kind):
    suffix, args = commands(tmp_path)[command]
    path = hostile_files(tmp_path / "files", suffix)[kind]
    argv = [str(path) if a == "FILE" else a for a in args]
    result = subprocess.run(
        [sys.executable, "-c", "from commonplan.cli.main import app; app()", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        env={**os.environ, "PYTHONPATH": SOURCE},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert path.name in lines[0]


def test_excel_above_the_sheet_length_is_one_clear_error(tmp_path):
    """30,000 products × 40 accounts are 1.2 million rows in long format: refused before analysing."""
    import numpy as np
    import scipy.sparse as sp

    from commonplan import Economy
    from commonplan.io import write_economy

    n = 30_000
    Z = sp.diags_array(np.full(n - 1, 1.0), offsets=1, shape=(n, n)).tocsr()
    x = np.full(n, 10.0)
    accounts = {f"a{k}": np.full(n, float(k)) for k in range(40)}
    economy = Economy.from_flows(Z, (x - Z.sum(axis=1)).reshape(-1, 1), x, accounts=accounts)
    write_economy(economy, tmp_path / "wide")
    result = CliRunner().invoke(
        app_typer, ["analyze", str(tmp_path / "wide"), "--excel", "-o", str(tmp_path / "out")]
    )
    assert isinstance(result.exception, UnsupportedOperationError)
    assert "need 1,200,001 rows, more than an Excel sheet holds" in str(result.exception)
    assert not (tmp_path / "out").exists()  # refused before anything was computed or written


def test_every_format_refuses_hostile_files_in_one_line(tmp_path):
    """``analyze FILE --format F`` for every reader F and every hostile file, and a folder."""
    from commonplan.io import FORMATS

    runner = CliRunner()
    files = list(hostile_files(tmp_path / "files", ".csv").values())
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "file_parameters.json").write_text("{not json")
    (folder / "manifest.json").write_text("[]")
    failures = []
    for name in FORMATS:
        for path in [*files, folder]:
            args = ["analyze", str(path), "--format", name, "-o", str(tmp_path / "out")]
            error = runner.invoke(app_typer, args).exception
            if not isinstance(error, CommonplanError):
                failures.append(f"{name} {path.name}: {type(error).__name__}: {error}")
            elif "\n" in str(error):
                failures.append(f"{name} {path.name}: several lines: {error}")
    assert not failures, "\n".join(failures)
