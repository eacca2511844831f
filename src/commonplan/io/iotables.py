"""Symmetric tables in the layout of the R package ``iotables`` (rOpenGov): the textbook examples.

``iotables`` (Antal 2018–2025, https://github.com/rOpenGov/iotables, MIT) ships the worked
examples of the *Eurostat Manual of Supply, Use and Input-Output Tables* (2008; Beutel,
ch. 15: Germany, 6 product groups, Table 15.4) and of the *UN Handbook on Supply, Use
and Input-Output Tables with Extensions and Applications* (2018: Germany 2009, 6 groups,
with employment and emissions) in one CSV layout:

* five label columns: the row code (``cpa_a``, ``CPA_A``, ``P1``, ``D1`` …), its label,
  a row number, the ``quadrant`` (10: products; 20: imports, taxes, value added and
  output; 50: employment and emissions) and the ``iotables_row`` name;
* one column per product group (in the order of the product rows), possibly a ``TOTAL``
  column, final-demand columns, and an output column (``output_bp``, ``total_output_bp``).

Products are the quadrant-10 rows (their total row left out), labelled by row code; the
product columns are matched to them by ``iotables_row`` name where the names agree
(Beutel) and by position otherwise (UN handbook). Gross output is the ``P1`` row.
Accounts are the other rows of quadrants 20 and 50 (``P2PP``, intermediate consumption
at purchasers' prices, and ``P1`` are totals and are left out), named by their
``iotables_row`` name; the values in the final-demand columns of quadrant-50 rows (e.g.
households' own CO2 emissions) are the economy's final-demand stressors. The published
tables are rounded, so rows balance only to that rounding; the largest gap is in
``metadata.notes``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.checks import cell, check_nonnegative, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import FileFormatError, MissingBlockError
from commonplan.io._common import existing_file, numeric_frame, read_frame, unique_labels

__all__ = ["LABEL_COLUMNS", "read_iotables_csv"]

LABEL_COLUMNS = 5
"""Code, label, row number, quadrant, iotables row name."""
_TOTAL = re.compile(r"total", re.IGNORECASE)
_OUTPUT_COLUMN = re.compile(r"output", re.IGNORECASE)
_SKIPPED_ROWS = {"P1", "P2PP"}
"""Output and intermediate consumption at purchasers' prices: totals, not inputs."""
_ROLES = {
    "D1": roles.COMPENSATION,
    "B1G": roles.VALUE_ADDED,
    "P7": roles.IMPORTS,
    "EMP": roles.LABOUR,
}
"""Eurostat (ESA 2010) codes whose role is known; other rows play none."""
_KNOWN = {
    "beutel_15_4.csv": {
        "name": "Eurostat Manual (2008), Beutel Table 15.4: Germany, 6 product groups",
        "units": "EUR million",
        "citation": "Eurostat (2008), Eurostat Manual of Supply, Use and Input-Output Tables, "
        "ch. 15 (J. Beutel), Table 15.4; as shipped by rOpenGov/iotables",
    },
    "germany_2009.csv": {
        "name": "UN Handbook (2018): Germany 2009, 6 product groups",
        "units": "EUR billion",
        "year": 2009,
        "citation": "United Nations (2018), Handbook on Supply, Use and Input-Output Tables "
        "with Extensions and Applications; as shipped by rOpenGov/iotables",
    },
}
"""Metadata of the published tables ``iotables`` ships, by file name; others get none."""


def is_iotables_header(fields: list[str]) -> bool:
    """True for the header of an iotables CSV: ``quadrant`` and ``iotables_row`` label columns."""
    return fields[3:5] == ["quadrant", "iotables_row"]


