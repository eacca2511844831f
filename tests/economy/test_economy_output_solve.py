"""``Economy.from_coefficients`` solves ``x = (I − A)⁻¹ y`` with the one kernel, and says when it fails."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import commonplan.economy.construct as construct
from commonplan import Economy
from commonplan.errors import SolverError
from commonplan.linalg import LeontiefSolver
from random_matrices import sparse_coefficients


@pytest.mark.parametrize("n", [60, 1200])  # dense LU and GMRES under method="auto"
def test_output_is_the_leontief_solution(n):
    A = sparse_coefficients(n, inputs=min(40, n))
    y = np.random.default_rng(1).random(n) * 10.0
    economy = Economy.from_coefficients(A.copy(), y)
    oracle = np.linalg.solve(np.eye(n) - A.toarray(), y)  # independent dense solve
    np.testing.assert_allclose(economy.activity_levels, oracle, rtol=1e-10)


def test_a_solve_that_does_not_converge_raises(monkeypatch):
    A = sparse_coefficients(1200)
    starved = functools.partial(LeontiefSolver, method="gmres", maxiter=1, restart=1)
    monkeypatch.setattr(construct, "LeontiefSolver", starved)
    with pytest.raises(SolverError, match="relative residual"):
        Economy.from_coefficients(A, np.ones(1200))
