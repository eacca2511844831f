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
from commonplan.store.models import ApiToken, User


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
