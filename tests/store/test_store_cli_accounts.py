"""The ``commonplan admin`` commands for accounts: disable, reset passwords, tokens, facilitators."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from commonplan import services as S
from commonplan.cli.main import app_typer
from commonplan.errors import AuthenticationError, NotFoundError
from commonplan.services import Actor
from commonplan.store import open_database, upgrade


@pytest.fixture()
def url(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONPLAN_ARGON2_PROFILE", "test")
    url = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"
    upgrade(url)
    database = open_database(url)
    S.create_user(database, Actor.system(), "ana", "a long password", "member")
    S.create_user(database, Actor.system(), "fac", "a long password", "facilitator")
    S.create_assembly(database, Actor.system(), "Assembly")
    database.dispose()
    return url


def _run(url, *args, input=None, error=None):
    result = CliRunner().invoke(app_typer, [*args, "--database-url", url], input=input)
    if error is None:
        assert result.exit_code == 0, result.output + repr(result.exception)
    else:
        assert isinstance(result.exception, error), result.exception
    return result


def _with(url, action):
    database = open_database(url)
    try:
        return action(database)
    finally:
        database.dispose()


def test_disable_and_enable_a_user(url):
    assert "disabled" in _run(url, "admin", "disable-user", "ana").output
    with pytest.raises(AuthenticationError):
        _with(url, lambda db: S.authenticate(db, "ana", "a long password"))
    assert "ana\tmember\tdisabled" in _run(url, "admin", "list-users").output
    _run(url, "admin", "enable-user", "ana")
    assert _with(url, lambda db: S.authenticate(db, "ana", "a long password")).username == "ana"
    _run(url, "admin", "disable-user", "nobody", error=NotFoundError)


def test_reset_password_reads_stdin_never_argv(url):
    token = _with(
        url, lambda db: S.create_token(db, S.authenticate(db, "ana", "a long password")).token
    )
    done = _run(url, "admin", "reset-password", "ana", input="a new long password\n")
    assert "a new long password" not in done.output
    assert _with(url, lambda db: S.authenticate(db, "ana", "a new long password")).username == "ana"
    with pytest.raises(AuthenticationError, match="revoked"):
        _with(url, lambda db: S.verify_token(db, token))
    extra = CliRunner().invoke(
        app_typer, ["admin", "reset-password", "ana", "secret-on-argv", "--database-url", url]
    )
    assert extra.exit_code != 0  # no argument takes a password


def test_one_time_reset_code(url):
    printed = _run(url, "admin", "reset-password", "ana", "--one-time").output
    code = printed.strip().splitlines()[-1]
    with pytest.raises(AuthenticationError):
        _with(url, lambda db: S.authenticate(db, "ana", "a long password"))
    _with(url, lambda db: S.redeem_password_reset(db, "ana", code, "chosen by ana"))
    assert _with(url, lambda db: S.authenticate(db, "ana", "chosen by ana")).username == "ana"


def test_list_and_revoke_tokens(url):
    new = _with(
        url,
        lambda db: S.create_token(db, S.authenticate(db, "ana", "a long password"), name="laptop"),
    )
    listed = _run(url, "admin", "list-tokens", "ana").output
    assert f"{new.id}\tlaptop" in listed and "live" in listed and new.token not in listed
    _run(url, "admin", "revoke-token", str(new.id))
    assert "revoked" in _run(url, "admin", "list-tokens", "ana").output
    with pytest.raises(AuthenticationError, match="revoked"):
        _with(url, lambda db: S.verify_token(db, new.token))


def test_add_facilitator(url):
    assert "facilitates assembly 1" in _run(url, "admin", "add-facilitator", "fac", "1").output
    fac_id = _with(url, lambda db: S.find_user(db, "fac").id)
    assert _with(url, lambda db: S.facilitated_assemblies(db, fac_id)) == [1]
    audit = _with(url, lambda db: [e.action for e in S.audit_log(db)])
    assert "facilitator.add" in audit


def test_create_an_assembly_with_its_time_zone(url):
    done = _run(url, "admin", "create-assembly", "South", "--time-zone", "America/Bogota")
    assert "time zone America/Bogota" in done.output
    listed = _with(url, S.list_assemblies)
    assert [(a.name, a.time_zone) for a in listed][-1] == ("South", "America/Bogota")
    refused = subprocess.run(
        [sys.executable, "-m", "commonplan.cli.main", "admin", "create-assembly", "Nowhere"]
        + ["--time-zone", "Mars/Olympus", "--database-url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.count("\n") == 1 and "unknown time zone 'Mars/Olympus'" in refused.stderr
    assert [a.name for a in _with(url, S.list_assemblies)] == ["Assembly", "South"]
