"""Accounts: users with argon2id-hashed passwords, sign-in, and API bearer tokens.

Passwords are hashed with argon2id; only the hash is stored. The parameters are RFC
9106's "low memory" recommendation (t = 3 passes, 64 MiB, 4 lanes; argon2-cffi's
default) unless ``COMMONPLAN_ARGON2_PROFILE`` names another: ``rfc9106-high-memory``
(t = 1, 2 GiB) or ``test`` (the cheapest argon2id settings, for test suites only —
never for real accounts). Verification reads the parameters from the stored hash, so
accounts hashed under one profile keep working under another. An API token is ``cp_<id>_<secret>`` with a 256-bit random
secret; only the SHA-256 of the whole token is stored (a fast hash is right here because
the secret is random, not a human password), so a token is checked with one indexed
lookup per request.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commonplan.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
)
from commonplan.services.roles import Actor, require
from commonplan.store.audit import append_audit
from commonplan.store.database import Database
from commonplan.store.models import ApiToken, Role, User, utcnow

ARGON2_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,
    "test": profiles.CHEAPEST,
}
_HASHERS: dict[str, PasswordHasher] = {}
_DUMMY_HASHES: dict[str, str] = {}


def _profile() -> str:
    name = os.environ.get("COMMONPLAN_ARGON2_PROFILE", "rfc9106-low-memory")
    if name not in ARGON2_PROFILES:
        raise ParticipationInputError(
            f"unknown argon2 profile {name!r}",
            where="COMMONPLAN_ARGON2_PROFILE",
            expected="one of " + ", ".join(ARGON2_PROFILES),
        )
    return name


def _hasher() -> PasswordHasher:
    name = _profile()
    if name not in _HASHERS:
        _HASHERS[name] = PasswordHasher.from_parameters(ARGON2_PROFILES[name])
    return _HASHERS[name]


def _dummy_hash() -> str:
    name = _profile()
    if name not in _DUMMY_HASHES:
        _DUMMY_HASHES[name] = _hasher().hash("commonplan-timing-equaliser")
    return _DUMMY_HASHES[name]


USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "cp_"


@dataclass(frozen=True)
class UserInfo:
    """An account as the services return it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserInfo:
        return cls(
            user.id, user.username, user.display_name, Role(user.role), user.active, user.created_at
        )

    def actor(self) -> Actor:
        return Actor(self.id, self.username, self.role, self.display_name)


@dataclass(frozen=True)
class NewToken:
    """A freshly created API token: ``token`` is shown once and never stored."""

    id: int
    name: str
    token: str
    expires_at: datetime | None


@dataclass(frozen=True)
class TokenInfo:
    """A stored API token (without its secret)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def hash_password(password: str) -> str:
    """The argon2id hash of ``password``."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def actor_of(user: User) -> Actor:
    """The :class:`Actor` for a stored user."""
    return Actor(user.id, user.username, Role(user.role), user.display_name)


def _check_new_user(username: str, password: str, role: Role | str) -> Role:
    if not USERNAME_PATTERN.match(username or ""):
        raise ParticipationInputError(
            f"the user name {username!r} is not allowed",
            where="username",
            expected="2–64 letters, digits, '.', '_' or '-'",
            fix="choose another user name",
        )
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ParticipationInputError(
            "the password is too short",
            where="password",
            expected=f"at least {MIN_PASSWORD_LENGTH} characters",
            fix="choose a longer password",
        )
    try:
        return Role(role)
    except ValueError:
        raise ParticipationInputError(
            f"unknown role {role!r}",
            where="role",
            expected="one of " + ", ".join(r.value for r in Role),
            fix="choose one of the four roles",
        ) from None


def create_user(
    db: Database,
    actor: Actor,
    username: str,
    password: str,
    role: Role | str,
    *,
    display_name: str = "",
) -> UserInfo:
    """Create an account (administrators only; the CLI acts as :meth:`Actor.system`)."""
    require(actor, "create_user")
    role = _check_new_user(username, password, role)
    password_hash = hash_password(password)  # outside the transaction: argon2 is deliberately slow
    try:
        with db.transaction() as session:
            if session.execute(select(User.id).where(User.username == username)).first():
                raise _duplicate_user(username)
            user = User(
                username=username,
                display_name=display_name or username,
                password_hash=password_hash,
                role=role.value,
            )
            session.add(user)
            session.flush()
            append_audit(
                session,
                action="user.create",
                subject=f"user {user.id}",
                actor=actor.username,
                actor_id=actor.user_id,
                payload={"username": username, "role": role.value},
            )
            return UserInfo.of(user)
    except IntegrityError as error:  # a concurrent creation of the same name
        raise _duplicate_user(username) from error


def _duplicate_user(username: str) -> ConflictError:
    return ConflictError(
        f"a user named {username!r} already exists",
        where="username",
        fix="choose another user name",
    )


def set_user_active(db: Database, actor: Actor, user_id: int, active: bool) -> UserInfo:
    """Enable or disable an account (administrators only); a disabled account cannot sign in."""
    require(actor, "set_user_active")
    with db.transaction() as session:
        user = _user(session, user_id)
        user.active = active
        append_audit(
            session,
            action="user.activate" if active else "user.deactivate",
            subject=f"user {user.id}",
            actor=actor.username,
            actor_id=actor.user_id,
        )
        return UserInfo.of(user)


