"""Commonplan's own format: an economy as Parquet files plus a JSON manifest, exactly.

:func:`write_economy` writes a folder::

    manifest.json            format name and version, metadata, account units, the
                             final-demand column labels, shapes, and every file with its
                             SHA-256 content hash and size
    products.parquet         region, sector
    activities.parquet       region, activity
    use.parquet              COO triplets: row, col (positions), the labels of the row's
    make.parquet             product and the column's activity, value (float64)
    accounts.parquet         one float64 column per account, one row per activity
                             (coefficients per unit of activity)
    final_demand.parquet     one float64 column per category (labels in the manifest)
    activity_levels.parquet  observed activity levels (absent when not observed)
    final_demand_stressors.parquet
                             accounts totals caused directly by final demand (pymrio's
                             F_Y): one float64 column per category, one row per account
                             (absent when the economy has none)

:func:`read_economy` reads it back and verifies every hash first, so an edited or
corrupted file raises :class:`~commonplan.errors.ChecksumError` and a missing one
:class:`~commonplan.errors.MissingBlockError`. The round trip is exact: the sparse
matrices, coefficients, final demand and levels come back bit-identical (Parquet stores
IEEE-754 doubles as they are), labels and metadata identical. Metadata ``extra`` must be
JSON-representable (NumPy scalars and arrays are converted to numbers and lists; tuples
come back as lists).

:func:`economy_to_bytes` packs the same files into one Parquet file (one row per file:
``name``, ``data``), deterministically, and :func:`economy_from_bytes` reads it back with
the same checks; the store keeps economies in this form under its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy, Metadata
from commonplan.errors import (
    ChecksumError,
    FileFormatError,
    LabelError,
    MissingBlockError,
    ShapeError,
    UnsupportedOperationError,
)

FORMAT_NAME = "commonplan-economy"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_TRIPLET_COLUMNS = [
    "row",
    "col",
    "product_region",
    "product_sector",
    "activity_region",
    "activity",
    "value",
]
_FILES = (
    "products",
    "activities",
    "use",
    "make",
    "accounts",
    "final_demand",
    "activity_levels",
    "final_demand_stressors",
)
_MATRICES = ("use", "make")


def write_economy(economy: Economy, folder: str | Path) -> Path:
    """Write ``economy`` to ``folder`` (created if needed) in Commonplan's own format.

    Data files are written first and the manifest last, so a folder with a manifest is
    complete. Returns the path of the manifest.
    """
    files = _economy_files(economy)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        if name != MANIFEST:
            (folder / name).write_bytes(data)
    for optional, value in (
        ("activity_levels", economy.activity_levels),
        ("final_demand_stressors", economy.final_demand_stressor_values),
    ):
        stale = folder / f"{optional}.parquet"
        if value is None and stale.exists():
            stale.unlink()
    path = folder / MANIFEST
    path.write_bytes(files[MANIFEST])
    return path


def read_economy(folder: str | Path) -> Economy:
    """Read an economy written by :func:`write_economy`, verifying every file's hash.

    Raises :class:`MissingBlockError` (no folder, manifest or listed file),
    :class:`ChecksumError` (a file differs from its recorded SHA-256),
    :class:`FileFormatError` (not a Commonplan manifest, unknown version, unreadable
    Parquet), :class:`ShapeError` and :class:`LabelError` (contents that disagree with
    the manifest).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingBlockError(
            "folder not found", where=str(folder), expected="a folder written by write_economy"
        )
    path = folder / MANIFEST
    if not path.is_file():
        raise MissingBlockError(
            "the manifest is missing",
            where=str(path),
            expected="manifest.json beside the Parquet files",
            fix="write the economy with write_economy, or copy the whole folder",
        )
    manifest = _parse_manifest(path.read_bytes(), str(path))
    files = {
        name: (folder / name).read_bytes()
        for name in manifest["files"]
        if (folder / name).is_file()
    }
    return _economy_from_files(manifest, files, lambda name: str(folder / name))


