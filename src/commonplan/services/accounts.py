"""Accounts: users with argon2id-hashed passwords, sign-in, and API bearer tokens.

Passwords are hashed with argon2id; only the hash is stored. The parameters are RFC
9106's "low memory" recommendation (t = 3 passes, 64 MiB, 4 lanes; argon2-cffi's
default) unless ``COMMONPLAN_ARGON2_PROFILE`` names another: ``rfc9106-high-memory``
(t = 1, 2 GiB) or ``test`` (the cheapest argon2id settings, for test suites only —
never for real accounts). Verification reads the parameters from the stored hash, so
accounts hashed under one profile keep working under another. An API token is ``cp_<id>_<secret>`` with a 256-bit random
secret; only the SHA-256 of the whole token is stored (a fast hash is right here because
the secret is random, not a human password), so a token is checked with one indexed
lookup per request. Tokens expire (the server gives each one a lifetime, 30 days by
default) and can be revoked by their owner or an administrator.

Disabling an account, changing its password or resetting it ends every sign-in session
of the account (:mod:`commonplan.services.sessions`); a reset by an administrator also
revokes the account's API tokens, since a reset usually means the password was lost or
stolen. A reset either sets a new password the administrator enters, or issues a
one-time reset code (:func:`issue_password_reset`) with which the account's owner sets
their own (:func:`redeem_password_reset`); until then the old password no longer works.
Every one of these actions is an entry of the audit log.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commonplan.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
)
from commonplan.services._common import audit, get_or_404
from commonplan.services.roles import Actor, require
from commonplan.services.sessions import end_user_sessions
from commonplan.store.database import Database
from commonplan.store.models import ApiToken, Assembly, AssemblyFacilitator, Role, User, utcnow

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
RESET_LIFETIME = timedelta(hours=24)
UNUSABLE_PASSWORD = "!reset-pending"
"""Stored in place of a hash while a reset is pending: no password verifies against it."""


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
class PasswordReset:
    """A one-time reset code for an account: ``code`` is shown once; only its SHA-256 is stored."""

    user_id: int
    username: str
    code: str
    expires_at: datetime


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


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ParticipationInputError(
            "the password is too short",
            where="password",
            expected=f"at least {MIN_PASSWORD_LENGTH} characters",
            fix="choose a longer password",
        )


def _check_new_user(username: str, password: str, role: Role | str) -> Role:
    if not USERNAME_PATTERN.match(username or ""):
        raise ParticipationInputError(
            f"the user name {username!r} is not allowed",
            where="username",
            expected="2–64 letters, digits, '.', '_' or '-'",
            fix="choose another user name",
        )
    _check_password(password)
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
            audit(
                session,
                actor,
                "user.create",
                f"user {user.id}",
                {"username": username, "role": role.value},
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
    """Enable or disable an account (administrators only).

    A disabled account cannot sign in, its sessions end at once and its API tokens are
    refused (they work again if the account is enabled, unless revoked meanwhile).
    """
    require(actor, "set_user_active")
    with db.transaction() as session:
        user = _user(session, user_id)
        user.active = active
        ended = 0 if active else end_user_sessions(session, user.id)
        audit(
            session,
            actor,
            "user.activate" if active else "user.deactivate",
            f"user {user.id}",
            None if active else {"sessions_ended": ended},
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
    """Change the actor's own password after checking the old one; ends the account's sessions."""
    if actor.user_id is None:
        raise PermissionDeniedError("the system actor has no password", where="change_password")
    _check_password(new_password)
    new_hash = hash_password(new_password)
    with db.transaction() as session:
        user = _user(session, actor.user_id)
        if not verify_password(user.password_hash, old_password):
            raise AuthenticationError("the current password is wrong", where="old password")
        user.password_hash = new_hash
        user.reset_hash = user.reset_expires_at = None
        ended = end_user_sessions(session, user.id)
        audit(session, actor, "user.password", f"user {user.id}", {"sessions_ended": ended})


def set_password(db: Database, actor: Actor, user_id: int, new_password: str) -> UserInfo:
    """Reset another account's password to ``new_password`` (administrators only).

    Ends the account's sessions and revokes its API tokens.
    """
    require(actor, "reset_password")
    _find_user(db, user_id)  # a clear NotFoundError before the slow hash
    _check_password(new_password)
    new_hash = hash_password(new_password)
    with db.transaction() as session:
        user = _user(session, user_id)
        user.password_hash = new_hash
        user.reset_hash = user.reset_expires_at = None
        payload = _lock_out(session, user)
        audit(session, actor, "user.password_reset", f"user {user.id}", payload)
        return UserInfo.of(user)


def issue_password_reset(
    db: Database,
    actor: Actor,
    user_id: int,
    *,
    lifetime: timedelta = RESET_LIFETIME,
    now: datetime | None = None,
) -> PasswordReset:
    """Issue a one-time reset code for an account (administrators only).

    The old password stops working, the account's sessions end and its API tokens are
    revoked; the owner sets a new password with the code (:func:`redeem_password_reset`)
    within ``lifetime`` (24 hours by default). Issuing a new code voids the previous one.
    """
    require(actor, "reset_password")
    now = now or utcnow()
    code = secrets.token_urlsafe(24)
    with db.transaction() as session:
        user = _user(session, user_id)
        user.password_hash = UNUSABLE_PASSWORD
        user.reset_hash = _token_digest(code)
        user.reset_expires_at = now + lifetime
        payload = _lock_out(session, user, now)
        payload["expires_at"] = user.reset_expires_at.isoformat()
        audit(session, actor, "user.password_reset_code", f"user {user.id}", payload)
        return PasswordReset(user.id, user.username, code, user.reset_expires_at)


def redeem_password_reset(
    db: Database, username: str, code: str, new_password: str, *, now: datetime | None = None
) -> Actor:
    """Set a new password with a one-time reset code; the code is spent.

    :class:`AuthenticationError` if the code is wrong, spent or expired (the same message
    for each, and for an unknown user name). The code is checked before the new password
    is hashed, so wrong codes cost no argon2 work.
    """
    now = now or utcnow()
    _check_password(new_password)
    with db.read() as session:
        _pending_reset(session, username, code, now)
    new_hash = hash_password(new_password)
    with db.transaction() as session:
        user = _pending_reset(session, username, code, now)  # not spent meanwhile
        user.password_hash = new_hash
        user.reset_hash = user.reset_expires_at = None
        owner = actor_of(user)
        audit(session, owner, "user.password", f"user {user.id}", {"with_reset_code": True})
        return owner


def _pending_reset(session: Session, username: str, code: str, now: datetime) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if (
        user is None
        or user.reset_hash is None
        or user.reset_expires_at is None
        or user.reset_expires_at <= now
        or not secrets.compare_digest(user.reset_hash, _token_digest(code or ""))
    ):
        raise AuthenticationError(
            "the reset code is wrong, spent or expired",
            where="password reset",
            fix="ask an administrator for a new reset code",
        )
    return user


def _lock_out(session: Session, user: User, now: datetime | None = None) -> dict[str, int]:
    """End the account's sessions and revoke its live API tokens; say how many of each."""
    now = now or utcnow()
    ended = end_user_sessions(session, user.id, now)
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    return {"sessions_ended": ended, "tokens_revoked": tokens or 0}