def authenticate(db: Database, username: str, password: str) -> Actor:
    """Check a user name and password; return the :class:`Actor` or raise :class:`AuthenticationError`.

    The same argon2 work is done whether or not the user exists, so timing does not tell.
    """
    with db.read() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        stored = user.password_hash if user is not None else _dummy_hash()
        ok = verify_password(stored, password or "")
        if user is None or not ok or not user.active:
            raise AuthenticationError(
                "wrong user name or password",
                where="sign-in",
                fix="check the user name and password",
            )
        return actor_of(user)


def change_password(db: Database, actor: Actor, old_password: str, new_password: str) -> None:
    """Change the actor's own password after checking the old one."""
    if actor.user_id is None:
        raise PermissionDeniedError("the system actor has no password", where="change_password")
    _check_new_user(actor.username, new_password, Role.OBSERVER)
    new_hash = hash_password(new_password)
    with db.transaction() as session:
        user = _user(session, actor.user_id)
        if not verify_password(user.password_hash, old_password):
            raise AuthenticationError("the current password is wrong", where="old password")
        user.password_hash = new_hash
        append_audit(
            session,
            action="user.password",
            subject=f"user {user.id}",
            actor=actor.username,
            actor_id=actor.user_id,
        )


def get_actor(db: Database, user_id: int) -> Actor:
    """The actor for an active account id (e.g. from a signed session cookie)."""
    with db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise AuthenticationError(
                "the account does not exist or is disabled", where=f"user {user_id}"
            )
        return actor_of(user)


def list_users(db: Database) -> list[UserInfo]:
    """All accounts, by name."""
    with db.read() as session:
        return [
            UserInfo.of(u) for u in session.execute(select(User).order_by(User.username)).scalars()
        ]


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    db: Database, actor: Actor, *, name: str = "", expires_in: timedelta | None = None
) -> NewToken:
    """Create an API bearer token for the actor's own account; the secret is returned once."""
    if actor.user_id is None:
        raise PermissionDeniedError(
            "tokens belong to accounts; the system actor has none", where="create_token"
        )
    secret = secrets.token_urlsafe(32)
    with db.transaction() as session:
        user = _user(session, actor.user_id)
        row = ApiToken(
            user_id=user.id,
            name=name[:100],
            token_hash="pending-" + secrets.token_hex(8),
            prefix="",
        )
        row.expires_at = utcnow() + expires_in if expires_in is not None else None
        session.add(row)
        session.flush()
        token = f"{TOKEN_PREFIX}{row.id}_{secret}"
        row.token_hash = _token_digest(token)
        row.prefix = token[:12]
        append_audit(
            session,
            action="token.create",
            subject=f"token {row.id}",
            actor=actor.username,
            actor_id=actor.user_id,
            payload={"name": row.name},
        )
        return NewToken(row.id, row.name, token, row.expires_at)


def verify_token(db: Database, token: str) -> Actor:
    """The actor a bearer token stands for; :class:`AuthenticationError` if unknown, revoked or expired."""
    with db.read() as session:
        return verify_token_in(session, token)


_TOKEN_LOOKUP = (
    select(
        ApiToken.revoked_at,
        ApiToken.expires_at,
        User.id,
        User.username,
        User.role,
        User.display_name,
        User.active,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def verify_token_in(session: Session, token: str) -> Actor:
    """:func:`verify_token` inside an open session (one indexed query)."""
    row = (
        session.connection().execute(_TOKEN_LOOKUP, {"digest": _token_digest(token or "")}).first()
    )
    if (
        row is None
        or row.revoked_at is not None
        or (row.expires_at is not None and _aware(row.expires_at) <= utcnow())
    ):
        raise AuthenticationError(
            "the API token is unknown, revoked or expired",
            where="Authorization header",
            fix="create a new token",
        )
    if not row.active:
        raise AuthenticationError("the token's account is disabled", where="Authorization header")
    return Actor(row.id, row.username, Role(row.role), row.display_name)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def revoke_token(db: Database, actor: Actor, token_id: int) -> None:
    """Revoke a token: its owner or an administrator may."""
    with db.transaction() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"no API token {token_id}", where="token id")
        if row.user_id != actor.user_id and Role(actor.role) is not Role.ADMINISTRATOR:
            raise PermissionDeniedError(
                "only the token's owner or an administrator may revoke it",
                where=f"token {token_id}",
            )
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            append_audit(
                session,
                action="token.revoke",
                subject=f"token {row.id}",
                actor=actor.username,
                actor_id=actor.user_id,
            )


def list_tokens(db: Database, actor: Actor) -> list[TokenInfo]:
    """The actor's own tokens (never their secrets)."""
    with db.read() as session:
        rows = session.execute(
            select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.id)
        ).scalars()
        return [
            TokenInfo(r.id, r.name, r.prefix, r.created_at, r.expires_at, r.revoked_at)
            for r in rows
        ]


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(
            f"no user with id {user_id}", where="user id", fix="check the id with `list_users`"
        )
    return user