def economy_to_bytes(economy: Economy) -> bytes:
    """``economy`` as one Parquet file that packs the folder :func:`write_economy` writes.

    The packed file has one row per file of the folder, the manifest first and then the
    data files in the order of the module docstring: ``name`` (string) and ``data`` (the
    file's bytes, exactly as in the folder). The packing is deterministic — the same
    economy gives the same bytes, hence the same SHA-256, with the same pyarrow — so the
    store can keep it under its content hash. :func:`economy_from_bytes` reads it back
    with every check of :func:`read_economy`.
    """
    import pyarrow as pa

    files = _economy_files(economy)
    names = [MANIFEST, *(name for name in files if name != MANIFEST)]
    table = pa.table(
        {
            "name": pa.array(names, pa.string()),
            "data": pa.array([files[name] for name in names], pa.large_binary()),
        }
    )
    # The data files are already zstd-compressed; statistics would copy each file into the footer.
    return _parquet_bytes(table, compression="none", use_dictionary=False, write_statistics=False)


def economy_from_bytes(data: bytes) -> Economy:
    """Read an economy written by :func:`economy_to_bytes`, verifying every file's hash.

    Raises the errors of :func:`read_economy`, and :class:`FileFormatError` when ``data``
    is not a packed economy.
    """
    files = _unpack(data)

    def where(name: str) -> str:
        return f"packed economy, {name}"

    if MANIFEST not in files:
        raise MissingBlockError(
            "the manifest is missing",
            where=where(MANIFEST),
            expected="a manifest.json row beside the Parquet files",
            fix="write the economy with economy_to_bytes",
        )
    manifest = _parse_manifest(files[MANIFEST], where(MANIFEST))
    return _economy_from_files(manifest, files, where)


def _economy_files(economy: Economy) -> dict[str, bytes]:
    """The files of the folder, by name: the data files, then the manifest listing them."""
    import pyarrow as pa

    tables: dict[str, pa.Table] = {
        "products": _label_table(economy.products, ("region", "sector")),
        "activities": _label_table(economy.activities, ("region", "activity")),
        "use": _triplets(economy.use, economy.products, economy.activities),
        "make": _triplets(economy.make, economy.products, economy.activities),
        "accounts": pa.table(
            {
                name: pa.array(economy.account_coefficients[k], pa.float64())
                for k, name in enumerate(economy.account_names)
            }
            if economy.account_names
            else {"__none__": pa.array(np.zeros(economy.n_activities), pa.float64())}
        ),
        "final_demand": pa.table(
            {
                f"fd{k}": pa.array(economy.final_demand_values[:, k], pa.float64())
                for k in range(economy.final_demand_values.shape[1])
            }
            or {"__none__": pa.array(np.zeros(economy.n_products), pa.float64())}
        ),
    }
    if economy.activity_levels is not None:
        tables["activity_levels"] = pa.table(
            {"level": pa.array(economy.activity_levels, pa.float64())}
        )
    stressors = economy.final_demand_stressor_values
    if stressors is not None:
        tables["final_demand_stressors"] = pa.table(
            {f"fd{k}": pa.array(stressors[:, k], pa.float64()) for k in range(stressors.shape[1])}
            or {"__none__": pa.array(np.zeros(stressors.shape[0]), pa.float64())}
        )
    files = {f"{name}.parquet": _parquet_bytes(table) for name, table in tables.items()}
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata": economy.metadata.to_dict(),
        "check_productive": bool(economy.check_productive),
        "shapes": {
            "products": economy.n_products,
            "activities": economy.n_activities,
            "accounts": len(economy.account_names),
            "final_demand_columns": int(economy.final_demand_values.shape[1]),
            "use_nonzeros": int(economy.use.nnz),
            "make_nonzeros": int(economy.make.nnz),
        },
        "account_names": list(economy.account_names),
        "account_units": {
            name: economy.account_units.get(name, "") for name in economy.account_names
        },
        "final_demand_columns": _index_to_json(economy.final_demand_columns),
        "has_activity_levels": economy.activity_levels is not None,
        "files": {
            filename: {
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "rows": tables[filename.removesuffix(".parquet")].num_rows,
            }
            for filename, data in files.items()
        },
    }
    if stressors is not None:  # only then, so the bytes of economies without F_Y are unchanged
        manifest["has_final_demand_stressors"] = True
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    files[MANIFEST] = text.encode("utf-8")
    return files


