"""OECD Inter-Country Input-Output (ICIO) tables: the published wide CSV and reduced arrays.

Two readers, one writer:

* :func:`read_icio_arrays` — an ICIO year already reduced to arrays in a NumPy ``.npz``
  (``Z``, ``x``, ``fu_plus``, ``va_plus``, ``labels``), such as the 2025-edition files for
  2022 in ``mrio/icio2025_y2022_*.npz``.
* :func:`read_icio_csv` — the wide CSV the OECD publishes, one file per year: rows are
  ``CCC_IND`` (country, industry) then the value-added, taxes and output rows; columns are
  ``CCC_IND`` then final-demand columns ``CCC_HFCE``, ``CCC_NPISH``, ``CCC_GGFC``,
  ``CCC_GFCF``, ``CCC_INVNT``, ``CCC_DPABR`` and the output column. The names of the
  bottom rows changed between editions (see :data:`EDITIONS`); all are recognised.
  Mexico and China split into ``MX1``/``MX2`` and ``CN1``/``CN2`` (the "extended"
  files) are summed back into ``MEX`` and ``CHN``, rows and columns alike, as pymrio's
  ``parse_oecd`` does.
* :func:`write_icio_csv` — writes flow blocks in the published layout of an edition.

All flows are in USD million, current prices, basic prices (OECD ICIO convention).
Imports by partner need no extra account: the intermediate inputs region ``r`` buys
from ``p`` are the off-diagonal block ``Z[p, r]`` (see :mod:`commonplan.analysis`).

Source: OECD (2025), Inter-Country Input-Output Database, http://oe.cd/icio — OECD
material published after 1 July 2024 is licensed CC BY 4.0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commonplan.checks import (
    cell,
    check_finite,
    check_nonnegative,
    check_values,
    first_true,
    in_file,
)
from commonplan.economy import Economy, Metadata, roles
from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    ShapeError,
)
from commonplan.io._common import existing_file

UNITS = "USD million, current prices, basic prices"
CITATION_2025 = "OECD (2025), Inter-Country Input-Output Database, 2025 edition, http://oe.cd/icio"
LICENCE = "CC BY 4.0 (OECD open-by-default policy for material published after 1 July 2024)"

#: Final-demand categories of the ICIO CSV (suffix of ``CCC_CAT`` columns).
#: HFCE households, NPISH non-profits serving households, GGFC government, GFCF gross
#: fixed capital formation, INVNT changes in inventories, DPABR direct purchases abroad
#: by residents; P33 / NONRES / DISC appear in older editions.
FINAL_DEMAND_CATEGORIES = (
    "HFCE",
    "NPISH",
    "GGFC",
    "GFCF",
    "INVNT",
    "DPABR",
    "NONRES",
    "P33",
    "DISC",
)
#: Roles of the final-demand categories (:mod:`commonplan.economy.roles`).
FINAL_DEMAND_ROLES = {"HFCE": roles.HOUSEHOLD_CONSUMPTION}

_VALUE_ADDED_ROWS = ("VA", "VALU")
_TAX_ROWS = ("TLS",)
_TAX_ROW_SUFFIX = "_TAXSUB"  # 2016/2018 editions: one taxes-less-subsidies row per country
_OUTPUT_ROWS = ("OUT", "OUTPUT")
_OUTPUT_COLUMNS = ("OUT", "TOTAL")
_SPLIT_REGIONS = {"MEX": re.compile(r"^MX\d$"), "CHN": re.compile(r"^CN\d$")}


@dataclass(frozen=True)
class IcioLayout:
    """Names of the non-flow rows and columns in one edition of the ICIO CSV."""

    edition: int
    value_added_row: str
    tax_row: str
    output_row: str
    output_column: str
    final_demand_categories: tuple[str, ...]
    row_order: tuple[str, ...]
    """Order of the bottom rows after the (country, industry) rows."""
    index_header: str = ""


#: Layouts of the editions Commonplan writes. The reader recognises all these names (and
#: the per-country ``CCC_TAXSUB`` rows and ``TOTAL`` column of the 2016/2018 editions).
EDITIONS: Mapping[int, IcioLayout] = {
    2023: IcioLayout(
        edition=2023,
        value_added_row="VALU",
        tax_row="TLS",
        output_row="OUT",
        output_column="OUT",
        final_demand_categories=("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"),
        row_order=("TLS", "VALU", "OUT"),
    ),
    2025: IcioLayout(
        edition=2025,
        value_added_row="VA",
        tax_row="TLS",
        output_row="OUT",
        output_column="OUT",
        final_demand_categories=("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR"),
        row_order=("TLS", "VA", "OUT"),
        index_header="V1",
    ),
}


@dataclass(frozen=True)
class IcioTable:
    """The flow blocks of one ICIO year, labelled, in USD million (before coefficients).

    ``Z`` is (region, sector) × (region, sector) intermediate use; ``Y`` is
    (region, sector) × (region, category) final use by destination; ``value_added``,
    ``taxes`` (taxes less subsidies on intermediate products) and ``output`` are per
    (region, sector). ``taxes_on_final_demand`` is the TLS row under the final-demand
    columns (taxes less subsidies on final products), zero where absent.
    """

    Z: pd.DataFrame
    Y: pd.DataFrame
    value_added: pd.Series
    taxes: pd.Series
    output: pd.Series
    taxes_on_final_demand: pd.Series | None = None
    layout: str = ""
    aggregated: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Sub-regions summed into a region, e.g. ``{"MEX": ("MX1", "MX2")}``."""


