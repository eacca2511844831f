"""Warnings before the vote: groups without sectors, alternatives that do not differ, groups met below 50 %."""

from __future__ import annotations

import pytest
from services_world import build_world

from commonplan import services as S
from commonplan.services.rounds import (
    LOW_FULFILMENT,
    SAME_PLAN_TOLERANCE,
    fulfilment_warnings,
    round_warnings,
)


def _figures(food: float, health: float, *, objective: float = -0.0819085, scale: float = 1.0):
    return {
        "units": "USD million",
        "total_deliveries": 2.463e7 * scale,
        "resource_used": 1.5e6,
        "worst_fulfilment": min(food, health),
        "fulfilment_by_group": {"food": food, "health": health},
        "objective": objective,
        "method": "highs",
    }


def _round_in_alternatives_phase(db, groups):
    w = build_world(db)
    opened = S.open_round(db, w.facilitator, w.assembly_id, "Warned", groups)
    S.submit_ballot(db, w.member, opened.id, {"food": 80, "health": 20})
    S.advance_phase(db, w.facilitator, opened.id)
    return w, opened


def test_a_product_group_without_sectors_is_warned_about_when_the_round_opens(db):
    w = build_world(db)
    opened = S.open_round(
        db,
        w.facilitator,
        w.assembly_id,
        "Groups",
        [
            "food",
            {"name": "health", "sectors": ["621", "622"]},
            {"name": "investment", "kind": "investment"},
        ],
    )
    assert len(opened.warnings) == 1
    assert "'food' names no sectors" in opened.warnings[0]
    assert "change nothing" in opened.warnings[0]
    assert (
        S.get_round_info(db, opened.id).warnings == opened.warnings
    )  # derived from what is stored
    assert round_warnings(db, opened.id) == opened.warnings


def test_alternatives_that_do_not_differ_are_warned_about(db):
    groups = [{"name": "food", "sectors": ["311FT"]}, {"name": "health", "sectors": ["621"]}]
    w, opened = _round_in_alternatives_phase(db, groups)
    S.add_alternative(db, w.facilitator, opened.id, "Food first", figures=_figures(0.9, 0.7))
    # the reverse weighting gave the same plan: only the (weight-dependent) objective differs
    S.add_alternative(
        db, w.facilitator, opened.id, "Health first", figures=_figures(0.9, 0.7, objective=-0.5)
    )
    # 10 times the tolerance apart: a different plan
    S.add_alternative(
        db,
        w.facilitator,
        opened.id,
        "More",
        figures=_figures(0.9, 0.7, scale=1 + 10 * SAME_PLAN_TOLERANCE),
    )
    warnings = round_warnings(db, opened.id)
    assert len(warnings) == 1
    assert warnings[0].startswith("plans A and B do not differ")


def test_a_group_met_below_half_is_flagged_in_the_alternatives_figures(db):
    groups = [{"name": "food", "sectors": ["311FT"]}, {"name": "health", "sectors": ["621"]}]
    w, opened = _round_in_alternatives_phase(db, groups)
    low = S.add_alternative(db, w.facilitator, opened.id, "Low", figures=_figures(0.003, 0.95))
    fine = S.add_alternative(
        db, w.facilitator, opened.id, "Fine", figures=_figures(LOW_FULFILMENT, 0.6)
    )
    assert low.warnings == ("plan A meets 'food' at 0.3 % of its target (below 50 %)",)
    assert fine.warnings == ()  # exactly half is not below half
    listed = {a.label: a.warnings for a in S.list_alternatives(db, opened.id)}
    assert listed == {"A": low.warnings, "B": ()}
    assert round_warnings(db, opened.id) == low.warnings


@pytest.mark.parametrize(
    ("by_group", "expected"),
    [
        ({"food": None}, ["plan C: the fulfilment of 'food' is unknown"]),
        ({"food": 0.4999, "health": 0.2}, ["'food' at 50.0 %", "'health' at 20.0 %"]),
        ({"food": 1.2}, []),
        ({}, []),
    ],
)
def test_fulfilment_warnings(by_group, expected):
    warnings = fulfilment_warnings("C", {"fulfilment_by_group": by_group})
    assert len(warnings) == len(expected)
    for warning, fragment in zip(warnings, expected, strict=True):
        assert fragment in warning
