"""The ``commonplan db``, ``admin`` and ``audit`` commands, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from commonplan.store import Database


def _run(*args, url, **env):
    environment = dict(
        os.environ, COMMONPLAN_DATABASE_URL=url, COMMONPLAN_ARGON2_PROFILE="test", **env
    )
    return subprocess.run(
        [sys.executable, "-m", "commonplan.cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_db_upgrade_create_user_and_audit_verify(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    status = _run("db", "status", url=url)
    assert (
        status.returncode == 2
        and "no Commonplan schema" in status.stderr
        and "Traceback" not in status.stderr
    )
    upgraded = _run("db", "upgrade", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema revision 0001" in upgraded.stdout
    created = _run(
        "admin",
        "create-user",
        "carla",
        "--role",
        "facilitator",
        url=url,
        COMMONPLAN_NEW_PASSWORD="a long password",
    )
    assert created.returncode == 0, created.stderr
    assert "role facilitator" in created.stdout
    duplicate = _run(
        "admin", "create-user", "carla", url=url, COMMONPLAN_NEW_PASSWORD="a long password"
    )
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    verified = _run("audit", "verify", url=url)
    assert verified.returncode == 0 and "audit log intact: 1 entries" in verified.stdout

    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"))
    database.dispose()
    broken = _run("audit", "verify", url=url)
    assert broken.returncode == 2
    assert "entry 1: edited" in broken.stderr and "audit entry 1" in broken.stderr


def test_unreachable_database_is_one_line(tmp_path):
    result = _run("db", "upgrade", url="postgresql://postgres@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach the database" in result.stderr
