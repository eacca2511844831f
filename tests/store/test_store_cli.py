"""The ``commonplan db``, ``admin`` and ``audit`` commands."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text
from typer.testing import CliRunner

from commonplan.cli.main import app_typer
from commonplan.errors import AuditIntegrityError, ConflictError, DatabaseError
from commonplan.store import Database, head_revision


def _invoke(*args, url, error=None, **env):
    """Run a command in-process (as ``commonplan`` runs it, minus the process start)."""
    result = CliRunner().invoke(app_typer, [*args, "--database-url", url], env=dict(env))
    if error is None:
        assert result.exit_code == 0, result.output + repr(result.exception)
    else:
        assert isinstance(result.exception, error), result.exception
    return result


def test_db_upgrade_create_user_and_audit_verify(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONPLAN_ARGON2_PROFILE", "test")
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    status = _invoke("db", "status", url=url, error=DatabaseError)
    assert "no Commonplan schema" in str(status.exception)
    assert f"schema revision {head_revision()}" in _invoke("db", "upgrade", url=url).output
    created = _invoke(
        "admin",
        "create-user",
        "carla",
        "--role",
        "facilitator",
        url=url,
        COMMONPLAN_NEW_PASSWORD="a long password",
    )
    assert "role facilitator" in created.output
    duplicate = _invoke(
        "admin",
        "create-user",
        "carla",
        url=url,
        error=ConflictError,
        COMMONPLAN_NEW_PASSWORD="a long password",
    )
    assert "already exists" in str(duplicate.exception)
    assert "audit log intact: 1 entries" in _invoke("audit", "verify", url=url).output

    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    database.dispose()
    broken = _invoke("audit", "verify", url=url, error=AuditIntegrityError)
    assert "entry 1: edited" in broken.output and "audit entry 1" in str(broken.exception)


def test_errors_print_one_line_without_a_traceback():
    environment = dict(os.environ, COMMONPLAN_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    result = subprocess.run(
        [sys.executable, "-m", "commonplan.cli.main", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach the database" in result.stderr
