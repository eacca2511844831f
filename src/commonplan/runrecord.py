"""The run record ``run.json``: what made a run, so that it can be identified and repeated.

Every command that writes results (``analyze``, ``plan``, ``cutoff``, ``federation``,
``participate``) writes one into its output folder with :func:`write_run_record`:

* ``command`` and its ``parameters`` (as given, paths as text);
* ``commonplan_version``;
* ``inputs``: every input file with its size and SHA-256 (a folder: each file in it,
  by relative path, sorted);
* ``outputs``: every result file written beside ``run.json``, with size and SHA-256, so
  two runs can be compared without reading the files;
* ``timings_s``: wall-clock seconds per step (``read``, ``compute``, ``write``, …) and
  ``total``;
* ``platform``: Python, NumPy, SciPy, pandas, pyarrow and HiGHS (highspy) versions, the
  operating system and the machine;
* ``details``: anything the command adds (the participatory procedure's configuration).

The result files themselves depend only on the inputs and parameters; the timings, the
time of the run and the platform are the only parts of ``run.json`` that vary.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RUN_RECORD = "run.json"
"""File name of the run record in an output folder."""
_CHUNK = 1 << 20


@dataclass
class Timings:
    """Wall-clock seconds per named step of a run; use :meth:`step` as a context manager."""

    seconds: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name`` (steps of the same name add up)."""
        begin = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - begin

    def as_dict(self) -> dict[str, float]:
        """The steps and ``total`` (seconds since the timer was made)."""
        return {**self.seconds, "total": time.perf_counter() - self.started}


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(paths: Iterable[str | Path], *, relative_to: Path | None = None) -> list[dict]:
    """``path``, ``bytes`` and ``sha256`` of each file; a folder stands for every file in it."""
    entries = []
    for given in paths:
        path = Path(given)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if not file.is_file():
                continue
            name = file.relative_to(relative_to) if relative_to is not None else file
            entries.append(
                {"path": str(name), "bytes": file.stat().st_size, "sha256": sha256_of(file)}
            )
    return entries


def platform_versions() -> dict[str, str]:
    """Versions of Python and the numerical libraries, the operating system and the machine."""
    versions = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "pandas", "pyarrow", "highspy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["os"] = platform.platform()
    versions["machine"] = platform.machine()
    return versions


def run_record(
    command: str,
    *,
    inputs: Sequence[str | Path],
    parameters: Mapping[str, Any],
    timings: Mapping[str, float],
    outputs: Sequence[str | Path] = (),
    folder: Path | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run record of ``command`` as a JSON-ready dict (see the module's docstring)."""
    from commonplan import __version__

    record: dict[str, Any] = {
        "command": command,
        "commonplan_version": __version__,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": _jsonable(dict(parameters)),
        "inputs": file_entries(inputs),
        "outputs": file_entries(outputs, relative_to=folder),
        "timings_s": {name: round(float(s), 6) for name, s in timings.items()},
        "platform": platform_versions(),
    }
    if details is not None:
        record["details"] = _jsonable(dict(details))
    return record


def write_run_record(
    folder: str | Path,
    command: str,
    *,
    inputs: Sequence[str | Path],
    parameters: Mapping[str, Any],
    timings: Timings | Mapping[str, float],
    outputs: Sequence[str | Path] | None = None,
    details: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``run.json`` into ``folder`` and return its path.

    ``outputs`` are the files the run wrote (default: every other file in ``folder``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seconds = timings.as_dict() if isinstance(timings, Timings) else dict(timings)
    if outputs is None:
        outputs = [p for p in folder.rglob("*") if p.is_file() and p.name != RUN_RECORD]
    outputs = sorted({Path(p) for p in outputs if Path(p).name != RUN_RECORD})
    record = run_record(
        command,
        inputs=inputs,
        parameters=parameters,
        timings=seconds,
        outputs=outputs,
        folder=folder,
        details=details,
    )
    path = folder / RUN_RECORD
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _jsonable(value: Any) -> Any:
    """``value`` with paths as text, tuples and sets as lists, NumPy scalars as numbers."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [_jsonable(v) for v in items]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


__all__ = [
    "RUN_RECORD",
    "Timings",
    "file_entries",
    "platform_versions",
    "run_record",
    "sha256_of",
    "write_run_record",
]
