"""Backups taken while ballots are written, restores, and the Parquet export — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading

import pyarrow.parquet as pq
import pytest
from services_world import build_world
from sqlalchemy import select, text
from typer.testing import CliRunner

from commonplan import services as S
from commonplan.cli.main import app_typer
from commonplan.errors import AuditIntegrityError, DatabaseError
from commonplan.services.backup import (
    MANIFEST_NAME,
    NOT_EXPORTED,
    backup_database,
    export_records,
    restore_database,
)
from commonplan.store import Database
from commonplan.store.models import AuditEntry, Ballot, Base
from db_fixtures import create_pg_database, drop_pg_database, pg_url

N_WRITERS = 4
BALLOTS_EACH = 30
BACKUP_AFTER = 10  # acknowledged ballots before the backup starts


def _all_rows(database: Database) -> dict[str, list[tuple]]:
    with database.read() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def _ballot_ids(database: Database) -> set[int]:
    with database.read() as session:
        return set(session.execute(select(Ballot.id)).scalars())


@pytest.fixture()
def fresh_url(db_url, tmp_path):
    """Where a restore goes: a new SQLite file, or a new PostgreSQL database (dropped afterwards)."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = create_pg_database("cp_durable_restore")
    yield pg_url(name)
    drop_pg_database(name)


def test_a_backup_during_writes_holds_every_acknowledged_ballot_and_restores_the_same_rows(
    db, db_url, fresh_url, tmp_path
):
    w = build_world(db, n_extra_members=N_WRITERS)
    acknowledged: list[int] = []
    lock = threading.Lock()
    enough = threading.Event()
    errors: list[BaseException] = []

    def write(member) -> None:
        try:
            for k in range(BALLOTS_EACH):
                receipt = S.submit_ballot(db, member, w.round_id, {"food": 100 - k, "health": k})
                with lock:
                    acknowledged.append(receipt.id)
                    if len(acknowledged) >= BACKUP_AFTER:
                        enough.set()
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            enough.set()

    writers = [threading.Thread(target=write, args=(m,)) for m in w.extras]
    for thread in writers:
        thread.start()
    enough.wait()
    with lock:
        before_backup = set(acknowledged)
    report = backup_database(db_url, tmp_path / "backup.dump")
    for thread in writers:
        thread.join()
    assert not errors, errors
    assert len(acknowledged) == N_WRITERS * BALLOTS_EACH

    copy_url = (
        f"sqlite:///{report.path}" if report.backend == "sqlite" else None
    )  # a pg_dump file is checked by restoring it
    restored = restore_database(report.path, fresh_url)
    assert restored.audit_entries == report.audit_entries
    assert restored.audit_head_hash == report.audit_head_hash
    assert restored.rows == report.rows
    copy = Database(fresh_url)
    try:
        in_backup = _ballot_ids(copy)
        assert before_backup <= in_backup  # every ballot acknowledged before the backup began
        assert in_backup <= set(acknowledged)  # and nothing that was never acknowledged
        assert len(in_backup) == report.rows["ballots"]
        assert S.verify_audit_log(copy).ok
        restored_rows = _all_rows(copy)
    finally:
        copy.dispose()
    if copy_url is not None:  # SQLite: the backup file itself is a database with the same rows
        backup = Database(copy_url)
        assert _all_rows(backup) == restored_rows
        backup.dispose()
    live = _all_rows(db)
    for table, rows in restored_rows.items():  # rows never change once written, except these
        if table not in ("ballots", "turnout", "audit_head", "audit_log"):
            assert rows == live[table], table
    assert set(restored_rows["turnout"]) <= set(live["turnout"])  # members who voted later
    live_ballots = {row[0]: row for row in live["ballots"]}
    assert all(row[:5] == live_ballots[row[0]][:5] for row in restored_rows["ballots"])
    assert restored_rows["audit_log"] == live["audit_log"][: report.audit_entries]


