"""Migrations, engine settings, and refusing unreachable or outdated databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text, update

from commonplan.errors import DatabaseError
from commonplan.store import Database, downgrade, head_revision, open_database, resolve_url, upgrade
from commonplan.store.models import Base
from db_fixtures import create_pg_database, drop_pg_database, pg_url


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_all_tables_exist_and_revision_is_head(db):
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_sqlite_pragmas(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'new.sqlite3'}"
    upgrade(url)  # creates the folder and the file on first use
    database = open_database(url)
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    database.dispose()


def test_default_url_is_a_sqlite_file_in_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("COMMONPLAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("COMMONPLAN_HOME", str(tmp_path))
    assert resolve_url() == f"sqlite:///{tmp_path / 'commonplan.sqlite3'}"
    monkeypatch.setenv("COMMONPLAN_DATABASE_URL", "postgresql://u@h:5432/db")
    assert resolve_url() == "postgresql+psycopg://u@h:5432/db"


def test_empty_database_is_refused_until_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    with pytest.raises(DatabaseError, match="no Commonplan schema") as error:
        open_database(url)
    assert "commonplan db upgrade" in error.value.fix
    assert open_database(url, migrate=True).url == url


def test_older_schema_is_refused_with_a_clear_error(db_url):
    downgrade(db_url, "base")
    try:
        with pytest.raises(DatabaseError, match="no Commonplan schema"):
            open_database(db_url)
        with Database(db_url).engine.begin() as connection:
            # a database left at an older revision than this code's head
            connection.execute(text("INSERT INTO alembic_version VALUES ('0000_older')"))
        with pytest.raises(DatabaseError, match="at revision 0000_older") as error:
            open_database(db_url)
        assert head_revision() in str(error.value)
    finally:
        with Database(db_url).engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
        upgrade(db_url)


@pytest.mark.postgres
def test_unreachable_postgres_is_a_clear_error():
    with pytest.raises(DatabaseError, match="cannot reach the database") as error:
        open_database("postgresql://postgres@127.0.0.1:1/nothing")
    assert "COMMONPLAN_DATABASE_URL" in error.value.fix
    with pytest.raises(DatabaseError, match="cannot reach"):
        upgrade("postgresql://postgres:secret@127.0.0.1:1/nothing")


def test_unwritable_sqlite_is_a_clear_error():
    with pytest.raises(DatabaseError, match="cannot reach the database"):
        open_database("sqlite:////proc/no/such/place.sqlite3")


def test_unsupported_backend_is_refused():
    with pytest.raises(DatabaseError, match="not supported"):
        open_database("mysql://u@localhost/db")


@pytest.mark.postgres
def test_upgrade_on_a_fresh_postgres_database_and_downgrade_to_base():
    name = create_pg_database("cp_migr")
    try:
        url = pg_url(name)
        assert upgrade(url) == head_revision()
        assert upgrade(url) == head_revision()  # idempotent
        open_database(url).dispose()
        downgrade(url, "base")
        with Database(url).engine.connect() as connection:
            assert not inspect(connection).has_table("users")
    finally:
        drop_pg_database(name)


def test_upgrade_of_a_database_from_a_newer_version_is_a_clear_error(tmp_path):
    import sqlite3

    from commonplan.errors import DatabaseError
    from commonplan.store.migrate import upgrade

    path = tmp_path / "newer.sqlite3"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(DatabaseError, match="9999_future"):
        upgrade(f"sqlite:///{path}")


def test_upgrade_from_0001_adopts_the_stored_vote_records_into_the_chain(db_url):
    """A database at 0001 with a round and a ballot (whose entries did not record rows) upgrades
    to a chain that records them, so verify checks them from then on."""
    from commonplan import services as S
    from commonplan.store.models import Ballot

    db = Database(db_url)
    system = S.Actor.system()
    member = S.create_user(db, system, "member", "a long password", "member").actor()
    assembly = S.create_assembly(db, system, "Assembly")
    council = S.create_council(db, system, assembly.id, "Workers", "workers")
    S.add_membership(db, system, council.id, member.user_id)
    opened = S.open_round(db, system, assembly.id, "Round", ["food", "health"])
    S.submit_ballot(db, member, opened.id, {"food": 100})
    db.dispose()
    downgrade(db_url, "0001")  # the rows lose their tracker and salt: as written under 0001
    assert upgrade(db_url) == head_revision()
    db = open_database(db_url)
    report = S.verify_audit_log(db)
    assert report.ok, report.problems
    adopted = [e for e in S.audit_log(db) if e.subject == "schema 0002"]
    assert len(adopted) == 1 and '"table":"ballots"' in adopted[0].payload
    assert {e.subject for e in S.audit_log(db) if e.action == "audit.adopt"} == {
        "schema 0002",
        "schema 0005",
        "schema 0005 downgrade",
    }  # no ranking was stored: 0006 adopts nothing
    with db.engine.begin() as connection:  # and a later edit is caught
        connection.execute(update(Ballot).values(points={"food": 0.0, "health": 100.0}))
    assert [p.kind for p in S.verify_audit_log(db).problems] == ["edited"]
    db.dispose()


def test_upgrade_from_0003_gives_existing_assemblies_utc_and_downgrade_keeps_them(db_url):
    from commonplan import services as S

    db = Database(db_url)
    system = S.Actor.system()
    assembly = S.create_assembly(db, system, "Assembly", time_zone="Asia/Karachi")
    council = S.create_council(db, system, assembly.id, "Workers", "workers")
    db.dispose()
    downgrade(db_url, "0003")
    with Database(db_url).engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("assemblies")}
        assert "time_zone" not in columns
    assert upgrade(db_url) == head_revision()
    db = open_database(db_url)
    assert S.get_assembly(db, assembly.id).time_zone == "UTC"  # the zone pages showed before
    assert [c.id for c in S.list_councils(db, assembly.id)] == [council.id]  # nothing cascaded
    assert S.verify_audit_log(db).ok
    db.dispose()


def test_upgrade_to_0005_unlinks_the_ballots_of_a_closed_round_and_keys_an_open_one(db_url):
    """At 0004 one round is still taking ballots and one has moved on (moved by SQL: the
    services of this code cannot write the 0004 schema); the upgrade keys the open round's
    ballots by voter key and strips the closed round's of any link, with turnout for both."""
    import hashlib
    import hmac

    from commonplan import services as S
    from commonplan.store.models import Ballot, RoundSecret, Turnout

    db = Database(db_url)
    system = S.Actor.system()
    members = [
        S.create_user(db, system, f"m{k}", "a long password", "member").actor() for k in range(2)
    ]
    assembly = S.create_assembly(db, system, "Assembly")
    council = S.create_council(db, system, assembly.id, "Workers", "workers")
    for member in members:
        S.add_membership(db, system, council.id, member.user_id)
    still_open = S.open_round(db, system, assembly.id, "Open", ["food", "health"])
    closing = S.open_round(db, system, assembly.id, "Closing", ["food", "health"])
    for member in members:
        for round_id in (still_open.id, closing.id):
            S.submit_ballot(db, member, round_id, {"food": 100})
    db.dispose()
    downgrade(db_url, "0004")
    with Database(db_url).engine.begin() as connection:
        connection.execute(
            text("UPDATE planning_rounds SET phase = 'alternatives' WHERE id = :r"),
            {"r": closing.id},
        )
    assert upgrade(db_url) == head_revision()
    db = open_database(db_url)
    with db.read() as session:
        ballots = session.execute(select(Ballot)).scalars().all()
        secrets = session.execute(select(RoundSecret)).scalars().all()
        turnout = session.execute(select(Turnout.round_id, Turnout.user_id)).all()
    [secret] = [s.secret for s in secrets if s.round_id == still_open.id]
    assert {s.round_id for s in secrets} == {still_open.id}
    keys = {
        hmac.new(bytes.fromhex(secret), f"voter {m.user_id}".encode(), hashlib.sha256).hexdigest()
        for m in members
    }
    assert {b.voter_key for b in ballots if b.round_id == still_open.id} == keys
    closed = [b for b in ballots if b.round_id == closing.id]
    assert closed and all(b.voter_key is None and b.request_id is None for b in closed)
    assert sorted(turnout) == sorted(
        (r, m.user_id) for r in (still_open.id, closing.id) for m in members
    )
    # the member can still resubmit in the open round: the voter keys match the services'
    S.submit_ballot(db, members[0], still_open.id, {"health": 100})
    assert S.my_ballot(db, members[0], still_open.id).points["health"] == 100.0
    problems = S.verify_audit_log(db).problems
    assert [(p.kind, p.message.split(" was")[0]) for p in problems] == [
        ("edited", f"planning_rounds row {closing.id}")  # the phase moved by SQL above
    ]
    db.dispose()


