"""World Input-Output Database (WIOD): world tables (WIOT) and national tables with hours.

* :func:`read_wiod_arrays` — a WIOD 2013-release world table reduced to arrays (``.npz``
  with ``Z``, ``F``, ``x``, ``countries``, ``industries``, ``fd_labels``), e.g.
  ``mrio/wiod2013_wiot_2011.npz``: 41 regions × 35 industries, final demand by
  destination country × 5 categories.
* :func:`read_wiot` / :func:`write_wiot` — the published WIOT file layout (Excel or CSV)
  of the 2013 and 2016 releases: four header rows (industry code, description, country,
  WIOD column code ``c1``…), then one row per (country, industry), then the value-added
  and valuation rows; columns are the (country, industry) flows, the final-use columns
  per country, and total output. See :data:`WIOT_RELEASES`.
* :func:`read_wiod_niot` — a WIOD 2016-release national table (domestic flows, as in
  ``us_wiod_niot_2000_2014/usaiot.csv``) for one year, with the Socio-Economic Accounts
  (``usasea.csv``) as accounts: hours worked by employees, persons engaged, employees,
  compensation of employees and value added.

Units: USD million, current prices, basic prices; hours in million hours; persons in
thousands. Source: Timmer, Dietzenbacher, Los, Stehrer & de Vries (2015), "An
Illustrated User Guide to the World Input–Output Database: the Case of Global
Automotive Production", Review of International Economics 23: 575–605. WIOD 2016 is
licensed CC BY 4.0 (doi:10.34894/PJ2M1C).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commonplan.checks import cell, check_nonnegative, check_values, in_file
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    ShapeError,
)
from commonplan.io._common import existing_file, numeric_frame, read_frame

UNITS = "USD million, current prices, basic prices"
CITATION = (
    "Timmer, M. P., Dietzenbacher, E., Los, B., Stehrer, R. and de Vries, G. J. (2015), "
    "'An Illustrated User Guide to the World Input–Output Database: the Case of Global "
    "Automotive Production', Review of International Economics 23: 575–605"
)
FINAL_DEMAND_CATEGORIES = ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN")
#: Roles of the accounts and final-demand categories the WIOD readers create
#: (:mod:`commonplan.economy.roles`): SEA hours and persons are labour, SEA ``COMP`` is
#: compensation, and households' consumption is ``CONS_h``.
ACCOUNT_ROLES = {
    "hours_worked_employees": roles.LABOUR,
    "persons_engaged": roles.LABOUR,
    "employees": roles.LABOUR,
    "compensation": roles.COMPENSATION,
    "value_added": roles.VALUE_ADDED,
}
FINAL_DEMAND_ROLES = {"CONS_h": roles.HOUSEHOLD_CONSUMPTION}
"""Households, non-profits serving households, government, gross fixed capital
formation, changes in inventories and valuables."""


# ---- world table reduced to arrays -------------------------------------------------------

_NPZ_KEYS = ("Z", "F", "x", "countries", "industries", "fd_labels")


def read_wiod_arrays(path: str | Path, *, name: str | None = None) -> Economy:
    """Read a WIOD world table reduced to arrays (``.npz``) as a multi-regional Economy.

    Products are ``(country, industry code)`` (``("MEX", "30t33")``; the code is the
    first word of the WIOD industry name, the full names are in
    ``metadata.extra["industry_names"]``). Romania's early code ``ROM`` becomes ``ROU``. Final demand keeps WIOD's detail: columns are a
    ``(destination country, category)`` MultiIndex with the categories
    :data:`FINAL_DEMAND_CATEGORIES` (changes in inventories may be negative).

    The account ``"value_added"`` is ``x − 1ᵀZ`` (USD million): value added **plus** net
    product taxes, international transport margins and the purchases-abroad
    adjustments, which the reduced arrays do not separate. Flows are integers in USD
    million, so ``Z·1 + F·1`` matches ``x`` only to rounding (≤ 108 in 2011).
    """
    path = existing_file(path, what="WIOD array file (.npz)")
    arrays = _load_npz(path)
    countries = [
        str(c).replace("ROM", "ROU") for c in arrays["countries"]
    ]  # early WIOD code for Romania
    industry_names = [str(i) for i in arrays["industries"]]
    codes = [name.split(" ", 1)[0] for name in industry_names]
    products = pd.MultiIndex.from_product([countries, codes], names=["region", "sector"])
    n = len(products)
    fd_labels = [str(label) for label in arrays["fd_labels"]]
    bad = [label for label in fd_labels if "_" not in label]
    if bad:
        raise LabelError(
            f"final-demand label {bad[0]!r} is not COUNTRY_CATEGORY",
            where=cell(path, column="fd_labels"),
            expected="labels like 'MEX_CONS_h'",
        )
    fd_columns = pd.MultiIndex.from_tuples(
        [tuple(label.replace("ROM_", "ROU_", 1).split("_", 1)) for label in fd_labels],
        names=["region", "category"],
    )
    Z = np.asarray(arrays["Z"], dtype=np.float64)
    F = np.asarray(arrays["F"], dtype=np.float64)
    x = np.asarray(arrays["x"], dtype=np.float64).ravel()
    for block, values, shape in (("Z", Z, (n, n)), ("F", F, (n, len(fd_columns))), ("x", x, (n,))):
        if values.shape != shape:
            raise ShapeError(
                f"{block} has shape {values.shape}",
                where=cell(path, column=block),
                expected=f"{shape} for {len(countries)} countries × {len(codes)} industries",
            )
    labels = [f"{r}_{s}" for r, s in products]
    where = cell(path)
    check_nonnegative(Z, what="Z cell", where=where, labels=(labels, labels))
    check_values(F, what="F cell", where=where, labels=(labels, fd_labels))
    check_nonnegative(x, what="x cell", where=where, labels=(labels,))
    year = int(arrays["year"]) if "year" in arrays else _year(path.name)
    metadata = Metadata(
        account_roles={"value_added": roles.VALUE_ADDED},
        final_demand_roles=dict(FINAL_DEMAND_ROLES),
        name=name or f"WIOD 2013 world table {len(countries)}×{len(codes)}",
        year=year,
        units=UNITS,
        source=f"WIOD 2013 release, world input-output table, reduced to arrays ({path.name})",
        citation=CITATION,
        notes=str(arrays["readme"]) if "readme" in arrays else "",
        extra={
            "release": 2013,
            "file": path.name,
            "industry_names": dict(zip(codes, industry_names, strict=True)),
            "accounts": {
                "value_added": "x − colsum(Z): value added + net product taxes + international transport "
                "margins + purchases-abroad adjustments"
            },
        },
    )
    with in_file(path):
        return Economy.from_flows(
            Z,
            pd.DataFrame(F, index=products, columns=fd_columns),
            x,
            accounts={"value_added": x - Z.sum(axis=0)},
            account_units={"value_added": "USD million"},
            products=products,
            metadata=metadata,
        )


def _load_npz(path: Path) -> Mapping[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # noqa: BLE001 - zipfile/numpy raise many kinds on damaged archives
        raise FileFormatError(
            f"file is not a readable NumPy .npz archive ({type(error).__name__})",
            where=path.name,
            expected=f"a .npz archive with arrays {list(_NPZ_KEYS)}",
            fix="check the file is complete (not truncated) and really an .npz",
        ) from None
    missing = [key for key in _NPZ_KEYS if key not in arrays]
    if missing:
        raise MissingBlockError(
            f"arrays {missing} are missing",
            where=path.name,
            expected=f"arrays {list(_NPZ_KEYS)}",
            fix="write the file with numpy.savez including every array",
        )
    for key in ("Z", "F", "x"):
        if arrays[key].dtype.kind not in "fiu":
            raise InvalidValueError(
                f"array {key} holds {arrays[key].dtype} values, not numbers",
                where=cell(path, column=key),
                expected="a numeric array",
            )
    return arrays


def _year(text: str) -> int | None:
    years = re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)
    return int(years[-1]) if years else None


# ---- national tables with the Socio-Economic Accounts ----------------------------------

#: SEA variables read as accounts: name in Commonplan → (SEA column, unit, money?).
SEA_ACCOUNTS: Mapping[str, tuple[str, str, bool]] = {
    "hours_worked_employees": ("H_EMPE", "million hours", False),
    "persons_engaged": ("EMP", "thousand persons", False),
    "employees": ("EMPE", "thousand persons", False),
    "compensation": ("COMP", "USD million", True),
    "value_added": ("VA", "USD million", True),
}
_NIOT_FD = ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN", "EXP")


def read_wiod_niot(
    path: str | Path,
    sea_path: str | Path | None = None,
    *,
    year: int | None = None,
    name: str | None = None,
) -> Economy:
    """Read one year of a WIOD 2016 national input-output table with its SEA accounts.

    ``path`` is the long national table (columns ``Year``, ``Code``, ``Description``,
    ``Origin``, one column per industry code, ``CONS_h``, ``CONS_np``, ``CONS_g``, ``GFCF``,
    ``INVEN``, ``EXP`` and ``GO``), as extracted from ``XXX_NIOT_nov16.xlsx``; only rows
    of ``Origin == "Domestic"`` are used, so ``Z`` is the domestic intermediate block.
    ``sea_path`` is the Socio-Economic Accounts file (``country, description, code,
    year, …``); by default the ``*sea.csv`` beside ``path`` with the same prefix.
    ``year`` defaults to the latest year in the table.

    The economy has products ``(country, industry)``, final demand by category with
    exports ``EXP`` as one category, gross output ``GO`` (USD million), and the accounts
    of :data:`SEA_ACCOUNTS`: hours worked by employees (H_EMPE, million hours), persons
    engaged (EMP, thousand), employees (EMPE, thousand), compensation of employees (COMP)
    and value added (VA); money accounts are converted to USD million with the SEA's
    ``NOMEXCH`` (national currency per USD), which is 1 for the USA. Rows must balance:
    ``Z·1 + FD·1 = GO`` to 1e-6 relative.
    """
    path = existing_file(path, what="WIOD national input-output table")
    sea_path = existing_file(
        sea_path or _default_sea(path), what="WIOD Socio-Economic Accounts file"
    )
    iot = read_frame(path, what="WIOD national input-output table")
    required = ["Year", "Code", "Origin", *_NIOT_FD, "GO"]
    missing = [c for c in required if c not in iot.columns]
    if missing:
        raise FileFormatError(
            f"columns {missing} are missing",
            where=path.name,
            expected=f"the WIOD national table layout: {required[:3]}, industry codes, {list(_NIOT_FD)}, GO",
            fix="extract the 'National IO-tables' sheet with one row per (year, industry, origin)",
        )
    years = numeric_frame(iot[["Year"]], path=path, what="year").iloc[:, 0]
    if year is None:
        year = int(years.max())
    chosen = iot[(years.to_numpy() == year) & (iot["Origin"].str.strip() == "Domestic").to_numpy()]
    if chosen.empty:
        available = sorted({int(y) for y in years.unique()})
        raise MissingBlockError(
            f"no domestic rows for year {year}",
            where=path.name,
            expected=f"one of the years {available}",
            fix="pass a year the table covers",
        )
    codes = [str(c).strip() for c in chosen["Code"]]
    if len(set(codes)) != len(codes):
        duplicate = next(c for c in codes if codes.count(c) > 1)
        raise LabelError(
            f"industry {duplicate!r} appears twice for {year}",
            where=cell(path, duplicate, "Code"),
            expected="one domestic row per industry and year",
            fix="remove the duplicated row",
        )
    absent = [c for c in codes if c not in iot.columns]
    if absent:
        raise MissingBlockError(
            f"no intermediate-use column for industries {absent[:3]}",
            where=path.name,
            expected="one column per industry code listed in 'Code'",
        )
    block = chosen.set_index(pd.Index(codes, name="Code"))
    Z = numeric_frame(block[codes], path=path, what="intermediate flow")
    check_nonnegative(
        Z,
        what="intermediate flow",
        where=cell(path),
        labels=([f"{year} {code}" for code in codes], codes),
        expected="domestic intermediate flows ≥ 0",
    )
    FD = numeric_frame(block[list(_NIOT_FD)], path=path, what="final demand")
    GO = numeric_frame(block[["GO"]], path=path, what="gross output")["GO"]
    country = _country(sea_path, path)
    products = pd.MultiIndex.from_arrays(
        [[country] * len(codes), codes], names=["region", "sector"]
    )
    accounts, units, sea_extra = _sea_accounts(sea_path, year, codes, products)
    metadata = Metadata(
        account_roles=roles.known_roles(accounts, ACCOUNT_ROLES),
        final_demand_roles=dict(FINAL_DEMAND_ROLES),
        name=name or f"WIOD national table {country} {year}",
        year=year,
        units=UNITS,
        source=f"WIOD 2016 release, national input-output table ({path.name}, domestic) and "
        f"Socio-Economic Accounts ({sea_path.name})",
        citation=CITATION + "; WIOD 2016 release, doi:10.34894/PJ2M1C",
        notes="Domestic intermediate flows; EXP (exports) is a final-demand category; accounts "
        "from the SEA: " + ", ".join(f"{k} = {v[0]} ({v[1]})" for k, v in SEA_ACCOUNTS.items()),
        extra={
            "release": 2016,
            "licence": "CC BY 4.0",
            "files": [path.name, sea_path.name],
            "industry_names": dict(
                zip(codes, [str(d) for d in block.get("Description", codes)], strict=True)
            ),
            "sea_columns": {k: v[0] for k, v in SEA_ACCOUNTS.items()},
            **sea_extra,
        },
    )
    with in_file(path):
        return Economy.from_flows(
            Z.set_axis(products, axis=0).set_axis(products, axis=1),
            FD.set_axis(products, axis=0),
            GO.set_axis(products),
            accounts=accounts,
            account_units=units,
            metadata=metadata,
            balance_tolerance=1e-6,
        )


def _default_sea(path: Path) -> Path:
    prefix = path.stem[:3]
    candidates = sorted(path.parent.glob(f"{prefix}sea.csv")) or sorted(
        path.parent.glob("*sea*.csv")
    )
    if not candidates:
        raise MissingBlockError(
            "no Socio-Economic Accounts file found beside the table",
            where=str(path.parent),
            expected=f"a file {prefix}sea.csv next to {path.name}",
            fix="pass sea_path= explicitly",
        )
    return candidates[0]


def _country(sea_path: Path, path: Path) -> str:
    sea = read_frame(sea_path, what="WIOD Socio-Economic Accounts file")
    if "country" in sea.columns and len(sea):
        return str(sea["country"].iloc[0]).strip()
    return path.stem[:3].upper()


def _sea_accounts(
    sea_path: Path, year: int, codes: list[str], products: pd.MultiIndex
) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, Any]]:
    """The SEA rows of ``year`` aligned to ``codes``, as account totals per industry."""
    sea = read_frame(sea_path, what="WIOD Socio-Economic Accounts file")
    columns = ["code", "year", "NOMEXCH", *(v[0] for v in SEA_ACCOUNTS.values())]
    missing = [c for c in columns if c not in sea.columns]
    if missing:
        raise FileFormatError(
            f"columns {missing} are missing",
            where=sea_path.name,
            expected=f"the WIOD SEA layout with columns {columns}",
            fix="use the SEA file of the 2016 release (one row per industry and year)",
        )
    years = numeric_frame(sea[["year"]], path=sea_path, what="year").iloc[:, 0]
    rows = sea[years.to_numpy() == year].copy()
    rows.index = pd.Index([str(c).strip() for c in rows["code"]], name="code")
    if rows.index.has_duplicates:
        duplicate = rows.index[rows.index.duplicated()][0]
        raise LabelError(
            f"industry {duplicate!r} appears twice for {year}",
            where=cell(sea_path, duplicate, "code"),
            expected="one SEA row per industry and year",
        )
    absent = [c for c in codes if c not in rows.index]
    if absent:
        raise MissingBlockError(
            f"no SEA row for {year} and industries {absent[:5]}",
            where=sea_path.name,
            expected="one SEA row per industry of the input-output table",
            fix="use the SEA file of the same country and release",
        )
    rows = rows.loc[codes]
    values = numeric_frame(rows[columns[2:]], path=sea_path, what="SEA value")
    rate = values["NOMEXCH"].to_numpy()
    check_values(
        rate,
        what="exchange rate",
        where=lambda at: cell(sea_path, codes[at[0]], "NOMEXCH"),
        positive=True,
        expected="national currency per USD > 0",
    )
    accounts, units = {}, {}
    for account, (column, unit, money) in SEA_ACCOUNTS.items():
        total = values[column].to_numpy()
        if not money:
            check_nonnegative(
                total,
                what=column,
                where=lambda at, column=column: cell(sea_path, f"{year} {codes[at[0]]}", column),
                expected=f"{unit} ≥ 0",
            )
        accounts[account] = total / rate if money else total
        units[account] = unit
    return accounts, units, {"sea_exchange_rate": float(rate[0])}


# ---- the published WIOT layout (2013 and 2016 releases) ---------------------------------

#: Value-added and valuation rows below the flows: account name → (2016 code, words that
#: identify the row's description in either release, 2013 r-code, 2016 r-code).
WIOT_ROWS: Mapping[str, tuple[str, str, str, str]] = {
    "intermediate_total": ("II_fob", "total intermediate consumption", "r60", "r64"),
    "taxes_less_subsidies": ("TXSP", "taxes less subsidies on products", "r61", "r65"),
    "cif_fob_adjustments": ("EXP_adj", "cif/ fob adjustments on exports", "r62", "r66"),
    "purchases_abroad_by_residents": ("PURR", "direct purchases abroad by residents", "r63", "r67"),
    "purchases_by_non_residents": (
        "PURNR",
        "purchases on the domestic territory by non-residents",
        "r64",
        "r68",
    ),
    "value_added": ("VA", "value added at basic prices", "r65", "r69"),
    "international_transport_margins": ("IntTTM", "international transport margins", "r66", "r70"),
    "output": ("GO", "output at basic prices", "r69", "r71"),
}
_ACCOUNT_ROWS = [name for name in WIOT_ROWS if name not in ("intermediate_total", "output")]


@dataclass(frozen=True)
class WiotRelease:
    """Column codes of one WIOD release's world table."""

    release: int
    final_demand_codes: Mapping[str, str]
    """WIOD column code → category, e.g. ``{"c37": "CONS_h"}``."""
    total_code: str
    total_label: str


