"""The kernel: warm starts, reports, the dense/GMRES rule, the dense inverse, spectral radius."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from commonplan.errors import ShapeError
from commonplan.linalg import (
    DENSE_WORK_RATIO,
    LeontiefReport,
    LeontiefSolver,
    spectral_radius,
    spectral_radius_bounds,
)
from random_matrices import sparse_coefficients


def coefficients(n: int, inputs: int, seed: int = 0, total: float = 0.5) -> sp.csr_array:
    """``inputs`` random inputs per product; column sums ``total`` (then ρ(A) = total)."""
    return sparse_coefficients(n, inputs, seed, total=total)


@pytest.fixture(scope="module")
def A() -> sp.csr_array:
    return coefficients(3000, 20)


@pytest.mark.parametrize("transposed", [False, True])
def test_warm_start_reaches_the_same_answer_in_fewer_steps(A, transposed):
    rng = np.random.default_rng(4)
    B = rng.random((A.shape[0], 3))
    solver = LeontiefSolver(A, method="gmres")
    solve = solver.solve_transpose if transposed else solver.solve
    cold = solve(B)
    cold_report = solver.last_report
    guess = cold * (1 + 1e-6 * rng.standard_normal(cold.shape))  # a nearby answer
    warm = solve(B, x0=guess)
    np.testing.assert_allclose(warm, cold, rtol=1e-10)
    report = solver.last_report
    assert isinstance(report, LeontiefReport)
    assert report.warm_start and not cold_report.warm_start
    assert report.transposed is transposed and report.n_rhs == 3
    assert report.iterations < cold_report.iterations
    assert report.max_relative_residual <= solver.tol
    assert report.seconds > 0


def test_warm_start_of_a_zero_right_hand_side_is_zero(A):
    b = np.zeros((A.shape[0], 2))
    b[:, 1] = 1.0
    x = LeontiefSolver(A, method="gmres").solve(b, x0=np.ones_like(b))
    assert np.all(x[:, 0] == 0.0)


def test_initial_guess_of_the_wrong_shape(A):
    with pytest.raises(ShapeError, match="initial guess"):
        LeontiefSolver(A, method="gmres").solve(np.ones(A.shape[0]), x0=np.ones(3))


def test_auto_factorises_densely_only_where_it_is_cheap():
    sparse = coefficients(1000, 5)  # n³ = 1e9 > DENSE_WORK_RATIO · 5,000
    dense = coefficients(300, 150)  # n³ = 2.7e7 < DENSE_WORK_RATIO · ~34,000
    assert sparse.shape[0] ** 3 > DENSE_WORK_RATIO * sparse.nnz
    assert LeontiefSolver(sparse).method == "gmres"
    assert LeontiefSolver(dense).method == "dense"


def test_inverse_of_a_gmres_solver_is_the_dense_inverse():
    A = coefficients(400, 5)
    solver = LeontiefSolver(A, method="gmres")
    np.testing.assert_allclose(
        solver.inverse(), np.linalg.inv(np.eye(400) - A.toarray()), rtol=1e-12
    )


def test_an_object_with_an_A_attribute_is_accepted(A):
    class Table:
        pass

    table = Table()
    table.A = A
    assert LeontiefSolver(table).n == A.shape[0]


@pytest.mark.parametrize("total", [0.5, 0.999, 1.0, 1.3])
def test_spectral_radius_against_eigenvalues(total):
    A = coefficients(300, 10, seed=2, total=total)  # equal column sums: ρ(A) = total exactly
    eigen = float(np.abs(np.linalg.eigvals(A.toarray())).max())
    assert eigen == pytest.approx(total, rel=1e-9)
    rho = spectral_radius(A)
    assert (rho < 1.0) == (total < 1.0)
    lower, upper = spectral_radius_bounds(A, tol=1e-12, iterations=5000)
    assert lower <= eigen * (1 + 1e-9) and upper >= eigen * (1 - 1e-9)


def test_spectral_radius_is_the_eigenvalue_where_the_bounds_straddle_the_threshold():
    A = coefficients(200, 10, seed=3, total=0.7)
    A = sp.csr_array(A @ sp.diags_array(np.linspace(0.6, 1.2, 200)))  # column sums 0.42–0.84
    eigen = float(np.abs(np.linalg.eigvals(A.toarray())).max())
    lower, upper = spectral_radius_bounds(A, threshold=eigen)
    assert lower <= eigen <= upper and upper - lower > 0
    assert spectral_radius(A, threshold=eigen) == pytest.approx(eigen, rel=1e-9)
    assert spectral_radius(A, threshold=0.9) == upper_bound_below(A, 0.9)


def upper_bound_below(A, threshold):
    """The Collatz–Wielandt upper bound once it is below ``threshold`` (what is returned then)."""
    lower, upper = spectral_radius_bounds(A, threshold=threshold)
    assert upper < threshold
    return upper


def regional(regions: int, size: int, inputs: int, seed: int = 5) -> sp.csr_array:
    """Most inputs (85 %) from the product's own region, column sums in [0.75, 0.95]."""
    rng = np.random.default_rng(seed)
    n = regions * size
    cols = np.repeat(np.arange(n), inputs)
    own = (cols // size) * size + rng.integers(0, size, cols.size)
    rows = np.where(rng.random(cols.size) < 0.85, own, rng.integers(0, n, cols.size))
    A = sp.csr_array((rng.random(cols.size), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    sums = np.asarray(A.sum(axis=0)).ravel()
    return sp.csr_array(A @ sp.diags_array(rng.uniform(0.75, 0.95, n) / sums))


@pytest.mark.parametrize("shuffled", [False, True])
def test_block_jacobi_preconditioning_agrees_with_a_dense_solve_in_fewer_products(shuffled):
    regions, size = 8, 100
    A = regional(regions, size, inputs=60)
    codes = np.repeat(np.arange(regions), size)
    if shuffled:  # products not sorted by region
        order = np.random.default_rng(6).permutation(A.shape[0])
        A, codes = sp.csr_array(A[order][:, order]), codes[order]
    n = A.shape[0]
    B = np.random.default_rng(7).random((n, 4))
    I_A = np.eye(n) - A.toarray()
    plain = LeontiefSolver(A, method="gmres")
    blocked = LeontiefSolver(A, method="gmres", blocks=codes)
    for transposed, oracle in ((False, I_A), (True, I_A.T)):
        expected = np.linalg.solve(oracle, B)
        products = []
        for solver in (plain, blocked):
            solve = solver.solve_transpose if transposed else solver.solve
            np.testing.assert_allclose(solve(B), expected, rtol=1e-10)
            assert solver.last_report.max_relative_residual <= solver.tol
            products.append(solver.last_report.matvecs)
        assert products[1] < 0.7 * products[0]


def test_an_economy_like_table_is_preconditioned_by_its_regions():
    import pandas as pd

    regions, size = 8, 100
    A = regional(regions, size, inputs=60)

    class Table:
        pass

    table = Table()
    table.A = A
    table.products = pd.MultiIndex.from_product(
        [[f"R{r}" for r in range(regions)], [f"s{s}" for s in range(size)]],
        names=["region", "sector"],
    )
    b = np.ones(A.shape[0])
    by_region = LeontiefSolver(table, method="gmres")
    plain = LeontiefSolver(A, method="gmres")
    np.testing.assert_allclose(by_region.solve(b), plain.solve(b), rtol=1e-10)
    assert by_region.last_report.matvecs < 0.7 * plain.last_report.matvecs


def test_blocks_that_do_not_pay_are_ignored_and_wrong_ones_rejected():
    A = regional(2, 1200, inputs=5)  # blocks above BLOCK_LIMIT
    codes = np.repeat([0, 1], 1200)
    b = np.ones(A.shape[0])
    plain = LeontiefSolver(A, method="gmres")
    blocked = LeontiefSolver(A, method="gmres", blocks=codes)
    np.testing.assert_array_equal(blocked.solve(b), plain.solve(b))  # the same arithmetic
    with pytest.raises(ShapeError, match="blocks"):
        LeontiefSolver(A, method="gmres", blocks=codes[:10])


@pytest.mark.parametrize(
    ("m", "size", "multiple", "widths"),
    [
        (147, 64, 4, [37, 37, 37, 36]),  # a multiple of 4, not 64 + 64 + 19
        (147, 64, 1, [49, 49, 49]),
        (49, 64, 4, [13, 13, 13, 10]),
        (300, 64, 4, [38] * 7 + [34]),  # 5 blocks of ≤ 64 rounded up to 8
        (3, 64, 4, [1, 1, 1]),  # never more blocks than columns
        (1, 64, 4, [1]),
        (0, 64, 4, []),
    ],
)
def test_right_hand_sides_are_split_into_equal_blocks(m, size, multiple, widths):
    from commonplan.linalg.leontief import _column_blocks

    blocks = _column_blocks(m, size, multiple)
    assert [b.stop - b.start for b in blocks] == widths
    assert sum(widths) == m and all(w <= size for w in widths)