def test_upgrade_to_0006_unlinks_the_rankings_of_a_tallied_round_and_keys_an_open_vote(db_url):
    import hashlib
    import hmac

    from commonplan import services as S
    from commonplan.store.models import Ranking, RoundSecret, Turnout

    db = Database(db_url)
    system = S.Actor.system()
    admin = S.create_user(db, system, "admin", "a long password", "administrator").actor()
    members = [
        S.create_user(db, system, f"m{k}", "a long password", "member").actor() for k in range(2)
    ]
    assembly = S.create_assembly(db, system, "Assembly")
    council = S.create_council(db, system, assembly.id, "Workers", "workers")
    for member in members:
        S.add_membership(db, system, council.id, member.user_id)
    round_ids = []
    for title in ("Open vote", "Counted"):
        opened = S.open_round(db, admin, assembly.id, title, ["food", "health"])
        for member in members:
            S.submit_ballot(db, member, opened.id, {"food": 100})
        S.advance_phase(db, admin, opened.id)
        for alternative in ("One", "Two"):
            S.add_alternative(db, admin, opened.id, alternative)
        S.advance_phase(db, admin, opened.id)
        for member in members:
            S.submit_ranking(db, member, opened.id, ["B", "A"])
        round_ids.append(opened.id)
    open_vote, counted = round_ids
    db.dispose()
    downgrade(db_url, "0005")
    with Database(db_url).engine.begin() as connection:
        connection.execute(
            text("UPDATE planning_rounds SET phase = 'tallied' WHERE id = :r"), {"r": counted}
        )
    assert upgrade(db_url) == head_revision()
    db = open_database(db_url)
    with db.read() as session:
        rankings = session.execute(select(Ranking)).scalars().all()
        secrets = session.execute(select(RoundSecret)).scalars().all()
        turnout = session.execute(
            select(Turnout.round_id, Turnout.user_id).where(Turnout.kind == "ranking")
        ).all()
    [secret] = [s.secret for s in secrets]
    assert [(s.round_id, s.kind) for s in secrets] == [(open_vote, "ranking")]
    keys = {
        hmac.new(bytes.fromhex(secret), f"voter {m.user_id}".encode(), hashlib.sha256).hexdigest()
        for m in members
    }
    assert {r.voter_key for r in rankings if r.round_id == open_vote} == keys
    tallied = [r for r in rankings if r.round_id == counted]
    assert len(tallied) == 2 and all(r.voter_key is None and r.request_id is None for r in tallied)
    assert sorted(turnout) == sorted((r, m.user_id) for r in round_ids for m in members)
    assert S.my_ranking(db, members[0], open_vote).order == ("B", "A")  # keys match the services
    problems = S.verify_audit_log(db).problems
    assert [(p.kind, p.message.split(" was")[0]) for p in problems] == [
        ("edited", f"planning_rounds row {counted}")  # the phase moved by SQL above
    ]
    db.dispose()
