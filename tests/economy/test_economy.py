import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan import Economy
from commonplan.economy import spectral_radius_bounds
from commonplan.errors import (
    CommonplanError,
    InvalidValueError,
    LabelError,
    NotProductiveError,
    ZeroOutputError,
)


def miller_blair() -> Economy:
    Z = np.array([[150.0, 500.0], [200.0, 100.0]])
    x = np.array([1000.0, 2000.0])
    Y = x - Z.sum(axis=1)
    return Economy.from_flows(Z, Y, x, accounts={"labour": [10.0, 20.0]}, products=["agri", "manu"])


def test_from_flows_derives_coefficients():
    e = miller_blair()
    np.testing.assert_allclose(e.A.toarray(), [[0.15, 0.25], [0.2, 0.05]])
    np.testing.assert_allclose(e.account("labour").to_numpy(), [0.01, 0.01])
    assert e.products.names == ["region", "sector"]
    assert e.is_symmetric


def test_arrays_are_read_only():
    e = miller_blair()
    with pytest.raises(ValueError):
        e.use.data[0] = 3.0
    with pytest.raises(ValueError):
        e.activity_levels[0] = 1.0


def test_dataframe_labels_and_zero_output_without_inputs():
    labels = pd.MultiIndex.from_tuples([("R", "a"), ("R", "b"), ("R", "idle")])
    Z = pd.DataFrame([[1.0, 2.0, 0], [3.0, 1.0, 0], [0, 0, 0]], index=labels, columns=labels)
    Y = pd.Series([7.0, 6.0, 0.0], index=labels)
    e = Economy.from_flows(Z, Y)
    assert e.gross_output.loc[("R", "idle")] == 0
    assert e.A[:, [2]].nnz == 0


def test_zero_output_with_inputs_is_an_error():
    Z = np.array([[1.0, 2.0], [3.0, 0.0]])
    with pytest.raises(ZeroOutputError, match="zero gross output"):
        Economy.from_flows(Z, [5.0, 0.0], x=[8.0, 0.0])


def test_negative_and_nan_cells():
    with pytest.raises(InvalidValueError, match="negative"):
        Economy.from_flows(np.array([[1.0, -2.0], [0.0, 1.0]]), [5.0, 5.0])
    with pytest.raises(InvalidValueError, match="not finite"):
        Economy.from_flows(np.array([[1.0, np.nan], [0.0, 1.0]]), [5.0, 5.0])


def test_duplicate_labels():
    with pytest.raises(LabelError, match="duplicate"):
        Economy.from_flows(np.eye(2), [1.0, 1.0], products=["a", "a"])


def test_not_productive():
    A = np.array([[0.6, 0.5], [0.5, 0.6]])
    with pytest.raises(NotProductiveError, match="spectral radius"):
        Economy.from_coefficients(A, products=["a", "b"])


def test_errors_share_one_base():
    assert issubclass(NotProductiveError, CommonplanError)


def test_spectral_radius_bounds_bracket_the_eigenvalue():
    rng = np.random.default_rng(1)
    A = sp.random_array((300, 300), density=0.05, rng=rng) * 0.3
    rho = max(abs(np.linalg.eigvals(A.toarray())))
    lo, hi = spectral_radius_bounds(A, tol=1e-9, iterations=2000)
    assert lo - 1e-9 <= rho <= hi + 1e-9


def test_replace_revalidates_and_keeps_the_original():
    e = miller_blair()
    bigger = e.replace(activity_levels=np.array([2000.0, 4000.0]))
    assert bigger.gross_output.sum() == 6000.0
    assert e.gross_output.sum() == 3000.0
    with pytest.raises(InvalidValueError):
        e.replace(activity_levels=np.array([-1.0, 1.0]))


def test_building_does_not_freeze_the_callers_sparse_matrix():
    A = sp.csr_array(np.array([[0.1, 0.2], [0.3, 0.1]]))
    first = Economy.from_coefficients(A, np.array([[1.0], [2.0]]))
    second = Economy.from_coefficients(A, np.array([[1.0], [2.0]]))  # raised before
    assert A.data.flags.writeable and not first.use.data.flags.writeable
    np.testing.assert_array_equal(first.activity_levels, second.activity_levels)
