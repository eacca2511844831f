"""Page notices: stored sealed under the hash of a session id, shown once, to that id only."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from commonplan.services import sessions
from commonplan.store.models import PageNotice, utcnow


def _rows(db) -> list[PageNotice]:
    with db.read() as session:
        return list(session.execute(select(PageNotice).order_by(PageNotice.id)).scalars())


def test_a_notice_is_sealed_shown_once_and_only_to_its_session(db):
    mine, other = sessions.new_session_id(), sessions.new_session_id()
    sessions.put_notice(db, mine, "ok", "Your receipt: r-12345")
    sessions.put_notice(db, mine, "error", "second")
    (first, _second) = _rows(db)
    assert first.session_hash == hashlib.sha256(mine.encode()).hexdigest()
    assert b"r-12345" not in first.sealed and b"receipt" not in first.sealed
    assert sessions.take_notices(db, other) == [] and not sessions.has_notices(db, other)
    assert sessions.has_notices(db, mine)
    assert sessions.take_notices(db, mine) == [("ok", "Your receipt: r-12345"), ("error", "second")]
    assert sessions.take_notices(db, mine) == [] and _rows(db) == []
    assert sessions.take_notices(db, None) == []


def test_a_notice_moved_to_another_session_does_not_open(db):
    victim, thief = sessions.new_session_id(), sessions.new_session_id()
    sessions.put_notice(db, victim, "ok", "secret text")
    with db.transaction() as session:  # a database writer re-keys the row to their own session
        session.execute(
            update(PageNotice).values(session_hash=hashlib.sha256(thief.encode()).hexdigest())
        )
    assert sessions.take_notices(db, thief) == []  # the key is derived from the victim's id
    assert _rows(db) == []


def test_unread_notices_lapse_after_a_day(db):
    now = utcnow()
    old, fresh = sessions.new_session_id(), sessions.new_session_id()
    sessions.put_notice(db, old, "ok", "stale", now=now - timedelta(days=1, minutes=1))
    sessions.put_notice(db, fresh, "ok", "new", now=now)
    assert [r.session_hash for r in _rows(db)] == [hashlib.sha256(fresh.encode()).hexdigest()]
    assert sessions.take_notices(db, old) == []