#: The two published releases: 2013 (35 industries, 1995–2011) and 2016 (56, 2000–2014).
WIOT_RELEASES: Mapping[int, WiotRelease] = {
    2013: WiotRelease(
        2013,
        {"c37": "CONS_h", "c38": "CONS_np", "c39": "CONS_g", "c41": "GFCF", "c42": "INVEN"},
        "c62",
        "TOT",
    ),
    2016: WiotRelease(
        2016,
        {"c57": "CONS_h", "c58": "CONS_np", "c59": "CONS_g", "c60": "GFCF", "c61": "INVEN"},
        "c62",
        "GO",
    ),
}
_FINAL_USE_CODES = frozenset(
    code for spec in WIOT_RELEASES.values() for code in spec.final_demand_codes
)
_CATEGORY_NAMES = {
    "CONS_h": "Final consumption expenditure by households",
    "CONS_np": "Final consumption expenditure by non-profit organisations serving households (NPISH)",
    "CONS_g": "Final consumption expenditure by government",
    "GFCF": "Gross fixed capital formation",
    "INVEN": "Changes in inventories and valuables",
}


@dataclass(frozen=True)
class WiotTable:
    """The blocks of a WIOD world table in USD million, labelled.

    ``Z`` (country, industry) × (country, industry); ``Y`` (country, industry) ×
    (country, category); ``rows`` the value-added and valuation rows (index: the names
    of :data:`WIOT_ROWS` other than totals) × (country, industry); ``output`` per
    (country, industry); ``industry_names`` code → description.
    """

    Z: pd.DataFrame
    Y: pd.DataFrame
    rows: pd.DataFrame
    output: pd.Series
    industry_names: Mapping[str, str]
    year: int | None = None
    release: int | None = None


