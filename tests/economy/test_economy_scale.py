"""An economy of 10⁶ products with 4·10⁷ input coefficients fits and works (issue 2: "sparse throughout")."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from commonplan import Economy
from commonplan.analysis import LeontiefSolver, labour_values, quantities


def _random_coefficients(n: int, per_column: int, rng: np.random.Generator) -> sp.csc_array:
    """Column j has ``per_column`` inputs whose coefficients sum to 0.6 (spectral radius ≤ 0.6)."""
    rows = rng.integers(0, n, size=n * per_column, dtype=np.int64)
    values = rng.random(n * per_column)
    values = values / values.reshape(n, per_column).sum(axis=1).repeat(per_column) * 0.6
    indptr = np.arange(0, n * per_column + 1, per_column, dtype=np.int64)
    return sp.csc_array((values, rows, indptr), shape=(n, n))


@pytest.mark.slow
def test_a_million_products_with_forty_million_coefficients():
    rng = np.random.default_rng(7)
    n, per_column = 1_000_000, 40
    A = _random_coefficients(n, per_column, rng)
    y = rng.random(n)
    labour = rng.random(n)
    start = time.perf_counter()
    economy = Economy.from_coefficients(
        A,
        y=y,
        accounts={"labour": labour},
        account_units={"labour": "hours"},
        products=[f"p{i}" for i in range(n)],
    )
    built = time.perf_counter() - start
    assert economy.use.nnz > 0.99 * n * per_column  # duplicates summed, nothing dropped
    assert economy.n_products == n

    solver = LeontiefSolver(economy)
    x = quantities(economy, y, solver=solver).to_numpy()
    # the quantity solution satisfies x − A x = y to the solver's tolerance
    residual = np.linalg.norm(x - economy.A @ x - y) / np.linalg.norm(y)
    assert residual < 1e-9
    # observed output defaulted to the same Leontief solution
    np.testing.assert_allclose(economy.activity_levels, x, rtol=1e-8)
    values = labour_values(economy, "labour", solver=solver).to_numpy()
    assert np.linalg.norm(values - economy.A.T @ values - labour) / np.linalg.norm(labour) < 1e-9
    # duality: labour embodied in final demand equals direct labour of the gross output
    assert values @ y == pytest.approx(labour @ x, rel=1e-8)
    assert built < 300
