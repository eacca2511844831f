"""How ``auto`` picks a HiGHS method (``choose_method``), and that its interior-point plans are certified."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from commonplan.planning import read_cockshott, solve
from commonplan.planning.solve import (
    DENSE_NNZ_PER_COLUMN,
    IPM_MAX_NNZ,
    SIMPLEX_MAX_NNZ,
    choose_method,
)


def _shape(nnz: int, n_cols: int) -> SimpleNamespace:
    return SimpleNamespace(A=SimpleNamespace(nnz=nnz), n_cols=n_cols)


@pytest.mark.parametrize(
    ("nnz", "per_column", "expected"),
    [
        (SIMPLEX_MAX_NNZ, 2.0, "simplex"),  # small: simplex, however sparse
        (SIMPLEX_MAX_NNZ + 1, 5.0, "ipm"),  # sparse (random economies, Cockshott's capital)
        (600_000, DENSE_NNZ_PER_COLUMN + 1, "simplex"),  # dense (a multi-regional table)
        (600_000, DENSE_NNZ_PER_COLUMN - 1, "ipm"),
        (IPM_MAX_NNZ + 1, DENSE_NNZ_PER_COLUMN + 1, "pdlp"),  # largest: PDLP, however dense
    ],
)
def test_choice_by_size_and_density(nnz, per_column, expected):
    assert choose_method(_shape(nnz, round(nnz / per_column))) == expected


def test_interior_point_plan_is_a_certified_vertex(shared_data):
    """IPM ends with a crossover: status optimal, gap and infeasibility reported as small as simplex's."""
    problem = read_cockshott(shared_data / "planning" / "cockshott_5yearplan" / "toy")
    exact = solve(problem, method="simplex")
    plan = solve(problem, method="ipm")
    report = plan.report
    assert report.status == "optimal" and report.method == "highs-ipm"
    assert 0 <= report.relative_gap < 1e-9
    assert report.primal_infeasibility < 1e-9
    assert plan.objective == pytest.approx(exact.objective, rel=1e-10)