# ---- reduced arrays (.npz) ------------------------------------------------------------

_NPZ_KEYS = ("Z", "x", "fu_plus", "va_plus", "labels")


def read_icio_arrays(path: str | Path, *, name: str | None = None) -> Economy:
    """Read an ICIO year reduced to arrays (``.npz``) as a multi-regional :class:`Economy`.

    The file holds ``Z`` (intermediate sales, row node → column node), ``x`` (gross
    output, ICIO ``OUT``), ``fu_plus`` and ``va_plus`` (both USD million), and
    ``labels`` ``"CCC_IND"``. Products are labelled ``(region, industry code)``.

    * Final demand is one category, ``"final_use_plus"`` = ``x − Z·1``: total final use
      of the node's output in every country (including exports of final goods) **plus**
      intermediate sales to the ICIO ``ROW`` region, which these files drop. There is no
      split by destination or category.
    * The account ``"value_added"`` is ``va_plus`` = ``x − 1ᵀZ``: value added **plus** net
      taxes on intermediates (TLS) **plus** intermediate inputs bought from ICIO ``ROW``
      (USD million; its coefficient is per USD million of output).
    * Imports by partner are the off-diagonal region blocks of ``Z``; no account needed.

    Inactive nodes (all zero) keep zero coefficients. Metadata: OECD (2025) ICIO, 2025
    edition, CC BY 4.0, USD million, the reference year from the file's ``readme`` or
    name.
    """
    path = existing_file(path, what="ICIO array file (.npz)")
    arrays = _load_npz(path)
    labels = [str(label) for label in arrays["labels"]]
    products = _split_labels(labels, path)
    n = len(products)
    Z = np.asarray(arrays["Z"], dtype=np.float64)
    vectors = {
        key: np.asarray(arrays[key], dtype=np.float64).ravel()
        for key in ("x", "fu_plus", "va_plus")
    }
    if Z.shape != (n, n):
        raise ShapeError(
            f"Z has shape {Z.shape} for {n} labels",
            where=cell(path, column="Z"),
            expected=f"a square ({n}, {n}) matrix",
            fix="rebuild the file with one Z row and column per label",
        )
    for key, vector in vectors.items():
        if vector.shape != (n,):
            raise ShapeError(
                f"{key} has {vector.size} values for {n} labels",
                where=cell(path, column=key),
                expected=f"{n} values, one per label",
            )
    check_nonnegative(Z, what="Z cell", where=cell(path), labels=(labels, labels))
    for key in ("x", "fu_plus", "va_plus"):
        check_values(
            vectors[key],
            what=f"{key} cell",
            where=cell(path),
            labels=(labels,),
            nonnegative=key == "x",
        )

    readme = str(arrays["readme"]) if "readme" in arrays else ""
    year = _year_from(readme) or _year_from(path.name)
    extra: dict[str, Any] = {
        "licence": LICENCE,
        "file": path.name,
        "final_demand": "final_use_plus = x − Z·1: final use in all countries incl. exports of final "
        "goods, plus intermediate sales to ICIO ROW",
        "accounts": {
            "value_added": "va_plus = x − colsum(Z): value added + net taxes on intermediates (TLS) "
            "+ intermediate inputs bought from ICIO ROW"
        },
    }
    for key in (
        "sector_names",
        "oth_members",
        "group_members",
        "regions",
        "sectors",
        "countries",
        "sector_groups",
    ):
        if key in arrays:
            values = [str(v) for v in np.atleast_1d(arrays[key])]
            extra[key] = values
    if "sector_names" in arrays and "sectors" in arrays:
        extra["sector_names"] = dict(zip(extra["sectors"], extra["sector_names"], strict=False))
    metadata = Metadata(
        name=name or f"OECD ICIO {len({r for r, _ in products})}×{len({s for _, s in products})}",
        year=year,
        units=UNITS,
        source=f"OECD ICIO 2025 edition, reduced to arrays ({path.name})",
        citation=CITATION_2025,
        notes=readme,
        extra=extra,
        account_roles={"value_added": roles.VALUE_ADDED},
    )
    return Economy.from_flows(
        Z,
        pd.DataFrame(
            {"final_use_plus": vectors["fu_plus"]}, index=pd.MultiIndex.from_tuples(products)
        ),
        vectors["x"],
        accounts={"value_added": vectors["va_plus"]},
        account_units={"value_added": "USD million"},
        products=products,
        metadata=metadata,
    )


