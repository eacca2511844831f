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
