"""The Leontief solver: methods agree, residuals are checked, failures are reported."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import eigs

from commonplan.analysis import LeontiefSolver
from commonplan.errors import InvalidValueError, ShapeError, SolverError


def random_coefficients(n: int, mean_inputs: int = 30, seed: int = 0) -> sp.csr_array:
    """Sparse A with a skewed number of inputs per product and column sums in [0.3, 0.7]."""
    rng = np.random.default_rng(seed)
    inputs = np.clip(rng.lognormal(np.log(mean_inputs) - 0.5, 1.0, n).astype(int), 1, n)
    cols = np.repeat(np.arange(n), inputs)
    rows = rng.integers(0, n, cols.size)
    A = sp.csr_array((rng.random(cols.size), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    sums = np.asarray(A.sum(axis=0)).ravel()
    return sp.csr_array(A @ sp.diags_array(rng.uniform(0.3, 0.7, n) / sums))


@pytest.fixture(scope="module")
def A() -> sp.csr_array:
    return random_coefficients(1500)


def test_methods_agree_with_dense_inverse(A):
    n = A.shape[0]
    rng = np.random.default_rng(1)
    B = rng.random((n, 5))
    L = np.linalg.inv(np.eye(n) - A.toarray())
    for method in ("dense", "gmres", "splu"):
        solver = LeontiefSolver(A, method=method, tol=1e-12)
        np.testing.assert_allclose(solver.solve(B), L @ B, rtol=1e-10, err_msg=method)
        np.testing.assert_allclose(solver.solve_transpose(B), L.T @ B, rtol=1e-10, err_msg=method)
        report = solver.last_report
        assert report.transposed and report.n_rhs == 5
        assert report.max_relative_residual <= 1e-12


def test_gmres_block_matches_column_by_column(A):
    rng = np.random.default_rng(2)
    B = rng.random((A.shape[0], 70))
    B[:, 3] = 0.0  # a zero right-hand side gives a zero solution
    solver = LeontiefSolver(A, method="gmres", tol=1e-12, block_size=16)
    X = solver.solve(B)
    assert np.all(X[:, 3] == 0.0)
    single = np.column_stack([solver.solve(B[:, j]) for j in (0, 50, 69)])
    np.testing.assert_allclose(X[:, [0, 50, 69]], single, rtol=1e-10)
    # GMRES needs far fewer products with A than the Neumann series Σ Aᵏ y would: with
    # ρ(A) measured below, the series needs log(1e-12)/log(ρ) terms
    rho = float(abs(eigs(A, k=1, which="LM", return_eigenvectors=False)[0]))  # Perron root
    neumann_terms = np.log(1e-12) / np.log(rho)
    solver.solve(B[:, 0])
    assert solver.last_report.matvecs < 0.6 * neumann_terms
    assert solver.last_report.max_relative_residual <= 1e-12


def test_neumann_preconditioning_gives_the_same_answer(A):
    b = np.random.default_rng(3).random(A.shape[0])
    plain = LeontiefSolver(A, method="gmres", neumann_degree=1, tol=1e-12)
    deg3 = LeontiefSolver(A, method="gmres", neumann_degree=3, tol=1e-12)
    np.testing.assert_allclose(deg3.solve(b), plain.solve(b), rtol=1e-10)
    assert deg3.last_report.iterations < plain.last_report.iterations


def test_auto_chooses_dense_for_small_and_gmres_for_large():
    assert LeontiefSolver(random_coefficients(50), method="auto").method == "dense"
    assert LeontiefSolver(random_coefficients(50), method="auto", dense_limit=10).method == "gmres"


def test_unreachable_tolerance_raises_solver_error(A):
    solver = LeontiefSolver(A, method="gmres", tol=1e-12, maxiter=3, restart=3)
    with pytest.raises(SolverError, match="relative residual"):
        solver.solve(np.ones(A.shape[0]))


def test_bad_right_hand_sides(A):
    solver = LeontiefSolver(A, method="dense")
    with pytest.raises(ShapeError):
        solver.solve(np.ones(7))
    bad = np.ones(A.shape[0])
    bad[4] = np.nan
    with pytest.raises(InvalidValueError, match="non-finite"):
        solver.solve(bad)
    with pytest.raises(InvalidValueError, match="unknown solver method"):
        LeontiefSolver(A, method="magic")
    with pytest.raises(ShapeError):
        LeontiefSolver(sp.csr_array(np.ones((2, 3))))


def test_inverse_on_request(A):
    small = random_coefficients(40, 5)
    L = LeontiefSolver(small).inverse()
    np.testing.assert_allclose(L, np.linalg.inv(np.eye(40) - small.toarray()), rtol=1e-12)
