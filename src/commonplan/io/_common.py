"""Helpers shared by the table readers: opening files, parsing numbers, checking labels.

Every helper turns a problem in the user's file into the specific
:class:`~commonplan.errors.CommonplanError` subclass, naming the file and, where there
is one, the cell (row label, column label). Readers call these instead of letting a
pandas or openpyxl exception escape.

Stable API (other readers import it):

* :func:`existing_file` — the path, or :class:`MissingBlockError` if it is absent.
* :func:`read_frame` — a CSV / Excel sheet / Parquet file as a DataFrame of strings or
  numbers, with :class:`FileFormatError` for an unreadable or empty file.
* :func:`numeric_frame` — every cell parsed as a float (``---``, blanks → 0 or an error),
  :class:`InvalidValueError` naming the first bad cell.
* :func:`unique_labels`, :func:`require_labels`, :func:`find_label` — label checks.

Checks of values (finite, non-negative), of label alignment, the number parser and the
file name in errors are :mod:`commonplan.checks`, shared with the rest of the package.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commonplan.checks import cell, find_bad_cell, to_number
from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
)

EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})


def existing_file(path: Path | str, *, what: str = "table file") -> Path:
    """``path`` as a :class:`Path`; raise :class:`MissingBlockError` if it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise MissingBlockError(
            f"{what} not found" + (" (it is a folder)" if path.is_dir() else ""),
            where=str(path),
            expected=f"an existing {what}",
            fix="check the path and the file name",
        )
    return path


