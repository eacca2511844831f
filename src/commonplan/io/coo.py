"""Long (COO) tables: an economy as triplet files, for tables too large for a wide layout.

A COO folder holds one file per block, each a CSV or Parquet long table with one row per
non-zero value (money flows, in the table's unit)::

    flows.csv|parquet         row_region, row_sector, col_region, col_sector, value
                              intermediate flows Z (required)
    final_demand.csv|parquet  row_region, row_sector, [fd_region,] category, value
                              final demand Y; with ``fd_region`` the categories are
                              (region, category) pairs, as in a multi-region table
    accounts.csv|parquet      account, col_region, col_sector, value, [unit]
                              primary-input or extension flows (totals per product)
    output.csv|parquet        region, sector, value: gross output x (default Z·1 + Y·1)
    products.csv|parquet      region, sector: every product, in order (default: the
                              order of first appearance in flows, final demand, output)
    categories.csv|parquet    [fd_region,] category: every final-demand column, in order
                              (default: order of first appearance in final_demand)
    final_demand_stressors.csv|parquet
                              account, [fd_region,] category, value: account totals
                              caused directly by final demand (pymrio's F_Y)

Cells absent from a file are zero. A triplet given twice is refused, not summed. The
folder is detected by ``flows.csv`` or ``flows.parquet`` with a ``row_region`` column.
:func:`write_coo` writes a symmetric economy in this layout, so the two round-trip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy, Metadata
from commonplan.errors import (
    FileFormatError,
    InvalidValueError,
    LabelError,
    MissingBlockError,
    UnsupportedOperationError,
)
from commonplan.io._common import read_frame

__all__ = ["read_coo", "write_coo", "is_coo_folder", "COO_COLUMNS"]

COO_COLUMNS: dict[str, tuple[str, ...]] = {
    "flows": ("row_region", "row_sector", "col_region", "col_sector", "value"),
    "final_demand": ("row_region", "row_sector", "category", "value"),
    "accounts": ("account", "col_region", "col_sector", "value"),
    "output": ("region", "sector", "value"),
    "products": ("region", "sector"),
    "categories": ("category",),
    "final_demand_stressors": ("account", "category", "value"),
}
"""Required columns of each block file (``final_demand`` may add ``fd_region``,
``categories`` and ``final_demand_stressors`` may add ``fd_region``, ``accounts``
``unit``)."""
_SUFFIXES = (".parquet", ".csv")


def _block_path(folder: Path, block: str) -> Path | None:
    for suffix in _SUFFIXES:
        path = folder / f"{block}{suffix}"
        if path.is_file():
            return path
    return None


def is_coo_folder(folder: Path) -> bool:
    """Whether ``folder`` looks like a COO folder (a ``flows`` file with ``row_region``)."""
    path = _block_path(folder, "flows")
    if path is None:
        return False
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
        return "row_region" in [f.strip().strip('"') for f in header.split(",")]
    try:
        import pyarrow.parquet as pq

        return "row_region" in pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - any unreadable file is simply not detected
        return False


def _read_block(folder: Path, block: str, *, required: bool) -> pd.DataFrame | None:
    path = _block_path(folder, block)
    if path is None:
        if required:
            raise MissingBlockError(
                f"the {block} file is missing",
                where=str(folder),
                expected=f"{block}.csv or {block}.parquet with columns {list(COO_COLUMNS[block])}",
                fix="write the triplets of this block into that file",
            )
        return None
    label_columns = [c for c in COO_COLUMNS[block] if c != "value"]
    dtype = {c: str for c in [*label_columns, "fd_region", "unit"]}
    frame = _read_csv(path, dtype) if path.suffix == ".csv" else read_frame(path, what=block)
    missing = [c for c in COO_COLUMNS[block] if c not in frame.columns]
    if missing:
        raise FileFormatError(
            f"columns {missing} are missing",
            where=str(path),
            expected=f"a header with {list(COO_COLUMNS[block])}",
            fix="rename the columns of the long table",
        )
    for column in label_columns + [c for c in ("fd_region",) if c in frame.columns]:
        blank = frame[column].isna() | (frame[column].astype(str).str.strip() == "")
        if blank.any():
            row = int(np.flatnonzero(blank.to_numpy())[0])
            raise LabelError(
                f"row {row + 1} has no {column}",
                where=str(path),
                expected="a label in every row",
                fix=f"fill in the {column} of that row",
            )
        frame[column] = frame[column].astype(str).str.strip()
    if "value" in frame.columns:
        frame["value"] = _values(frame["value"], path)
    return frame


def _read_csv(path: Path, dtype: dict[str, type]) -> pd.DataFrame:
    """A long CSV read with pandas' C parser (millions of rows), errors as one clear line."""
    if path.stat().st_size == 0:
        raise FileFormatError("file is empty", where=str(path), expected="a header and rows")
    try:
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileFormatError(
            f"file is not UTF-8 text ({error.reason} at byte {error.start})",
            where=str(path),
            fix="re-save the file as UTF-8 CSV",
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise FileFormatError(
            f"file could not be read as a long table ({message})",
            where=str(path),
            expected="comma-separated rows with the same number of fields as the header",
        ) from None


def _values(column: pd.Series, path: Path) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"row {row + 1}: value {column.iloc[row]!r} is not a finite number",
            where=str(path),
            expected="a finite number in the value column of every row",
            fix="correct the value, or drop the row (absent cells are zero)",
        )
    return values


