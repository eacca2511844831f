"""Sign-in sessions of the web pages, kept in the database so that signing out ends them.

A session id is 256 random bits (``secrets.token_urlsafe(32)``); the browser's cookie
carries it, and the table :class:`~commonplan.store.models.WebSession` holds only its
SHA-256 (as for API tokens, a fast hash suffices because the id is random), so reading
the table signs nobody in. A session ends when it expires, when its holder signs out,
and for every session of an account when the account is disabled or its password is
changed or reset (:func:`end_user_sessions`). Every server process sees the same table,
so a sign-out in one worker holds in all of them.

``last_seen_at`` is refreshed at most once a minute per session, so reading pages does
not turn into a database write per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commonplan.errors import AuthenticationError, PermissionDeniedError
from commonplan.services._common import aware
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import Role, User, WebSession, utcnow

LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(
    db: Database, actor: Actor, lifetime: timedelta, *, now: datetime | None = None
) -> str:
    """Start a session for ``actor`` lasting ``lifetime``; return its id (for the cookie only)."""
    if actor.user_id is None:
        raise PermissionDeniedError(
            "sessions belong to accounts; the system actor has none", where="open_session"
        )
    now = now or utcnow()
    session_id = secrets.token_urlsafe(32)
    with db.transaction() as session:
        session.add(
            WebSession(
                id_hash=_digest(session_id),
                user_id=actor.user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
    return session_id


def session_actor(db: Database, session_id: str, *, now: datetime | None = None) -> Actor:
    """The actor of a live session; :class:`AuthenticationError` if it is unknown, ended or
    expired, or its account is disabled."""
    now = now or utcnow()
    with db.read() as session:
        row = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.id_hash == _digest(session_id or ""))
        ).first()
        if (
            row is None
            or row.WebSession.revoked_at is not None
            or aware(row.WebSession.expires_at) <= now
            or not row.User.active
        ):
            raise AuthenticationError(
                "the sign-in session has ended",
                where="session cookie",
                fix="sign in again",
            )
        stale = aware(row.WebSession.last_seen_at) + LAST_SEEN_RESOLUTION <= now
        user = row.User
        actor = Actor(user.id, user.username, Role(user.role), user.display_name)
    if stale:
        with db.transaction() as session:
            session.execute(
                update(WebSession)
                .where(WebSession.id_hash == _digest(session_id))
                .values(last_seen_at=now)
            )
    return actor


def end_session(db: Database, session_id: str, *, now: datetime | None = None) -> None:
    """Sign out: the session's cookie is refused from now on (a no-op for an unknown id)."""
    with db.transaction() as session:
        session.execute(
            update(WebSession)
            .where(WebSession.id_hash == _digest(session_id or ""), WebSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )


def end_user_sessions(session: Session, user_id: int, now: datetime | None = None) -> int:
    """End every live session of an account inside the caller's transaction; return how many."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount or 0