def write_wiot(table: WiotTable, path: str | Path, *, release: int = 2013) -> Path:
    """Write a world table in the published WIOT layout (``.csv`` or ``.xlsx`` by suffix).

    Rows 1–4: title, blank, ``(industry-by-industry)``, ``(millions of US$)``, overlapping
    the header rows 3–6 of the data columns (industry code, description, country, WIOD
    column code ``c1``…); then one row per (country, industry) with the four label
    columns; then the valuation rows of :data:`WIOT_ROWS`. Columns: flows, final use per
    destination country (:data:`WIOT_RELEASES` codes), total output.
    """
    spec = WIOT_RELEASES[release]
    products = table.Z.index
    industries = list(dict.fromkeys(products.get_level_values(1)))
    c_code = {code: f"c{k + 1}" for k, code in enumerate(industries)}
    fd_code = {category: code for code, category in spec.final_demand_codes.items()}
    names = dict(table.industry_names)
    header = [
        [f"World Input-Output Table {table.year or ''}".strip(), "", "", ""],
        ["", "", "", ""],
        ["(industry-by-industry)", "", "", ""],
        ["(millions of US$)", "", "", ""],
        ["", "", "", ""],
        ["", "", "", ""],
    ]
    for region, code in products:
        header[2].append(code)
        header[3].append(names.get(code, code))
        header[4].append(region)
        header[5].append(c_code[code])
    for region, category in table.Y.columns:
        header[2].append(category if release == 2016 else "")
        header[3].append(_CATEGORY_NAMES.get(category, category))
        header[4].append(region)
        header[5].append(fd_code[category])
    for k, text in enumerate([spec.total_label, "Total output", "TOT", spec.total_code]):
        header[2 + k].append(text)
    n, k = len(products), table.Y.shape[1]
    body = np.zeros((n, n + k + 1))
    body[:, :n] = table.Z.to_numpy(dtype=np.float64)
    body[:, n : n + k] = table.Y.to_numpy(dtype=np.float64)
    body[:, -1] = table.output.reindex(products).to_numpy(dtype=np.float64)
    labels = [[code, names.get(code, code), region, c_code[code]] for region, code in products]
    bottom_labels, bottom = [], []
    for name, (code16, words, r13, r16) in WIOT_ROWS.items():
        if name == "intermediate_total":
            values = np.concatenate([body[:, :n].sum(axis=0), body[:, n:].sum(axis=0)])
        elif name == "output":
            values = np.concatenate([body[:, -1], np.zeros(k + 1)])
        else:
            row = (
                table.rows.loc[name].reindex(products).to_numpy()
                if name in table.rows.index
                else np.zeros(n)
            )
            values = np.concatenate([row, np.zeros(k + 1)])
        bottom_labels.append(
            [
                code16 if release == 2016 else "",
                words[0].upper() + words[1:],
                "TOT",
                r13 if release == 2013 else r16,
            ]
        )
        bottom.append(values[: n + k + 1])
    width = 4 + n + k + 1
    header = [row + [""] * (width - len(row)) for row in header]
    rows = header + [lab + list(vals) for lab, vals in zip(labels, body.tolist(), strict=True)]
    rows += [
        lab + list(vals)
        for lab, vals in zip(bottom_labels, np.asarray(bottom).tolist(), strict=True)
    ]
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet(f"WIOT{table.year or ''}"[:31])
        for row in rows:
            sheet.append([None if v == "" else v for v in row])
        workbook.save(path)
    else:
        pd.DataFrame(rows).to_csv(path, index=False, header=False)
    return path