def _load_npz(path: Path) -> Mapping[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, EOFError) as error:
        raise FileFormatError(
            f"file is not a readable NumPy .npz archive ({str(error)[:100]})",
            where=path.name,
            expected="a .npz archive with arrays Z, x, fu_plus, va_plus, labels",
            fix="check the file is complete (not truncated) and really an .npz",
        ) from None
    except Exception as error:  # noqa: BLE001 - zipfile raises BadZipFile and others on damaged archives
        raise FileFormatError(
            f"file is not a readable NumPy .npz archive ({type(error).__name__})",
            where=path.name,
            expected="a .npz archive with arrays Z, x, fu_plus, va_plus, labels",
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
    for key in ("Z", "x", "fu_plus", "va_plus"):
        if arrays[key].dtype.kind not in "fiu":
            raise InvalidValueError(
                f"array {key} holds {arrays[key].dtype} values, not numbers",
                where=cell(path, column=key),
                expected="a numeric array",
            )
    return arrays


def _split_labels(labels: list[str], path: Path) -> list[tuple[str, str]]:
    """``"CCC_IND"`` → ``("CCC", "IND")``; the industry code may itself contain ``_``."""
    bad = [
        label
        for label in labels
        if "_" not in label or label.startswith("_") or label.endswith("_")
    ]
    if bad:
        raise LabelError(
            f"label {bad[0]!r} is not of the form COUNTRY_INDUSTRY ({len(bad)} such label(s))",
            where=cell(path, column="labels"),
            expected="labels like 'COL_A01'",
        )
    products = [tuple(label.split("_", 1)) for label in labels]
    if len(set(products)) != len(products):
        seen: set[tuple[str, str]] = set()
        duplicate = next(p for p in products if p in seen or seen.add(p))
        raise LabelError(
            f"duplicate label {'_'.join(duplicate)!r}",
            where=cell(path, column="labels"),
            expected="each COUNTRY_INDUSTRY label once",
            fix="aggregate or rename the duplicated node",
        )
    return products  # type: ignore[return-value]


def _year_from(text: str) -> int | None:
    """The reference year named in a text ('reference year 2022', '2022_SML.csv', 'ICIO2023_2020')."""
    match = re.search(r"reference year\s+((?:19|20)\d\d)", text)
    if match:
        return int(match.group(1))
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)]
    years += [int(y) for y in re.findall(r"_y((?:19|20)\d\d)", text)]
    return years[-1] if years else None


# ---- the published wide CSV -------------------------------------------------------------


