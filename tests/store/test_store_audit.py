"""The hash-chained audit log: appends, and detection of edited, deleted and inserted entries."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from commonplan.errors import AuditIntegrityError
from commonplan.store.audit import (
    GENESIS,
    append_audit,
    append_audit_on_commit,
    entry_hash,
    snapshot,
    verify_audit,
)


def _fill(db, n=6):
    for k in range(1, n + 1):
        with db.transaction() as session:
            append_audit(
                session,
                action="test.act",
                subject=f"thing {k}",
                actor="tester",
                actor_id=None,
                payload={"k": k, "text": "é✓"},
            )


def _raw(db, statements):
    """Tamper with the log as someone with direct database access would: around the triggers."""
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        for statement, params in statements:
            connection.execute(text(statement), params)
        if db.is_postgresql:
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def _report(db):
    with snapshot(db) as session:
        return verify_audit(session)


def test_chain_links_and_verifies(db):
    _fill(db)
    report = _report(db)
    assert report.ok and report.n_entries == 6 and report.head_seq == 6
    with db.read() as session:
        rows = session.execute(
            text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
        ).all()
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert report.head_hash == rows[-1].hash


def test_database_refuses_updates_and_deletes_of_the_log(db):
    _fill(db, 2)
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text(statement))
    assert _report(db).ok


def test_edited_entry_is_detected_and_located(db):
    _fill(db)
    _raw(db, [("UPDATE audit_log SET payload = :p WHERE seq = 3", {"p": '{"k":30,"text":"é✓"}'})])
    report = _report(db)
    assert not report.ok
    assert (report.problems[0].seq, report.problems[0].kind) == (3, "edited")
    with pytest.raises(AuditIntegrityError, match="entry 3 was edited") as error:
        report.raise_if_broken()
    assert error.value.where == "audit entry 3"


def test_edit_with_recomputed_hash_is_detected_at_the_next_link(db):
    _fill(db)
    with db.read() as session:
        row = session.execute(text("SELECT * FROM audit_log WHERE seq = 4")).one()
    forged_payload = '{"k":40}'
    forged = entry_hash(
        row.prev_hash,
        row.created_at,
        row.actor_id,
        "mallory",
        row.action,
        row.subject,
        forged_payload,
    )
    _raw(
        db,
        [
            (
                "UPDATE audit_log SET actor = 'mallory', payload = :p, hash = :h WHERE seq = 4",
                {"p": forged_payload, "h": forged},
            )
        ],
    )
    report = _report(db)
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "edited")]
    assert "hash recomputed" in report.problems[0].message


@pytest.mark.parametrize("seq", [1, 3, 6])
def test_deleted_entry_is_detected_and_located(db, seq):
    _fill(db)
    _raw(db, [("DELETE FROM audit_log WHERE seq = :s", {"s": seq})])
    report = _report(db)
    assert not report.ok
    assert (report.problems[0].seq, report.problems[0].kind) == (seq, "deleted")


def test_inserted_entry_is_detected_and_located(db):
    _fill(db)
    with db.read() as session:
        rows = session.execute(text("SELECT * FROM audit_log ORDER BY seq")).all()
    # Insert a forged, correctly hashed entry after entry 2, renumbering the later ones.
    forged_payload = '{"k":99}'
    forged_hash = entry_hash(
        rows[1].hash, rows[1].created_at, None, "mallory", "test.act", "thing x", forged_payload
    )
    statements = [("UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3", {})]
    statements += [("UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103", {})]
    statements += [
        (
            "INSERT INTO audit_log (seq, created_at, actor_id, actor, action, subject, payload, prev_hash, hash) "
            "VALUES (3, :c, NULL, 'mallory', 'test.act', 'thing x', :p, :prev, :h)",
            {"c": rows[1].created_at, "p": forged_payload, "prev": rows[1].hash, "h": forged_hash},
        )
    ]
    _raw(db, statements)
    report = _report(db)
    assert not report.ok
    assert (report.problems[0].seq, report.problems[0].kind) == (3, "inserted")


def test_entry_appended_behind_the_head_is_detected(db):
    _fill(db, 3)
    with db.read() as session:
        last = session.execute(text("SELECT * FROM audit_log WHERE seq = 3")).one()
    payload = "{}"
    forged = entry_hash(last.hash, last.created_at, None, "mallory", "x", "y", payload)
    _raw(
        db,
        [
            (
                "INSERT INTO audit_log (seq, created_at, actor_id, actor, action, subject, payload, prev_hash, hash) "
                "VALUES (4, :c, NULL, 'mallory', 'x', 'y', :p, :prev, :h)",
                {"c": last.created_at, "p": payload, "prev": last.hash, "h": forged},
            )
        ],
    )
    report = _report(db)
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "inserted")]


def test_verification_during_concurrent_appends_sees_a_consistent_chain(db):
    import threading

    _fill(db, 50)  # a longer chain makes each verification slower, widening any race
    stop = threading.Event()

    def writer(w):
        k = 0
        while not stop.is_set() and k < 400:
            with db.transaction() as session:
                append_audit(session, action="test.act", subject=f"busy {w}.{k}", actor="writer")
            k += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    try:
        reports = [_report(db) for _ in range(30)]
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert all(r.ok for r in reports), [r.problems[:1] for r in reports if not r.ok]
    assert _report(db).ok


def test_deletion_with_renumbering_is_detected_as_a_deletion(db):
    _fill(db)
    _raw(
        db,
        [
            ("DELETE FROM audit_log WHERE seq = 3", {}),
            ("UPDATE audit_log SET seq = seq - 1 WHERE seq > 3", {}),
        ],
    )
    report = _report(db)
    assert (report.problems[0].seq, report.problems[0].kind) == (3, "deleted")
    assert "renumbered" in report.problems[0].message


def test_deleting_the_last_entry_is_detected(db):
    _fill(db, 4)
    _raw(db, [("DELETE FROM audit_log WHERE seq = 4", {})])
    report = _report(db)
    assert [(p.seq, p.kind) for p in report.problems] == [(4, "deleted")]


def test_entries_appended_on_commit_chain_with_the_others(db):
    """append_audit_on_commit (PostgreSQL: appended by the database in the commit's round trip)
    and append_audit interleave into one chain whose hashes Python recomputes."""
    payload = {"text": "é✓ \u0000 \\ \n", "n": [1, 2.5, None]}
    for k in range(1, 7):
        with db.transaction() as session:
            append = append_audit_on_commit if k % 2 else append_audit
            append(
                session,
                action="test.act",
                subject=f"thïng {k}",
                actor="Zoë",
                actor_id=k,
                payload=payload,
            )
    with db.transaction() as session:  # two entries left for one commit
        append_audit_on_commit(session, action="test.a", subject="s", actor="t")
        append_audit_on_commit(session, action="test.b", subject="s", actor="t")
    report = _report(db)
    assert report.ok and report.n_entries == 8 and report.head_seq == 8
    with db.read() as session:
        rows = session.execute(text("SELECT * FROM audit_log ORDER BY seq")).all()
    assert [r.action for r in rows[-2:]] == ["test.a", "test.b"]
    for row in rows:
        assert row.hash == entry_hash(
            row.prev_hash,
            row.created_at,
            row.actor_id,
            row.actor,
            row.action,
            row.subject,
            row.payload,
        )


def test_a_failed_block_stores_neither_the_write_nor_its_entry_left_for_the_commit(db):
    _fill(db, 1)
    with pytest.raises(RuntimeError), db.transaction() as session:
        append_audit_on_commit(session, action="test.act", subject="x", actor="tester")
        raise RuntimeError("refused after the entry was left for the commit")
    # the append itself fails (on PostgreSQL in the commit's round trip: its seq is taken by a
    # row this block wrote): nothing of the block is committed, the row included
    with pytest.raises(DBAPIError), db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO audit_log (seq, created_at, actor, action, subject, payload, "
                "prev_hash, hash) VALUES (2, 'now', 'x', 'x', 'x', '{}', 'x', 'x')"
            )
        )
        append_audit_on_commit(session, action="test.act", subject="x", actor="tester")
    report = _report(db)
    assert report.ok and report.n_entries == 1 and report.head_seq == 1
