"""Submitting priority ballots: own ballot only, members only, ballot phase only, history kept, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from services_world import GROUPS, build_world
from sqlalchemy import func, select

from commonplan import services as S
from commonplan.councils.ballots import aggregate, ballot_matrix
from commonplan.errors import (
    BallotError,
    ConflictError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
)
from commonplan.store.models import Ballot


def _ballots(db):
    with db.read() as session:
        return session.execute(select(Ballot).order_by(Ballot.id)).scalars().all()


def test_resubmission_replaces_and_keeps_history(db):
    w = build_world(db)
    first = S.submit_ballot(db, w.member, w.round_id, {"food": 70, "housing": 30})
    second = S.submit_ballot(
        db, w.member, w.round_id, {"food": 25, "housing": 25, "health": 25, "energy": 25}
    )
    assert second.replaced_id == first.id and not second.replayed
    rows = _ballots(db)
    assert [(r.id, r.is_current) for r in rows] == [(first.id, False), (second.id, True)]
    assert rows[0].superseded_at is not None
    assert rows[0].points == {"food": 70.0, "housing": 30.0, "health": 0.0, "energy": 0.0}
    assert S.my_ballot(db, w.member, w.round_id).id == second.id
    assert [b.id for b in S.my_ballot_history(db, w.member, w.round_id)] == [first.id, second.id]


def test_same_request_id_is_stored_once(db):
    w = build_world(db)
    points = {"food": 50, "energy": 50}
    first = S.submit_ballot(db, w.member, w.round_id, points, request_id="req-1")
    again = S.submit_ballot(db, w.member, w.round_id, points, request_id="req-1")
    assert again.replayed and again.id == first.id
    assert len(_ballots(db)) == 1
    with pytest.raises(ConflictError, match="already used for a different ballot"):
        S.submit_ballot(db, w.member, w.round_id, {"food": 100}, request_id="req-1")
    with pytest.raises(ParticipationInputError, match="request id"):
        S.submit_ballot(db, w.member, w.round_id, points, request_id="has spaces; DROP TABLE")
    assert len(_ballots(db)) == 1


def test_member_cannot_vote_for_another_member(db):
    w = build_world(db)
    with pytest.raises(PermissionDeniedError, match="only submit their own ballot"):
        S.submit_ballot(db, w.member, w.round_id, {"food": 100}, member_id=w.member2.user_id)
    assert (
        S.submit_ballot(db, w.member, w.round_id, {"food": 100}, member_id=w.member.user_id).user_id
        == w.member.user_id
    )
    assert len(_ballots(db)) == 1


def test_member_role_without_a_council_is_refused(db):
    w = build_world(db)
    with pytest.raises(PermissionDeniedError, match="not a member of any council"):
        S.submit_ballot(db, w.outsider, w.round_id, {"food": 100})
    assert _ballots(db) == []


@pytest.mark.parametrize(
    "points",
    [
        {"food": 60, "housing": 30},
        {"food": 110, "housing": -10},
        {"transport": 100},
        {"food": "lots"},
    ],
)
def test_malformed_ballot_stores_nothing(db, points):
    w = build_world(db)
    with pytest.raises(BallotError):
        S.submit_ballot(db, w.member, w.round_id, points)
    assert _ballots(db) == []
    assert S.verify_audit_log(db).ok


def test_ballot_outside_the_ballot_phase_is_refused(db):
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    S.advance_phase(db, w.facilitator, w.round_id)
    with pytest.raises(PhaseError, match="alternatives phase"):
        S.submit_ballot(db, w.member2, w.round_id, {"food": 100})
    assert len(_ballots(db)) == 1


def test_ballot_after_the_deadline_is_refused(db):
    w = build_world(db)
    past = S.open_round(
        db,
        w.facilitator,
        w.assembly_id,
        "Late round",
        GROUPS,
        ballot_deadline=datetime.now(UTC) - timedelta(minutes=1),
    )
    with pytest.raises(PhaseError, match="deadline"):
        S.submit_ballot(db, w.member, past.id, {"food": 100})


def test_closing_the_ballot_phase_aggregates_with_the_documented_rule(db):
    w = build_world(db, n_extra_members=3)
    ballots = {
        w.member.user_id: {"food": 40, "housing": 40, "health": 20},
        w.member2.user_id: {"food": 10, "energy": 90},
        w.extras[0].user_id: {"health": 100},
        w.extras[1].user_id: {"food": 33.33, "housing": 33.33, "health": 33.34},
    }
    actors = {
        w.member.user_id: w.member,
        w.member2.user_id: w.member2,
        w.extras[0].user_id: w.extras[0],
        w.extras[1].user_id: w.extras[1],
    }
    for user_id, points in ballots.items():
        S.submit_ballot(db, actors[user_id], w.round_id, points)
    closed = S.advance_phase(db, w.facilitator, w.round_id)
    # independent: the pure rule on the same ballots and memberships
    members = [
        (c.id, uid)
        for c in S.list_councils(db, w.assembly_id)
        for uid, _, _ in S.council_members(db, c.id)
    ]
    memberships = pd.DataFrame(members, columns=["council", "member"])
    counts = memberships.groupby("council").size()
    _, expected = aggregate(ballot_matrix(ballots, GROUPS), memberships, counts, rule="mean")
    assert closed.weights == pytest.approx((expected / 100).to_dict())
    assert sum(closed.weights.values()) == pytest.approx(1)
    median = S.aggregate_weights(db, w.facilitator, w.round_id, rule="median")
    _, expected_median = aggregate(
        ballot_matrix(ballots, GROUPS), memberships, counts, rule="median"
    )
    assert median.points == pytest.approx(expected_median.to_dict())
    assert S.get_round_info(db, w.round_id).aggregation_rule == "median"
    turnout = S.turnout(db, w.round_id)
    assert (turnout.n_members, turnout.n_ballots) == (5, 4)
    assert turnout.ballot_share == pytest.approx(0.8)


def test_round_without_ballots_cannot_close(db):
    w = build_world(db)
    with pytest.raises(PhaseError, match="no ballots"):
        S.advance_phase(db, w.facilitator, w.round_id)
    assert S.get_round_info(db, w.round_id).phase.value == "ballot"


def test_history_counts_in_sql(db):
    w = build_world(db)
    for k in range(5):
        S.submit_ballot(db, w.member, w.round_id, {"food": 100 - k, "housing": k})
    with db.read() as session:
        current = session.execute(
            select(func.count()).where(Ballot.is_current.is_(True))
        ).scalar_one()
        total = session.execute(select(func.count(Ballot.id))).scalar_one()
    assert (current, total) == (1, 5)


def test_a_group_commit_checks_each_ballot_on_its_own(db):
    from commonplan.errors import BallotError
    from commonplan.services.ballots import BallotSubmission, submit_ballots
    from commonplan.store.audit import verify_audit

    world = build_world(db)
    r = world.round_id
    first = {"food": 70, "housing": 10, "health": 10, "energy": 10}
    second = {"food": 10, "housing": 70, "health": 10, "energy": 10}
    results = submit_ballots(
        db,
        [
            BallotSubmission(world.member, r, first, "m-1"),
            BallotSubmission(world.member2, r, {"food": 90}, "m2-bad"),  # not 100 points
            BallotSubmission(world.outsider, r, first, "o-1"),  # in no council
            BallotSubmission(world.member, r, second, "m-2"),  # replaces m-1 in the same batch
            BallotSubmission(world.member, r, first, "m-1"),  # a retry of m-1: replayed
            BallotSubmission(world.observer, r, first, "obs"),  # the role may not vote
        ],
    )
    kinds = [type(x).__name__ for x in results]
    assert kinds == [
        "BallotReceipt",
        "BallotError",
        "PermissionDeniedError",
        "BallotReceipt",
        "BallotReceipt",
        "PermissionDeniedError",
    ]
    assert isinstance(results[1], BallotError)
    assert results[3].replaced_id == results[0].id and results[4].replayed
    history = S.my_ballot_history(db, world.member, r)
    assert [b.points["food"] for b in history] == [70, 10] and history[-1].is_current
    assert S.my_ballot_history(db, world.member2, r) == []
    with db.read() as session:
        assert verify_audit(session).ok
