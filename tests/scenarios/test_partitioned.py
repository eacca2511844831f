"""The partitioned block-Jacobi Leontief solve on a LocalCluster agrees with LeontiefSolver."""

from __future__ import annotations

import numpy as np
import pytest
from distributed import Client, LocalCluster

from commonplan.linalg import LeontiefSolver
from commonplan.scenarios.partitioned import partitioned_solve, region_partitions
from random_matrices import sparse_coefficients


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = Client(cluster, timeout=60)
    try:
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


def test_icio_by_region_matches_the_single_process_solve(icio, client):
    regions = icio.products.get_level_values(0).astype(str).to_numpy()
    y = icio.total_final_demand.to_numpy(float)
    parts = region_partitions(regions, 4)
    assert len(parts) == 4 and sorted(np.concatenate(parts)) == list(range(icio.n_products))
    expected = LeontiefSolver(icio.A, tol=1e-14).solve(y)
    got = partitioned_solve(icio.A, y, parts, client, tol=1e-13)
    assert np.max(np.abs(got.x - expected)) / np.max(np.abs(expected)) < 1e-10
    assert got.iterations > 1 and got.exchanged < icio.n_products


def test_random_regional_matrix_matches(client):
    n, size = 1200, 200
    A = sparse_coefficients(n, inputs=20, seed=3)
    # most inputs from the own region: keep 20 % of the cross-region entries
    rows, cols = A.nonzero()
    keep = (rows // size == cols // size) | (np.random.default_rng(1).random(rows.size) < 0.2)
    A = A.tocoo()
    import scipy.sparse as sp

    A = sp.csr_array((A.data[keep], (rows[keep], cols[keep])), shape=(n, n))
    y = np.random.default_rng(2).uniform(1, 10, n)
    parts = region_partitions(np.arange(n) // size, 3)
    got = partitioned_solve(A, y, parts, client, tol=1e-13)
    expected = LeontiefSolver(A, tol=1e-14).solve(y)
    assert np.max(np.abs(got.x - expected)) / np.max(np.abs(expected)) < 1e-10
