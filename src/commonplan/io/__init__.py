"""Readers and writers of input-output tables.

Each format has one reader returning a validated :class:`~commonplan.economy.Economy`.
:func:`read_table` picks the reader by name or detects it from the file; the readers
themselves live in modules named for what they read (``abs``, ``bea``, ``dane``, ``icio``,
``ons``, ``oecd_national``, ``plain``, ``coo``, ``wiod``, ``native``, ``pymrio_bridge``).
"""

from __future__ import annotations

import csv
import importlib
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from commonplan.economy import Economy
from commonplan.errors import FileFormatError
from commonplan.io.writer import write_tables


@dataclass(frozen=True)
class Reader:
    """A table format: its reader function (``module:function``) and what it reads."""

    name: str
    target: str
    description: str

    def load(self) -> Callable[..., Economy]:
        module, function = self.target.split(":")
        return getattr(importlib.import_module(f"commonplan.io.{module}"), function)


FORMATS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        Reader(
            "commonplan",
            "native:read_economy",
            "Commonplan's own format: a folder of Parquet files with manifest.json",
        ),
        Reader(
            "coo",
            "coo:read_coo",
            "long (COO) tables: a folder with flows.csv|parquet (row_region, row_sector, "
            "col_region, col_sector, value) and optional final_demand, accounts, output, products",
        ),
        Reader(
            "flows",
            "plain:read_flow_table",
            "plain flow table (CSV, Excel or Parquet): Z with final-demand columns, or one file per block",
        ),
        Reader(
            "bea",
            "bea:read_bea_summary",
            "BEA summary make, use and imports tables (a folder, or the use table)",
        ),
        Reader(
            "bea-supply-use",
            "bea:read_bea_supply_use",
            "BEA use and make tables as shipped by quantecon-book-networks "
            "(use_71.csv with make_71.csv beside it, or their folder)",
        ),
        Reader(
            "abs",
            "abs:read_abs_make_use",
            "ABS Australia make and use tables as shipped by quantecon-book-networks "
            "(the use table, or a folder)",
        ),
        Reader(
            "iotables",
            "iotables:read_iotables_csv",
            "symmetric table in the rOpenGov iotables layout (Eurostat manual Beutel 15.4, "
            "UN handbook Germany 2009)",
        ),
        Reader(
            "dane", "dane:read_dane", "DANE Colombia symmetric table workbook (68 or 25 sectors)"
        ),
        Reader(
            "ons", "ons:read_ons_ioat", "UK ONS input-output analytical tables (a folder of CSVs)"
        ),
        Reader(
            "oecd-iot",
            "oecd_national:read_oecd_national",
            "OECD national input-output table CSV (e.g. BEL2020ttl.csv)",
        ),
        Reader(
            "pymrio",
            "pymrio_bridge:read_pymrio_folder",
            "a folder written by pymrio's IOSystem.save_all (core tables and extensions)",
        ),
        Reader("icio", "icio:read_icio_csv", "OECD ICIO wide CSV (2023 or 2025 edition)"),
        Reader(
            "icio-arrays",
            "icio:read_icio_arrays",
            "OECD ICIO reduced to arrays (.npz with Z, x, fu_plus, va_plus)",
        ),
        Reader("wiot", "wiod:read_wiot", "WIOD world input-output table in the published layout"),
        Reader(
            "wiod-arrays", "wiod:read_wiod_arrays", "WIOD world table as arrays (.npz with Z, F, x)"
        ),
        Reader(
            "wiod-niot",
            "wiod:read_wiod_niot",
            "WIOD national IO table (long CSV) with Socio-Economic Accounts hours",
        ),
    )
}


_BEA_PAIR = re.compile(r"^(use|make)_\d+\.csv$", re.IGNORECASE)
"""File names of the BEA supply-use pairs shipped by quantecon-book-networks."""
_BEA_CODES = {"T001", "T019", "F010"}
"""BEA total and final-use column codes: a header holding one is a BEA use table."""
_BEA_CODE = re.compile(r"[0-9A-Z]{2,8}")
"""A BEA summary commodity code (``111CA``, ``GFGD``); the quantecon tables name rows instead."""


def _is_abs_header(fields: list[str]) -> bool:
    """An ABS make or use table: four-digit IOIG codes (``0101``…) after an empty label
    cell (make) or from the first cell on (use)."""
    codes = fields[1:6] if fields[:1] == [""] else fields[:5]
    return len(codes) == 5 and all(len(c) == 4 and c.isdigit() for c in codes)


