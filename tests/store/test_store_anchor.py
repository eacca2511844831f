"""Anchors: a signed chain head kept outside the database detects a rewritten tail."""

from __future__ import annotations

import dataclasses
import json
import stat

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from commonplan.cli.main import app_typer
from commonplan.errors import AuditIntegrityError, ConflictError, FileFormatError
from commonplan.store import Database, upgrade
from commonplan.store.anchor import (
    check_anchor,
    load_private_key,
    load_public_key,
    read_anchor,
    sign_head,
    write_keypair,
)
from commonplan.store.audit import append_audit, entry_hash, snapshot, verify_audit


def _fill(db, n):
    for k in range(n):
        with db.transaction() as session:
            append_audit(session, action="test.act", subject=f"thing {k}", actor="tester")


def _rewrite_tail(db):
    """Forge the last entry's content, recompute its hash and move the head: the chain verifies."""
    with db.read() as session:
        last = session.execute(text("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
    payload = '{"forged":true}'
    forged = entry_hash(
        last.prev_hash, last.created_at, None, "mallory", last.action, last.subject, payload
    )
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(
            text("UPDATE audit_log SET actor = 'mallory', payload = :p, hash = :h WHERE seq = :s"),
            {"p": payload, "h": forged, "s": last.seq},
        )
        connection.execute(text("UPDATE audit_head SET hash = :h"), {"h": forged})
        if db.is_postgresql:
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_an_anchor_detects_a_rewritten_tail_and_head(db, tmp_path):
    _fill(db, 4)
    public_path = write_keypair(tmp_path / "anchor.key")
    with snapshot(db) as session:
        report = verify_audit(session)
    signed = sign_head(load_private_key(tmp_path / "anchor.key"), report.head_seq, report.head_hash)
    (tmp_path / "anchor.json").write_text(signed.to_json())
    anchor, public = read_anchor(tmp_path / "anchor.json"), load_public_key(public_path)
    with snapshot(db) as session:
        check_anchor(session, anchor, public)
    _rewrite_tail(db)  # entry 4 and the head, consistently
    with snapshot(db) as session:
        assert verify_audit(session).ok  # the chain alone cannot tell
        with pytest.raises(AuditIntegrityError, match="entry 4 has a different hash"):
            check_anchor(session, anchor, public)
        forged_hash = verify_audit(session).head_hash
        forged = dataclasses.replace(anchor, hash=forged_hash)  # the anchor file edited to match
        with pytest.raises(AuditIntegrityError, match="signature does not verify"):
            check_anchor(session, forged, public)


def test_the_cli_signs_the_head_and_verify_catches_the_rewrite(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    db = Database(url)
    _fill(db, 3)
    runner = CliRunner()

    def run(*args, error=None):
        result = runner.invoke(app_typer, list(args))
        if error is None:
            assert result.exit_code == 0, result.output + repr(result.exception)
        else:
            assert isinstance(result.exception, error), (result.output, result.exception)
        return result

    key = tmp_path / "audit.key"
    run("audit", "keygen", "-o", str(key))
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    run("audit", "keygen", "-o", str(key), error=ConflictError)  # never overwrites a key
    anchor = tmp_path / "anchor.json"
    run("audit", "anchor", "--key", str(key), "-o", str(anchor), "--database-url", url)
    assert json.loads(anchor.read_text())["seq"] == 3
    pub = str(key) + ".pub"
    verified = run(
        "audit", "verify", "--anchor", str(anchor), "--public-key", pub, "--database-url", url
    )
    assert "intact and matches the anchor: 3 entries" in verified.output
    _rewrite_tail(db)
    assert "intact: 3 entries" in run("audit", "verify", "--database-url", url).output
    broken = run(
        "audit",
        "verify",
        "--anchor",
        str(anchor),
        "--public-key",
        pub,
        "--database-url",
        url,
        error=AuditIntegrityError,
    )
    assert "entry 3 has a different hash" in str(broken.exception)
    run(
        "audit",
        "verify",
        "--anchor",
        pub,
        "--public-key",
        pub,
        "--database-url",
        url,
        error=FileFormatError,
    )
    db.dispose()
