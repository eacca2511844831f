"""Plain flow tables: one CSV / Excel / Parquet file, or one file per block.

A *flow table* is a symmetric input-output table in money flows:

* the intermediate block Z (products × products): the products are the labels that
  appear both as a row label (first column) and as a column label (header);
* final-demand columns (products × categories), any other column;
* an optional gross-output column (``x``, ``output``, ``gross output``, ``total output``,
  ``GO``); without it output is ``x = Z·1 + Y·1``;
* account rows (primary inputs: value added, labour, imports, emissions…), any other row;
  a unit may be written in brackets in the label, ``labour [thousand persons]``; or an
  account as a column of coefficients per unit of output, ``labour_coeff``;
* the intermediate columns may be named ``Z_<product>`` (Miller & Blair's layout).

Rows and columns whose label starts with ``total`` are sums and are skipped, and the
account-row × final-demand-column corner is not read. Regions: a single-region table is
labelled with ``region=``; in a multi-region table each label carries its region before
``region_separator`` (``"USA/C10"``), final-demand columns too (``"USA/households"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.checks import align_labels, cell, check_nonnegative, in_file
from commonplan.economy import Economy, Metadata
from commonplan.economy.roles import stated_roles
from commonplan.errors import FileFormatError, LabelError, MissingBlockError
from commonplan.io._common import (
    find_label,
    match_labels,
    numeric_frame,
    read_frame,
    require_labels,
    split_unit,
    unique_labels,
)

__all__ = ["read_flow_table", "OUTPUT_NAMES"]

#: Column (or row) names recognised as gross output, compared ignoring case, spaces and ``_``.
OUTPUT_NAMES = ("x", "gross output", "total output", "output", "go", "gross_output", "total_output")
BLOCKS = ("Z", "Y", "x", "accounts")
_TOTAL = re.compile(r"^\s*total\b", re.IGNORECASE)
_COEFFICIENT = re.compile(r"^(.+?)[_ ](coeff|coefficient|coefficients)$", re.IGNORECASE)
"""A column of account coefficients per unit of output: ``labour_coeff`` is account ``labour``."""


def read_flow_table(
    source: str | Path | Mapping[str, str | Path] | Sequence[str | Path],
    *,
    sheet: str | int | None = None,
    final_demand: Sequence[str] | None = None,
    output: str | None = None,
    accounts: Sequence[str] | None = None,
    account_units: Mapping[str, str] | None = None,
    region: str = "ALL",
    region_separator: str | None = None,
    units: str = "",
    name: str = "",
    year: int | None = None,
    citation: str = "",
    balance_tolerance: float | None = 1e-6,
    roles: Mapping[str, str] | None = None,
) -> Economy:
    """Read a plain flow table into a validated :class:`~commonplan.economy.Economy`.

    Parameters
    ----------
    source:
        One file (``.csv``, ``.xlsx``, ``.parquet``) holding the whole table, or one file per
        block: a mapping ``{"Z": …, "Y": …, "x": …, "accounts": …}`` (``x`` and
        ``accounts`` optional) or a list of files named ``Z.*``, ``Y.*``, ``x.*``,
        ``accounts.*``. Block files have labels in the first column and the header; ``x``
        has one value column; ``accounts`` has one row per account and one column per product.
    sheet:
        Excel sheet (name or 0-based number) to read; the first sheet by default.
    final_demand:
        Names of the final-demand columns. Default: every column that is neither a product,
        the output column, nor a ``total…`` column.
    output:
        Name of the gross-output column. Default: detected from :data:`OUTPUT_NAMES`.
    accounts:
        Names of the account rows. Default: every row that is neither a product, an output
        row nor a ``total…`` row.
    account_units:
        Unit of each account's totals (``{"labour": "thousand persons"}``); overrides a unit
        given in brackets in the row label.
    region, region_separator:
        Region of every product of a single-region table, or the separator between region
        and sector inside each label of a multi-region table.
    units, name, year, citation:
        Metadata: the money unit of the flows (e.g. ``"EUR million"``), a name, the year.
    balance_tolerance:
        Relative tolerance for ``x = Z·1 + Y·1`` when an output column is given; ``None``
        skips the check.
    roles:
        What accounts and final-demand categories are (:mod:`commonplan.economy.roles`),
        e.g. ``{"hours": "labour", "wages": "compensation", "HH": "household_consumption"}``;
        recorded in ``metadata.account_roles`` and ``final_demand_roles`` for
        :meth:`Economy.account_for <commonplan.economy.Economy.account_for>`. Names not
        given are recognised by their words (``"labour"``, ``"value added"``, …).

    Returns
    -------
    Economy
        Symmetric (make = identity), with ``A = Z·diag(x)⁻¹`` and account coefficients per
        unit of output; ``metadata.extra["source_files"]`` lists the files read.

    Raises
    ------
    MissingBlockError
        A file, sheet, block or named row/column is absent.
    FileFormatError
        A file is empty, not a table, or has no intermediate block.
    InvalidValueError
        A cell is not a finite number, an intermediate flow is negative, or the table does
        not balance; the message names file, row and column.
    LabelError
        Duplicate or blank labels, or final-demand / output / account blocks whose labels do
        not match the products.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        blocks = _single_file(path, sheet, final_demand, output, accounts)
        files: list[Path] = [path]
    else:
        mapping = _block_paths(source)
        blocks = _block_files(mapping, sheet)
        files = list(mapping.values())

    Z, Y, x, account_rows = blocks
    if Y.shape[1] == 0 and x is not None:
        # Only gross output given: final demand is what output leaves after intermediate use.
        Y = (x - Z.sum(axis=1)).to_frame("final_demand")
    parsed_accounts, units_from_labels = _account_names(account_rows)
    units_by_account = {**units_from_labels, **dict(account_units or {})}
    products = _labels(Z.index, region, region_separator, files[0], "product")
    Z = Z.set_axis(products, axis=0).set_axis(products, axis=1)
    Y = Y.set_axis(products, axis=0).set_axis(_fd_columns(Y.columns, region_separator), axis=1)
    if x is not None:
        x = x.set_axis(products)
    if parsed_accounts is not None:
        parsed_accounts = parsed_accounts.set_axis(products, axis=1)

    categories = Y.columns.get_level_values("category").unique()
    account_roles, final_demand_roles = stated_roles(
        roles,
        list(parsed_accounts.index) if parsed_accounts is not None else [],
        [str(c) for c in categories],
        where="read_flow_table(roles=…)",
    )
    metadata = Metadata(
        name=name or files[0].stem,
        year=year,
        units=units,
        source=", ".join(str(f) for f in files),
        citation=citation,
        extra={"source_files": [str(f) for f in files]},
        account_roles=account_roles,
        final_demand_roles=final_demand_roles,
    )
    with in_file(files):
        return Economy.from_flows(
            Z,
            Y,
            x,
            parsed_accounts,
            account_units={
                k: units_by_account.get(k, "")
                for k in (parsed_accounts.index if parsed_accounts is not None else [])
            },
            metadata=metadata,
            balance_tolerance=balance_tolerance if x is not None else None,
        )


