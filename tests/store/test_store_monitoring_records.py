"""Monitoring rows in the audit chain (schema 0005): production reports, alarms and their events
are recorded by hash, so `audit verify` finds an edited, deleted or inserted one; reports and
alarm events are append-only in the database itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from commonplan.store.audit import append_audit, snapshot, verify_audit
from commonplan.store.blobs import put_blob
from commonplan.store.models import Alarm, AlarmEvent, MonitorStep, ProductionReport
from commonplan.store.records import read_record
from monitoring_world import publish_world

RAISED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _write_recorded(db, plan_id):
    """A report, an alarm and its event, written with their records as the services write them."""
    with db.transaction() as session:
        report = ProductionReport(
            plan_id=plan_id,
            product="USA/31G",
            period="1",
            sub_period="1",
            output=812_345.25,
            unit="USD million",
        )
        alarm = Alarm(
            plan_id=plan_id,
            product="USA/31G",
            kind="change",
            period="1",
            sub_period="1",
            details={"ratio": 0.82},
            raised_at=RAISED,
        )
        session.add_all([report, alarm])
        session.flush()
        event = AlarmEvent(alarm_id=alarm.id, kind="raise", level="council", at=RAISED)
        session.add(event)
        digest = put_blob(session, b"a monitor step table", kind="monitor-step")
        step = MonitorStep(plan_id=plan_id, period="1", sub_period="1", table_sha256=digest)
        session.add(step)
        session.flush()
        append_audit(
            session,
            action="test.monitoring",
            subject=f"plan {plan_id}",
            actor="tester",
            payload={
                "records": [
                    read_record(session, "production_reports", report.id),
                    read_record(session, "alarms", alarm.id),
                    read_record(session, "alarm_events", event.id),
                    read_record(session, "monitor_steps", step.id),
                ]
            },
        )
        return report.id, alarm.id, event.id


def _problems(db):
    with snapshot(db) as session:
        return verify_audit(session).problems


def _around_triggers(db, table, statement, params=None):
    """Change a row as someone with direct database access would, around the append-only guard."""
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        else:
            for event in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{event}"))
        connection.execute(text(statement), params or {})
        if db.is_postgresql:
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))


def test_monitoring_rows_verify_and_each_kind_of_tampering_is_found(db):
    world = publish_world(db)
    report_id, alarm_id, event_id = _write_recorded(db, world.plan_id)
    assert _problems(db) == []

    _around_triggers(
        db,
        "production_reports",
        "UPDATE production_reports SET output = 1.0 WHERE id = :i",
        {"i": report_id},
    )
    problems = _problems(db)
    assert [(p.kind, "production_reports" in p.message) for p in problems] == [("edited", True)]

    with db.engine.begin() as connection:  # the alarm is not append-only: its status moves
        connection.execute(
            text("UPDATE alarms SET level = 'assembly' WHERE id = :i"), {"i": alarm_id}
        )
    kinds = sorted((p.kind, p.message.split(" row ")[0]) for p in _problems(db))
    assert kinds == [("edited", "alarms"), ("edited", "production_reports")]

    _around_triggers(db, "alarm_events", "DELETE FROM alarm_events WHERE id = :i", {"i": event_id})
    with db.engine.begin() as connection:  # an alarm nobody recorded
        connection.execute(
            text(
                "INSERT INTO alarms (plan_id, product, kind, period, sub_period, level, status, "
                "details, raised_at) VALUES (:p, 'USA/11', 'change', '1', 2, 'council', 'open', "
                "'{}', :t)"
            ),
            {"p": world.plan_id, "t": RAISED},
        )
    found = {(p.kind, p.message.split(" row ")[0]) for p in _problems(db)}
    assert found == {
        ("edited", "alarms"),
        ("edited", "production_reports"),
        ("deleted", "alarm_events"),
        ("inserted", "alarms"),
    }


def test_reports_steps_and_alarm_events_are_append_only(db):
    world = publish_world(db)
    _write_recorded(db, world.plan_id)
    for table in ("production_reports", "alarm_events", "monitor_steps"):
        for statement in ("UPDATE {t} SET id = id", "DELETE FROM {t}"):
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text(statement.format(t=table)))
    assert _problems(db) == []
