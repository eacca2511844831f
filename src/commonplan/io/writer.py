"""Writing named result tables to files: Parquet, CSV and one Excel workbook.

Every result of Commonplan (see :mod:`commonplan.results`) hands its tables to
:func:`write_tables`, so that all of them follow the same rules:

* one file per table and format, ``NAME.parquet`` and ``NAME.csv``; for Excel one workbook
  (``results.xlsx`` unless named otherwise) with one sheet per table;
* a table's index is written when it carries labels (products, years, …) and left out when
  it is only the default row number ``0 … n−1``;
* Parquet needs text column labels: they are converted to strings, level by level, and the
  (Multi)Index is kept;
* a flat table (no row labels, one column level) goes to CSV through Arrow's writer
  (shortest round-trip floats) unless a text needs quotes; :func:`long_format` and
  :func:`flat_format` turn a labelled wide frame into such a table (one header row,
  labels as columns), as :meth:`AnalysisResults.tidy_tables
  <commonplan.analysis.AnalysisResults.tidy_tables>` does for every analysis file;
* the same tables give the same bytes in every format: the workbook's zip timestamps and
  its created/modified dates are fixed (1980-01-01), since a run must be repeatable bit
  for bit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from commonplan.errors import FileFormatError, UnsupportedOperationError

FORMATS = ("parquet", "csv", "excel")
"""The formats :func:`write_tables` writes."""
EXCEL_MAX_ROWS = 1_048_576
"""Rows of an Excel sheet, header rows included (Excel 2007 and later)."""
EXCEL_MAX_COLUMNS = 16_384
"""Columns of an Excel sheet, index columns included."""
EXCEL_SHEET_NAME_LENGTH = 31
"""Longest sheet name Excel accepts."""


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    directory: str | Path,
    formats: Sequence[str] = ("parquet", "csv", "excel"),
    *,
    workbook: str = "results",
) -> list[Path]:
    """Write every table of ``tables`` into ``directory`` in each of ``formats``; return the paths.

    ``directory`` is created if missing. Per table the paths come in the order of
    ``formats``; the Excel workbook ``WORKBOOK.xlsx`` comes last. Every table is checked
    against Excel's sheet size before anything is written, so a table too large raises
    :class:`~commonplan.errors.UnsupportedOperationError` and leaves no half-written folder.
    """
    formats = _check_formats(formats)
    folder = _prepare_folder(Path(directory))
    book = folder / f"{workbook}.xlsx"
    if "excel" in formats:
        for name, frame in tables.items():
            _check_fits_a_sheet(name, frame, book)
    written: list[Path] = []
    for name, frame in tables.items():
        for kind in formats:
            if kind in _FILE_WRITERS:
                path = folder / f"{name}.{kind}"
                _FILE_WRITERS[kind](frame, path)
                written.append(path)
    if "excel" in formats:
        _write_workbook(tables, book)
        written.append(book)
    return written


def long_format(frame: pd.DataFrame, value: str = "value") -> pd.DataFrame:
    """``frame`` as one row per cell: every row and column label as a column, then ``value``.

    A frame of accounts × products (``account`` rows, ``region, sector`` columns) becomes
    the columns ``account, region, sector, value`` with ``rows × columns`` rows, in row-major
    order. Unnamed levels are called ``row``/``column`` (numbered when there are several).
    Label columns are categorical, so Parquet stores each distinct label once. Built from
    the frame's NumPy array directly: linear in the number of cells.
    """
    n_rows, n_columns = frame.shape
    data: dict[str, object] = {}
    for name, labels in _levels(frame.index, "row"):
        data[name] = pd.Categorical(labels).repeat(n_columns) if n_columns else labels[:0]
    for name, labels in _levels(frame.columns, "column"):
        codes, uniques = pd.factorize(labels)
        data[_unique(name, data)] = pd.Categorical.from_codes(np.tile(codes, n_rows), uniques)
    data[_unique(value, data)] = frame.to_numpy().reshape(-1)
    return pd.DataFrame(data)


def flat_format(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with one header row: every column level but the last stacked into rows,
    then every row label as a column (the default row number ``0 … n−1`` is dropped).

    A frame of products × (partner, measure) becomes ``region, sector, partner`` and one
    column per measure.
    """
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        names = [name or f"column_{i}" for i, name in enumerate(columns.names)]
        frame = frame.set_axis(columns.set_names(names), axis=1)
        frame = frame.stack(names[:-1], future_stack=True)
    if not _has_labels(frame.index):
        return frame.reset_index(drop=True).rename_axis(columns=None)
    named = [
        name or ("row" if frame.index.nlevels == 1 else f"row_{i}")
        for i, name in enumerate(frame.index.names)
    ]
    return frame.rename_axis(index=named, columns=None).reset_index()


def _levels(index: pd.Index, default: str) -> list[tuple[str, np.ndarray]]:
    """(name, labels) per level of ``index``; unnamed levels get ``default`` (numbered if several)."""
    levels = []
    for i in range(index.nlevels):
        name = index.names[i] or (default if index.nlevels == 1 else f"{default}_{i}")
        levels.append((str(name), np.asarray(index.get_level_values(i))))
    return levels