def detect_format(path: str | Path) -> str | None:
    """The format of ``path`` guessed from its name, its members or its first line (None if unknown)."""
    path = Path(path)
    if path.is_dir():
        names = {p.name.lower() for p in path.iterdir()}
        if "manifest.json" in names:
            return "commonplan"
        if "file_parameters.json" in names:
            return "pymrio"
        if names & {"flows.csv", "flows.parquet"}:
            from commonplan.io.coo import is_coo_folder

            if is_coo_folder(path):
                return "coo"
        tables = [n for n in names if n.endswith(".csv") and n.startswith(("make", "use"))]
        if tables and all("aus" in n for n in tables):
            return "abs"
        if any(_BEA_PAIR.match(n) for n in names):
            return "bea-supply-use"
        if any("make" in n for n in names) and any("use" in n for n in names):
            return "bea"
        if any(n.startswith("uk2010") for n in names):
            return "ons"
        return None
    suffix = path.suffix.lower()
    if suffix == ".npz":
        try:
            with zipfile.ZipFile(path) as archive:
                members = {Path(n).stem for n in archive.namelist()}
        except zipfile.BadZipFile:
            return None
        if "fu_plus" in members:
            return "icio-arrays"
        if "F" in members and "fd_labels" in members:
            return "wiod-arrays"
        return None
    if suffix in {".xlsx", ".xls"}:
        lower = path.name.lower()
        if "wiot" in lower:
            return "wiot"
        if "matri" in lower:
            return "dane"
        return "flows"
    if suffix in {".csv", ".txt"}:
        try:
            with path.open(encoding="utf-8-sig", errors="replace") as handle:
                header = handle.readline()
                second = handle.readline()
        except OSError:
            return None
        fields = [f.strip().strip('"') for f in header.split(",")]
        if "wiot" in path.name.lower():
            return "wiot"
        if _BEA_PAIR.match(path.name):
            return "bea-supply-use"
        if _BEA_CODES & set(fields):
            first = next(csv.reader([second]), [""])[:1] or [""]
            return "bea" if _BEA_CODE.fullmatch(first[0].strip()) else "bea-supply-use"
        if fields[3:5] == ["quadrant", "iotables_row"]:
            return "iotables"
        if {"Year", "Code", "Origin"} <= set(fields):
            return "wiod-niot"
        if fields[:2] == ["", "D01"] or path.name.lower().endswith("ttl.csv"):
            return "oecd-iot"
        if "V1" in fields[:2] or any(f.endswith("_HFCE") for f in fields):
            return "icio"
        if _is_abs_header(fields):
            return "abs"
        return "flows"
    if suffix == ".parquet":
        return "flows"
    return None


def read_table(path: str | Path, format: str | None = None, **options: Any) -> Economy:
    """Read any supported table into an :class:`Economy`.

    ``format`` is one of :data:`FORMATS` (``commonplan formats`` lists them); when omitted
    it is detected from the file. ``options`` go to the reader, except ``year``: it chooses
    a year of a multi-year file (:data:`YEAR_SELECTING`); any other table must be of that
    year (:class:`FileFormatError` naming the year it holds) or states none and is
    labelled with it.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(
            "no such file or folder",
            where=str(path),
            fix="check the path; tables are files (CSV, Excel, Parquet, .npz) or folders",
        )
    name = format or detect_format(path)
    if name is None:
        raise FileFormatError(
            "cannot tell which kind of table this is",
            where=str(path),
            expected=f"one of the formats {sorted(FORMATS)}",
            fix="pass --format (see `commonplan formats`)",
        )
    if name not in FORMATS:
        raise FileFormatError(
            f"unknown format {name!r}",
            where=str(path),
            expected=f"one of {sorted(FORMATS)}",
            fix="choose a format listed by `commonplan formats`",
        )
    year = options.pop("year", None) if name not in YEAR_SELECTING else None
    economy = FORMATS[name].load()(path, **options)
    return _with_year(economy, year, path) if year is not None else economy


YEAR_SELECTING = frozenset({"wiod-niot"})
"""Formats whose files hold several years; for them ``year=`` chooses one."""


def _with_year(economy: Economy, year: int, path: Path) -> Economy:
    """``economy`` checked against the requested ``year``: a table of another year is refused;
    a table that states no year is labelled with it."""
    from dataclasses import replace

    stated = economy.metadata.year
    if stated is None:
        return economy.replace(metadata=replace(economy.metadata, year=int(year)))
    if int(stated) != int(year):
        raise FileFormatError(
            f"the table holds the year {stated} only, not {year}",
            where=str(path),
            expected=f"--year {stated}, the one year present",
            fix=f"leave out --year, or pass --year {stated}; --year chooses among the years "
            f"of multi-year files ({', '.join(sorted(YEAR_SELECTING))})",
        )
    return economy


def write_economy(economy: Economy, folder: str | Path) -> Path:
    """Write ``economy`` in Commonplan's own format (see :mod:`commonplan.io.native`)."""
    from commonplan.io.native import write_economy as _write

    return _write(economy, folder)


def read_economy(folder: str | Path) -> Economy:
    """Read an economy written by :func:`write_economy`, exactly."""
    from commonplan.io.native import read_economy as _read

    return _read(folder)


def read_coo(folder: str | Path, **options: Any) -> Economy:
    """Read a long (COO) folder (see :mod:`commonplan.io.coo`)."""
    from commonplan.io.coo import read_coo as _read

    return _read(folder, **options)


def write_coo(economy: Economy, folder: str | Path, *, format: str = "parquet") -> Path:
    """Write a symmetric economy as a long (COO) folder (see :mod:`commonplan.io.coo`)."""
    from commonplan.io.coo import write_coo as _write

    return _write(economy, folder, format=format)


__all__ = [
    "FORMATS",
    "YEAR_SELECTING",
    "Reader",
    "detect_format",
    "read_table",
    "read_coo",
    "read_economy",
    "write_coo",
    "write_economy",
    "write_tables",
]
