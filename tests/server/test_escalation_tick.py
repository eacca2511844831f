"""The server's background tick escalates overdue alarms by itself, at the server's clock,
and the report endpoints accept bodies larger than the general limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from commonplan.server import Settings, create_app
from commonplan.services import accounts, monitoring
from commonplan.store.database import open_database
from monitoring_world import MANUFACTURING, publish_world, report_frame

MONTHS = 12
T0 = datetime(2026, 1, 31, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def _monitored(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'tick.sqlite3'}", migrate=True)
    world = publish_world(db)
    monitoring.start_monitoring(
        db, world["fac"], world.plan_id, sub_periods=MONTHS, council_hours=48, facilitator_hours=72
    )
    return db, world


def test_the_tick_escalates_overdue_alarms(tmp_path):
    db, world = _monitored(tmp_path)
    for k in range(1, 8):
        factors = {MANUFACTURING: 0.7} if k >= 5 else None
        frame = report_frame(world, k, sub_periods=MONTHS, factors=factors, noise=0.02)
        monitoring.file_reports(db, world["fac"], world.plan_id, frame, now=T0)
    (alarm,) = monitoring.list_alarms(db, world.plan_id)
    assert alarm.level == "council"
    clock = Clock(T0 + timedelta(hours=50))
    app = create_app(
        Settings(secret_key="tick-secret", escalation_tick_s=0.05), database=db, clock=clock
    )
    with TestClient(app):
        deadline = time.monotonic() + 30
        while monitoring.list_alarms(db, world.plan_id)[0].level == "council":
            assert time.monotonic() < deadline, "the tick never escalated the alarm"
            time.sleep(0.05)
        (escalated,) = monitoring.list_alarms(db, world.plan_id)
        assert escalated.level == "facilitators"
        assert [e["kind"] for e in escalated.events] == ["raise", "escalate"]
        assert escalated.events[-1]["actor_id"] is None  # the system, not a person
    db.dispose()


def test_report_uploads_may_be_larger_than_other_bodies(tmp_path):
    db, world = _monitored(tmp_path)
    token = accounts.create_token(db, world["fac"], name="t").token
    app = create_app(Settings(secret_key="tick-secret", max_body_bytes=16 * 1024), database=db)
    frame = report_frame(world, 1, sub_periods=MONTHS).assign(comment="x" * 2000)
    body = frame.to_csv(index=False).encode()
    assert 16 * 1024 < len(body) < 8 * 1024 * 1024
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        upload = client.post(
            f"/api/v1/plans/{world.plan_id}/reports/upload",
            files={"file": ("month1.csv", body, "text/csv")},
            headers=headers,
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["observed"] == [["1", 1]]
        other = client.post("/api/v1/assemblies", json={"name": "x" * 20_000}, headers=headers)
        assert other.status_code == 413
    db.dispose()