# ---- one file ----------------------------------------------------------------------------


def _single_file(
    path: Path,
    sheet: str | int | None,
    final_demand: Sequence[str] | None,
    output: str | None,
    accounts: Sequence[str] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None, pd.DataFrame | None]:
    frame = read_frame(path, sheet=sheet, index_col=0, what="flow table")
    sheet_name = sheet if isinstance(sheet, str) else None
    rows = unique_labels(frame.index, path=path, what="row")
    columns = unique_labels(frame.columns, path=path, what="column")
    frame = frame.set_axis(rows, axis=0).set_axis(columns, axis=1)

    row_set = set(rows)
    products = [c for c in columns if c in row_set]
    if not products:  # intermediate columns named Z_<product> (Miller & Blair's layout)
        prefixed = {c: c[2:] for c in columns if c.startswith("Z_") and c[2:] in row_set}
        if prefixed:
            columns = [prefixed.get(c, c) for c in columns]
            frame = frame.set_axis(columns, axis=1)
            products = [c for c in columns if c in row_set]
    if not products:
        raise FileFormatError(
            "no intermediate block: no column label is also a row label",
            where=cell(path, sheet=sheet_name),
            expected="products labelled the same in the first column and in the header",
            fix="put product labels in the header and the first column, or pass the blocks as separate files",
        )
    product_set = set(products)

    if output is None:
        output = find_label([c for c in columns if c not in product_set], OUTPUT_NAMES)
    elif output not in columns:
        require_labels(columns, [output], path=path, what="output column", sheet=sheet_name)
    coefficient_columns = {
        c: match.group(1)
        for c in columns
        if c not in product_set and c != output and (match := _COEFFICIENT.match(c))
    }
    if final_demand is None:
        final_demand = [
            c
            for c in columns
            if c not in product_set
            and c != output
            and c not in coefficient_columns
            and not _TOTAL.match(c)
        ]
    else:
        require_labels(
            columns, list(final_demand), path=path, what="final-demand columns", sheet=sheet_name
        )
    if not final_demand and output is None:
        raise MissingBlockError(
            "the table has neither final-demand columns nor an output column",
            where=cell(path, sheet=sheet_name),
            expected="final-demand columns after the product columns (or a gross-output column)",
            fix="add the final-demand columns, or name them with final_demand=[...]",
        )
    output_row = find_label([r for r in rows if r not in product_set], OUTPUT_NAMES)
    if accounts is None:
        accounts = [
            r for r in rows if r not in product_set and r != output_row and not _TOTAL.match(r)
        ]
    else:
        require_labels(rows, list(accounts), path=path, what="account rows", sheet=sheet_name)

    # Parse only the blocks read: product rows × (products, final demand, output), account
    # rows × products and the output row; the account × final-demand corner is ignored.
    value_columns = products + list(final_demand) + ([output] if output else [])
    numbers = numeric_frame(frame.loc[products, value_columns], path=path, sheet=sheet_name)
    extra_rows = list(accounts) + ([output_row] if output_row else [])
    lower = (
        numeric_frame(frame.loc[extra_rows, products], path=path, sheet=sheet_name)
        if extra_rows
        else None
    )
    Z = numbers.loc[products, products]
    check_nonnegative(Z, what="intermediate flow", where=cell(path, sheet=sheet_name))
    Y = numbers.loc[products, list(final_demand)]
    x = numbers.loc[products, output] if output else None
    if x is None and output_row is not None:
        x = lower.loc[output_row, products]
    account_rows = lower.loc[list(accounts), products] if accounts else None
    if coefficient_columns:
        account_rows = _coefficient_accounts(
            frame, products, coefficient_columns, x, account_rows, path, sheet_name
        )
    return Z, Y, x, account_rows