def _economy_from_files(
    manifest: Mapping[str, Any], files: Mapping[str, bytes], where: Callable[[str], str]
) -> Economy:
    """The economy in ``files`` (name to bytes) described by ``manifest``, every hash checked;
    ``where(name)`` says where a file came from in error messages."""
    listed = manifest["files"]
    for filename, entry in listed.items():
        if filename not in files:
            raise MissingBlockError(
                "a file listed in the manifest is missing",
                where=where(filename),
                expected=f"{filename} with SHA-256 {entry.get('sha256', '?')[:12]}…",
                fix="copy the whole folder again; the files belong together",
            )
        digest = hashlib.sha256(files[filename]).hexdigest()
        if digest != entry.get("sha256"):
            raise ChecksumError(
                f"content hash {digest[:12]}… does not match the manifest's {str(entry.get('sha256'))[:12]}…",
                where=where(filename),
                expected="the file exactly as written by write_economy",
                fix="the file was edited or corrupted: restore it from the original folder",
            )
    shapes = manifest["shapes"]
    required = [
        "products.parquet",
        "activities.parquet",
        "use.parquet",
        "make.parquet",
        "accounts.parquet",
        "final_demand.parquet",
    ]
    if manifest.get("has_activity_levels"):
        required.append("activity_levels.parquet")
    if manifest.get("has_final_demand_stressors"):
        required.append("final_demand_stressors.parquet")
    absent = [name for name in required if name not in listed]
    if absent:
        raise MissingBlockError(
            f"the manifest lists no {absent}",
            where=where(MANIFEST),
            expected=f"files {required}",
            fix="write the economy again with write_economy",
        )
    tables = {
        name: _read_parquet(files[f"{name}.parquet"], where(f"{name}.parquet"))
        for name in _FILES
        if f"{name}.parquet" in listed
    }
    frames = {name: table.to_pandas() for name, table in tables.items() if name not in _MATRICES}
    products = _labels_from(
        frames["products"], ("region", "sector"), where("products.parquet"), shapes["products"]
    )
    activities = _labels_from(
        frames["activities"],
        ("region", "activity"),
        where("activities.parquet"),
        shapes["activities"],
    )
    shape = (len(products), len(activities))
    use = _matrix_from(
        tables["use"], shape, products, activities, where("use.parquet"), shapes["use_nonzeros"]
    )
    make = _matrix_from(
        tables["make"],
        shape,
        products,
        activities,
        where("make.parquet"),
        shapes["make_nonzeros"],
    )
    names = [str(n) for n in manifest["account_names"]]
    accounts_table = frames["accounts"]
    if names:
        if list(accounts_table.columns) != names or len(accounts_table) != len(activities):
            raise ShapeError(
                f"accounts table has columns {list(accounts_table.columns)[:5]} and {len(accounts_table)} rows",
                where=where("accounts.parquet"),
                expected=f"columns {names[:5]} and {len(activities)} rows",
            )
        coefficients = accounts_table.to_numpy(dtype=np.float64).T
    else:
        coefficients = np.zeros((0, len(activities)))
    fd_columns = _index_from_json(manifest["final_demand_columns"])
    fd_table = frames["final_demand"]
    k = shapes["final_demand_columns"]
    if k:
        if fd_table.shape != (len(products), k) or len(fd_columns) != k:
            raise ShapeError(
                f"final demand has shape {fd_table.shape} and {len(fd_columns)} labels",
                where=where("final_demand.parquet"),
                expected=f"({len(products)}, {k})",
            )
        final_demand = fd_table.to_numpy(dtype=np.float64)
    else:
        final_demand = np.zeros((len(products), 0))
    levels = None
    if "activity_levels" in frames:
        levels = frames["activity_levels"]["level"].to_numpy(dtype=np.float64)
        if levels.shape != (len(activities),):
            raise ShapeError(
                f"{levels.size} activity levels",
                where=where("activity_levels.parquet"),
                expected=f"{len(activities)}",
            )
    stressors = None
    if "final_demand_stressors" in frames:
        stressors = np.zeros((len(names), k))
        if k:
            stressors = frames["final_demand_stressors"].to_numpy(dtype=np.float64)
        if stressors.shape != (len(names), k):
            raise ShapeError(
                f"final-demand stressors have shape {stressors.shape}",
                where=where("final_demand_stressors.parquet"),
                expected=f"({len(names)}, {k})",
            )
    units = manifest.get("account_units", {})
    return Economy(
        products=products,
        activities=activities,
        use=use,
        make=make,
        account_coefficients=coefficients,
        account_names=tuple(names),
        account_units={name: units.get(name, "") for name in names},
        final_demand_values=final_demand,
        final_demand_columns=fd_columns,
        activity_levels=levels,
        metadata=Metadata.from_dict(manifest.get("metadata", {})),
        check_productive=bool(manifest.get("check_productive", True)),
        final_demand_stressor_values=stressors,
    )


