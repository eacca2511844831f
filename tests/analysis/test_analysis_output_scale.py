"""Written analysis output grows with the number of products, not with its square (issue 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan import Economy
from commonplan.analysis import analyse


def _economy(n: int, per_column: int = 5, seed: int = 11) -> Economy:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n, size=n * per_column, dtype=np.int64)
    values = rng.random(n * per_column)
    values = values / values.reshape(n, per_column).sum(axis=1).repeat(per_column) * 0.6
    indptr = np.arange(0, n * per_column + 1, per_column, dtype=np.int64)
    A = sp.csc_array((values, rows, indptr), shape=(n, n))
    return Economy.from_coefficients(
        A,
        y=rng.random(n),
        accounts={"labour": rng.random(n), "value_added": 1.0 - A.sum(axis=0)},
        account_units={"labour": "hours", "value_added": "USD"},
        products=[f"p{i}" for i in range(n)],
    )


def _written(n: int, folder) -> tuple[int, int, int]:
    """Bytes of Parquet, bytes of CSV, widest table (columns) for an economy of ``n`` products."""
    paths = analyse(_economy(n)).write(folder, formats=("parquet", "csv"))
    parquet = sum(p.stat().st_size for p in paths if p.suffix == ".parquet")
    csv = sum(p.stat().st_size for p in paths if p.suffix == ".csv")
    widest = max(pd.read_parquet(p).shape[1] for p in paths if p.suffix == ".parquet")
    return parquet, csv, widest


def test_output_doubles_when_products_double(tmp_path):
    # both sizes are above the dense limit (no extraction table), so the same tables are written
    small = _written(3_000, tmp_path / "small")
    large = _written(6_000, tmp_path / "large")
    assert 1.6 < large[1] / small[1] < 2.4  # CSV: twice the rows (n² would give 4)
    assert 1.5 < large[0] / small[0] < 2.5  # Parquet: compressed, about twice as well
    assert small[2] == large[2] <= 8  # no table has a column per product