def _coefficient_accounts(
    frame: pd.DataFrame,
    products: list[str],
    columns: Mapping[str, str],
    x: pd.Series | None,
    account_rows: pd.DataFrame | None,
    path: Path,
    sheet: str | None,
) -> pd.DataFrame:
    """Accounts given as columns of coefficients per unit of output (``labour_coeff``), as totals."""
    if x is None:
        raise MissingBlockError(
            f"coefficient column {next(iter(columns))!r} needs gross output",
            where=cell(path, sheet=sheet),
            expected="a gross-output column (x, output, total output) beside the coefficients",
            fix="add the gross-output column, or give the account as a row of totals",
        )
    coefficients = numeric_frame(frame.loc[products, list(columns)], path=path, sheet=sheet)
    totals = coefficients.mul(x.to_numpy(), axis=0).T.set_axis(list(columns.values()), axis=0)
    if account_rows is None:
        return totals
    clash = sorted(set(totals.index) & set(account_rows.index))
    if clash:
        raise LabelError(
            f"account {clash[0]!r} is given both as a row and as a coefficient column",
            where=cell(path, sheet=sheet),
            expected="each account once",
        )
    return pd.concat([account_rows, totals])


# ---- one file per block -------------------------------------------------------------------


def _block_paths(source: Mapping[str, str | Path] | Sequence[str | Path]) -> dict[str, Path]:
    if isinstance(source, Mapping):
        mapping = {str(k): Path(v) for k, v in source.items()}
    else:
        mapping = {}
        for item in source:
            item = Path(item)
            stem = next((b for b in BLOCKS if item.stem.lower() == b.lower()), None)
            if stem is None:
                raise LabelError(
                    f"cannot tell which block file {item.name!r} holds",
                    where=item.name,
                    expected=f"files named {', '.join(b + '.csv' for b in BLOCKS)} (or a mapping block → file)",
                    fix="rename the file, or pass {'Z': ..., 'Y': ..., 'x': ..., 'accounts': ...}",
                )
            mapping[stem] = item
    unknown = sorted(set(mapping) - set(BLOCKS))
    if unknown:
        raise LabelError(
            f"unknown block name(s) {unknown}",
            where="read_flow_table(source=…)",
            expected=f"blocks among {list(BLOCKS)}",
        )
    for block in ("Z", "Y"):
        if block not in mapping:
            raise MissingBlockError(
                f"block {block!r} is missing",
                where="read_flow_table(source=…)",
                expected="at least the blocks 'Z' (intermediate flows) and 'Y' (final demand)",
                fix=f"pass the file holding {block!r}",
            )
    return mapping