def _refuse_duplicates(keys: list[np.ndarray], path: Path | str) -> None:
    frame = pd.DataFrame({str(k): key for k, key in enumerate(keys)})
    duplicated = frame.duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise InvalidValueError(
            f"row {row + 1} repeats a cell given in an earlier row",
            where=str(path),
            expected="each cell at most once",
            fix="sum the duplicate rows into one, or remove one of them",
        )


def _positions(
    lookup: _ProductLookup, regions: pd.Series, sectors: pd.Series, where: str
) -> np.ndarray:
    positions = lookup(regions, sectors)
    unknown = positions < 0
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise LabelError(
            f"row {row + 1}: product ({regions.iloc[row]}, {sectors.iloc[row]}) is not in the "
            "products file",
            where=where,
            expected="only products listed in products.csv|parquet",
            fix="add the product to the products file, or correct its label",
        )
    return positions


class _ProductLookup:
    """Positions of (region, sector) pairs among ``products``, for millions of pairs.

    Each level is hashed on its own with Arrow (``pyarrow.compute.index_in``) and a pair
    becomes one integer key; a MultiIndex of millions of string pairs is far slower.
    """

    def __init__(self, products: pd.MultiIndex) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self._pc = pc
        regions = pa.array(products.get_level_values(0).astype(str), pa.string())
        sectors = pa.array(products.get_level_values(1).astype(str), pa.string())
        self._regions = pc.unique(regions)
        self._sectors = pc.unique(sectors)
        self._table = pa.array(self._keys(regions, sectors))

    def _keys(self, regions, sectors) -> np.ndarray:
        pc = self._pc
        rc = pc.index_in(regions, value_set=self._regions).to_numpy(zero_copy_only=False)
        sc = pc.index_in(sectors, value_set=self._sectors).to_numpy(zero_copy_only=False)
        rc = np.nan_to_num(np.asarray(rc, dtype=np.float64), nan=-1).astype(np.int64)
        sc = np.nan_to_num(np.asarray(sc, dtype=np.float64), nan=-1).astype(np.int64)
        return np.where((rc < 0) | (sc < 0), -1, rc * len(self._sectors) + sc)

    def __call__(self, regions: pd.Series, sectors: pd.Series) -> np.ndarray:
        import pyarrow as pa

        found = self._keys(
            pa.array(regions.astype(str), pa.string()), pa.array(sectors.astype(str), pa.string())
        )
        positions = self._pc.index_in(pa.array(found), value_set=self._table)
        positions = np.nan_to_num(
            np.asarray(positions.to_numpy(zero_copy_only=False), dtype=np.float64), nan=-1
        ).astype(np.int64)
        positions[found < 0] = -1
        return positions