def read_icio_csv(
    path: str | Path,
    *,
    edition: int | None = None,
    year: int | None = None,
    name: str | None = None,
) -> Economy:
    """Read one year of the OECD ICIO wide CSV as a multi-regional :class:`Economy`.

    Products are ``(region, industry)``; final demand has a ``(region, category)``
    MultiIndex (destination region × HFCE, NPISH, GGFC, GFCF, INVNT, DPABR); gross output
    is the output column; the accounts are ``"value_added"`` (VA/VALU row) and
    ``"taxes_less_subsidies"`` (TLS row on intermediate products), both USD million.
    The ICIO ``ROW`` region is kept as a region. Split ``MX1``/``MX2``/``CN1``/``CN2``
    rows and columns are summed into ``MEX``/``CHN``.

    ``edition`` (2023, 2025, …) and ``year`` go into the metadata; when not given they
    are taken from the file name (``ICIO2023_2020.csv``, ``2022_SML.csv``).
    """
    path = existing_file(path, what="ICIO CSV file")
    table = read_icio_table(path)
    edition = edition or _edition_from(path.name)
    year = year or _year_from(re.sub(r"ICIO(19|20)\d\d", "", path.name))
    citation = (
        f"OECD ({edition}), Inter-Country Input-Output Database, {edition} edition, http://oe.cd/icio"
        if edition
        else "OECD, Inter-Country Input-Output Database, http://oe.cd/icio"
    )
    metadata = Metadata(
        name=name or f"OECD ICIO {len(table.Z.index.unique(0))}×{len(table.Z.index.unique(1))}",
        year=year,
        units=UNITS,
        source=f"OECD ICIO CSV {path.name}",
        citation=citation,
        notes="Final demand by destination region and category; value added and taxes less "
        "subsidies on intermediates as accounts; sub-regions aggregated: "
        + (", ".join(f"{k} ← {'+'.join(v)}" for k, v in table.aggregated.items()) or "none"),
        extra={
            "licence": LICENCE if (edition or 0) >= 2025 else "OECD terms and conditions",
            "file": path.name,
            "edition": edition,
            "layout": table.layout,
            "aggregated_regions": {k: list(v) for k, v in table.aggregated.items()},
        },
    )
    return _economy_from_table(table, path, metadata)


def _economy_from_table(table: IcioTable, path: Path, metadata: Metadata) -> Economy:
    metadata = replace(
        metadata,
        account_roles=roles.known_roles(
            ("value_added", "taxes_less_subsidies"), {"value_added": roles.VALUE_ADDED}
        ),
        final_demand_roles=roles.known_roles(
            table.Y.columns.get_level_values(-1).unique(), FINAL_DEMAND_ROLES
        ),
    )
    with in_file(path):
        return Economy.from_flows(
            table.Z,
            table.Y,
            table.output,
            accounts={"value_added": table.value_added, "taxes_less_subsidies": table.taxes},
            account_units={"value_added": "USD million", "taxes_less_subsidies": "USD million"},
            metadata=metadata,
        )


