"""Accounts: argon2id passwords, sign-in, API bearer tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from commonplan import services as S
from commonplan.errors import (
    AuthenticationError,
    ConflictError,
    ParticipationInputError,
    PermissionDeniedError,
)
from commonplan.services import Actor, Role
from commonplan.store.models import ApiToken, AuditEntry, User, utcnow


def test_passwords_are_stored_as_argon2id_hashes(db):
    user = S.create_user(
        db, Actor.system(), "ana", "a long password", Role.MEMBER, display_name="Ana"
    )
    with db.read() as session:
        stored = session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$") and "a long password" not in stored
    assert PasswordHasher().verify(stored, "a long password")  # the reference implementation agrees
    actor = S.authenticate(db, "ana", "a long password")
    assert (actor.user_id, actor.role) == (user.id, Role.MEMBER)


def test_wrong_credentials_and_disabled_accounts(db):
    user = S.create_user(db, Actor.system(), "ana", "a long password", "member")
    for name, password in [("ana", "wrong password"), ("nobody", "a long password"), ("ana", "")]:
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            S.authenticate(db, name, password)
    S.set_user_active(db, Actor.system(), user.id, False)
    with pytest.raises(AuthenticationError):
        S.authenticate(db, "ana", "a long password")
    with pytest.raises(AuthenticationError):
        S.get_actor(db, user.id)


def test_account_input_is_checked(db):
    S.create_user(db, Actor.system(), "ana", "a long password", "member")
    with pytest.raises(ConflictError, match="already exists"):
        S.create_user(db, Actor.system(), "ana", "another password", "member")
    with pytest.raises(ParticipationInputError, match="too short"):
        S.create_user(db, Actor.system(), "bo", "short", "member")
    with pytest.raises(ParticipationInputError, match="not allowed"):
        S.create_user(db, Actor.system(), "x y'; --", "a long password", "member")
    with pytest.raises(ParticipationInputError, match="unknown role"):
        S.create_user(db, Actor.system(), "carl", "a long password", "king")


def test_change_password(db):
    user = S.create_user(db, Actor.system(), "ana", "a long password", "member").actor()
    with pytest.raises(AuthenticationError):
        S.change_password(db, user, "not it", "a new long password")
    S.change_password(db, user, "a long password", "a new long password")
    assert S.authenticate(db, "ana", "a new long password").user_id == user.user_id


def test_api_tokens(db):
    ana = S.create_user(db, Actor.system(), "ana", "a long password", "facilitator").actor()
    bob = S.create_user(db, Actor.system(), "bob", "a long password", "member").actor()
    new = S.create_token(db, ana, name="script")
    assert new.token.startswith("cp_")
    with db.read() as session:
        row = session.execute(select(ApiToken)).scalar_one()
    assert new.token not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert S.verify_token(db, new.token) == ana
    for bad in ["", "cp_1_x", new.token + "x"]:
        with pytest.raises(AuthenticationError):
            S.verify_token(db, bad)
    with pytest.raises(PermissionDeniedError, match="owner or an administrator"):
        S.revoke_token(db, bob, new.id)
    S.revoke_token(db, ana, new.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        S.verify_token(db, new.token)
    expired = S.create_token(db, ana, expires_in=timedelta(seconds=-1))
    with pytest.raises(AuthenticationError, match="expired"):
        S.verify_token(db, expired.token)
    assert [t.id for t in S.list_tokens(db, ana)] == [new.id, expired.id]
    assert S.list_tokens(db, bob) == []


def test_sessions_end_at_sign_out_disable_and_password_change(db):
    from commonplan.store.models import WebSession

    ana = S.create_user(db, Actor.system(), "ana", "a long password", "member")
    lifetime = timedelta(hours=1)
    first = S.open_session(db, ana.actor(), lifetime)
    with db.read() as session:
        stored = session.execute(select(WebSession.id_hash)).scalars().all()
    assert first not in stored and len(stored) == 1  # only the id's digest is kept
    assert S.session_actor(db, first) == ana.actor()
    S.end_session(db, first)
    with pytest.raises(AuthenticationError, match="ended"):
        S.session_actor(db, first)

    start = utcnow()
    second = S.open_session(db, ana.actor(), lifetime, now=start)
    assert (
        S.session_actor(db, second, now=start + lifetime - timedelta(seconds=1)).username == "ana"
    )
    with pytest.raises(AuthenticationError):
        S.session_actor(db, second, now=start + lifetime)

    third = S.open_session(db, ana.actor(), lifetime)
    S.set_user_active(db, Actor.system(), ana.id, False)
    S.set_user_active(db, Actor.system(), ana.id, True)
    with pytest.raises(AuthenticationError):
        S.session_actor(db, third)  # enabling again does not revive it

    fourth = S.open_session(db, ana.actor(), lifetime)
    S.change_password(db, ana.actor(), "a long password", "another long password")
    with pytest.raises(AuthenticationError):
        S.session_actor(db, fourth)
    with pytest.raises(AuthenticationError):
        S.session_actor(db, "")


def test_one_time_password_reset(db):
    admin = S.create_user(db, Actor.system(), "root", "a long password", "administrator").actor()
    ana = S.create_user(db, Actor.system(), "ana", "a long password", "member")
    token = S.create_token(db, ana.actor())
    with pytest.raises(PermissionDeniedError):
        S.issue_password_reset(db, ana.actor(), ana.id)
    issued_at = utcnow()
    reset = S.issue_password_reset(db, admin, ana.id, now=issued_at)
    with pytest.raises(AuthenticationError):
        S.authenticate(db, "ana", "a long password")  # the old password stopped working
    with pytest.raises(AuthenticationError, match="revoked"):
        S.verify_token(db, token.token)
    for name, code in (("ana", "not-the-code"), ("bob", reset.code)):
        with pytest.raises(AuthenticationError, match="wrong, spent or expired"):
            S.redeem_password_reset(db, name, code, "ana's new password")
    with pytest.raises(AuthenticationError, match="expired"):
        S.redeem_password_reset(
            db, "ana", reset.code, "ana's new password", now=issued_at + timedelta(hours=24)
        )
    S.redeem_password_reset(db, "ana", reset.code, "ana's new password")
    assert S.authenticate(db, "ana", "ana's new password").user_id == ana.id
    with pytest.raises(AuthenticationError, match="spent"):
        S.redeem_password_reset(db, "ana", reset.code, "yet another password")
    with db.read() as session:
        actions = list(session.execute(select(AuditEntry.action)).scalars())
    assert {"user.password_reset_code", "user.password", "token.create"} <= set(actions)
    assert reset.code not in str(S.audit_log(db, limit=50))


def test_administrators_set_passwords_and_list_others_tokens(db):
    admin = S.create_user(db, Actor.system(), "root", "a long password", "administrator").actor()
    ana = S.create_user(db, Actor.system(), "ana", "a long password", "member")
    bob = S.create_user(db, Actor.system(), "bob", "a long password", "member").actor()
    token = S.create_token(db, ana.actor(), expires_in=timedelta(days=1))
    with pytest.raises(PermissionDeniedError):
        S.set_password(db, bob, ana.id, "bob chose this")
    with pytest.raises(PermissionDeniedError):
        S.list_tokens(db, bob, ana.id)
    assert [t.id for t in S.list_tokens(db, admin, ana.id)] == [token.id]
    with pytest.raises(ParticipationInputError, match="too short"):
        S.set_password(db, admin, ana.id, "short")
    S.set_password(db, admin, ana.id, "set by the admin")
    assert S.authenticate(db, "ana", "set by the admin").user_id == ana.id
    with pytest.raises(AuthenticationError, match="revoked"):
        S.verify_token(db, token.token)