# ---- writing helpers -------------------------------------------------------------------


def _label_table(index: pd.MultiIndex, names: tuple[str, str]):
    import pyarrow as pa

    return pa.table(
        {
            names[0]: pa.array(
                index.get_level_values(0).astype(str).to_numpy(dtype=object), pa.string()
            ),
            names[1]: pa.array(
                index.get_level_values(1).astype(str).to_numpy(dtype=object), pa.string()
            ),
        }
    )


def _triplets(matrix: sp.csr_array, products: pd.MultiIndex, activities: pd.MultiIndex):
    """COO triplets of a canonical CSR matrix: positions, the labels of both ends
    (dictionary-encoded, so each distinct label is stored once) and values."""
    import pyarrow as pa

    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    cols = matrix.indices.astype(np.int64)

    def level(index: pd.MultiIndex, k: int, positions: np.ndarray):
        codes = np.asarray(index.codes[k], dtype=np.int64)[positions]
        values = np.asarray(index.levels[k].astype(str), dtype=object)
        return pa.DictionaryArray.from_arrays(
            pa.array(codes, pa.int64()), pa.array(values, pa.string())
        )

    return pa.table(
        {
            "row": pa.array(rows, pa.int64()),
            "col": pa.array(cols, pa.int64()),
            "product_region": level(products, 0, rows),
            "product_sector": level(products, 1, rows),
            "activity_region": level(activities, 0, cols),
            "activity": level(activities, 1, cols),
            "value": pa.array(matrix.data, pa.float64()),
        }
    )


def _parquet_bytes(table, **options: Any) -> bytes:
    """``table`` as the bytes of a Parquet file (zstd unless ``options`` say otherwise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **{"compression": "zstd", **options})
    return sink.getvalue().to_pybytes()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise UnsupportedOperationError(
        f"metadata value {value!r} of type {type(value).__name__} cannot be written to JSON",
        where="economy.metadata",
        expected="strings, numbers, booleans, None, lists and dicts of them",
        fix="convert the value to one of these before writing",
    )


def _index_to_json(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        return {"kind": "multi", "names": list(index.names), "values": [list(t) for t in index]}
    return {"kind": "flat", "name": index.name, "values": index.tolist()}


# ---- reading helpers -------------------------------------------------------------------


def _parse_manifest(data: bytes, where: str) -> Mapping[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FileFormatError(
            f"manifest is not valid JSON ({error})",
            where=where,
            expected="the JSON manifest written by write_economy",
            fix="restore manifest.json from the original folder",
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise FileFormatError(
            "not a Commonplan economy manifest",
            where=where,
            expected=f'"format": "{FORMAT_NAME}"',
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise FileFormatError(
            f"format version {version!r} is not supported",
            where=where,
            expected=f"version {FORMAT_VERSION}",
            fix="read it with the Commonplan version that wrote it, or upgrade Commonplan",
        )
    for key in ("files", "shapes", "account_names", "final_demand_columns"):
        if key not in manifest:
            raise FileFormatError(
                f"manifest lacks {key!r}", where=where, expected="a complete manifest"
            )
    return manifest


def _read_parquet(data: bytes, where: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise FileFormatError(
            f"file could not be read as Parquet ({str(error)[:120]})",
            where=where,
            expected="a Parquet file written by write_economy",
        ) from None


def _unpack(data: bytes) -> dict[str, bytes]:
    """The files packed by :func:`economy_to_bytes`, by name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise FileFormatError(
            f"bytes could not be read as Parquet ({str(error)[:120]})",
            where="packed economy",
            expected="the bytes written by economy_to_bytes",
        ) from None
    if table.column_names != ["name", "data"]:
        raise FileFormatError(
            f"packed economy has columns {table.column_names[:5]}",
            where="packed economy",
            expected="columns ['name', 'data'], as written by economy_to_bytes",
        )
    return dict(zip(table["name"].to_pylist(), table["data"].to_pylist(), strict=True))