def read_icio_table(path: str | Path) -> IcioTable:
    """The labelled flow blocks of an ICIO wide CSV (USD million), before coefficients.

    Use this to inspect the raw flows or to hand them to another tool; use
    :func:`read_icio_csv` for an :class:`Economy`. Raises :class:`FileFormatError` for a
    damaged or unrecognised layout, :class:`LabelError` for duplicate or mismatched
    labels, :class:`InvalidValueError` for a non-numeric cell or a negative intermediate
    flow, and :class:`MissingBlockError` when the value-added, taxes or output block is
    absent — each naming the file and the row and column.
    """
    path = existing_file(path, what="ICIO CSV file")
    rows, columns, table = _read_wide_csv(path)
    layout = _classify(path, rows, columns)
    values = np.empty((len(rows), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):  # one vectorised conversion per column
        values[:, j] = _numeric_column(table.column(j + 1), path, rows, name)
    product_rows = layout["product_rows"]
    product_cols = layout["product_cols"]
    fd_cols = layout["fd_cols"]
    labels = [rows[i] for i in product_rows]

    Z = values[np.ix_(product_rows, product_cols)]
    Y = values[np.ix_(product_rows, fd_cols)]
    x = values[product_rows, layout["output_col"]]
    va = values[layout["va_row"], product_cols]
    tls = values[layout["tax_rows"]][:, product_cols].sum(axis=0)
    tls_fd = values[layout["tax_rows"]][:, fd_cols].sum(axis=0)

    check_nonnegative(
        Z,
        what="intermediate flow",
        where=cell(path),
        labels=(labels, [columns[j] for j in product_cols]),
        fix="correct the sign in the source table",
    )
    check_nonnegative(
        x,
        what="gross output",
        where=lambda position: cell(path, labels[position[0]], columns[layout["output_col"]]),
    )
    if layout["output_row"] is not None:
        out_row = values[layout["output_row"], product_cols]
        gap = np.abs(out_row - x)
        worst = int(np.argmax(gap)) if gap.size else 0
        if gap.size and gap[worst] > 1e-6 * max(abs(x[worst]), 1.0) + 1e-6:
            raise InvalidValueError(
                f"output row says {out_row[worst]:.10g} but the output column says {x[worst]:.10g} "
                f"for {labels[worst]!r}",
                where=cell(path, rows[layout["output_row"]], columns[product_cols[worst]]),
                expected="the same gross output in the output row and the output column",
                fix="check that rows and columns of the file are in the same order and complete",
            )

    products = pd.MultiIndex.from_tuples(
        [tuple(label.split("_", 1)) for label in labels], names=["region", "sector"]
    )
    fd_index = pd.MultiIndex.from_tuples(
        [tuple(columns[j].split("_", 1)) for j in fd_cols], names=["region", "category"]
    )
    aggregated = _split_groups(products.get_level_values(0))
    if aggregated:
        S, products = _aggregation(products, aggregated)
        Z = (S @ (S @ Z).T).T
        Y = S @ Y
        x = S @ x
        va = S @ va
        tls = S @ tls
    return IcioTable(
        Z=pd.DataFrame(Z, index=products, columns=products),
        Y=pd.DataFrame(Y, index=products, columns=fd_index),
        value_added=pd.Series(va, index=products, name="value_added"),
        taxes=pd.Series(tls, index=products, name="taxes_less_subsidies"),
        output=pd.Series(x, index=products, name="output"),
        taxes_on_final_demand=pd.Series(tls_fd, index=fd_index, name="taxes_less_subsidies"),
        layout=layout["description"],
        aggregated=aggregated,
    )


def _read_wide_csv(path: Path) -> tuple[list[str], list[str], Any]:
    """Row labels, column labels (without the label column) and the parsed Arrow table.

    Only empty cells are read as missing (later: 0); ``n/a``, ``NaN`` and other text stay
    text so that :func:`_numeric_column` can name them.
    """
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise FileFormatError(
            "file is not UTF-8 text",
            where=path.name,
            expected="the ICIO CSV (comma-separated text)",
        ) from None
    if not header or len(header) < 3:
        raise FileFormatError(
            "file has no header row with column labels",
            where=path.name,
            expected="a first row: label column, then CCC_IND, CCC_HFCE, …, OUT",
            fix="use the CSV file exactly as the OECD publishes it",
        )
    header = [h.strip() for h in header]
    seen: set[str] = set()
    duplicates = [h for h in header[1:] if h in seen or seen.add(h)]
    if duplicates:
        raise LabelError(
            f"duplicate column labels {sorted(set(duplicates))[:5]}",
            where=cell(path, row="header"),
            expected="each column label once",
            fix="remove or aggregate the duplicated columns",
        )
    names = ["__label__"] + header[1:]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(
                column_types={"__label__": pa.string()}, null_values=[""], strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as error:
        message = str(error).splitlines()[0][:160]
        raise FileFormatError(
            f"file could not be parsed as the ICIO CSV ({message})",
            where=path.name,
            expected=f"every row with {len(names)} comma-separated cells, like the header",
            fix="the file may be truncated or damaged: download it again",
        ) from None
    rows = [
        str(label).strip() if label is not None else ""
        for label in table.column("__label__").to_pylist()
    ]
    return rows, header[1:], table


def _numeric_column(column: Any, path: Path, rows: list[str], name: str) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_null(kind):
        return np.zeros(len(column))
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        result = pc.fill_null(column, 0).to_numpy().astype(np.float64, copy=False)
        check_finite(result, what="cell", where=lambda at: cell(path, rows[at[0]], name))
        return result
    text = pd.Series(column.to_pylist(), dtype=object)
    blank = text.isna() | (text.astype(str).str.strip() == "")
    numbers = pd.to_numeric(text.where(~blank, "0"), errors="coerce")
    bad = first_true(numbers.isna().to_numpy())
    if bad is not None:
        r, count = bad
        raise InvalidValueError(
            f"cell {text.iloc[r]!r} is not a number ({count} such cell(s) in this column)",
            where=cell(path, rows[r], name),
            expected="a number (blank means 0)",
            fix="correct the cell in the source file",
        )
    result = numbers.to_numpy(dtype=np.float64)
    check_finite(result, what="cell", where=lambda at: cell(path, rows[at[0]], name))
    return result


def _classify(path: Path, rows: list[str], columns: list[str]) -> dict[str, Any]:
    """Positions of the product rows and columns, final-demand columns and special rows."""
    va_rows = [i for i, r in enumerate(rows) if r in _VALUE_ADDED_ROWS]
    out_rows = [i for i, r in enumerate(rows) if r in _OUTPUT_ROWS]
    tax_rows = [i for i, r in enumerate(rows) if r in _TAX_ROWS or r.endswith(_TAX_ROW_SUFFIX)]
    special = set(va_rows) | set(out_rows) | set(tax_rows)
    product_rows = [i for i in range(len(rows)) if i not in special]
    for i in product_rows:
        if not re.fullmatch(r"[A-Za-z0-9]+_\S+", rows[i]):
            raise FileFormatError(
                f"row label {rows[i]!r} is neither COUNTRY_INDUSTRY nor a value-added, taxes or output row",
                where=cell(path, rows[i]),
                expected=f"rows CCC_IND, then {'/'.join(_TAX_ROWS)}, {'/'.join(_VALUE_ADDED_ROWS)}, "
                f"{'/'.join(_OUTPUT_ROWS)}",
                fix="use the ICIO CSV as published (row labels in the first column)",
            )
    seen: set[str] = set()
    duplicates = [r for r in rows if r in seen or seen.add(r)]
    if duplicates:
        raise LabelError(
            f"duplicate row labels {sorted(set(duplicates))[:5]}",
            where=cell(path, column="row labels"),
            expected="each row label once",
            fix="remove or aggregate the duplicated rows",
        )
    if not product_rows:
        raise MissingBlockError(
            "no COUNTRY_INDUSTRY rows",
            where=path.name,
            expected="the intermediate-use rows of the ICIO table",
        )
    if not va_rows:
        raise MissingBlockError(
            "the value-added row is missing",
            where=path.name,
            expected=f"a row named one of {list(_VALUE_ADDED_ROWS)}",
            fix="the file may be truncated: download it again",
        )
    if not tax_rows:
        raise MissingBlockError(
            "the taxes-less-subsidies row is missing",
            where=path.name,
            expected="a row named TLS (or CCC_TAXSUB rows in the 2016/2018 editions)",
            fix="the file may be truncated: download it again",
        )
    product_labels = {rows[i] for i in product_rows}
    output_cols = [j for j, c in enumerate(columns) if c in _OUTPUT_COLUMNS]
    if not output_cols:
        raise MissingBlockError(
            "the output column is missing",
            where=path.name,
            expected=f"a last column named one of {list(_OUTPUT_COLUMNS)}",
            fix="the file may be truncated: download it again",
        )
    position = {label: i for i, label in enumerate(columns)}
    missing = [rows[i] for i in product_rows if rows[i] not in position]
    if missing:
        raise LabelError(
            f"{len(missing)} row label(s) have no matching column: {missing[:3]}",
            where=cell(path, row="header"),
            expected="one intermediate-use column per COUNTRY_INDUSTRY row",
            fix="check that the file is complete",
        )
    product_cols = [position[rows[i]] for i in product_rows]
    fd_cols, unknown = [], []
    for j, label in enumerate(columns):
        if label in product_labels or j in output_cols:
            continue
        suffix = label.split("_", 1)[1] if "_" in label else ""
        (fd_cols if suffix in FINAL_DEMAND_CATEGORIES else unknown).append(j)
    if unknown:
        label = columns[unknown[0]]
        raise LabelError(
            f"column {label!r} is neither a COUNTRY_INDUSTRY row label, a final-demand column "
            f"nor the output column ({len(unknown)} such column(s))",
            where=cell(path, column=label),
            expected=f"columns CCC_IND, CCC_{{{','.join(FINAL_DEMAND_CATEGORIES[:6])}}}, OUT",
            fix="every intermediate-use column needs a matching row; check the file is complete",
        )
    names = [rows[i] for i in sorted(special)]
    return {
        "product_rows": product_rows,
        "product_cols": product_cols,
        "fd_cols": fd_cols,
        "output_col": output_cols[-1],
        "output_row": out_rows[-1] if out_rows else None,
        "va_row": va_rows[-1],
        "tax_rows": tax_rows,
        "description": "rows "
        + ", ".join(n for n in names if not n.endswith(_TAX_ROW_SUFFIX))
        + (
            f", {len(tax_rows)} CCC_TAXSUB rows"
            if any(n.endswith(_TAX_ROW_SUFFIX) for n in names)
            else ""
        )
        + f"; output column {columns[output_cols[-1]]}",
    }


def _split_groups(regions: pd.Index) -> dict[str, tuple[str, ...]]:
    """``{"MEX": ("MX1", "MX2")}`` for the split sub-regions present."""
    present = list(dict.fromkeys(regions))
    groups = {}
    for parent, pattern in _SPLIT_REGIONS.items():
        parts = tuple(r for r in present if pattern.match(r))
        if parts:
            groups[parent] = parts
    return groups


def _aggregation(products: pd.MultiIndex, groups: Mapping[str, tuple[str, ...]]):
    """Sparse 0/1 matrix S (new × old) summing sub-regions into their parent, and new labels."""
    import scipy.sparse as sp

    parent = {part: name for name, parts in groups.items() for part in parts}
    mapped = pd.MultiIndex.from_arrays(
        [[parent.get(r, r) for r in products.get_level_values(0)], products.get_level_values(1)],
        names=products.names,
    )
    new = mapped.unique()
    rows = new.get_indexer(mapped)
    S = sp.csr_array(
        (np.ones(len(products)), (rows, np.arange(len(products)))), shape=(len(new), len(products))
    )
    return S, new


def _edition_from(filename: str) -> int | None:
    match = re.search(r"ICIO((?:19|20)\d\d)", filename, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def write_icio_csv(table: IcioTable, path: str | Path, *, edition: int = 2025) -> Path:
    """Write flow blocks in the published ICIO wide-CSV layout of ``edition``.

    Rows: one per (region, sector) labelled ``CCC_IND``, then the bottom rows of the
    edition (:data:`EDITIONS`); columns: ``CCC_IND``, then the final-demand columns of
    ``table.Y`` labelled ``CCC_CAT``, then the output column. Numbers are written with
    the shortest representation that reads back to the same float64, so a write and
    read round trip is exact.
    """
    if edition not in EDITIONS:
        raise FileFormatError(
            f"no ICIO layout known for edition {edition}",
            where="write_icio_csv",
            expected=f"one of {sorted(EDITIONS)}",
        )
    layout = EDITIONS[edition]
    products = table.Z.index
    labels = [f"{r}_{s}" for r, s in products]
    fd_labels = [f"{r}_{c}" for r, c in table.Y.columns]
    n, k = len(labels), len(fd_labels)
    body = np.zeros((n + len(layout.row_order), n + k + 1))
    body[:n, :n] = table.Z.to_numpy(dtype=np.float64)
    body[:n, n : n + k] = table.Y.reindex(products).to_numpy(dtype=np.float64)
    body[:n, -1] = table.output.reindex(products).to_numpy(dtype=np.float64)
    tls_fd = (
        table.taxes_on_final_demand.reindex(table.Y.columns).fillna(0.0).to_numpy()
        if table.taxes_on_final_demand is not None
        else np.zeros(k)
    )
    bottom = {
        layout.tax_row: np.concatenate([table.taxes.reindex(products).to_numpy(), tls_fd, [0.0]]),
        layout.value_added_row: np.concatenate(
            [table.value_added.reindex(products).to_numpy(), np.zeros(k + 1)]
        ),
        layout.output_row: np.concatenate(
            [table.output.reindex(products).to_numpy(), np.zeros(k + 1)]
        ),
    }
    for offset, row in enumerate(layout.row_order):
        body[n + offset] = bottom[row]
    frame = pd.DataFrame(
        body,
        index=pd.Index(labels + list(layout.row_order), name=layout.index_header),
        columns=labels + fd_labels + [layout.output_column],
    )
    path = Path(path)
    frame.to_csv(path)
    return path