def _block_files(
    mapping: Mapping[str, Path], sheet: str | int | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series | None, pd.DataFrame | None]:
    sheet_name = sheet if isinstance(sheet, str) else None

    def load(block: str) -> pd.DataFrame:
        path = mapping[block]
        frame = read_frame(path, sheet=sheet, index_col=0, what=f"{block} block file")
        rows = unique_labels(frame.index, path=path, what=f"{block} row")
        columns = unique_labels(frame.columns, path=path, what=f"{block} column")
        return numeric_frame(
            frame.set_axis(rows, axis=0).set_axis(columns, axis=1), path=path, sheet=sheet_name
        )

    Z = load("Z")
    match_labels(list(Z.index), list(Z.columns), path=mapping["Z"])
    check_nonnegative(Z, what="intermediate flow", where=cell(mapping["Z"], sheet=sheet_name))
    products = Z.index
    Y = _aligned_rows(load("Y"), products, mapping["Y"], "final demand")
    x = None
    if "x" in mapping:
        frame = _aligned_rows(load("x"), products, mapping["x"], "gross output")
        if frame.shape[1] != 1:
            raise FileFormatError(
                f"gross-output file has {frame.shape[1]} value columns",
                where=mapping["x"].name,
                expected="one column of gross output per product",
            )
        x = frame.iloc[:, 0]
    account_rows = None
    if "accounts" in mapping:
        account_rows = align_labels(
            load("accounts"),
            products,
            axis=1,
            what="account columns",
            where=mapping["accounts"].name,
            against="the products of Z",
            expected="one account per row and one column per product of Z",
        )
    return Z, Y, x, account_rows


def _aligned_rows(frame: pd.DataFrame, products: pd.Index, path: Path, what: str) -> pd.DataFrame:
    return align_labels(
        frame,
        products,
        what=f"{what} rows",
        where=path.name,
        against="the products of Z",
        expected=f"one {what} row per product of Z",
    )


# ---- labels -------------------------------------------------------------------------------


def _labels(
    labels: Sequence[str], region: str, separator: str | None, path: Path, what: str
) -> pd.MultiIndex:
    if separator is None:
        return pd.MultiIndex.from_arrays(
            [[region] * len(labels), list(labels)], names=["region", "sector"]
        )
    pairs = [str(label).split(separator, 1) for label in labels]
    bad = [
        label for label, pair in zip(labels, pairs, strict=True) if len(pair) != 2 or not all(pair)
    ]
    if bad:
        raise LabelError(
            f"{what} label {bad[0]!r} has no region before {separator!r} ({len(bad)} such)",
            where=path.name,
            expected=f"labels 'REGION{separator}SECTOR'",
            fix="prefix every label with its region, or leave region_separator unset",
        )
    return pd.MultiIndex.from_tuples([tuple(p) for p in pairs], names=["region", "sector"])


def _fd_columns(columns: Sequence[str], separator: str | None) -> pd.Index:
    if separator is None or not len(columns):
        return pd.Index(list(columns), name="category")
    pairs = [str(c).split(separator, 1) for c in columns]
    if all(len(p) == 2 and all(p) for p in pairs):
        return pd.MultiIndex.from_tuples([tuple(p) for p in pairs], names=["region", "category"])
    return pd.Index(list(columns), name="category")


def _account_names(rows: pd.DataFrame | None) -> tuple[pd.DataFrame | None, dict[str, str]]:
    if rows is None:
        return None, {}
    names, units = [], {}
    for label in rows.index:
        name, unit = split_unit(str(label))
        names.append(name)
        if unit:
            units[name] = unit
    if len(set(names)) != len(names):
        raise LabelError(
            "account names repeat once units in brackets are removed",
            where="accounts",
            expected="distinct account names",
        )
    return rows.set_axis(names, axis=0).astype(np.float64), units
