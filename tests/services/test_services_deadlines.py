"""Deadlines keep their instant on both databases: an offset given is converted, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from services_world import GROUPS, build_world
from sqlalchemy import select

from commonplan import services as S
from commonplan.errors import ParticipationInputError, PhaseError
from commonplan.store.models import PlanningRound
from commonplan.store.types import UTCDateTime

PLUS_FIVE = timezone(timedelta(hours=5))


def test_a_ballot_two_minutes_after_a_deadline_with_an_offset_is_refused(db):
    w = build_world(db)
    # the deadline passed 2 minutes ago, written in UTC+05:00 (its digits are 5 hours ahead of UTC)
    deadline = (datetime.now(UTC) - timedelta(minutes=2)).astimezone(PLUS_FIVE)
    late = S.open_round(
        db, w.facilitator, w.assembly_id, "Late round", GROUPS, ballot_deadline=deadline
    )
    assert late.ballot_deadline == deadline
    with pytest.raises(PhaseError, match="deadline"):
        S.submit_ballot(db, w.member, late.id, {"food": 100})
    assert S.my_ballot(db, w.member, late.id) is None


def test_a_deadline_with_an_offset_in_the_future_still_accepts_ballots(db):
    w = build_world(db)
    # in UTC−05:00 the digits are 5 hours behind: read as UTC this deadline would have passed
    deadline = (datetime.now(UTC) + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=-5)))
    soon = S.open_round(db, w.facilitator, w.assembly_id, "Soon", GROUPS, ballot_deadline=deadline)
    assert S.submit_ballot(db, w.member, soon.id, {"food": 100}).round_id == soon.id


def test_stored_times_come_back_aware_in_utc_with_the_same_instant(db):
    w = build_world(db)
    ballot = datetime(2031, 3, 1, 6, 31, tzinfo=PLUS_FIVE)
    vote = datetime(2031, 3, 2, 6, 31, tzinfo=PLUS_FIVE)
    opened = S.open_round(
        db, w.facilitator, w.assembly_id, "R", GROUPS, ballot_deadline=ballot, vote_deadline=vote
    )
    with db.read() as session:
        row = session.execute(
            select(PlanningRound).where(PlanningRound.id == opened.id)
        ).scalar_one()
        assert row.ballot_deadline == datetime(2031, 3, 1, 1, 31, tzinfo=UTC)
        assert row.ballot_deadline.utcoffset() == timedelta(0)
        assert row.created_at.tzinfo is not None
    info = S.get_round_info(db, opened.id)
    assert info.ballot_deadline == ballot and info.vote_deadline == vote


def test_a_naive_deadline_is_refused_with_a_clear_error(db):
    w = build_world(db)
    with pytest.raises(ParticipationInputError, match="no time zone") as error:
        S.open_round(
            db,
            w.facilitator,
            w.assembly_id,
            "R",
            GROUPS,
            ballot_deadline=datetime(2031, 3, 1, 6, 31),
        )
    assert "timezone-aware" in error.value.expected


def test_the_column_type_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2031, 3, 1, 6, 31), None)
