"""On a real multi-regional table (WIOD 2011, 44 regions × 56 sectors) the solver built from
the economy is preconditioned by its regional blocks: same answers, fewer products with A."""

from __future__ import annotations

import numpy as np

from commonplan.analysis import LeontiefSolver


def test_regional_blocks_on_wiod(wiod_economy):
    economy = wiod_economy
    S = economy.account_coefficients.T  # every account: multipliers S L
    y = economy.final_demand_values  # every final-demand column: outputs L Y
    by_region = LeontiefSolver(economy)
    plain = LeontiefSolver(economy.A)
    assert by_region.method == plain.method == "gmres"
    for solve in ("solve_transpose", "solve"):
        b = S if solve == "solve_transpose" else y
        blocked = getattr(by_region, solve)(b)
        products_blocked = by_region.last_report.matvecs
        reference = getattr(plain, solve)(b)
        products_plain = plain.last_report.matvecs
        scale = np.abs(reference).max(axis=0)
        assert (np.abs(blocked - reference).max(axis=0) <= 1e-10 * scale).all()
        assert products_blocked < products_plain


def test_threads_give_the_same_answer_bit_for_bit(wiod_economy):
    """GMRES on 1, 2 or 3 threads: the same blocks of right-hand sides, so the same answers
    bit for bit (a machine's core count changes no result), each meeting the tolerance."""
    economy = wiod_economy
    S = economy.account_coefficients.T
    y = economy.final_demand_values
    solvers = [LeontiefSolver(economy, threads=t) for t in (1, 2, 3)]
    assert [s.threads for s in solvers] == [1, 2, 3]
    for solve, b in (("solve_transpose", S), ("solve", y)):
        answers = [getattr(s, solve)(b) for s in solvers]
        assert all(np.array_equal(answers[0], other) for other in answers[1:])
        assert all(s.last_report.max_relative_residual <= s.tol for s in solvers)


def test_the_transposed_block_operator_is_the_one_built_for_the_transpose(wiod_economy):
    from commonplan.linalg.krylov import OffBlockOperator
    from commonplan.linalg.leontief import _useful_groups

    A = wiod_economy.A.tocsr()
    codes = np.unique(wiod_economy.products.get_level_values("region"), return_inverse=True)[1]
    groups = _useful_groups(codes, A)
    assert groups is not None
    forward = OffBlockOperator.of(A, *groups)
    built = OffBlockOperator.of(A.T.tocsr(), *groups)
    derived = forward.transposed()
    V = np.random.default_rng(0).uniform(size=(A.shape[0], 3))
    expected = built @ V
    assert np.allclose(derived @ V, expected, rtol=1e-12, atol=1e-14 * np.abs(expected).max())