def read_wiot_table(path: str | Path, *, sheet: str | int | None = None) -> WiotTable:
    """The labelled blocks of a WIOT file in the published layout (``.xlsx`` or ``.csv``).

    Recognises both releases: data columns are classified by their WIOD column code
    (``c1``…``cN`` industries, the final-use codes of :data:`WIOT_RELEASES`, and the total
    column); the rows below the flows by their 2016 code (``VA``, ``TXSP``…) or their
    description. Country ``ROM`` (early years) is renamed ``ROU``.
    """
    path = existing_file(path, what="WIOT file")
    frame = read_frame(path, sheet=sheet, header=None, what="WIOT file")
    raw = frame.to_numpy(dtype=object)
    if raw.shape[0] < 8 or raw.shape[1] < 6:
        raise FileFormatError(
            f"table of {raw.shape[0]} rows × {raw.shape[1]} columns is too small for a WIOT",
            where=path.name,
            expected="4 label columns and 6 header rows above the flows",
        )

    def text(value: Any) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    first_codes = [text(v) for v in raw[: min(12, raw.shape[0]), 4]]
    if "c1" not in first_codes or first_codes.index("c1") < 3:
        raise FileFormatError(
            f"no header row with the WIOD column code 'c1' in column E (found {first_codes[:8]})",
            where=cell(path, column="E"),
            expected="the WIOT layout: header rows (industry code, description, country, c-code) above "
            "the flows, labels in columns A–D, data from column E",
            fix="use the WIOT sheet as published by WIOD (World Input-Output Tables in current prices)",
        )
    h = first_codes.index("c1")
    codes_row = [text(v) for v in raw[h, 4:]]
    countries_row = [text(v).replace("ROM", "ROU") for v in raw[h - 1, 4:]]
    industry_row = [text(v) for v in raw[h - 3, 4:]]
    names_row = [text(v) for v in raw[h - 2, 4:]]
    last = len(codes_row) - 1
    industry_columns = [
        j
        for j, c in enumerate(codes_row)
        if j != last
        and re.fullmatch(r"c\d+", c)
        and countries_row[j] not in ("", "TOT")
        and industry_row[j]
        and c not in _FINAL_USE_CODES
    ]
    industry_codes = {c: industry_row[j] for j, c in ((j, codes_row[j]) for j in industry_columns)}
    fd_map = {
        code: cat
        for spec in WIOT_RELEASES.values()
        for code, cat in spec.final_demand_codes.items()
    }
    fd_columns = [j for j in range(len(codes_row)) if j not in set(industry_columns) and j != last]
    unknown = [
        j
        for j in fd_columns
        if codes_row[j] not in fd_map and industry_row[j] not in _CATEGORY_NAMES
    ]
    if unknown:
        j = unknown[0]
        raise LabelError(
            f"column code {codes_row[j]!r} ({names_row[j]!r}) is neither an industry nor a final-use column",
            where=cell(path, f"row {h + 1}", f"column {j + 5}"),
            expected=f"industry codes c1…, final-use codes {sorted(fd_map)}, and the total column last",
        )
    release = (
        2016
        if any(codes_row[j] in WIOT_RELEASES[2016].final_demand_codes for j in fd_columns)
        else 2013
    )
    categories = [fd_map.get(codes_row[j]) or industry_row[j] for j in fd_columns]
    if release == 2016:
        categories = [
            industry_row[j] if industry_row[j] in _CATEGORY_NAMES else fd_map[codes_row[j]]
            for j in fd_columns
        ]

    data = raw[h + 1 :]
    row_codes = [text(v) for v in data[:, 3]]
    row_countries = [text(v).replace("ROM", "ROU") for v in data[:, 2]]
    product_rows = [
        i
        for i, c in enumerate(row_codes)
        if c in industry_codes and row_countries[i] not in ("", "TOT")
    ]
    if not product_rows:
        raise MissingBlockError(
            "no (country, industry) rows", where=path.name, expected="rows with country and c-code"
        )
    other = [i for i in range(len(data)) if i not in set(product_rows)]
    products = pd.MultiIndex.from_arrays(
        [
            [row_countries[i] for i in product_rows],
            [industry_codes[row_codes[i]] for i in product_rows],
        ],
        names=["region", "sector"],
    )
    columns = pd.MultiIndex.from_arrays(
        [[countries_row[j] for j in industry_columns], [industry_row[j] for j in industry_columns]],
        names=["region", "sector"],
    )
    for what, index in (("row", products), ("column", columns)):
        if index.has_duplicates:
            raise LabelError(
                f"duplicate {what} labels {index[index.duplicated()].unique()[:3].tolist()}",
                where=path.name,
                expected=f"each (country, industry) {what} once",
            )
    if not products.equals(columns):
        raise LabelError(
            "the (country, industry) rows and columns differ",
            where=path.name,
            expected="the same products, in the same order, on rows and columns",
            fix="check that no row or column was deleted",
        )
    row_labels = [f"{row_countries[i]}_{row_codes[i]}" for i in range(len(data))]
    column_labels = [f"{countries_row[j]}_{codes_row[j]}" for j in range(len(codes_row))]
    numbers = numeric_frame(
        pd.DataFrame(data[:, 4:], index=row_labels, columns=column_labels), path=path, what="cell"
    ).to_numpy()
    Z = numbers[np.ix_(product_rows, industry_columns)]
    check_nonnegative(
        Z,
        what="intermediate flow",
        where=cell(path),
        labels=(
            [row_labels[i] for i in product_rows],
            [column_labels[j] for j in industry_columns],
        ),
    )
    bottom = {}
    for i in other:
        code, words = text(data[i, 0]), text(data[i, 1]).lower()
        name = next(
            (n for n, spec in WIOT_ROWS.items() if code == spec[0] or words == spec[1]), None
        )
        if name is not None:
            bottom[name] = numbers[i, industry_columns]
        elif code or words:
            raise FileFormatError(
                f"row {code or words!r} below the flows is not a WIOT valuation row",
                where=cell(path, f"row {i + h + 2}"),
                expected=f"rows {[spec[1] for spec in WIOT_ROWS.values()]}",
            )
    if "value_added" not in bottom:
        raise MissingBlockError(
            "the value-added row is missing",
            where=path.name,
            expected="a row 'Value added at basic prices' (2016 code VA) below the flows",
            fix="the file may be truncated: download it again",
        )
    output = numbers[product_rows, last]
    title = text(raw[0, 0])
    return WiotTable(
        Z=pd.DataFrame(Z, index=products, columns=products),
        Y=pd.DataFrame(
            numbers[np.ix_(product_rows, fd_columns)],
            index=products,
            columns=pd.MultiIndex.from_arrays(
                [[countries_row[j] for j in fd_columns], categories], names=["region", "category"]
            ),
        ),
        rows=pd.DataFrame(
            [bottom[n] for n in _ACCOUNT_ROWS if n in bottom],
            index=[n for n in _ACCOUNT_ROWS if n in bottom],
            columns=products,
        ),
        output=pd.Series(output, index=products, name="output"),
        industry_names={industry_row[j]: names_row[j] for j in industry_columns},
        year=_year(title),
        release=release,
    )


