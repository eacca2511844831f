"""Make and use tables turned into a product-by-product symmetric table, and the BEA readers.

Statistical offices publish *supply* (make) and *use* tables: industries make several
commodities, and the use table records what each industry buys. A symmetric table needs
one technology per product; this module builds it under the **industry-technology
assumption** (each industry uses the same input mix for everything it makes; Miller &
Blair 2009, *Input-Output Analysis*, 2nd ed., §5.3 and §5.4; Eurostat 2008, *Manual of
Supply, Use and Input-Output Tables*, ch. 11, "model D"):

* ``B = U·diag(g)⁻¹`` — commodity-by-industry input coefficients (``U`` commodities ×
  industries, ``g`` industry output);
* ``D = V·diag(q)⁻¹`` — market shares (``V`` industries × commodities, ``q`` commodity
  output);
* ``A = B·D`` — product-by-product coefficients; the flows are ``Z = A·diag(q) = U·diag(g)⁻¹·V``
  and a primary input ``w`` per industry becomes ``w·diag(g)⁻¹·V`` per product.

With these, ``Z·1 + Y·1 = q`` (row identity) and ``1ᵀZ + Σ accounts = qᵀ`` (column identity)
hold whenever the use table balances with the make table.

**Domestic table and imports.** By default (``domestic=True``) imported inputs are taken
out of the flows and kept as the account ``imports`` (intermediate imports per product),
so the Leontief inverse counts domestic production only. The import use matrix comes from
the BEA imports table when given (``read_bea_summary``), else from the *import
proportionality assumption* (every user of commodity ``i`` imports the same share
``mᵢ / (total useᵢ − exportsᵢ)``; exports are not imported), as BEA itself does to build
its import matrices. With ``domestic=False`` the flows are total (domestic + imported) and
final demand carries a negative ``imports`` column.

**Special rows.** *Scrap, used and secondhand goods* (BEA ``Used``) and *noncomparable
imports and rest-of-the-world adjustment* (``Other``) are kept as products: scrap is made,
as the make table records, by the industries that sell it, and gets their technology;
noncomparable imports are almost all imported, so in the domestic table they show up in
the ``imports`` account. Negative product-by-product flows (from negative cells of the
source use table, e.g. sales of used goods booked as negative purchases) are set to zero
(``negative="clip"``, the default; their count and sum are in
``metadata.extra["clipped_negative_flows"]``) or raise (``negative="raise"``).

**Valuation.** The BEA summary tables of ``useeior`` are at producers' prices and balance
row by row. The BEA 2021 supply-use tables shipped by ``quantecon-book-networks`` value use
at purchasers' prices and supply at basic prices; the difference (trade and transport
margins and taxes less subsidies on products, which sum to the net product taxes) becomes
the final-demand column ``margins_and_net_product_taxes`` so that rows balance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.checks import cell, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import FileFormatError, InvalidValueError, LabelError, MissingBlockError
from commonplan.io._common import (
    existing_file,
    numeric_frame,
    read_frame,
    require_labels,
    unique_labels,
)

__all__ = [
    "SymmetricTable",
    "industry_technology",
    "read_bea_summary",
    "read_bea_supply_use",
    "FINAL_DEMAND_NAMES",
]

BEA_CITATION = (
    "U.S. Bureau of Economic Analysis, Input-Output Accounts ({what}, {year}), "
    "https://www.bea.gov/industry/input-output-accounts-data"
)

#: Names of the BEA final-use codes (2017 schema).
FINAL_DEMAND_NAMES = {
    "F010": "Personal consumption expenditures",
    "F02S": "Nonresidential private fixed investment in structures",
    "F02E": "Nonresidential private fixed investment in equipment",
    "F02N": "Nonresidential private fixed investment in intellectual property products",
    "F02R": "Residential private fixed investment",
    "F030": "Change in private inventories",
    "F040": "Exports of goods and services",
    "F050": "Imports of goods and services",
    "F06C": "Federal national defense: consumption expenditures",
    "F06S": "Federal national defense: gross investment in structures",
    "F06E": "Federal national defense: gross investment in equipment",
    "F06N": "Federal national defense: gross investment in intellectual property products",
    "F07C": "Federal nondefense: consumption expenditures",
    "F07S": "Federal nondefense: gross investment in structures",
    "F07E": "Federal nondefense: gross investment in equipment",
    "F07N": "Federal nondefense: gross investment in intellectual property products",
    "F10C": "State and local: consumption expenditures",
    "F10S": "State and local: gross investment in structures",
    "F10E": "State and local: gross investment in equipment",
    "F10N": "State and local: gross investment in intellectual property products",
}

#: Roles of the accounts the BEA readers create (see :mod:`commonplan.economy.roles`).
ACCOUNT_ROLES = {
    "compensation_of_employees": roles.COMPENSATION,
    "value_added": roles.VALUE_ADDED,
    "imports": roles.IMPORTS,
}
#: Roles of the BEA final-use codes: F010 is personal consumption expenditures.
FINAL_DEMAND_ROLES = {"F010": roles.HOUSEHOLD_CONSUMPTION}

#: BEA sector codes of the 15-sector tables (which label rows and columns by name only).
SECTOR_CODES_15 = {
    "Agriculture, forestry, fishing, and hunting": "11",
    "Mining": "21",
    "Utilities": "22",
    "Construction": "23",
    "Manufacturing": "31G",
    "Wholesale trade": "42",
    "Retail trade": "44RT",
    "Transportation and warehousing": "48TW",
    "Information": "51",
    "Finance, insurance, real estate, rental, and leasing": "FIRE",
    "Professional and business services": "PROF",
    "Educational services, health care, and social assistance": "6",
    "Arts, entertainment, recreation, accommodation, and food services": "7",
    "Other services, except government": "81",
    "Government": "G",
}
SPECIAL_COMMODITIES = {
    "Scrap, used and secondhand goods": "Used",
    "Noncomparable imports and rest-of-the-world adjustment": "Other",
}
_VALUE_ADDED_SUT = {
    "Compensation of employees": ("compensation_of_employees", 1.0),
    "Other taxes on production": ("other_taxes_less_subsidies_on_production", 1.0),
    "Less: Other subsidies on production": ("other_taxes_less_subsidies_on_production", -1.0),
    "Gross operating surplus": ("gross_operating_surplus", 1.0),
}
_VALUE_ADDED_CODES = {
    "V001": "compensation_of_employees",
    "V002": "taxes_on_production_and_imports_less_subsidies",
    "V003": "gross_operating_surplus",
}


# ---- the kernel ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SymmetricTable:
    """A product-by-product table built from make and use (all flows in the table's money unit).

    ``Z`` products × products, ``Y`` products × final-demand categories, ``x`` product
    output, ``accounts`` accounts × products (totals, not coefficients).
    """

    Z: np.ndarray
    Y: np.ndarray
    x: np.ndarray
    accounts: np.ndarray
    clipped: dict = field(default_factory=dict)


def industry_technology(
    use: np.ndarray,
    make: np.ndarray,
    final_demand: np.ndarray,
    primary: np.ndarray,
    *,
    negative: str = "clip",
    products: pd.Index | None = None,
    where: str = "use table",
) -> SymmetricTable:
    """Product-by-product flows under the industry-technology assumption.

    Parameters
    ----------
    use:
        ``U``, commodities × industries, intermediate use (money units).
    make:
        ``V``, industries × commodities, output of each commodity by each industry.
    final_demand:
        commodities × categories (money units), already containing any balancing column.
    primary:
        primary inputs × industries (value added, imports…), money units.
    negative:
        ``"clip"`` sets negative product flows to zero (recorded in ``clipped``);
        ``"raise"`` raises :class:`InvalidValueError` naming the cell.

    Returns ``Z = U·diag(g)⁻¹·V`` (so ``A = B·D``), ``x = q = 1ᵀV``, the accounts
    ``primary·diag(g)⁻¹·V`` and final demand unchanged. Industries with zero output must
    have no inputs (they then contribute nothing).
    """
    U = np.asarray(use, dtype=np.float64)
    V = np.asarray(make, dtype=np.float64)
    g = V.sum(axis=1)
    q = V.sum(axis=0)
    g_inverse = np.divide(1.0, g, out=np.zeros_like(g), where=g != 0)
    transfer = (
        g_inverse[:, None] * V
    )  # diag(g)⁻¹·V: share of each industry's output in each product
    Z = U @ transfer
    accounts = np.asarray(primary, dtype=np.float64) @ transfer
    clipped: dict = {}
    bad = Z < 0
    if bad.any():
        i, j = np.argwhere(bad)[np.argmin(Z[bad])]
        labels = products if products is not None else pd.RangeIndex(Z.shape[0])
        if negative == "raise":
            raise InvalidValueError(
                f"product-by-product flow from {labels[i]!r} to {labels[j]!r} is negative ({Z[i, j]:.6g}); "
                f"{int(bad.sum())} such cell(s)",
                where=where,
                expected="non-negative intermediate use",
                fix="correct the negative cells of the use table, or read with negative='clip'",
            )
        clipped = {
            "cells": int(bad.sum()),
            "total": float(Z[bad].sum()),
            "largest": {"from": str(labels[i]), "to": str(labels[j]), "value": float(Z[i, j])},
        }
        Z = np.where(bad, 0.0, Z)
    return SymmetricTable(
        Z=Z, Y=np.asarray(final_demand, dtype=np.float64), x=q, accounts=accounts, clipped=clipped
    )


def balancing_column(table: SymmetricTable) -> np.ndarray:
    """``x − Z·1 − Y·1``: what the final-demand columns leave unexplained, per product."""
    return table.x - table.Z.sum(axis=1) - table.Y.sum(axis=1)


def symmetric_economy(
    table: SymmetricTable,
    products: list[str],
    fd_columns: list[str],
    account_names: list[str],
    *,
    region: str,
    metadata: Metadata,
    units: str,
    balancing_name: str | None,
    files: list[Path],
    account_roles: Mapping[str, str] = ACCOUNT_ROLES,
    final_demand_roles: Mapping[str, str] = FINAL_DEMAND_ROLES,
) -> Economy:
    """The symmetric economy of ``table``, its accounts and categories given the roles
    the layout says they play (``account_roles``, ``final_demand_roles``: name → role)."""
    Y, columns = table.Y, list(fd_columns)
    residual = balancing_column(table)
    if balancing_name is not None and np.abs(residual).max(initial=0.0) > 0:
        Y = np.column_stack([Y, residual])
        columns.append(balancing_name)
    labels = pd.MultiIndex.from_arrays(
        [[region] * len(products), products], names=["region", "sector"]
    )
    with in_file(files):
        return Economy.from_flows(
            table.Z,
            pd.DataFrame(Y, index=labels, columns=pd.Index(columns, name="category")),
            table.x,
            {name: table.accounts[k] for k, name in enumerate(account_names)},
            account_units={name: units for name in account_names},
            products=labels,
            metadata=replace(
                metadata,
                account_roles=roles.known_roles(account_names, account_roles),
                final_demand_roles=roles.known_roles(columns, final_demand_roles),
            ),
            balance_tolerance=1e-6,
        )


# ---- BEA summary make / use / imports (useeior layout) ---------------------------------------


def _find(folder: Path, pattern: str) -> Path:
    matches = sorted(
        p
        for p in folder.iterdir()
        if re.search(pattern, p.name, re.IGNORECASE) and p.suffix.lower() == ".csv"
    )
    if not matches:
        from commonplan.errors import MissingBlockError

        raise MissingBlockError(
            f"no file matching {pattern!r}",
            where=str(folder),
            expected="BEA Use, Make (and Import) CSV files",
            fix="pass the file paths explicitly",
        )
    return matches[0]


def _numeric(path: Path, *, suppressed: bool = False) -> pd.DataFrame:
    frame = read_frame(path, index_col=0, what="BEA table")
    frame = frame.set_axis(unique_labels(frame.index, path=path, what="row"), axis=0)
    frame = frame.set_axis(unique_labels(frame.columns, path=path, what="column"), axis=1)
    return numeric_frame(frame, path=path, suppressed_as_zero=suppressed)


def read_bea_summary(
    use: str | Path,
    make: str | Path | None = None,
    imports: str | Path | None = None,
    *,
    domestic: bool = True,
    negative: str = "clip",
    year: int | None = None,
    region: str = "USA",
) -> Economy:
    """Read BEA summary *make*, *use* and *imports* tables (codes on rows and columns).

    ``use`` may be the folder holding the three CSVs (``*Use*``, ``*Make*``, ``*Import*``,
    and optionally ``*CommodityCodeName*`` for names), as ``useeior`` ships them, or the
    use table alone, with the others beside it.

    Layout: the use table is commodities (plus ``V001``–``V003`` value-added rows and
    total rows) × industries (plus final-use codes ``F010``… and totals), producers'
    prices, million USD; the make table is industries × commodities; the imports table is
    commodities × (industries and final uses) of imported goods only.

    Accounts (USD million totals): ``compensation_of_employees``,
    ``taxes_on_production_and_imports_less_subsidies``, ``gross_operating_surplus``,
    ``value_added`` (their sum) and, with ``domestic=True``, ``imports`` (imported
    intermediate inputs, converted from industries to products with the market shares D).
    """
    use = Path(use)
    names_path = None
    if use.is_dir() or (make is None and use.is_file()):
        # a folder, or the use table alone: its make (and imports) tables lie beside it
        folder = use if use.is_dir() else use.parent
        use = _find(folder, r"use") if use.is_dir() else use
        make = make or _find(folder, r"make")
        if imports is None and domestic:
            imports = _find(folder, r"import")
        named = [
            p for p in folder.iterdir() if re.search("commoditycodename", p.name, re.IGNORECASE)
        ]
        names_path = next((p for p in sorted(named) if p.suffix.lower() == ".csv"), None)
    if make is None:
        from commonplan.errors import MissingBlockError

        raise MissingBlockError(
            "the make table is missing",
            where=use.name,
            expected="a make table beside the use table",
        )
    make = Path(make)
    U_full = _numeric(existing_file(use, what="BEA use table"))
    V_full = _numeric(existing_file(make, what="BEA make table"))

    industries = [c for c in V_full.index if not c.lower().startswith("total")]
    commodities = [c for c in V_full.columns if not c.lower().startswith("total")]
    require_labels(list(U_full.index), commodities, path=use, what="commodity rows")
    require_labels(list(U_full.columns), industries, path=use, what="industry columns")
    value_added_rows = [c for c in _VALUE_ADDED_CODES if c in U_full.index]
    if not value_added_rows:
        require_labels(
            list(U_full.index), list(_VALUE_ADDED_CODES), path=use, what="value-added rows"
        )
    fd_codes = [c for c in U_full.columns if re.fullmatch(r"F\d{2}[A-Z0-9]?", c)]
    if not fd_codes:
        raise FileFormatError(
            "no final-use columns (F010, F02E, …) in the use table",
            where=use.name,
            expected="BEA final-use codes as column labels",
        )
    U = U_full.loc[commodities, industries].to_numpy()
    V = V_full.loc[industries, commodities].to_numpy()
    Y = U_full.loc[commodities, fd_codes]
    W = U_full.loc[value_added_rows, industries].to_numpy()
    primary = np.vstack([W, W.sum(axis=0)])
    account_names = [_VALUE_ADDED_CODES[c] for c in value_added_rows] + ["value_added"]

    files = [use, make]
    if domestic:
        if imports is None:
            from commonplan.errors import MissingBlockError

            raise MissingBlockError(
                "the imports table is needed for a domestic table",
                where=use.name,
                expected="the BEA import matrix (commodities × industries and final uses)",
                fix="pass imports=…, or read with domestic=False",
            )
        imports = existing_file(imports, what="BEA imports table")
        files.append(imports)
        M_full = _numeric(imports)
        require_labels(list(M_full.index), commodities, path=imports, what="commodity rows")
        require_labels(
            list(M_full.columns),
            industries + [c for c in fd_codes if c != "F050"],
            path=imports,
            what="columns",
        )
        M = M_full.loc[commodities, industries].to_numpy()
        M_fd = M_full.loc[commodities, [c for c in fd_codes if c != "F050"]]
        U = U - M
        Y = Y.drop(columns="F050") - M_fd
        primary = np.vstack([primary, M.sum(axis=0)])
        account_names.append("imports")
        _check_import_split(U_full, M_full, commodities, imports)

    table = industry_technology(
        U,
        V,
        Y.to_numpy(),
        primary,
        negative=negative,
        products=pd.Index(commodities),
        where=use.name,
    )
    year = year or _year_from_name(use.name)
    names = {}
    if names_path is not None:
        frame = read_frame(names_path, what="BEA code list")
        names = dict(zip(frame.iloc[:, 0].astype(str), frame.iloc[:, 1].astype(str), strict=True))
    metadata = Metadata(
        name=f"USA BEA summary {year}" + (" (domestic)" if domestic else " (total flows)"),
        year=year,
        units="USD million, current producers' prices",
        source=", ".join(p.name for p in files),
        citation=BEA_CITATION.format(
            what="summary make, use and import tables, before redefinitions", year=year
        ),
        notes=_notes(domestic, table),
        extra={
            "sector_names": {c: names.get(c, c) for c in commodities},
            "final_demand_names": {c: FINAL_DEMAND_NAMES.get(c, c) for c in Y.columns},
            "technology": "industry",
            "domestic": domestic,
            "clipped_negative_flows": table.clipped,
            "industry_output_total": float(V.sum()),
        },
    )
    return symmetric_economy(
        table,
        commodities,
        list(Y.columns),
        account_names,
        region=region,
        metadata=metadata,
        units="USD million",
        balancing_name="imports_valuation_adjustment" if domestic else "statistical_discrepancy",
        files=files,
    )


def _check_import_split(
    U_full: pd.DataFrame, M_full: pd.DataFrame, commodities: list[str], path: Path
) -> None:
    """The imports table must balance (uses of each import = −its F050) and match the use
    table's total imports to within 10 % (the two value imports differently: the use table's
    F050 also carries margin adjustments for trade and transport, so rows differ)."""
    if "F050" not in M_full.columns or "F050" not in U_full.columns:
        return
    own = -M_full.loc[commodities, "F050"].to_numpy()
    uses = M_full.loc[
        commodities, [c for c in M_full.columns if c != "F050" and not re.fullmatch(r"T\d{3}", c)]
    ]
    uses = uses.sum(axis=1).to_numpy()
    gap = np.abs(own - uses)
    tolerance = np.maximum(1e-3 * np.abs(own), 50.0)  # the tables are rounded to USD million
    if (gap > tolerance).any():
        i = int(np.argmax(gap - tolerance))
        raise InvalidValueError(
            f"imports of {commodities[i]!r} are {own[i]:.6g} (F050) but their uses sum to {uses[i]:.6g}",
            where=cell(path, commodities[i], "F050"),
            expected="an imports table whose rows balance",
            fix="pass the BEA import matrix unchanged",
        )
    total_use = -U_full.loc[commodities, "F050"].sum()
    if abs(own.sum() - total_use) > 0.1 * abs(total_use):
        raise InvalidValueError(
            f"the imports table totals {own.sum():.6g} but the use table's imports total {total_use:.6g}",
            where=path.name,
            expected="the imports table of the same year and schema as the use table",
            fix="pass the imports table that belongs to this use table",
        )


def _year_from_name(name: str) -> int | None:
    match = re.search(r"(19|20)\d{2}", name)
    return int(match.group(0)) if match else None


def _notes(domestic: bool, table: SymmetricTable) -> str:
    text = "Product-by-product table under the industry-technology assumption (A = B·D). " + (
        "Domestic flows; imported intermediate inputs are the 'imports' account. "
        if domestic
        else "Total (domestic + imported) flows; imports are a negative final-demand column. "
    )
    if table.clipped:
        text += f"{table.clipped['cells']} negative product flows (sum {table.clipped['total']:.6g}) were set to zero. "
    return text


# ---- BEA supply-use tables (quantecon-book-networks layout) ----------------------------------


_SUPPLY_USE_NAME = re.compile(r"^(use|make)_(\d+)\.csv$", re.IGNORECASE)


def supply_use_pair(path: str | Path) -> tuple[Path, Path]:
    """The (use, make) files of a ``quantecon-book-networks`` BEA pair, from one of them or their folder.

    ``use_71.csv`` finds ``make_71.csv`` beside it (and the reverse); a folder holding
    several pairs (``use_15.csv``, ``use_71.csv``) gives the most detailed one. The
    Australian ``*_aus.csv`` tables are not BEA tables and are never chosen.
    """
    path = Path(path)
    if path.is_dir():
        sizes = sorted(
            int(m.group(2))
            for p in path.iterdir()
            if (m := _SUPPLY_USE_NAME.match(p.name)) and m.group(1).lower() == "use"
        )
        if not sizes:
            raise MissingBlockError(
                "no BEA use table use_<industries>.csv in the folder",
                where=str(path),
                expected="use_15.csv and make_15.csv, or use_71.csv and make_71.csv",
                fix="pass the use table's path, with its make table beside it",
            )
        use = path / f"use_{sizes[-1]}.csv"
    else:
        use = existing_file(path, what="BEA use or make table")
    match = _SUPPLY_USE_NAME.match(use.name)
    if match is None:
        raise MissingBlockError(
            "cannot tell which make table goes with this use table",
            where=str(use),
            expected="files named use_<industries>.csv and make_<industries>.csv side by side",
            fix="pass both files: read_bea_supply_use(use, supply)",
        )
    size = match.group(2)
    pair = (use.parent / f"use_{size}.csv", use.parent / f"make_{size}.csv")
    for member, what in zip(pair, ("use", "make (supply)"), strict=True):
        if not member.is_file():
            raise MissingBlockError(
                f"the {what} table {member.name} is missing",
                where=str(use.parent),
                expected=f"use_{size}.csv and make_{size}.csv in the same folder",
                fix="put both files of the pair in one folder",
            )
    return pair


def read_bea_supply_use(
    use: str | Path,
    supply: str | Path | None = None,
    *,
    domestic: bool = True,
    negative: str = "clip",
    year: int = 2021,
    region: str = "USA",
    name: str | None = None,
    extra: dict | None = None,
) -> Economy:
    """Read a BEA supply-use pair as shipped by ``quantecon-book-networks`` (15 or 71 industries).

    Layout: ``use`` is commodities (names; plus value-added and total rows) × industries
    (names or codes; plus final-use and total columns), purchasers' prices; ``supply``
    ("make_*.csv") is commodities × industries (names) plus ``Total Commodity Output``,
    ``Imports``, ``CIF/FOB Adjustments on Imports`` and total supply, basic prices;
    ``---`` marks suppressed cells, read as 0. Million USD. Without ``supply``, ``use``
    may be either file of the pair or their folder (:func:`supply_use_pair`).

    Products are labelled by BEA code (``111CA``…, ``Used``, ``Other``; 15-sector codes
    such as ``31G``); names are in ``metadata.extra["sector_names"]``. Accounts (USD
    million): ``compensation_of_employees``, ``other_taxes_less_subsidies_on_production``,
    ``gross_operating_surplus``, ``value_added`` (basic prices) and, with ``domestic=True``,
    ``imports`` (intermediate imports under import proportionality). Final demand keeps the
    table's categories, plus ``margins_and_net_product_taxes`` (and ``imports`` when
    ``domestic=False``). ``name`` and ``extra`` add to the metadata.
    """
    if supply is None:
        use, supply = supply_use_pair(use)
    use, supply = existing_file(use, what="use table"), existing_file(supply, what="supply table")
    U_full = _numeric(use, suppressed=True)
    S_full = _numeric(supply, suppressed=True)
    own_output = "Total Commodity Output" if "Total Commodity Output" in S_full.columns else None
    imports_col = "Imports" if "Imports" in S_full.columns else None
    cif = next((c for c in S_full.columns if c.lower().startswith("cif")), None)
    totals = [c for c in S_full.columns if c.lower().startswith("total") and c != own_output]
    total_supply = totals[-1] if totals else None
    if imports_col is None and total_supply is None:
        _column(S_full, supply, ["Imports", "Total Industry Output"])  # raises MissingBlockError
    commodity_names = [r for r in S_full.index if not r.lower().startswith("total")]
    industry_names = [
        c for c in S_full.columns if c not in {own_output, imports_col, cif, total_supply}
    ]
    n = len(industry_names)
    codes = _commodity_codes(commodity_names, U_full, n, use)
    require_labels(list(U_full.index), commodity_names, path=use, what="commodity rows")
    industry_columns = list(U_full.columns[:n])
    if industry_columns != industry_names and len(set(industry_columns) & set(industry_names)) == n:
        raise LabelError(
            "industry columns of the use table are in another order than in the supply table",
            where=use.name,
        )
    total_intermediate = industry_columns and list(U_full.columns[n : n + 1])
    rest = [
        c
        for c in U_full.columns[n:]
        if c not in total_intermediate
        and not c.lower().startswith("total")
        and not re.fullmatch(r"T0\d\d", c)
    ]
    exports = next((c for c in rest if c in ("F040",) or c.lower().startswith("exports")), None)
    if exports is None:
        raise FileFormatError(
            "no exports column in the use table",
            where=use.name,
            expected="'Exports of goods and services' or F040",
        )
    total_use = _column(U_full, use, ["Total use of products", "T019"])

    U = U_full.loc[commodity_names, industry_columns].to_numpy()
    V = S_full.loc[commodity_names, industry_names].to_numpy().T
    Yc = U_full.loc[commodity_names, rest]
    value_added, va_names = _value_added(U_full, industry_columns, use)
    cif_values = (
        S_full.loc[commodity_names, cif].to_numpy() if cif else np.zeros(len(commodity_names))
    )
    if imports_col is not None:
        imported = S_full.loc[commodity_names, imports_col].to_numpy() + cif_values
    else:  # imports = total supply − domestic output (the CIF/FOB adjustment belongs to imports)
        imported = S_full.loc[commodity_names, total_supply].to_numpy() - V.sum(axis=0)
    primary, account_names = value_added, va_names
    if domestic:
        base = U_full.loc[commodity_names, total_use].to_numpy() - Yc[exports].to_numpy()
        share = np.divide(imported, base, out=np.zeros_like(imported), where=base > 0)
        share = np.clip(share, 0.0, 1.0)
        M = share[:, None] * U
        U = U - M
        Y = Yc.copy()
        non_exports = [c for c in rest if c != exports]
        Y[non_exports] = Yc[non_exports].to_numpy() * (1.0 - share[:, None])
        primary = np.vstack([primary, M.sum(axis=0)])
        account_names = [*va_names, "imports"]
    else:
        Y = Yc.copy()
        Y["imports"] = -imported
    table = industry_technology(
        U, V, Y.to_numpy(), primary, negative=negative, products=pd.Index(codes), where=use.name
    )
    names = dict(zip(codes, commodity_names, strict=True))
    metadata = Metadata(
        name=name
        or f"USA BEA {year} ({n} industries)" + (" (domestic)" if domestic else " (total flows)"),
        year=year,
        units="USD million, current prices (use at purchasers' prices, output at basic prices)",
        source=f"{use.name}, {supply.name} (quantecon-book-networks)",
        citation=BEA_CITATION.format(what="supply and use tables", year=year)
        + "; as shipped by the quantecon-book-networks package (MIT), QuantEcon.",
        notes=_notes(domestic, table)
        + "Use is at purchasers' prices and supply at basic prices; the difference is the final-demand column "
        "'margins_and_net_product_taxes'. "
        + ("Imported inputs follow the import proportionality assumption. " if domestic else ""),
        extra={
            "sector_names": names,
            "technology": "industry",
            "domestic": domestic,
            "clipped_negative_flows": table.clipped,
            "imports_by_product": dict(zip(codes, imported.tolist(), strict=True)),
            "imports_derived": imports_col is None,
            "industry_output_total": float(V.sum()),
            **(extra or {}),
        },
    )
    return symmetric_economy(
        table,
        codes,
        list(Y.columns),
        account_names,
        region=region,
        metadata=metadata,
        units="USD million",
        balancing_name="margins_and_net_product_taxes",
        files=[use, supply],
    )


def _column(frame: pd.DataFrame, path: Path, candidates: list[str]) -> str:
    for candidate in candidates:
        if candidate in frame.columns:
            return candidate
    from commonplan.errors import MissingBlockError

    raise MissingBlockError(
        f"column {candidates[0]!r} not found",
        where=path.name,
        expected=f"one of the columns {candidates}",
        fix="check that this is a BEA supply or use table in the expected layout",
    )


def _commodity_codes(names: list[str], U_full: pd.DataFrame, n: int, path: Path) -> list[str]:
    """BEA codes for the commodity names: the use table's industry codes where it has them
    (same order as the industry names), the 15-sector codes otherwise."""
    columns = list(U_full.columns[:n])
    coded = not any(c in SECTOR_CODES_15 or " " in c for c in columns)
    codes = []
    for k, name in enumerate(names):
        if name in SPECIAL_COMMODITIES:
            codes.append(SPECIAL_COMMODITIES[name])
        elif coded and k < n:
            codes.append(columns[k])
        else:
            codes.append(SECTOR_CODES_15.get(name, name))
    return unique_labels(codes, path=path, what="commodity code")


def _value_added(
    U_full: pd.DataFrame, industries: list[str], path: Path
) -> tuple[np.ndarray, list[str]]:
    require_labels(list(U_full.index), list(_VALUE_ADDED_SUT), path=path, what="value-added rows")
    rows: dict[str, np.ndarray] = {}
    for label, (name, sign) in _VALUE_ADDED_SUT.items():
        rows[name] = rows.get(name, 0.0) + sign * U_full.loc[label, industries].to_numpy()
    names = list(rows)
    W = np.vstack([rows[k] for k in names])
    return np.vstack([W, W.sum(axis=0)]), [*names, "value_added"]
