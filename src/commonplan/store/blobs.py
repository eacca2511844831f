"""Large arrays as content-addressed Parquet blobs.

An :class:`~commonplan.economy.Economy` becomes ONE Parquet file in long (COO) form —
columns ``block`` (``use``, ``make``, ``accounts``, ``final_demand``, ``levels``),
``row``, ``col``, ``value`` — with the labels, account names and units, final-demand
columns and metadata as JSON in the file's key-value metadata. A labelled DataFrame
(a plan's activity levels, outputs, …) becomes a Parquet file of itself. Each blob is
stored once under the hex SHA-256 of its bytes, and :func:`get_blob` checks that hash
on every read, so a corrupted blob is never used silently.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from sqlalchemy.orm import Session

from commonplan.economy import Economy, Metadata
from commonplan.errors import ConflictError, NotFoundError
from commonplan.store.models import Blob

_MANIFEST_KEY = b"commonplan.economy"
_FORMAT = "commonplan-economy-coo/1"


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _labels(index: pd.Index) -> dict[str, Any]:
    if isinstance(index, pd.MultiIndex):
        return {"names": list(index.names), "tuples": [list(t) for t in index.tolist()]}
    return {"names": [index.name], "values": index.tolist()}


def _index(data: dict[str, Any]) -> pd.Index:
    if "tuples" in data:
        return pd.MultiIndex.from_tuples([tuple(t) for t in data["tuples"]], names=data["names"])
    return pd.Index(data["values"], name=data["names"][0])


def _coo(block: str, matrix: Any) -> pd.DataFrame:
    coo = sp.coo_array(matrix)
    return pd.DataFrame(
        {
            "block": block,
            "row": coo.row.astype(np.int64),
            "col": coo.col.astype(np.int64),
            "value": coo.data,
        }
    )


def economy_to_parquet(economy: Economy) -> bytes:
    """One Parquet file holding the whole economy (see module doc); round-trips exactly."""
    blocks = [
        _coo("use", economy.use),
        _coo("make", economy.make),
        _coo("accounts", sp.coo_array(economy.account_coefficients)),
        _coo("final_demand", sp.coo_array(economy.final_demand_values)),
    ]
    if economy.activity_levels is not None:
        levels = np.asarray(economy.activity_levels)
        blocks.append(
            pd.DataFrame(
                {"block": "levels", "row": np.arange(levels.size), "col": 0, "value": levels}
            )
        )
    frame = pd.concat(blocks, ignore_index=True)
    manifest = {
        "format": _FORMAT,
        "products": _labels(economy.products),
        "activities": _labels(economy.activities),
        "account_names": list(economy.account_names),
        "account_units": dict(economy.account_units),
        "final_demand_columns": _labels(economy.final_demand_columns),
        "shapes": {
            "accounts": list(economy.account_coefficients.shape),
            "final_demand": list(economy.final_demand_values.shape),
        },
        "has_levels": economy.activity_levels is not None,
        "metadata": economy.metadata.to_dict(),
        "check_productive": economy.check_productive,
    }
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {_MANIFEST_KEY: json.dumps(manifest, default=str).encode()}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def economy_from_parquet(data: bytes) -> Economy:
    """Rebuild the :class:`Economy` written by :func:`economy_to_parquet`."""
    table = pq.read_table(io.BytesIO(data))
    manifest = json.loads(table.schema.metadata[_MANIFEST_KEY])
    frame = table.to_pandas()
    products, activities = _index(manifest["products"]), _index(manifest["activities"])
    shapes = {
        "use": (len(products), len(activities)),
        "make": (len(products), len(activities)),
        "accounts": tuple(manifest["shapes"]["accounts"]),
        "final_demand": tuple(manifest["shapes"]["final_demand"]),
    }
    parts = {}
    for block, shape in shapes.items():
        rows = frame[frame["block"] == block]
        parts[block] = sp.csr_array(
            (rows["value"].to_numpy(), (rows["row"].to_numpy(), rows["col"].to_numpy())),
            shape=shape,
        )
    levels = None
    if manifest["has_levels"]:
        rows = frame[frame["block"] == "levels"].sort_values("row")
        levels = rows["value"].to_numpy()
    return Economy(
        products=products,
        activities=activities,
        use=parts["use"],
        make=parts["make"],
        account_coefficients=parts["accounts"].toarray(),
        account_names=tuple(manifest["account_names"]),
        account_units=manifest["account_units"],
        final_demand_values=parts["final_demand"].toarray(),
        final_demand_columns=_index(manifest["final_demand_columns"]),
        activity_levels=levels,
        metadata=Metadata.from_dict(manifest["metadata"]),
        check_productive=manifest["check_productive"],
    )


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """A labelled DataFrame (index kept) as Parquet bytes."""
    sink = io.BytesIO()
    frame.to_parquet(sink, compression="zstd")
    return sink.getvalue()


def frame_from_parquet(data: bytes) -> pd.DataFrame:
    """The DataFrame written by :func:`frame_to_parquet`."""
    return pd.read_parquet(io.BytesIO(data))


def put_blob(session: Session, data: bytes, *, kind: str) -> str:
    """Store ``data`` once under its SHA-256 and return the hash (an existing blob is reused)."""
    digest = sha256_hex(data)
    if session.get(Blob, digest) is None:
        session.add(Blob(sha256=digest, kind=kind, size=len(data), data=data))
        session.flush()
    return digest


def get_blob(session: Session, digest: str) -> bytes:
    """The bytes stored under ``digest``, after checking that they still hash to it."""
    blob = session.get(Blob, digest)
    if blob is None:
        raise NotFoundError(
            f"no stored blob {digest[:12]}…", where="blobs", fix="store the economy or plan again"
        )
    data = bytes(blob.data)
    if sha256_hex(data) != digest:
        raise ConflictError(
            "a stored blob does not match its content hash (it was corrupted or altered)",
            where=f"blob {digest}",
            expected="bytes whose SHA-256 equals the blob's key",
            fix="restore the database from a backup",
        )
    return data
