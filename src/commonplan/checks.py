"""Checks on user input, in one place: bad cells, labels, user-written numbers, file names.

Every reader and constructor checks its input with these functions, so that a bad value
is reported the same way wherever it comes from (as scikit-learn's
``utils/validation.py`` does with ``check_array``):

* :func:`check_values` (and its shorthands :func:`check_finite`,
  :func:`check_nonnegative`) find the first non-finite, negative or non-positive cell
  of a dense array or a sparse matrix and raise naming it by its labels,
  ``"flows.csv, row 'C10', column 'A01': intermediate flow is negative (-3; 2 bad cell(s) in all)"``;
* :func:`align_labels` puts a labelled Series or DataFrame in a given label order, or
  raises :class:`~commonplan.errors.LabelError` listing the missing and unknown labels;
* :func:`to_number` and :func:`parse_number` read one number a person wrote (a CSV or
  spreadsheet cell, a TOML or EDN value): thousands separators in groups of three,
  ``(12)`` for −12, blanks as 0; ``"1,0,0"``, NaN and ±inf are refused;
* :class:`in_file` adds the file name to any :class:`~commonplan.errors.CommonplanError`
  raised inside it, and :func:`cell` writes the ``where`` text of one cell of a file.

All checks are vectorised: the cost is one pass over the values, and only the first bad
cell is located, so they run on tables with millions of cells.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.errors import CommonplanError, InfeasiblePlanError, InvalidValueError, LabelError

__all__ = [
    "SUPPRESSED",
    "BadCell",
    "align_labels",
    "cell",
    "check_finite",
    "check_nonnegative",
    "check_values",
    "find_bad_cell",
    "first_true",
    "in_file",
    "parse_number",
    "to_number",
]

Position = tuple[int, ...]
"""Index of a cell: ``(i,)`` in a vector, ``(row, column)`` in a matrix."""

SUPPRESSED = frozenset(
    {"---", "--", "...", "..", "(D)", "(NA)", "n.p.", "np", "x", "X", "-", "–", "—"}
)
"""Cell texts that statistical offices use for "suppressed / not available": 0 where the
reader allows suppressed cells, not a number otherwise."""

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[+-]?\d{1,3}([,\s\u00a0\u202f]\d{3})+(\.\d*)?")
"""Digits in groups of three split by commas or (narrow, no-break) spaces: ``1,234,567.5``."""
_SEPARATOR = re.compile(r"[,\s\u00a0\u202f]")

DEFAULT_FIX = "correct the cell in the source, or set it to 0"


# ---- file names and cells ------------------------------------------------------------------


def cell(path: Path | str | None, row: Any = None, column: Any = None, *, sheet: Any = None) -> str:
    """The ``where`` text of a cell of a file: ``"file.csv, sheet 'S', row 'r', column 'c'"``.

    Only the file's name is kept (not its folder); ``path=None`` reads ``"table"``.
    """
    parts = [Path(path).name if path is not None else "table"]
    if sheet is not None:
        parts.append(f"sheet {sheet!r}")
    if row is not None:
        parts.append(f"row {row!r}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)


class in_file:  # noqa: N801 - used as a context manager, reads like a clause
    """Context manager: re-raise a :class:`CommonplanError` from inside with the file named.

    ``with in_file(path): Economy.from_flows(...)`` turns ``"Z: flow … is not finite"`` into
    ``"flows.csv: Z: flow … is not finite"`` (same exception class), so errors raised by the
    data model still say which file the bad value came from. An error that already names
    the file, and an :class:`~commonplan.errors.InfeasiblePlanError` (which carries its
    conflicts), pass unchanged.
    """

    def __init__(self, path: Path | str | Sequence[Path | str] | None) -> None:
        if path is None:
            self.name = None
        elif isinstance(path, str | Path):
            self.name = Path(path).name
        else:
            self.name = " + ".join(Path(p).name for p in path)

    def __enter__(self) -> in_file:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if self.name is None or error is None or not isinstance(error, CommonplanError):
            return False
        if isinstance(error, InfeasiblePlanError) or (error.where or "").startswith(self.name):
            return False
        where = f"{self.name}: {error.where}" if error.where else self.name
        raise type(error)(
            error.message, where=where, expected=error.expected, fix=error.fix
        ) from None


# ---- bad cells -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BadCell:
    """The first cell of an array that fails a check, and how many cells fail it."""

    position: Position
    value: float
    problem: str
    """``"is not finite"``, ``"is negative"`` or ``"is not positive"``."""
    expected: str
    count: int
    """How many cells fail the check."""


def first_true(mask: np.ndarray) -> tuple[int, int] | None:
    """Flat index of the first ``True`` of ``mask`` (C order) and the number of ``True``."""
    if not mask.any():
        return None
    return int(np.argmax(mask)), int(np.count_nonzero(mask))


def find_bad_cell(
    values: Any,
    *,
    nonnegative: bool = False,
    positive: bool = False,
    allow_inf: bool = False,
) -> BadCell | None:
    """The first cell (in C order) that is NaN, ±inf (unless ``allow_inf``), below 0
    (``nonnegative``) or not above 0 (``positive``); ``None`` when every cell passes.

    ``values`` is an array of any shape or a scipy sparse matrix; for a sparse matrix only
    the stored entries are checked (an absent entry is a valid 0, but not a positive number:
    use a dense array with ``positive``).
    """
    if sp.issparse(values):
        matrix = sp.csr_array(values)
        found = find_bad_cell(
            matrix.data, nonnegative=nonnegative, positive=positive, allow_inf=allow_inf
        )
        if found is None:
            return None
        k = found.position[0]
        row = int(np.searchsorted(matrix.indptr, k, side="right") - 1)
        return BadCell(
            (row, int(matrix.indices[k])), found.value, found.problem, found.expected, found.count
        )
    array = np.asarray(values, dtype=np.float64)
    mask = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if positive:
        mask |= ~(array > 0)
        sign, expected = "is not positive", "a finite number > 0"
    elif nonnegative:
        mask |= array < 0
        sign, expected = "is negative", "a finite number ≥ 0"
    else:
        sign, expected = "", "a finite number"
    first = first_true(mask)
    if first is None:
        return None
    flat, count = first
    value = float(array.flat[flat])
    finite = np.isfinite(value) or (allow_inf and not np.isnan(value))
    position = tuple(int(i) for i in np.unravel_index(flat, array.shape))
    return BadCell(position, value, sign if finite else "is not finite", expected, count)


def _at(
    where: str, labels: Sequence[Sequence[Any] | None], axes: Sequence[str], position: Position
) -> str:
    """``where`` followed by the label of the cell on each labelled axis."""
    parts = [where] if where else []
    for axis, axis_labels, index in zip(axes, labels, position, strict=False):
        if axis_labels is not None:
            parts.append(f"{axis} {axis_labels[index]!r}")
    return ", ".join(parts)


def check_values(
    values: Any,
    *,
    what: str,
    where: str | Callable[[Position], str],
    labels: Sequence[Sequence[Any] | None] = (),
    axes: Sequence[str] = ("row", "column"),
    nonnegative: bool = False,
    positive: bool = False,
    allow_inf: bool = False,
    error: type[CommonplanError] = InvalidValueError,
    expected: str | None = None,
    fix: str | None = DEFAULT_FIX,
) -> None:
    """Raise ``error`` at the first bad cell of ``values`` (see :func:`find_bad_cell`).

    The message reads ``"{what} is negative (-3; 2 bad cell(s) in all)"``. ``where`` is the
    place of the whole array (a file name, a block name), to which the labels of the bad
    cell are added, one per axis (``labels=(rows, columns)``, named by ``axes``, ``None``
    to leave an axis out); or a function of the bad cell's position giving the ``where``
    text itself. A Series or DataFrame brings its own labels.
    """
    if isinstance(values, pd.Series | pd.DataFrame):
        labels = labels or values.axes
        values = values.to_numpy(dtype=np.float64)
    bad = find_bad_cell(values, nonnegative=nonnegative, positive=positive, allow_inf=allow_inf)
    if bad is None:
        return
    place = where(bad.position) if callable(where) else _at(where, labels, axes, bad.position)
    raise error(
        f"{what} {bad.problem} ({bad.value:.6g}; {bad.count} bad cell(s) in all)",
        where=place,
        expected=expected or bad.expected,
        fix=fix,
    )


def check_finite(values: Any, *, what: str, where: str | Callable, **options: Any) -> None:
    """:func:`check_values` for finite numbers (no NaN, no ±inf)."""
    check_values(values, what=what, where=where, **options)


def check_nonnegative(values: Any, *, what: str, where: str | Callable, **options: Any) -> None:
    """:func:`check_values` for finite numbers ≥ 0."""
    check_values(values, what=what, where=where, nonnegative=True, **options)


# ---- labels --------------------------------------------------------------------------------


def align_labels(
    values: pd.Series | pd.DataFrame,
    labels: pd.Index,
    *,
    what: str,
    where: str,
    axis: int = 0,
    against: str = "the products",
    allow_unknown: bool = False,
    expected: str | None = None,
    fix: str | None = None,
) -> pd.Series | pd.DataFrame:
    """``values`` with axis ``axis`` in the order of ``labels``.

    Raises :class:`~commonplan.errors.LabelError` naming the first missing labels (in
    ``labels`` but not in ``values``) and the first unknown ones (in ``values`` only);
    unknown labels are dropped instead when ``allow_unknown``.
    """
    given = values.axes[axis]
    if given.equals(labels):
        return values
    missing = labels.difference(given, sort=False)
    unknown = pd.Index([]) if allow_unknown else given.difference(labels, sort=False)
    if len(missing) or len(unknown):
        raise LabelError(
            f"{what} do not match {against} (missing {missing[:3].tolist()}, "
            f"unknown {unknown[:3].tolist()})",
            where=where,
            expected=expected or f"one entry for each of {against}",
            fix=fix or f"label {what} with {against}",
        )
    return values.reindex(labels, axis=axis)


# ---- numbers people write ------------------------------------------------------------------


def to_number(value: Any, *, suppressed_as_zero: bool = False) -> float:
    """One number as written in a table or a configuration file, or NaN if it is none.

    Numbers are taken as they are (NaN and ±inf stay NaN and ±inf, for the caller to
    refuse); text may have thousands separators in groups of three (``"1,234.5"``,
    ``"1 234"``), a sign, an exponent, or parentheses for a negative number (``"(12)"``);
    a blank is 0; ``"---"`` and the other :data:`SUPPRESSED` markers are 0 only when
    ``suppressed_as_zero``. Anything else, including ``"1,0,0"``, ``"nan"``, ``"inf"``
    and booleans, is NaN.
    """
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float("nan")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    if text == "":
        return 0.0
    if text in SUPPRESSED:
        return 0.0 if suppressed_as_zero else float("nan")
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1].strip()
    if _PLAIN_NUMBER.fullmatch(text):
        number = float(text)
    elif _GROUPED_NUMBER.fullmatch(text):
        number = float(_SEPARATOR.sub("", text))
    else:
        return float("nan")
    return -number if negative else number


def parse_number(
    value: Any,
    *,
    where: str,
    what: str = "value",
    error: type[CommonplanError] = InvalidValueError,
    suppressed_as_zero: bool = False,
    allow_inf: bool = False,
    nonnegative: bool = False,
    expected: str | None = None,
    fix: str | None = None,
) -> float:
    """:func:`to_number`, raising ``error`` at ``where`` when ``value`` is not a number.

    Also refuses ±inf unless ``allow_inf``, and numbers below 0 when ``nonnegative``.
    """
    number = to_number(value, suppressed_as_zero=suppressed_as_zero)
    if np.isnan(number) or (np.isinf(number) and not allow_inf):
        typed = isinstance(value, int | float) and not isinstance(value, bool)
        problem = "is not finite" if typed else "is not a number"
        raise error(
            f"{what} {value!r} {problem}",
            where=where,
            expected=expected or ("a number ≥ 0" if nonnegative else "a finite number"),
            fix=fix,
        )
    if nonnegative and number < 0:
        raise error(
            f"{what} {number:g} is negative",
            where=where,
            expected=expected or "a number ≥ 0",
            fix=fix,
        )
    return number