def _labels_from(
    frame: pd.DataFrame, names: tuple[str, str], where: str, expected: int
) -> pd.MultiIndex:
    if list(frame.columns) != list(names) or len(frame) != expected:
        raise ShapeError(
            f"label table has columns {list(frame.columns)} and {len(frame)} rows",
            where=where,
            expected=f"columns {list(names)} and {expected} rows",
        )
    return pd.MultiIndex.from_arrays(
        [frame[names[0]].astype(str), frame[names[1]].astype(str)], names=list(names)
    )


def _matrix_from(
    table,
    shape: tuple[int, int],
    products: pd.MultiIndex,
    activities: pd.MultiIndex,
    where: str,
    nnz: int,
) -> sp.csr_array:
    """The CSR matrix of a triplet table (Arrow), its labels checked against its positions."""
    if table.column_names != _TRIPLET_COLUMNS or table.num_rows != nnz:
        raise ShapeError(
            f"triplet table has columns {table.column_names} and {table.num_rows} rows",
            where=where,
            expected=f"columns {_TRIPLET_COLUMNS} and {nnz} rows",
        )
    rows = np.asarray(table["row"].to_numpy(), dtype=np.int64)
    cols = np.asarray(table["col"].to_numpy(), dtype=np.int64)
    if len(rows) and (
        rows.min() < 0 or rows.max() >= shape[0] or cols.min() < 0 or cols.max() >= shape[1]
    ):
        raise ShapeError(
            "triplet positions lie outside the matrix",
            where=where,
            expected=f"positions within {shape}",
        )
    checks = (
        ("product_region", products, 0, rows),
        ("product_sector", products, 1, rows),
        ("activity_region", activities, 0, cols),
        ("activity", activities, 1, cols),
    )
    for column, index, k, positions in checks:
        written, codes = _label_codes(table[column], index.levels[k])
        expected = np.asarray(index.codes[k], dtype=np.int64)[positions]
        mismatch = codes != expected
        if mismatch.any():
            j = int(np.flatnonzero(mismatch)[0])
            raise LabelError(
                f"triplet {j} names {column} {written[j].as_py()!r} but its position says "
                f"{index.levels[k][expected[j]]!r}",
                where=where,
                expected="labels that agree with products.parquet / activities.parquet",
            )
    values = np.asarray(table["value"].to_numpy(), dtype=np.float64)
    matrix = sp.csr_array((values, (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    return matrix


def _label_codes(column, level: pd.Index) -> tuple[Any, np.ndarray]:
    """A label column (as a dictionary-encoded Arrow array) and each entry's code in
    ``level``, -1 for a label not in it or a missing one; compared by code, not by string."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = column.combine_chunks()
    if not pa.types.is_dictionary(encoded.type):
        encoded = pc.dictionary_encode(encoded)
    dictionary = encoded.dictionary.to_pandas().astype(object)
    in_level = np.append(level.get_indexer(dictionary), -1)  # the last entry is for nulls
    indices = encoded.indices.fill_null(len(dictionary)).to_numpy()
    return encoded, in_level[np.asarray(indices, dtype=np.int64)]


def _index_from_json(data: Mapping[str, Any]) -> pd.Index:
    if data.get("kind") == "multi":
        return pd.MultiIndex.from_tuples([tuple(v) for v in data["values"]], names=data["names"])
    return pd.Index(data["values"], name=data.get("name"))