def _sniff_binary(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(8)


def read_frame(
    path: Path | str,
    *,
    sheet: str | int | None = None,
    header: int | None = 0,
    index_col: int | None = None,
    what: str = "table file",
    dtype: Any = None,
) -> pd.DataFrame:
    """Read one table from a CSV, Excel sheet or Parquet file, chosen by suffix.

    Raises :class:`MissingBlockError` for a missing file or sheet and
    :class:`FileFormatError` for a file that is empty, binary where text was expected,
    or otherwise unreadable. Labels are kept as read; numbers are *not* yet checked
    (use :func:`numeric_frame`).
    """
    path = existing_file(path, what=what)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise FileFormatError(
            "file is empty", where=path.name, expected=f"a {what} with a header and rows"
        )
    magic = _sniff_binary(path)
    try:
        if suffix in EXCEL_SUFFIXES:
            if suffix != ".xls" and not magic.startswith(b"PK"):
                raise FileFormatError(
                    "file is not an Excel workbook (no zip container)",
                    where=path.name,
                    expected="an .xlsx workbook",
                    fix="save the table as .xlsx, or give it the suffix of its real format",
                )
            return _read_excel(path, sheet, header, index_col, dtype)
        if suffix in PARQUET_SUFFIXES:
            if not magic.startswith(b"PAR1"):
                raise FileFormatError(
                    "file is not a Parquet file",
                    where=path.name,
                    expected="a Parquet file (magic PAR1)",
                )
            frame = pd.read_parquet(path)
            if index_col is not None:
                frame = frame.set_index(frame.columns[index_col])
            return frame
        if (
            magic.startswith((b"%PDF", b"PK\x03\x04", b"PAR1", b"\x89PNG", b"\xd0\xcf\x11\xe0"))
            or b"\x00" in magic
        ):
            raise FileFormatError(
                "file is binary, not a text table",
                where=path.name,
                expected="a comma-separated text file (or use the suffix .xlsx / .parquet)",
                fix="export the table as CSV, or give the file the suffix of its real format",
            )
        sep = "\t" if suffix == ".tsv" else None
        if header is not None:
            check_rectangular(path, sep)
        frame = pd.read_csv(
            path,
            sep=sep,
            engine="python",
            header=header,
            dtype=dtype if dtype is not None else str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skip_blank_lines=True,
        )
        if index_col is not None:  # set here: read_csv ignores dtype=str for the index
            if frame.shape[1] <= index_col:
                raise FileFormatError(
                    "file has no label column",
                    where=path.name,
                    expected=f"a {what} with labels in the first column",
                )
            frame = frame.set_index(frame.columns[index_col])
        return frame
    except (FileFormatError, MissingBlockError):
        raise
    except UnicodeDecodeError as error:
        raise FileFormatError(
            f"file is not UTF-8 text ({error.reason} at byte {error.start})",
            where=path.name,
            expected="a UTF-8 encoded CSV file",
            fix="re-save the file as UTF-8 CSV",
        ) from None
    except pd.errors.EmptyDataError:
        raise FileFormatError(
            "file has no table in it", where=path.name, expected=f"a {what} with a header"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, KeyError, IndexError, TypeError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise FileFormatError(
            f"file could not be read as a table ({message})",
            where=path.name,
            expected=f"a {what} in CSV, Excel or Parquet format",
            fix="check the file's format and its delimiter",
        ) from None
    except Exception as error:  # noqa: BLE001 - any parser crash is a format problem of the file
        raise FileFormatError(
            f"file could not be read ({type(error).__name__}: {str(error)[:120]})",
            where=path.name,
            expected=f"a {what} in CSV, Excel or Parquet format",
        ) from None


def check_rectangular(path: Path, sep: str | None = None) -> None:
    """Raise :class:`FileFormatError` at the first row of a CSV file that is not as wide as its header.

    pandas fills a short row with NaN and, when a row is longer, silently shifts the
    labels; so the file is scanned first and a ragged row is reported as one, with its
    line number, its first cell and both widths. ``sep=None`` sniffs the delimiter from
    the first line as pandas does. Blank lines are skipped (as the reader skips them).
    """
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
        if sep is None:
            try:
                dialect: Any = csv.Sniffer().sniff(first)
            except csv.Error:
                return  # no delimiter to find: the reader reports the file itself
        else:
            dialect = type("_Dialect", (csv.excel,), {"delimiter": sep})
        handle.seek(0)
        reader = csv.reader(handle, dialect)
        width = None
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if width is None:
                width = len(row)
                continue
            if len(row) != width:
                label = row[0].strip() if row else ""
                raise FileFormatError(
                    f"ragged row: line {reader.line_num} (row {label!r}) has {len(row)} "
                    f"columns, the header has {width}",
                    where=path.name,
                    expected="every row with as many cells as the header (an empty cell means 0)",
                    fix="add the missing cells or remove the extra ones on that line",
                )


def _read_excel(
    path: Path, sheet: str | int | None, header: int | None, index_col: int | None, dtype: Any
):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - a corrupt workbook is a format problem
        raise FileFormatError(
            f"file could not be opened as an Excel workbook ({type(error).__name__})",
            where=path.name,
            expected="a valid .xlsx workbook",
        ) from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            sheet = names[0]
        if isinstance(sheet, int):
            if sheet >= len(names):
                raise MissingBlockError(
                    f"workbook has {len(names)} sheet(s), not {sheet + 1}",
                    where=path.name,
                    expected=f"sheet number {sheet + 1}",
                    fix=f"the sheets are {names}",
                )
            sheet = names[sheet]
        if sheet not in names:
            raise MissingBlockError(
                f"sheet {sheet!r} not found",
                where=path.name,
                expected=f"a sheet named {sheet!r}",
                fix=f"the workbook has sheets {names}; pass the right sheet name",
            )
        rows = list(workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()
    rows = [row for row in rows if any(value is not None and value != "" for value in row)]
    if not rows:
        raise FileFormatError(
            "sheet is empty", where=cell(path, sheet=str(sheet)), expected="a table"
        )
    width = max(len(row) for row in rows)
    rows = [tuple(row) + (None,) * (width - len(row)) for row in rows]
    if header is None:
        frame = pd.DataFrame(rows, dtype=object)
    else:
        columns = [_label(value, k) for k, value in enumerate(rows[header])]
        frame = pd.DataFrame(rows[header + 1 :], columns=columns, dtype=object)
    if index_col is not None:
        frame = frame.set_index(frame.columns[index_col])
        frame.index = pd.Index(
            [_label(v, k) for k, v in enumerate(frame.index)], name=frame.index.name
        )
    return frame


def _label(value: Any, position: int) -> str:
    """A header cell as a label string (Excel gives ints and floats for numeric codes)."""
    if value is None:
        return f"Unnamed: {position}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def clean_labels(labels: Iterable[Any]) -> list[str]:
    """Labels as stripped strings; integral floats (``1.0``) become ``"1"``."""
    return [_label(value, k) for k, value in enumerate(labels)]


def _is_blank(values: np.ndarray) -> np.ndarray:
    """Cells that are empty (None or whitespace-only text); a float NaN is *not* blank."""
    flat = values.ravel()
    out = np.fromiter(
        (v is None or (isinstance(v, str) and not v.strip()) for v in flat),
        dtype=bool,
        count=flat.size,
    )
    return out.reshape(values.shape)


def numeric_frame(
    frame: pd.DataFrame,
    *,
    path: Path | str | None,
    sheet: str | None = None,
    suppressed_as_zero: bool = False,
    what: str = "cell",
) -> pd.DataFrame:
    """Every cell of ``frame`` as a float64; raise :class:`InvalidValueError` at the first
    cell that is not a number (naming file, row and column), including NaN and ±inf.

    Blank cells count as 0 (input-output tables leave zero flows blank). Suppressed
    markers such as ``---`` count as 0 only when ``suppressed_as_zero`` is true.
    """
    values = frame.to_numpy(dtype=object)
    if values.size == 0:
        return pd.DataFrame(np.zeros(frame.shape), index=frame.index, columns=frame.columns)
    try:
        numbers = np.array(
            pd.DataFrame(values).apply(pd.to_numeric, errors="coerce"), dtype=np.float64
        )
    except (TypeError, ValueError):
        numbers = np.full(values.shape, np.nan)
    blank = _is_blank(values)
    numbers[blank] = 0.0
    bad = ~np.isfinite(numbers)
    if bad.any():
        rows, cols = np.nonzero(bad)
        for r, c in zip(rows, cols, strict=True):
            numbers[r, c] = to_number(values[r, c], suppressed_as_zero=suppressed_as_zero)
        still_bad = find_bad_cell(numbers)
        if still_bad is not None:
            r, c = still_bad.position
            raise InvalidValueError(
                f"{what} {values[r, c]!r} is not a finite number ({still_bad.count} such cell(s))",
                where=cell(path, frame.index[r], frame.columns[c], sheet=sheet),
                expected="a finite number (blank means 0)",
                fix="correct the cell in the source file",
            )
    return pd.DataFrame(numbers, index=frame.index, columns=frame.columns)


def unique_labels(labels: Sequence[Any], *, path: Path | str | None, what: str) -> list[str]:
    """``labels`` as strings; raise :class:`LabelError` on blanks or duplicates."""
    names = clean_labels(labels)
    blank = [
        k
        for k, name in enumerate(names)
        if name == "" or name.startswith("Unnamed: ") or name.lower() == "nan"
    ]
    if blank:
        raise LabelError(
            f"{what} label number {blank[0] + 1} is blank",
            where=cell(path),
            expected=f"a name for every {what}",
            fix="fill in the missing label in the header",
        )
    seen: set[str] = set()
    duplicates = [name for name in names if name in seen or seen.add(name)]
    if duplicates:
        raise LabelError(
            f"duplicate {what} labels: {sorted(set(duplicates))[:5]}",
            where=cell(path),
            expected=f"each {what} label once",
            fix="rename or aggregate the duplicated rows/columns",
        )
    return names


def find_label(labels: Sequence[str], candidates: Iterable[str]) -> str | None:
    """The first label matching any candidate, ignoring case, spaces, ``_`` and ``-``."""

    def key(text: str) -> str:
        return re.sub(r"[\s_\-.]", "", str(text)).lower()

    lookup = {key(label): label for label in labels}
    for candidate in candidates:
        if key(candidate) in lookup:
            return lookup[key(candidate)]
    return None


def require_labels(
    present: Sequence[str],
    wanted: Sequence[str],
    *,
    path: Path | str | None,
    what: str,
    sheet: str | None = None,
) -> None:
    """Raise :class:`MissingBlockError` if any of ``wanted`` is not among ``present``."""
    have = set(present)
    missing = [label for label in wanted if label not in have]
    if missing:
        raise MissingBlockError(
            f"{len(missing)} {what} missing: {missing[:5]}",
            where=cell(path, sheet=sheet),
            expected=f"{what} {list(wanted)[:5]}{'…' if len(wanted) > 5 else ''}",
            fix="check that this is the right file and that no row or column was deleted",
        )


def match_labels(
    rows: Sequence[str],
    columns: Sequence[str],
    *,
    path: Path | str | None,
    what: str = "intermediate block",
) -> None:
    """Raise :class:`LabelError` unless row and column labels are the same, in the same order."""
    if list(rows) == list(columns):
        return
    only_rows = [r for r in rows if r not in set(columns)][:3]
    only_cols = [c for c in columns if c not in set(rows)][:3]
    detail = (
        f"rows only: {only_rows}, columns only: {only_cols}"
        if only_rows or only_cols
        else "same labels in another order"
    )
    raise LabelError(
        f"{what} row and column labels differ ({detail})",
        where=cell(path),
        expected="the same products on rows and columns, in the same order",
        fix="make the row labels of the flow block match its column labels",
    )


def split_unit(label: str) -> tuple[str, str]:
    """``"labour [million hours]"`` → ``("labour", "million hours")``; no brackets → unit ``""``."""
    match = re.fullmatch(r"\s*(.*?)\s*[\[(]([^\[\]()]*)[\])]\s*", label)
    if match and match.group(1):
        return match.group(1), match.group(2).strip()
    return label.strip(), ""
