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

**Page notices** (the one-time message a page shows after a form, which can hold a
ballot's receipt) are kept here too, not in the cookie: :func:`put_notice` stores one
under the SHA-256 of the browser's session id (signed-in or anonymous), sealed with
AES-256-GCM under a key derived from the id itself, which only the browser holds;
:func:`take_notices` opens and deletes them. So the table tells a reader of the database
neither whose notice it is nor what it says, and a cookie with another id (tampered with,
or saved before signing in or out) finds nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from commonplan.errors import AuthenticationError, PermissionDeniedError
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import PageNotice, Role, User, WebSession, utcnow

LAST_SEEN_RESOLUTION = timedelta(minutes=1)
NOTICE_LIFETIME = timedelta(days=1)
"""Unread page notices older than this are deleted (with the next notice stored)."""
MAX_NOTICE_CHARS = 2000


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
            or row.WebSession.expires_at <= now
            or not row.User.active
        ):
            raise AuthenticationError(
                "the sign-in session has ended",
                where="session cookie",
                fix="sign in again",
            )
        stale = row.WebSession.last_seen_at + LAST_SEEN_RESOLUTION <= now
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


def new_session_id() -> str:
    """A fresh random session id (256 bits) for a browser's cookie."""
    return secrets.token_urlsafe(32)


def _notice_key(session_id: str) -> bytes:
    # The id is 256 random bits: one SHA-256 with a label suffices to derive a key from it,
    # and is unrelated to the plain SHA-256 the rows are keyed by.
    return hashlib.sha256(b"commonplan page notice\0" + session_id.encode()).digest()


def put_notice(
    db: Database, session_id: str, kind: str, text: str, *, now: datetime | None = None
) -> None:
    """Store a notice (``kind``: ``ok`` or ``error``) for the next page of session ``session_id``."""
    if not session_id:
        raise AuthenticationError("a notice needs a browser session", where="session cookie")
    now = now or utcnow()
    digest = _digest(session_id)
    plain = json.dumps([kind, text[:MAX_NOTICE_CHARS]]).encode()
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(_notice_key(session_id)).encrypt(nonce, plain, digest.encode())
    with db.transaction() as session:
        session.execute(delete(PageNotice).where(PageNotice.created_at < now - NOTICE_LIFETIME))
        session.add(PageNotice(session_hash=digest, sealed=sealed, created_at=now))


def has_notices(db: Database, session_id: str | None) -> bool:
    """Whether notices wait for session ``session_id`` (a read: most pages have none)."""
    if not session_id:
        return False
    query = select(PageNotice.id).where(PageNotice.session_hash == _digest(session_id)).limit(1)
    with db.read() as session:
        return session.execute(query).first() is not None


def take_notices(db: Database, session_id: str | None) -> list[tuple[str, str]]:
    """The notices waiting for session ``session_id``, oldest first, deleted as they are read
    (a notice shown by a concurrent request of the same browser is not shown twice).

    A notice that does not open under the id's key (it cannot happen short of an edited
    row) is dropped unread.
    """
    if not session_id:
        return []
    digest = _digest(session_id)
    query = select(PageNotice.id, PageNotice.sealed).where(PageNotice.session_hash == digest)
    with db.transaction() as session:
        rows = session.execute(query.order_by(PageNotice.id)).all()
        if not rows:
            return []
        taken = session.execute(
            delete(PageNotice).where(PageNotice.id.in_([r.id for r in rows]))
        ).rowcount
    if taken != len(rows):
        return []
    cipher = AESGCM(_notice_key(session_id))
    notices = []
    for row in rows:
        try:
            plain = cipher.decrypt(row.sealed[:12], row.sealed[12:], digest.encode())
            kind, text = json.loads(plain)
        except (InvalidTag, ValueError):
            continue
        notices.append((str(kind), str(text)))
    return notices
