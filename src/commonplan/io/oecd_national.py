"""OECD national input-output tables (2023 edition layout), e.g. ``BEL2020ttl.csv``.

Each OECD national IOT file holds one country and year, in USD million at current prices.
Rows are product rows prefixed by the origin of the flows (``TTL_`` total, ``DOM_``
domestic, ``IMP_`` imported; ``TTL_01``…``TTL_97T98``, 50 products in the 2023 edition)
followed by ``TXS_IMP_FNL`` (taxes less subsidies on imported products), ``TXS_INT_FNL``
(taxes less subsidies on products), ``TTL_INT_FNL`` (total intermediate consumption at
purchasers' prices), ``VALU`` (value added at basic prices) and ``OUTPUT``. Columns are the
industries (``D01``…``D97T98``) and final uses ``HFCE`` (households), ``NPISH``, ``GGFC``
(government), ``GFCF``, ``INVNT`` (inventories), ``DPABR`` (direct purchases abroad by
residents), ``CONS_NONRES`` (purchases by non-residents), ``EXPO`` (exports) and ``IMPO``
(imports, negative).

Where a column's inputs and value added do not add up to its output (the 2023-edition
files do not, by up to 5 % in some service industries), the gap is kept as the account
``unallocated_primary_inputs`` so that the column identity holds.

A ``ttl`` file gives total flows (domestic + imported): the economy keeps ``IMPO`` as a
final-demand column so that rows balance, and has no per-product import account. A file
with ``DOM_`` and ``IMP_`` rows gives domestic flows, and the column sums of the ``IMP_``
block become the ``imports`` account (imported intermediate inputs per product).
Source: OECD (2023), *Input-Output Tables (IOTs) 2023 edition*,
https://www.oecd.org/sti/ind/input-outputtables.htm — OECD terms of use apply.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from commonplan.checks import cell, check_nonnegative, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import FileFormatError, LabelError
from commonplan.io._common import (
    numeric_frame,
    read_frame,
    require_labels,
    unique_labels,
)

__all__ = ["read_oecd_national", "OECD_FINAL_DEMAND", "OECD_ACCOUNT_ROWS"]

UNITS = "USD million, current prices"
#: Final-use columns of the 2023 edition, with their meaning.
OECD_FINAL_DEMAND = {
    "HFCE": "Household final consumption expenditure",
    "NPISH": "Final consumption expenditure of non-profit institutions serving households",
    "GGFC": "General government final consumption",
    "GFCF": "Gross fixed capital formation",
    "INVNT": "Changes in inventories and valuables",
    "DPABR": "Direct purchases abroad by residents",
    "CONS_NONRES": "Direct purchases by non-residents (exports)",
    "EXPO": "Exports (cross-border)",
    "IMPO": "Imports (cross-border), negative",
}
#: Primary-input rows and the accounts they become.
OECD_ACCOUNT_ROWS = {
    "VALU": "value_added",
    "TXS_INT_FNL": "taxes_less_subsidies_on_products",
    "TXS_IMP_FNL": "taxes_less_subsidies_on_imported_products",
}
#: Roles of the accounts and final uses the reader creates (:mod:`commonplan.economy.roles`).
ACCOUNT_ROLES = {"value_added": roles.VALUE_ADDED, "imports": roles.IMPORTS}
FINAL_DEMAND_ROLES = {"HFCE": roles.HOUSEHOLD_CONSUMPTION}
_PRODUCT_ROW = re.compile(r"^(TTL|DOM|IMP)_(.+)$")


def read_oecd_national(
    path: str | Path, *, country: str | None = None, year: int | None = None
) -> Economy:
    """Read an OECD national IOT CSV (2023 edition) into an :class:`Economy`.

    Products are labelled ``(country, code)`` with the industry codes of the columns
    (``D01``…); ``country`` and ``year`` default to what the file name says
    (``BEL2020ttl.csv`` → ``BEL``, 2020). Accounts (USD million): ``value_added``,
    ``taxes_less_subsidies_on_products``, ``taxes_less_subsidies_on_imported_products``
    and, for a file with a ``DOM_``/``IMP_`` split, ``imports``.
    """
    path = Path(path)
    frame = read_frame(path, index_col=0, what="OECD national IOT")
    frame = frame.set_axis(unique_labels(frame.index, path=path, what="row"), axis=0)
    frame = frame.set_axis(unique_labels(frame.columns, path=path, what="column"), axis=1)
    match = re.match(r"^([A-Z]{3})(\d{4})", path.name.upper())
    country = country or (match.group(1) if match else "ALL")
    year = year or (int(match.group(2)) if match else None)

    industries = [c for c in frame.columns if re.fullmatch(r"D\d.*", c)]
    if not industries:
        raise FileFormatError(
            "no industry columns (D01, D02, …)",
            where=path.name,
            expected="OECD national IOT columns D01…D97T98 and final uses HFCE…IMPO",
            fix="pass an OECD national input-output table CSV (2023 edition)",
        )
    blocks: dict[str, list[str]] = {}
    for row in frame.index:
        found = _PRODUCT_ROW.match(row)
        if found and row != "TTL_INT_FNL":
            blocks.setdefault(found.group(1), []).append(row)
    origin = "DOM" if "DOM" in blocks else "TTL"
    if origin not in blocks:
        raise FileFormatError(
            "no product rows (TTL_01… or DOM_01…)",
            where=path.name,
            expected="product rows prefixed TTL_, DOM_ or IMP_",
        )
    rows = blocks[origin]
    codes = [_PRODUCT_ROW.match(r).group(2) for r in rows]
    if [f"D{c}" for c in codes] != industries:
        raise LabelError(
            f"product rows {rows[:3]}… do not match the industry columns {industries[:3]}…",
            where=path.name,
            expected="one product row per industry column, in the same order",
            fix="check that the table has not been edited or reordered",
        )
    final = [c for c in OECD_FINAL_DEMAND if c in frame.columns]
    if origin == "DOM":
        final = [c for c in final if c != "IMPO"]
    require_labels(list(frame.columns), ["HFCE", "GFCF"], path=path, what="final-demand columns")
    require_labels(list(frame.index), ["VALU", "OUTPUT"], path=path, what="rows")
    account_rows = [r for r in OECD_ACCOUNT_ROWS if r in frame.index]
    numbers = numeric_frame(
        frame.loc[rows + account_rows + ["OUTPUT"], industries + final], path=path
    )
    Z = numbers.loc[rows, industries]
    check_nonnegative(Z, what="intermediate flow", where=cell(path))
    accounts = {OECD_ACCOUNT_ROWS[r]: numbers.loc[r, industries].to_numpy() for r in account_rows}
    if origin == "DOM" and "IMP" in blocks:
        imported = numeric_frame(frame.loc[blocks["IMP"], industries], path=path)
        accounts["imports"] = imported.sum(axis=0).to_numpy()
    x = numbers.loc["OUTPUT", industries].to_numpy()
    # Output − intermediate inputs (with product taxes) − value added: zero up to rounding in a
    # consistent table; the 2023-edition files leave gaps in some service columns, kept here
    # as an explicit account rather than hidden.
    residual = x - Z.sum(axis=0).to_numpy() - sum(accounts.values())
    if abs(residual).max(initial=0.0) > _tolerance(len(rows) + len(account_rows)):
        accounts["unallocated_primary_inputs"] = residual
    labels = pd.MultiIndex.from_arrays(
        [[country] * len(codes), industries], names=["region", "sector"]
    )
    Y = pd.DataFrame(
        numbers.loc[rows, final].to_numpy(), index=labels, columns=pd.Index(final, name="category")
    )
    metadata = Metadata(
        name=f"OECD national IOT {country} {year or ''}".strip(),
        year=year,
        units=UNITS,
        source=f"OECD Input-Output Tables 2023 edition ({path.name})",
        citation="OECD (2023), Input-Output Tables (IOTs), 2023 edition, http://oe.cd/i-o",
        notes=(
            "Total flows (domestic + imported); imports are the negative final-demand column IMPO."
            if origin == "TTL"
            else "Domestic flows; imported intermediate inputs are the 'imports' account."
        ),
        extra={
            "final_demand_names": {c: OECD_FINAL_DEMAND[c] for c in final},
            "flows": origin,
            "country": country,
        },
        account_roles=roles.known_roles(accounts, ACCOUNT_ROLES),
        final_demand_roles=roles.known_roles(final, FINAL_DEMAND_ROLES),
    )
    with in_file(path):
        return Economy.from_flows(
            Z.to_numpy(),
            Y,
            x,
            accounts,
            account_units={name: "USD million" for name in accounts},
            products=labels,
            metadata=metadata,
            balance_tolerance=_tolerance(len(industries) + len(final)),
        )


def _tolerance(cells_per_row: int) -> float:
    """The published values are rounded to 0.1: allow that rounding over a whole row."""
    return 0.05 * cells_per_row
