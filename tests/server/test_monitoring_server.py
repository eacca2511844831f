"""The server's background tick escalates overdue alarms by itself, at the server's clock;
the report endpoints accept bodies larger than the general limit; a facilitator starts
monitoring a published plan from the operations page."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from server_helpers import csrf_of

from commonplan.server import Settings, create_app
from commonplan.services import accounts, monitoring
from commonplan.store.database import open_database
from monitoring_world import MANUFACTURING, PASSWORD, publish_world, report_frame

MONTHS = 12
T0 = datetime(2026, 1, 31, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def _sign_in(client, username):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


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
        deadline = time.monotonic() + 600  # a bound against a hang, not a speed test
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


def test_a_facilitator_starts_monitoring_from_the_page(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'start.sqlite3'}", migrate=True)
    world = publish_world(db)
    app = create_app(Settings(secret_key="start-secret"), database=db)
    with TestClient(app) as client:
        _sign_in(client, "ana")  # a member sees no start form
        assert 'id="start-form"' not in client.get("/operations").text
        client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
        _sign_in(client, "fac")
        page = client.get("/operations")
        assert 'id="start-form"' in page.text
        fields = {"csrf_token": csrf_of(page.text), "plan_id": str(world.plan_id)}
        refused = client.post(
            "/operations/start",
            data={**fields, "sub_periods": "0", "council_hours": "48", "facilitator_hours": "72"},
        )
        assert refused.status_code == 422 and "sub_periods" in refused.text
        started = client.post(
            "/operations/start",
            data={**fields, "sub_periods": "4", "council_hours": "24", "facilitator_hours": "36"},
            follow_redirects=False,
        )
        assert started.status_code == 303
        info = monitoring.monitor_info(db, world.plan_id)
        assert (info.sub_periods, info.council_hours, info.facilitator_hours) == (4, 24.0, 36.0)
        shown = client.get(started.headers["location"])
        assert 'id="operations-live"' in shown.text and "4 reports per period" in shown.text
    db.dispose()
