"""The documented rule: a member of k councils counts in each of the k councils (docs/councils.md)."""

from __future__ import annotations

import pytest
from services_world import build_world

from commonplan import services as S


def test_a_member_of_two_councils_counts_in_both(db):
    # member: workers and consumers; member2: consumers only (services_world)
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    S.submit_ballot(db, w.member2, w.round_id, {"health": 100})
    closed = S.advance_phase(db, w.facilitator, w.round_id)
    # by hand: workers = member's ballot (1 member); consumers = the mean of both (2 members);
    # the assembly weights councils by members: (1·food100 + 2·(food50, health50)) / 3
    assert closed.weights == pytest.approx(
        {"food": 2 / 3, "housing": 0.0, "health": 1 / 3, "energy": 0.0}
    )
    # i.e. the mean over memberships: the member holds two of the three
    assert closed.weights["food"] == pytest.approx(2 * closed.weights["health"])


def test_with_full_turnout_the_mean_rule_is_the_mean_over_memberships(db):
    w = build_world(db, n_extra_members=3)
    ballots = {
        w.member: {"food": 10, "housing": 90},  # two councils
        w.member2: {"food": 70, "energy": 30},
        w.extras[0]: {"health": 100},
        w.extras[1]: {"food": 25, "housing": 25, "health": 25, "energy": 25},
        w.extras[2]: {"energy": 100},
    }
    for actor, points in ballots.items():
        S.submit_ballot(db, actor, w.round_id, points)
    closed = S.advance_phase(db, w.facilitator, w.round_id)
    councils = {actor: 0 for actor in ballots}
    for council in S.list_councils(db, w.assembly_id):
        for user_id, _, _ in S.council_members(db, council.id):
            actor = next(a for a in ballots if a.user_id == user_id)
            councils[actor] += 1
    assert councils[w.member] == 2 and sum(councils.values()) == 6
    n = sum(councils.values())
    expected = {
        g: sum(councils[a] * p.get(g, 0) for a, p in ballots.items()) / n / 100
        for g in ("food", "housing", "health", "energy")
    }
    assert closed.weights == pytest.approx(expected)