def get_actor(db: Database, user_id: int) -> Actor:
    """The actor for an active account id (e.g. from a signed session cookie)."""
    with db.read() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise AuthenticationError(
                "the account does not exist or is disabled", where=f"user {user_id}"
            )
        return actor_of(user)


def find_user(db: Database, username: str) -> UserInfo:
    """The account named ``username`` (:class:`NotFoundError` if there is none)."""
    with db.read() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            raise NotFoundError(
                f"no user named {username!r}",
                where="user name",
                fix="check the name with `commonplan admin list-users`",
            )
        return UserInfo.of(user)


def _find_user(db: Database, user_id: int) -> UserInfo:
    with db.read() as session:
        return UserInfo.of(_user(session, user_id))


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
        audit(
            session,
            actor,
            "token.create",
            f"token {row.id}",
            {"name": row.name, "expires_at": row.expires_at and row.expires_at.isoformat()},
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
        or (row.expires_at is not None and row.expires_at <= utcnow())
    ):
        raise AuthenticationError(
            "the API token is unknown, revoked or expired",
            where="Authorization header",
            fix="create a new token",
        )
    if not row.active:
        raise AuthenticationError("the token's account is disabled", where="Authorization header")
    return Actor(row.id, row.username, Role(row.role), row.display_name)


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
            audit(session, actor, "token.revoke", f"token {row.id}", {"user_id": row.user_id})


def list_tokens(db: Database, actor: Actor, user_id: int | None = None) -> list[TokenInfo]:
    """The tokens of the actor's account, or of ``user_id`` for an administrator (never their secrets)."""
    owner = actor.user_id if user_id is None else user_id
    if owner != actor.user_id and Role(actor.role) is not Role.ADMINISTRATOR:
        raise PermissionDeniedError(
            "only an administrator may list another account's tokens", where=f"user {owner}"
        )
    with db.read() as session:
        rows = session.execute(
            select(ApiToken).where(ApiToken.user_id == owner).order_by(ApiToken.id)
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


def add_facilitator(db: Database, actor: Actor, assembly_id: int, user_id: int) -> None:
    """Charge a facilitator account with an assembly (administrators): it may then open,
    advance, tally and publish that assembly's rounds, and no other assembly's."""
    require(actor, "add_facilitator")
    with db.transaction() as session:
        get_or_404(session, Assembly, assembly_id, "assembly")
        user = _user(session, user_id)
        if Role(user.role) is not Role.FACILITATOR:
            raise ParticipationInputError(
                f"{user.username!r} is a {user.role}, not a facilitator",
                where=f"user {user_id}",
                expected="an account with the facilitator role",
                fix="administrators facilitate every assembly already; give others that role first",
            )
        exists = select(AssemblyFacilitator.id).where(
            AssemblyFacilitator.assembly_id == assembly_id, AssemblyFacilitator.user_id == user_id
        )
        if session.execute(exists).first() is None:
            session.add(AssemblyFacilitator(assembly_id=assembly_id, user_id=user_id))
            audit(
                session, actor, "facilitator.add", f"assembly {assembly_id}", {"user_id": user_id}
            )


def remove_facilitator(db: Database, actor: Actor, assembly_id: int, user_id: int) -> None:
    """End a facilitator's charge of an assembly (administrators)."""
    require(actor, "remove_facilitator")
    with db.transaction() as session:
        row = session.execute(
            select(AssemblyFacilitator).where(
                AssemblyFacilitator.assembly_id == assembly_id,
                AssemblyFacilitator.user_id == user_id,
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(
                f"user {user_id} does not facilitate assembly {assembly_id}",
                where=f"assembly {assembly_id}",
            )
        session.delete(row)
        audit(session, actor, "facilitator.remove", f"assembly {assembly_id}", {"user_id": user_id})


def facilitated_assemblies(db: Database, user_id: int) -> list[int]:
    """The ids of the assemblies a facilitator account is charged with, ascending."""
    with db.read() as session:
        query = (
            select(AssemblyFacilitator.assembly_id)
            .where(AssemblyFacilitator.user_id == user_id)
            .order_by(AssemblyFacilitator.assembly_id)
        )
        return list(session.execute(query).scalars())
