"""Economies and plans as content-addressed Parquet blobs."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from commonplan.errors import ConflictError, NotFoundError
from commonplan.store.blobs import (
    economy_from_parquet,
    economy_to_parquet,
    frame_from_parquet,
    frame_to_parquet,
    get_blob,
    put_blob,
)


def test_economy_round_trips_exactly_through_parquet(colombia):
    data = economy_to_parquet(colombia)
    back = economy_from_parquet(data)
    assert back.products.equals(colombia.products)
    assert back.activities.equals(colombia.activities)
    assert (back.use != colombia.use).nnz == 0
    assert (back.make != colombia.make).nnz == 0
    np.testing.assert_array_equal(back.account_coefficients, colombia.account_coefficients)
    np.testing.assert_array_equal(back.final_demand_values, colombia.final_demand_values)
    np.testing.assert_array_equal(back.activity_levels, colombia.activity_levels)
    assert list(back.final_demand_columns) == list(colombia.final_demand_columns)
    assert back.account_names == colombia.account_names
    assert dict(back.account_units) == dict(colombia.account_units)
    assert back.metadata == colombia.metadata
    assert data[:4] == b"PAR1"


def test_blobs_are_stored_once_under_their_hash_and_checked_on_read(db, colombia):
    data = economy_to_parquet(colombia)
    with db.transaction() as session:
        digest = put_blob(session, data, kind="economy")
        assert put_blob(session, data, kind="economy") == digest
    assert digest == hashlib.sha256(data).hexdigest()
    with db.read() as session:
        assert get_blob(session, digest) == data
        assert session.execute(text("SELECT count(*) FROM blobs")).scalar() == 1
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE blobs SET data = :d WHERE sha256 = :h"),
            {"d": data[:-1] + b"X", "h": digest},
        )
    with (
        db.read() as session,
        pytest.raises(ConflictError, match="does not match its content hash"),
    ):
        get_blob(session, digest)
    with db.read() as session, pytest.raises(NotFoundError):
        get_blob(session, "0" * 64)


def test_labelled_frames_round_trip():
    frame = pd.DataFrame(
        {"level": [1.5, 2.0], "output": [3.0, 4.25]},
        index=pd.MultiIndex.from_tuples(
            [("COL", "01 Agricultura"), ("COL", "02 Café")], names=["region", "sector"]
        ),
    )
    pd.testing.assert_frame_equal(frame_from_parquet(frame_to_parquet(frame)), frame)