def _product_index(blocks: dict[str, pd.DataFrame | None], folder: Path) -> pd.MultiIndex:
    listed = blocks["products"]
    if listed is not None:
        index = pd.MultiIndex.from_arrays(
            [listed["region"], listed["sector"]], names=["region", "sector"]
        )
        if index.has_duplicates:
            raise LabelError(
                f"product {index[index.duplicated()][0]} is listed twice",
                where=str(_block_path(folder, "products")),
                expected="each product once",
                fix="remove the repeated row",
            )
        return index
    pairs = [
        (blocks["flows"]["row_region"], blocks["flows"]["row_sector"]),
        (blocks["flows"]["col_region"], blocks["flows"]["col_sector"]),
    ]
    if blocks["final_demand"] is not None:
        pairs.append((blocks["final_demand"]["row_region"], blocks["final_demand"]["row_sector"]))
    if blocks["output"] is not None:
        pairs.append((blocks["output"]["region"], blocks["output"]["sector"]))
    regions = pd.concat([p[0] for p in pairs], ignore_index=True)
    sectors = pd.concat([p[1] for p in pairs], ignore_index=True)
    labels = pd.DataFrame({"region": regions, "sector": sectors}).drop_duplicates()
    return pd.MultiIndex.from_frame(labels)


def read_coo(
    folder: str | Path,
    *,
    name: str = "",
    units: str = "",
    year: int | None = None,
    balance_tolerance: float | None = None,
) -> Economy:
    """Read a COO folder (see the module docstring) into a symmetric :class:`Economy`.

    Values are money flows in the table's unit (``units``); accounts are totals per
    product and become coefficients per unit of output. Raises
    :class:`MissingBlockError` (no folder or no flows file), :class:`FileFormatError`
    (missing columns, unreadable file), :class:`LabelError` (blank or unknown labels),
    :class:`InvalidValueError` (a non-finite value, a repeated cell) and the errors of
    :meth:`Economy.from_flows`.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingBlockError(
            "folder not found", where=str(folder), expected="a folder of COO block files"
        )
    blocks = {block: _read_block(folder, block, required=block == "flows") for block in COO_COLUMNS}
    products = _product_index(blocks, folder)
    n = len(products)
    flows = blocks["flows"]
    where = str(_block_path(folder, "flows"))
    lookup = _ProductLookup(products)
    rows = _positions(lookup, flows["row_region"], flows["row_sector"], where)
    cols = _positions(lookup, flows["col_region"], flows["col_sector"], where)
    _refuse_duplicates([rows, cols], where)
    Z = sp.csr_array(sp.coo_array((flows["value"].to_numpy(), (rows, cols)), shape=(n, n)))
    Y, fd_columns = _final_demand(
        blocks["final_demand"], blocks["categories"], products, lookup, folder
    )
    x = _output(blocks["output"], products, lookup, folder)
    accounts, account_units = _accounts(blocks["accounts"], products, lookup, folder)
    metadata = Metadata(name=name or folder.name, year=year, units=units, source=str(folder))
    economy = Economy.from_flows(
        Z,
        pd.DataFrame(Y, index=products, columns=fd_columns),
        x,
        accounts,
        account_units=account_units,
        products=products,
        metadata=metadata,
        balance_tolerance=balance_tolerance,
    )
    stressors = blocks["final_demand_stressors"]
    if stressors is None:
        return economy
    return economy.replace(
        final_demand_stressor_values=_stressors(stressors, economy, folder),
    )


def _fd_keys(frame: pd.DataFrame) -> pd.Index:
    if "fd_region" in frame.columns:
        return pd.MultiIndex.from_arrays(
            [frame["fd_region"], frame["category"]], names=["region", "category"]
        )
    return pd.Index(frame["category"])


def _stressors(frame: pd.DataFrame, economy: Economy, folder: Path) -> np.ndarray:
    """Final-demand stressors (accounts × final-demand columns) from their long table."""
    where = str(_block_path(folder, "final_demand_stressors"))
    rows = pd.Index(economy.account_names).get_indexer(frame["account"])
    keys = _fd_keys(frame)
    columns = economy.final_demand_columns
    if isinstance(columns, pd.MultiIndex) != isinstance(keys, pd.MultiIndex):
        raise FileFormatError(
            "final-demand stressors and final demand disagree on fd_region",
            where=where,
            expected="an fd_region column in both files, or in neither",
        )
    cols = columns.get_indexer(keys)
    for positions, what in ((rows, "account"), (cols, "final-demand column")):
        if (positions < 0).any():
            row = int(np.flatnonzero(positions < 0)[0])
            raise LabelError(
                f"row {row + 1}: unknown {what}",
                where=where,
                expected=f"an {what} present in the accounts / final_demand files",
                fix="correct the label or add the account or category",
            )
    _refuse_duplicates([rows, cols], where)
    values = np.zeros((len(economy.account_names), len(columns)))
    values[rows, cols] = frame["value"].to_numpy()
    return values


def _final_demand(
    frame: pd.DataFrame | None,
    categories: pd.DataFrame | None,
    products: pd.MultiIndex,
    lookup: _ProductLookup,
    folder: Path,
) -> tuple[np.ndarray, pd.Index]:
    listed = None if categories is None else _fd_keys(categories)
    if frame is None:
        columns = pd.Index([]) if listed is None else listed
        return np.zeros((len(products), len(columns))), columns
    where = str(_block_path(folder, "final_demand"))
    rows = _positions(lookup, frame["row_region"], frame["row_sector"], where)
    keys = _fd_keys(frame)
    columns = keys.unique() if listed is None else listed
    same_kind = isinstance(columns, pd.MultiIndex) == isinstance(keys, pd.MultiIndex)
    cols = columns.get_indexer(keys) if same_kind else np.full(len(keys), -1)
    if (cols < 0).any():
        row = int(np.flatnonzero(cols < 0)[0])
        raise LabelError(
            f"row {row + 1}: final-demand column {keys[row]} is not in the categories file",
            where=where,
            expected="only columns listed in categories.csv|parquet (with fd_region in both "
            "files or in neither)",
            fix="add the column to the categories file, or correct its label",
        )
    _refuse_duplicates([rows, cols], where)
    Y = np.zeros((len(products), len(columns)))
    Y[rows, cols] = frame["value"].to_numpy()
    return Y, columns


def _output(
    frame: pd.DataFrame | None, products: pd.MultiIndex, lookup: _ProductLookup, folder: Path
) -> np.ndarray | None:
    if frame is None:
        return None
    where = str(_block_path(folder, "output"))
    rows = _positions(lookup, frame["region"], frame["sector"], where)
    _refuse_duplicates([rows], where)
    x = np.zeros(len(products))
    x[rows] = frame["value"].to_numpy()
    return x


def _accounts(
    frame: pd.DataFrame | None, products: pd.MultiIndex, lookup: _ProductLookup, folder: Path
) -> tuple[dict[str, np.ndarray] | None, dict[str, str]]:
    if frame is None:
        return None, {}
    where = str(_block_path(folder, "accounts"))
    cols = _positions(lookup, frame["col_region"], frame["col_sector"], where)
    names = pd.Index(frame["account"]).unique()
    rows = names.get_indexer(frame["account"])
    _refuse_duplicates([rows, cols], where)
    values = np.zeros((len(names), len(products)))
    values[rows, cols] = frame["value"].to_numpy()
    units: dict[str, str] = {}
    if "unit" in frame.columns:
        first = frame[["account", "unit"]].drop_duplicates("account")
        units = {
            str(a): str(u) for a, u in zip(first["account"], first["unit"].fillna(""), strict=True)
        }
    return {name: values[k] for k, name in enumerate(names)}, units


def write_coo(economy: Economy, folder: str | Path, *, format: str = "parquet") -> Path:
    """Write a symmetric ``economy`` as a COO folder (``format`` ``"parquet"`` or ``"csv"``).

    Flows are ``Z = A·diag(x)`` and accounts ``coefficients·x`` (money and account units),
    so the economy needs observed activity levels. Only non-zero cells are written.
    Returns the folder.
    """
    if format not in {"parquet", "csv"}:
        raise UnsupportedOperationError(
            f"unknown COO file format {format!r}", where="write_coo", expected="parquet or csv"
        )
    if not economy.is_symmetric or economy.activity_levels is None:
        raise UnsupportedOperationError(
            "only a symmetric economy with observed output can be written as COO flows",
            where="write_coo",
            expected="an economy read from a symmetric table (make = identity, with x)",
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x = np.asarray(economy.activity_levels, dtype=np.float64)
    regions = economy.products.get_level_values(0).astype(str).to_numpy()
    sectors = economy.products.get_level_values(1).astype(str).to_numpy()
    Z = sp.coo_array(economy.use @ sp.diags_array(x))
    Z.sum_duplicates()
    keep = Z.data != 0
    r, c = Z.row[keep], Z.col[keep]
    tables = {
        "products": pd.DataFrame({"region": regions, "sector": sectors}),
        "flows": pd.DataFrame(
            {
                "row_region": regions[r],
                "row_sector": sectors[r],
                "col_region": regions[c],
                "col_sector": sectors[c],
                "value": Z.data[keep],
            }
        ),
        "output": pd.DataFrame({"region": regions, "sector": sectors, "value": x}),
        "final_demand": _fd_long(economy, regions, sectors),
        "accounts": _accounts_long(economy, regions, sectors, x),
    }
    tables["categories"] = _categories_long(economy.final_demand_columns)
    stale = [folder / f"final_demand_stressors{suffix}" for suffix in _SUFFIXES]
    for path in stale:
        path.unlink(missing_ok=True)
    if economy.final_demand_stressor_values is not None:
        tables["final_demand_stressors"] = _stressors_long(economy)
    for block, table in tables.items():
        path = folder / f"{block}.{format}"
        if format == "csv":
            table.to_csv(path, index=False, float_format="%.17g")
        else:
            table.to_parquet(path, index=False)
    return folder


def _fd_long(economy: Economy, regions: np.ndarray, sectors: np.ndarray) -> pd.DataFrame:
    Y = economy.final_demand_values
    r, c = np.nonzero(Y)
    columns = economy.final_demand_columns
    frame = {"row_region": regions[r], "row_sector": sectors[r]}
    if isinstance(columns, pd.MultiIndex):
        frame["fd_region"] = columns.get_level_values(0).astype(str).to_numpy()[c]
        frame["category"] = columns.get_level_values(1).astype(str).to_numpy()[c]
    else:
        frame["category"] = columns.astype(str).to_numpy()[c]
    frame["value"] = Y[r, c]
    return pd.DataFrame(frame)


def _accounts_long(
    economy: Economy, regions: np.ndarray, sectors: np.ndarray, x: np.ndarray
) -> pd.DataFrame:
    totals = economy.account_coefficients * x
    k, c = np.nonzero(totals)
    names = np.array(economy.account_names, dtype=object)
    return pd.DataFrame(
        {
            "account": names[k] if len(names) else np.array([], dtype=object),
            "col_region": regions[c],
            "col_sector": sectors[c],
            "value": totals[k, c],
            "unit": [economy.account_units.get(str(n), "") for n in names[k]],
        }
    )


def _stressors_long(economy: Economy) -> pd.DataFrame:
    values = economy.final_demand_stressor_values
    k, c = np.nonzero(values)
    columns = economy.final_demand_columns
    frame: dict[str, object] = {"account": np.array(economy.account_names, dtype=object)[k]}
    if isinstance(columns, pd.MultiIndex):
        frame["fd_region"] = columns.get_level_values(0).astype(str).to_numpy()[c]
        frame["category"] = columns.get_level_values(1).astype(str).to_numpy()[c]
    else:
        frame["category"] = columns.astype(str).to_numpy()[c]
    frame["value"] = values[k, c]
    return pd.DataFrame(frame)


def _categories_long(columns: pd.Index) -> pd.DataFrame:
    if isinstance(columns, pd.MultiIndex):
        return pd.DataFrame(
            {
                "fd_region": columns.get_level_values(0).astype(str),
                "category": columns.get_level_values(1).astype(str),
            }
        )
    return pd.DataFrame({"category": columns.astype(str)})