def read_wiot(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    year: int | None = None,
    name: str | None = None,
) -> Economy:
    """Read a WIOD world table in the published layout as a multi-regional Economy.

    Products ``(country, industry code)``; final demand by ``(destination country,
    category)``; gross output from the total column; accounts, all USD million: value
    added at basic prices, taxes less subsidies on products, cif/fob adjustments on
    exports, direct purchases abroad by residents, purchases on the domestic territory by
    non-residents, and international transport margins (those present in the file).
    """
    path = existing_file(path, what="WIOT file")
    table = read_wiot_table(path, sheet=sheet)
    year = year or table.year or _year(path.name)
    metadata = Metadata(
        account_roles=roles.known_roles(table.rows.index, ACCOUNT_ROLES),
        final_demand_roles=dict(FINAL_DEMAND_ROLES),
        name=name
        or f"WIOD {table.release} world table {len(table.Z.index.unique(0))}×{len(table.Z.index.unique(1))}",
        year=year,
        units=UNITS,
        source=f"WIOD {table.release} release, world input-output table ({path.name})",
        citation=CITATION,
        extra={
            "release": table.release,
            "file": path.name,
            "industry_names": dict(table.industry_names),
        },
    )
    accounts = {row: table.rows.loc[row] for row in table.rows.index}
    with in_file(path):
        return Economy.from_flows(
            table.Z,
            table.Y,
            table.output,
            accounts=accounts,
            account_units=dict.fromkeys(accounts, "USD million"),
            metadata=metadata,
        )