def _unique(name: str, taken: Mapping[str, object]) -> str:
    while name in taken:
        name = f"{name}_"
    return name


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    _with_text_columns(frame).to_parquet(path, index=_has_labels(frame.index))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """One header row when the columns have one level; Arrow's CSV writer (about ten times
    faster than pandas, shortest round-trip floats, ``true``/``false``) for a flat frame whose
    texts need no quotes; pandas for a frame with row labels or column levels, texts with
    commas, quotes or line breaks, or columns Arrow cannot type."""
    flat = not _has_labels(frame.index) and frame.columns.nlevels == 1
    if flat and frame.columns.is_unique:
        try:
            _write_csv_arrow(frame, path)
            return
        except (pa.ArrowException, TypeError, ValueError):
            pass
    frame.to_csv(path, index=_has_labels(frame.index))


def _write_csv_arrow(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(_with_text_columns(frame), preserve_index=False)
    columns = [
        column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    table = pa.Table.from_arrays(columns, names=table.column_names)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(table.column_names)  # quoted as pandas does
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    with path.open("wb") as file:  # a value needing quotes raises: pandas writes the file then
        file.write(header.getvalue().encode("utf-8"))
        pa_csv.write_csv(table, file, write_options=options)


_FILE_WRITERS = {"parquet": _write_parquet, "csv": _write_csv}
"""The formats written as one file per table, ``NAME.<format>``."""


def _write_workbook(tables: Mapping[str, pd.DataFrame], book: Path) -> None:
    with pd.ExcelWriter(book, engine="openpyxl") as excel:
        for sheet, frame in zip(_sheet_names(tables), tables.values(), strict=True):
            frame.to_excel(excel, sheet_name=sheet, index=_has_labels(frame.index))
    _make_reproducible(book)


_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Timestamp of every member of a written workbook: the earliest a zip archive can record."""
_CORE_DATES = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _make_reproducible(book: Path) -> None:
    """Rewrite the workbook with fixed timestamps (zip members, created and modified dates),
    so that the same tables give the same bytes on every run."""
    with zipfile.ZipFile(book) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    partial = book.with_name(book.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                text = _CORE_DATES.sub(r"\g<1>1980-01-01T00:00:00Z\g<3>", data.decode("utf-8"))
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            archive.writestr(fixed, data)
    partial.replace(book)


def _check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    chosen = (formats,) if isinstance(formats, str) else tuple(formats)
    unknown = [kind for kind in chosen if kind not in FORMATS]
    if unknown or not chosen:
        raise UnsupportedOperationError(
            f"cannot write format {unknown[0]!r}" if unknown else "no output format given",
            where="write(formats=...)",
            expected="one or more of " + ", ".join(repr(kind) for kind in FORMATS),
        )
    return chosen


def _prepare_folder(folder: Path) -> Path:
    if folder.exists() and not folder.is_dir():
        raise FileFormatError(
            "output path exists and is not a folder",
            where=str(folder),
            expected="a folder (it is created if missing)",
            fix="choose another output path",
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _has_labels(index: pd.Index) -> bool:
    """False for the default row number ``RangeIndex(0, n)`` without a name; True otherwise."""
    default = (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    )
    return not default


def _with_text_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every column label (each level of a MultiIndex) as a string."""
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        columns = pd.MultiIndex.from_arrays(
            [columns.get_level_values(i).astype(str) for i in range(columns.nlevels)],
            names=columns.names,
        )
    else:
        columns = pd.Index(columns.astype(str), name=columns.name)
    return frame.set_axis(columns, axis=1)


def _check_fits_a_sheet(name: str, frame: pd.DataFrame, book: Path) -> None:
    index = _has_labels(frame.index)
    rows = len(frame) + frame.columns.nlevels
    columns = frame.shape[1] + (frame.index.nlevels if index else 0)
    if rows > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        raise UnsupportedOperationError(
            f"table {name!r} needs {rows:,} rows × {columns:,} columns, more than an Excel sheet holds",
            where=str(book),
            expected=f"at most {EXCEL_MAX_ROWS:,} rows × {EXCEL_MAX_COLUMNS:,} columns per sheet",
            fix="write this result as Parquet or CSV (formats=('parquet', 'csv'))",
        )


def _sheet_names(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One distinct sheet name per table: the table's name cut to 31 characters, numbered if cut names clash."""
    used: set[str] = set()
    names = []
    for name in tables:
        sheet = name[:EXCEL_SHEET_NAME_LENGTH]
        k = 1
        while sheet in used:
            sheet = f"{name[: EXCEL_SHEET_NAME_LENGTH - 3]}_{k}"
            k += 1
        used.add(sheet)
        names.append(sheet)
    return names


__all__ = [
    "EXCEL_MAX_COLUMNS",
    "EXCEL_MAX_ROWS",
    "FORMATS",
    "flat_format",
    "long_format",
    "write_tables",
]
