"""HiGHS's first-order PDLP method: objective against dual simplex, the report, and stops without an optimum.

PDLP reaches a *relative* optimality tolerance; its answer must agree with the exact
simplex optimum to that tolerance, say so in ``plan.report``, and a run that stops early
(time limit, or HiGHS rejecting the result) must raise ``SolverError``, never give a plan.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from commonplan.errors import SolverError
from commonplan.io.icio import read_icio_arrays
from commonplan.planning import Objective, PlanProblem, solve

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from plan_problems import problems  # noqa: E402

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def random_problems():
    """Random sparse economy with cycles: 400 products × 2 techniques × 2 periods (1,600 + 800 variables)."""
    return problems(400, 2, seed=3)


@pytest.mark.parametrize("name", ["min-labour", "max-fulfilment"])
def test_pdlp_matches_simplex_to_its_tolerance(random_problems, name):
    problem = random_problems[name]
    exact = solve(problem, method="simplex")
    plan = solve(problem, method="pdlp", tolerance=TOLERANCE)
    report = plan.report
    assert report.method == "highs-pdlp"
    assert report.status == "optimal"
    assert report.iterations > 0
    assert report.solve_seconds > 0 and report.build_seconds > 0
    # the achieved tolerance is reported, and the answer is that close to the exact optimum
    assert 0 <= report.relative_gap <= 10 * TOLERANCE
    assert np.isfinite(report.primal_infeasibility) and np.isfinite(report.dual_infeasibility)
    assert abs(plan.objective - exact.objective) / max(1.0, abs(exact.objective)) <= 10 * TOLERANCE
    assert exact.report.method == "highs-simplex"
    # the PDLP plan is feasible to its tolerance: targets met (c) or the labour limit kept (a)
    if name == "min-labour":
        assert plan.fulfilment["fulfilment"].min() >= 1 - 10 * TOLERANCE
    else:
        res = plan.resources
        assert (res["used"] <= res["limit"] * (1 + 10 * TOLERANCE)).all()
        # fulfilment ratios are primal values d/y: exact up to the reported primal infeasibility / y
        smallest_target = problem.targets.amounts[problem.targets.mask].min()
        allowed = 10 * TOLERANCE + report.primal_infeasibility / smallest_target
        gap = np.abs(plan.worst_fulfilment.to_numpy() - exact.worst_fulfilment.to_numpy())
        assert (gap <= allowed).all(), (gap, allowed)


def test_pdlp_time_limit_raises(random_problems):
    with pytest.raises(
        SolverError, match=r"HiGHS \(pdlp\) stopped without a proven optimum: Time limit reached"
    ):
        solve(random_problems["max-fulfilment"], method="pdlp", time_limit=1e-6)


def test_pdlp_never_returns_a_wrong_plan_on_a_badly_scaled_table(shared_data):
    """On the ICIO table in USD mn the limits reach 7e7 while the objective is O(1).

    PDLP's relative tolerance then accepts a near-zero plan, which HiGHS's own check
    rejects (status "Unknown"): the engine must raise, or else agree with simplex.
    """
    icio = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    need = float(icio.account("value_added").to_numpy() @ icio.activity_levels)
    problem = PlanProblem.build(
        icio,
        target_share=1.0,
        limits={"value_added": 0.8 * need},
        objective=Objective(lexicographic=False),
    )
    exact = solve(problem, method="simplex")
    try:
        plan = solve(problem, method="pdlp", tolerance=1e-4, time_limit=20)
    except SolverError as error:
        assert "stopped without a proven optimum" in str(error)
    else:
        assert plan.objective == pytest.approx(exact.objective, rel=1e-3)


def test_auto_falls_back_to_interior_point_when_pdlp_stops(shared_data, monkeypatch):
    """``auto`` picks PDLP for the largest models; where PDLP stops unproven, IPM solves."""
    import importlib

    solve_module = importlib.import_module(
        "commonplan.planning.solve"
    )  # the package exports a function of that name

    icio = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    need = float(icio.account("value_added").to_numpy() @ icio.activity_levels)
    problem = PlanProblem.build(
        icio, target_share=1.0, limits={"value_added": 0.8 * need}, objective=Objective("harmony")
    )
    exact = solve(problem, method="simplex")
    # make this 550-product model count as "large", so that auto chooses PDLP
    monkeypatch.setattr(solve_module, "SIMPLEX_MAX_NNZ", 0)
    monkeypatch.setattr(solve_module, "IPM_MAX_NNZ", 0)
    # stop PDLP by a small iteration limit (not a time limit: no test may depend on the
    # machine's speed), so that it ends unproven and auto must fall back to IPM
    configure = solve_module._configure

    def few_pdlp_iterations(h, method, time_limit, tolerance):
        configure(h, method, time_limit, tolerance)
        if method == "pdlp":
            h.setOptionValue("pdlp_iteration_limit", 20)

    monkeypatch.setattr(solve_module, "_configure", few_pdlp_iterations)
    plan = solve(problem, method="auto", tolerance=1e-4)
    assert plan.objective == pytest.approx(exact.objective, rel=1e-6)
    assert plan.report.method == "highs-ipm"
    assert any("PDLP stopped" in note for note in plan.report.notes)
