"""Starting the server: settings from the environment, and clear errors (not tracebacks)
for an unreachable database or one at an older schema."""

from __future__ import annotations

import subprocess
import sys

import pytest
from loadgen import free_port
from sqlalchemy import create_engine, text

from commonplan.errors import DatabaseError
from commonplan.server import Settings, SettingsError, create_app
from commonplan.store.migrate import head_revision, upgrade

UNREACHABLE = "postgresql://postgres@127.0.0.1:{port}/nothing_here"


def test_settings_from_environment():
    settings = Settings.from_env(
        {
            "COMMONPLAN_DATABASE_URL": "sqlite:////tmp/x.sqlite3",
            "COMMONPLAN_SECRET_KEY": "s3cret",
            "COMMONPLAN_PORT": "8123",
            "COMMONPLAN_MAX_BODY_BYTES": "1024",
            "COMMONPLAN_SECURE_COOKIES": "1",
            "COMMONPLAN_TOKEN_CACHE_S": "0",
            "COMMONPLAN_TELEMETRY": "yes",
        }
    )
    assert settings.database_url == "sqlite:////tmp/x.sqlite3"
    assert settings.secret_key == "s3cret" and settings.secret_from_environment
    assert (settings.port, settings.max_body_bytes, settings.secure_cookies) == (8123, 1024, True)
    assert settings.token_cache_s == 0.0 and settings.telemetry
    assert "s3cret" not in repr(settings)
    assert Settings.from_env(settings.to_env()).telemetry
    defaults = Settings.from_env({})
    assert not defaults.telemetry and not Settings.from_env(defaults.to_env()).telemetry
    assert (defaults.host, defaults.port) == ("127.0.0.1", 8000)
    assert not defaults.secret_from_environment and len(defaults.secret_key) >= 32


@pytest.mark.parametrize("value", ["eighty", "-5", "0"])
def test_bad_setting_is_a_clear_error(value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"COMMONPLAN_PORT": value})
    assert "COMMONPLAN_PORT" in str(caught.value)


def test_unreachable_database_is_a_clear_error():
    url = UNREACHABLE.format(port=free_port())
    with pytest.raises(DatabaseError) as caught:
        create_app(Settings(database_url=url))
    message = str(caught.value)
    assert "cannot reach the database" in message and "COMMONPLAN_DATABASE_URL" in message


def test_empty_database_without_migrations_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(DatabaseError) as caught:
        create_app(Settings(database_url=url, apply_migrations=False))
    assert "commonplan db upgrade" in str(caught.value)
    create_app(Settings(database_url=url))  # with migrations (the default) it starts


def test_older_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    engine.dispose()
    with pytest.raises(DatabaseError) as caught:
        create_app(Settings(database_url=url, apply_migrations=False))
    assert "0000_older" in str(caught.value) and head_revision() in str(caught.value)


def test_serve_command_prints_one_line_for_an_unreachable_database():
    url = UNREACHABLE.format(port=free_port())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "commonplan.cli.main",
            "serve",
            "--port",
            str(free_port()),
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("error:") and "cannot reach the database" in done.stderr


def test_run_with_demo_seed_serves_the_demo(tmp_path):
    """``run(settings, seed_demo=True)``, what ``commonplan demo --serve`` calls."""
    import httpx
    from loadgen import ServerProcess

    from commonplan.services.demo import demo_password

    port = free_port()
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    code = (
        "from commonplan.server import Settings, run; "
        f"run(Settings.from_env(port={port}), seed_demo=True)"
    )
    server = ServerProcess(url, port, command=[sys.executable, "-c", code]).start(timeout_s=180)
    try:
        base = f"http://127.0.0.1:{port}"
        assemblies = httpx.get(f"{base}/api/v1/assemblies").json()
        assert [a["name"] for a in assemblies] == ["Demo assembly", "Demo participatory economy"]
        token = httpx.post(
            f"{base}/api/v1/tokens",
            json={"username": "member1", "password": demo_password("member1")},
        )
        assert token.status_code == 201
        rounds = httpx.get(f"{base}/api/v1/assemblies/{assemblies[0]['id']}/rounds").json()
        assert rounds[0]["phase"] == "ballot" and len(rounds[0]["target_groups"]) == 6
        assert "Demo assembly" in httpx.get(f"{base}/").text
        # the plan in execution: alarms on the operations page, and the re-plan
        operations = httpx.get(f"{base}/operations").text
        assert 'class="alarm"' in operations and 'id="replan-targets"' in operations
        # the live round awaits the members' proposals
        [live] = httpx.get(f"{base}/api/v1/live").json()
        assert (live["status"], live["iteration"]) == ("open", 4)
        assert "Demo live round" in httpx.get(f"{base}/live/{live['id']}").text
    finally:
        server.stop()


def test_serve_with_two_worker_processes(tmp_path):
    """``commonplan serve --workers 2``: both processes answer with one database and secret."""
    import httpx
    from loadgen import ServerProcess, seed_voters

    from commonplan.store.database import open_database

    url = f"sqlite:///{tmp_path / 'workers.sqlite3'}"
    database = open_database(url, migrate=True)
    voters = seed_voters(database, 2)
    database.dispose()
    server = ServerProcess(url, free_port(), workers=2).start(timeout_s=120)
    try:
        base = f"http://127.0.0.1:{server.port}/api/v1"
        for k in range(6):  # new connections land on either worker
            with httpx.Client() as client:
                response = client.post(
                    f"{base}/rounds/{voters.round_id}/ballots",
                    json={"points": {"food": 100 - k, "housing": k}, "request_id": f"w{k}"},
                    headers={"Authorization": f"Bearer {voters.tokens[k % 2]}"},
                )
                assert response.status_code == 201, response.text
        mine = httpx.get(
            f"{base}/rounds/{voters.round_id}/ballots/me",
            headers={"Authorization": f"Bearer {voters.tokens[0]}"},
        ).json()
        assert [b["request_id"] for b in mine] == ["w0", "w2", "w4"]
    finally:
        server.stop()
