"""Large arrays as content-addressed Parquet blobs.

An :class:`~commonplan.economy.Economy` is stored as the bytes of Commonplan's own format,
packed into one Parquet file by :func:`commonplan.io.native.economy_to_bytes` (the
manifest and the Parquet files of :func:`~commonplan.io.native.write_economy`, each with
its SHA-256), so the store and the folders on disk share one codec and one set of
metadata rules. A labelled DataFrame (a plan's activity levels, outputs, …) becomes a
Parquet file of itself. Each blob is stored once under the hex SHA-256 of its bytes, and
:func:`get_blob` checks that hash on every read, so a corrupted blob is never used
silently.
"""

from __future__ import annotations

import hashlib
import io

import pandas as pd
from sqlalchemy.orm import Session

from commonplan.economy import Economy
from commonplan.errors import ConflictError, NotFoundError
from commonplan.io.native import economy_from_bytes, economy_to_bytes
from commonplan.store.models import Blob


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def economy_to_parquet(economy: Economy) -> bytes:
    """The economy as one Parquet file, :func:`~commonplan.io.native.economy_to_bytes`; round-trips exactly."""
    return economy_to_bytes(economy)


def economy_from_parquet(data: bytes) -> Economy:
    """The :class:`Economy` written by :func:`economy_to_parquet`, every file's hash checked."""
    return economy_from_bytes(data)


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
