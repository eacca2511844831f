"""Fuzzing the plain-table reader: any bytes, any table → an Economy or a CommonplanError."""

from __future__ import annotations

import io
import string
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonplan.economy import Economy
from commonplan.errors import CommonplanError
from commonplan.io.plain import read_flow_table

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _outcome(path: Path, **kwargs) -> object:
    try:
        return read_flow_table(path, **kwargs)
    except CommonplanError as error:
        assert str(error)  # every error renders one line
        return error


@SETTINGS
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx", ".parquet", ".tsv"]))
def test_random_bytes(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table{suffix}"
        path.write_bytes(data)
        _outcome(path)


label = st.text(alphabet=string.ascii_letters + string.digits + " _-/", min_size=0, max_size=4)
cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=0, max_value=1e6),
    st.sampled_from(["", "---", "x", "1,5", "(3)", "nan", " 7 "]),
)


@st.composite
def tables(draw):
    n = draw(st.integers(1, 5))
    products = draw(st.lists(label, min_size=n, max_size=n))
    extra_columns = draw(
        st.lists(st.sampled_from(["fd", "exports", "x", "Total output", "total"]), max_size=3)
    )
    extra_rows = draw(st.lists(st.sampled_from(["va", "labour [h]", "total", "x"]), max_size=2))
    columns = products + extra_columns
    rows = (
        draw(st.permutations(products)) + extra_rows
        if draw(st.booleans())
        else products + extra_rows
    )
    values = [[draw(cell) for _ in columns] for _ in rows]
    return pd.DataFrame(values, index=rows, columns=columns, dtype=object)


@SETTINGS
@given(table=tables(), fmt=st.sampled_from(["csv", "xlsx", "parquet"]))
def test_random_tables(table, fmt):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table.{fmt}"
        if fmt == "csv":
            table.to_csv(path)
        elif fmt == "xlsx":
            table.to_excel(path)
        else:
            try:
                frame = table.copy()
                frame.columns = [str(c) for c in frame.columns]
                frame.astype(str).reset_index().to_parquet(path)
            except (ValueError, TypeError):  # pandas refuses duplicate column names
                return
        result = _outcome(path)
        if isinstance(result, Economy):
            assert np.isfinite(result.use.data).all() and (result.use.data >= 0).all()
            assert np.isfinite(result.final_demand_values).all()


@SETTINGS
@given(
    flows=st.lists(st.floats(min_value=0, max_value=1e4), min_size=4, max_size=4),
    fd=st.lists(st.floats(min_value=-1e4, max_value=1e4, allow_nan=False), min_size=2, max_size=2),
)
def test_random_numbers_in_a_valid_layout(flows, fd):
    """Well-formed layout, random values: an Economy whose identities hold, or a clear error."""
    table = pd.DataFrame(
        [[flows[0], flows[1], fd[0]], [flows[2], flows[3], fd[1]]],
        index=["a", "b"],
        columns=["a", "b", "fd"],
    )
    buffer = io.StringIO()
    table.to_csv(buffer)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_text(buffer.getvalue())
        result = _outcome(path)
        if isinstance(result, Economy):
            x = result.gross_output.to_numpy()
            np.testing.assert_allclose(
                result.flows().toarray().sum(axis=1) + np.array(fd), x, atol=1e-6 * max(1, x.max())
            )