def test_restore_replaces_a_database_that_moved_on(db, db_url, tmp_path):
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    before = _all_rows(db)
    report = backup_database(db_url, tmp_path / "backup.dump")
    S.submit_ballot(db, w.member2, w.round_id, {"health": 100})
    assert _all_rows(db) != before
    db.dispose()
    restore_database(report.path, db_url)
    assert _all_rows(db) == before


def test_a_backup_whose_audit_chain_is_broken_is_refused(tmp_path):
    from commonplan.store import upgrade

    url = f"sqlite:///{tmp_path / 'tampered.sqlite3'}"
    upgrade(url)
    db = Database(url)
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    with db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("UPDATE audit_log SET payload = '{}' WHERE seq = 2"))
    db.dispose()
    target = tmp_path / "backup.sqlite3"
    with pytest.raises(AuditIntegrityError, match="hash chain is broken"):
        backup_database(url, target)
    assert list(tmp_path.glob("backup*")) == []  # nothing is left at the destination


def test_backups_are_never_overwritten_and_missing_tools_are_named(db_url, tmp_path, monkeypatch):
    existing = tmp_path / "old.dump"
    existing.write_bytes(b"an earlier backup")
    with pytest.raises(DatabaseError, match="already exists"):
        backup_database(db_url, existing)
    assert existing.read_bytes() == b"an earlier backup"
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(DatabaseError, match="pg_dump` was not found on PATH") as error:
        backup_database("postgresql://nobody@127.0.0.1:1/none", tmp_path / "new.dump")
    assert "postgresql-client" in error.value.fix
    assert not list(tmp_path.glob("new.dump*"))


def test_export_writes_every_table_as_parquet_with_a_manifest(db, tmp_path):
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 60, "housing": 40})
    S.submit_ballot(db, w.member2, w.round_id, {"energy": 100})
    live = _all_rows(db)
    tables = export_records(db, tmp_path / "export")
    manifest = json.loads((tmp_path / "export" / MANIFEST_NAME).read_text())
    assert manifest["format"] == "commonplan-records"
    assert set(manifest["tables"]) == {t.name for t in Base.metadata.sorted_tables} - NOT_EXPORTED
    assert "round_secrets" in NOT_EXPORTED  # the keys that link ballots to voters never leave
    assert {t.table for t in tables} == set(manifest["tables"])
    for name, entry in manifest["tables"].items():
        path = tmp_path / "export" / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert pq.read_metadata(path).num_rows == entry["rows"] == len(live[name])
    ballots = pq.read_table(tmp_path / "export" / "ballots.parquet").to_pylist()
    with db.read() as session:
        stored = session.execute(select(Ballot).order_by(Ballot.id)).scalars().all()
        assert [json.loads(b["points"]) for b in ballots] == [s.points for s in stored]
        assert [b["submitted_at"] for b in ballots] == [s.submitted_at for s in stored]
        n_audit = len(session.execute(select(AuditEntry.seq)).all())
    assert manifest["tables"]["audit_log"]["rows"] == n_audit
    with pytest.raises(DatabaseError, match="not empty"):
        export_records(db, tmp_path / "export")


def test_the_cli_backs_up_restores_and_exports(tmp_path):
    from commonplan.store import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    db = Database(url)
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    before = _all_rows(db)
    db.dispose()
    runner = CliRunner()
    backup = runner.invoke(
        app_typer, ["db", "backup", str(tmp_path / "b.sqlite3"), "--database-url", url]
    )
    assert backup.exit_code == 0, backup.output
    assert "verified" in backup.output and "1 ballots" in backup.output
    exported = runner.invoke(app_typer, ["export", str(tmp_path / "out"), "--database-url", url])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / "ballots.parquet").is_file()
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    refused = runner.invoke(
        app_typer,
        ["db", "restore", str(tmp_path / "b.sqlite3"), "--database-url", other],
        input="n\n",
    )
    assert refused.exit_code != 0 and not (tmp_path / "other.sqlite3").exists()
    restored = runner.invoke(
        app_typer,
        ["db", "restore", str(tmp_path / "b.sqlite3"), "--yes", "--database-url", other],
    )
    assert restored.exit_code == 0, restored.output
    copy = Database(other)
    assert _all_rows(copy) == before
    copy.dispose()