def read_iotables_csv(path: str | Path, *, region: str = "DE", units: str | None = None) -> Economy:
    """Read an iotables-layout symmetric table (the Eurostat and UN textbook examples).

    Products are ``(region, row code)``; final demand keeps the table's columns; accounts
    (named by ``iotables_row``) are in the table's money unit, except the quadrant-50 rows
    (employment: thousand persons; emissions as published). ``units`` overrides the
    money unit known for the published files. Names of the row codes are in
    ``metadata.extra["sector_names"]``.
    """
    path = existing_file(path, what="iotables CSV")
    frame = read_frame(path, what="iotables table")
    columns = [str(c) for c in frame.columns]
    if not is_iotables_header(columns):
        raise FileFormatError(
            "not an iotables table: the 4th and 5th columns are not 'quadrant' and 'iotables_row'",
            where=path.name,
            expected="code, label, numeric_label, quadrant, iotables_row, then the product columns",
        )
    codes = unique_labels(frame.iloc[:, 0], path=path, what="row code")
    frame = frame.set_axis(codes, axis=0)
    quadrant = frame["quadrant"].astype(str).str.strip()
    row_names = frame["iotables_row"].astype(str).str.strip()
    product_rows = [
        c for c in codes if quadrant[c] == "10" and not _TOTAL.search(f"{c} {row_names[c]}")
    ]
    if not product_rows:
        raise MissingBlockError(
            "no product rows (quadrant 10)", where=path.name, expected="rows of quadrant 10"
        )
    value_columns = columns[LABEL_COLUMNS:]
    product_columns = _product_columns(value_columns, [row_names[c] for c in product_rows], path)
    output_columns = [c for c in value_columns if _OUTPUT_COLUMN.search(c)]
    final = [
        c
        for c in value_columns
        if c not in product_columns and c not in output_columns and not _TOTAL.search(c)
    ]
    if "P1" not in codes:
        raise MissingBlockError("no output row P1", where=path.name, expected="a row coded P1")
    account_rows = [
        c
        for c in codes
        if quadrant[c] in {"20", "50"} and c not in _SKIPPED_ROWS and not _TOTAL.search(c)
    ]
    numbers = numeric_frame(frame.loc[product_rows, product_columns + final], path=path)
    Z = numbers[product_columns]
    check_nonnegative(Z, what="intermediate flow", where=cell(path))
    Y = numbers[final]
    x = numeric_frame(frame.loc[["P1"], product_columns], path=path).iloc[0].to_numpy()
    lower = numeric_frame(frame.loc[account_rows, product_columns], path=path)
    names = _account_names(account_rows, row_names)
    stressor_rows = [c for c in account_rows if quadrant[c] == "50"]
    known = _KNOWN.get(path.name.lower(), {})
    money = units if units is not None else known.get("units", "")
    account_units = {
        names[c]: ("thousand persons" if c.startswith("EMP") else "")
        if quadrant[c] == "50"
        else money
        for c in account_rows
    }
    products = pd.MultiIndex.from_arrays(
        [[region] * len(product_rows), product_rows], names=["region", "sector"]
    )
    gap = np.abs(Z.to_numpy().sum(axis=1) + Y.to_numpy().sum(axis=1) - x).max()
    metadata = Metadata(
        name=known.get("name", path.stem),
        year=known.get("year"),
        units=money,
        source=f"iotables-layout table {path.name}",
        citation=known.get("citation", ""),
        notes=f"published rounded table: rows balance to {gap:.6g} (largest |Z·1 + Y·1 − x|)",
        extra={
            "sector_names": {c: str(frame.iloc[:, 1][c]) for c in product_rows},
            "source_files": [str(path)],
        },
        account_roles={names[c]: _ROLES.get(c, roles.NO_ROLE) for c in account_rows},
        final_demand_roles={c: _final_role(c) for c in final},
    )
    with in_file(path):
        economy = Economy.from_flows(
            Z.to_numpy(),
            Y.set_axis(products, axis=0).rename_axis(columns="category"),
            x,
            pd.DataFrame(
                lower.to_numpy(), index=[names[c] for c in account_rows], columns=products
            ),
            account_units=account_units,
            products=products,
            metadata=metadata,
        )
    if not stressor_rows or not final:
        return economy
    direct = numeric_frame(frame.loc[stressor_rows, final], path=path)
    values = np.zeros((len(account_rows), len(final)))
    for c in stressor_rows:
        values[account_rows.index(c)] = direct.loc[c].to_numpy()
    if not values.any():
        return economy
    return economy.replace(final_demand_stressor_values=values)


def _product_columns(value_columns: list[str], row_names: list[str], path: Path) -> list[str]:
    """The product columns: named like the product rows' ``iotables_row``, else the first ones."""
    if set(row_names) <= set(value_columns):
        return row_names
    first = value_columns[: len(row_names)]
    if len(first) < len(row_names) or any(
        _TOTAL.search(c) or _OUTPUT_COLUMN.search(c) for c in first
    ):
        raise MissingBlockError(
            f"fewer product columns than the {len(row_names)} product rows",
            where=path.name,
            expected="one column per product row after the five label columns",
        )
    return first


def _account_names(codes: list[str], row_names: pd.Series) -> dict[str, str]:
    """Account name per row code: the ``iotables_row`` name, the code where names repeat."""
    names = {c: row_names[c] or c for c in codes}
    counts = pd.Series(list(names.values())).value_counts()
    return {c: (name if counts[name] == 1 else f"{name} ({c})") for c, name in names.items()}


def _final_role(column: str) -> str:
    lowered = column.lower()
    return roles.HOUSEHOLD_CONSUMPTION if "household" in lowered else roles.NO_ROLE
