"""Monitoring through the JSON API and the operations page, on SQLite and PostgreSQL: reports
(JSON rows, CSV and Parquet uploads) → alarm → escalation on the server's clock →
acknowledgement; bad reports refused whole with the row named; who may do what.

Time is the app's injectable clock, moved by hand: no test waits or depends on speed.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from server_helpers import csrf_of

from commonplan.server import Settings, create_app
from commonplan.services import accounts, queries
from monitoring_world import AGRICULTURE, MANUFACTURING, PASSWORD, publish_world, report_frame

MONTHS = 12


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def setting(database):
    world = publish_world(database)
    tokens = {
        name: accounts.create_token(database, actor, name="test").token
        for name, actor in world.actors.items()
    }
    clock = Clock(datetime(2026, 2, 1, 8, 0, tzinfo=UTC))
    app = create_app(Settings(secret_key="test-secret"), database=database, clock=clock)
    with TestClient(app) as client:
        started = client.post(
            f"/api/v1/plans/{world.plan_id}/monitor",
            json={"sub_periods": MONTHS, "council_hours": 48, "facilitator_hours": 72},
            headers=_auth(tokens, "fac"),
        )
        assert started.status_code == 201, started.text
    return world, tokens, clock, app


@pytest.fixture()
def client(setting):
    with TestClient(setting[3]) as test_client:
        yield test_client


def _auth(tokens, user):
    return {"Authorization": f"Bearer {tokens[user]}"}


def _rows(frame):
    return json.loads(frame.to_json(orient="records"))


def _month(world, k, products=None):
    factors = {MANUFACTURING: 0.7} if k >= 5 else None
    return report_frame(
        world, k, sub_periods=MONTHS, factors=factors, products=products, noise=0.02
    )


def _head(world):
    return queries.verify_audit_log(world.db).head_seq


def _sign_in(client, username):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_the_whole_loop_over_the_api(client, setting):
    world, tokens, clock, _app = setting
    plan = world.plan_id
    fac, ana = _auth(tokens, "fac"), _auth(tokens, "ana")
    again = client.post(f"/api/v1/plans/{plan}/monitor", json={}, headers=fac)
    assert again.status_code == 409, again.text
    info = client.get(f"/api/v1/plans/{plan}/monitor").json()
    assert (info["sub_periods"], info["council_hours"], info["period"]) == (MONTHS, 48.0, None)
    assert client.get(f"/api/v1/rounds/{world.round_id}/plan/id").json() == plan
    rest = [p for p in world.planned.index if p != MANUFACTURING]
    alarms = []
    for k in range(1, 9):
        clock.now += timedelta(days=30)
        ours = _month(world, k, [MANUFACTURING])
        if k % 2:  # ana's council files its product: Parquet, then CSV, in turn
            sink = io.BytesIO()
            ours.to_parquet(sink)
            upload = ("m.parquet", sink.getvalue(), "application/vnd.apache.parquet")
        else:
            upload = ("m.csv", ours.to_csv(index=False).encode(), "text/csv")
        mine = client.post(
            f"/api/v1/plans/{plan}/reports/upload", files={"file": upload}, headers=ana
        )
        assert mine.status_code == 201, mine.text
        assert mine.json()["observed"] == []  # the month waits for the other products
        others = client.post(
            f"/api/v1/plans/{plan}/reports",
            json={"rows": _rows(_month(world, k, rest))},
            headers=fac,
        )
        assert others.status_code == 201, others.text
        assert others.json()["observed"] == [["1", k]]
        alarms += others.json()["alarms"]
    assert [a["product"] for a in alarms] == [MANUFACTURING]
    alarm = alarms[0]
    assert alarm["level"] == "council" and alarm["council"] == "Workers: manufacturing"

    listed = client.get(f"/api/v1/plans/{plan}/alarms", params={"status": "open"}).json()
    assert [a["id"] for a in listed] == [alarm["id"]]
    series = client.get(f"/api/v1/plans/{plan}/series").json()
    assert len(series) == 8 * len(world.planned)
    assert {"p_step", "forecast", "lower", "upper", "total_forecast"} <= set(series[0])

    escalate = f"/api/v1/plans/{plan}/alarms/escalate"
    assert client.post(escalate, headers=ana).status_code == 403
    raised = datetime.fromisoformat(alarm["raised_at"])
    clock.now = raised + timedelta(hours=47)
    assert client.post(escalate, headers=fac).json() == []
    clock.now = raised + timedelta(hours=49)
    moved = client.post(escalate, headers=fac).json()
    assert [(a["id"], a["level"]) for a in moved] == [(alarm["id"], "facilitators")]
    assert client.post(escalate, headers=fac).json() == []  # idempotent

    acknowledge = f"/api/v1/alarms/{alarm['id']}/acknowledge"
    body = {"note": "US parts stopped", "action": "Second supplier; re-plan asked"}
    assert client.post(acknowledge, json=body, headers=_auth(tokens, "cai")).status_code == 403
    done = client.post(acknowledge, json=body, headers=ana)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "acknowledged"
    assert done.json()["events"][-1]["note"] == body["note"]
    clock.now += timedelta(days=10)
    assert client.post(escalate, headers=fac).json() == []
    assert client.get(f"/api/v1/plans/{plan}/alarms", params={"status": "open"}).json() == []
    close = f"/api/v1/alarms/{alarm['id']}/close"
    assert client.post(close, json={"note": "ok"}, headers=_auth(tokens, "obs")).status_code == 403
    closed = client.post(close, json={"note": "Second supplier delivers"}, headers=fac)
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text
    assert client.post(close, json={"note": "again"}, headers=fac).status_code == 409
    verify = client.get("/api/v1/audit/verify").json()
    assert verify["ok"], verify["problems"]

    # the operations page shows the wall and the acknowledged alarm; the fragment refreshes it
    page = client.get(f"/operations?plan={plan}")
    assert page.status_code == 200
    assert 'id="wall"' in page.text and "Closed alarms: 1." in page.text
    assert 'hx-trigger="every 15s"' in page.text
    fragment = client.get(f"/fragments/operations?plan={plan}")
    assert fragment.status_code == 200 and fragment.text.startswith('<div id="operations-live"')
    assert "series-0-data" in fragment.text


BAD_ROWS = [
    ({"product": "USA/NOPE"}, "unknown product", "row 1"),
    ({"period": "9"}, "unknown period", "row 1"),
    ({"output": -1.0}, "negative", "row 1"),
    ({"unit": "tonnes"}, "differs from the plan's unit", "row 1"),
]


@pytest.mark.parametrize(("change", "message", "where"), BAD_ROWS)
def test_bad_reports_are_refused_whole_and_name_the_row(client, setting, change, message, where):
    world, tokens, _clock, _app = setting
    rows = _rows(report_frame(world, 12, sub_periods=MONTHS))
    rows[0] = {**rows[0], **change}
    before = _head(world)
    response = client.post(
        f"/api/v1/plans/{world.plan_id}/reports", json={"rows": rows}, headers=_auth(tokens, "fac")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["error"] == "ReportError" and message in problem["message"]
    assert where in problem["where"]
    assert _head(world) == before


def test_a_damaged_upload_and_roles_are_refused(client, setting):
    world, tokens, _clock, _app = setting
    before = _head(world)
    url = f"/api/v1/plans/{world.plan_id}/reports/upload"
    damaged = client.post(
        url,
        files={"file": ("x.parquet", b"PAR1 not really", "application/octet-stream")},
        headers=_auth(tokens, "fac"),
    )
    assert damaged.status_code == 422 and damaged.json()["error"] == "ReportError"
    latin = client.post(
        url,
        files={"file": ("x.csv", "product\n\xe9".encode("latin-1"), "text/csv")},
        headers=_auth(tokens, "fac"),
    )
    assert latin.status_code == 422 and "UTF-8" in latin.json()["message"]
    rows = _rows(report_frame(world, 12, sub_periods=MONTHS, products=[AGRICULTURE]))
    for user, status in (("obs", 403), ("ana", 403), ("fac2", 403)):
        response = client.post(
            f"/api/v1/plans/{world.plan_id}/reports",
            json={"rows": rows},
            headers=_auth(tokens, user),
        )
        assert response.status_code == status, (user, response.text)
    anonymous = client.post(f"/api/v1/plans/{world.plan_id}/reports", json={"rows": rows})
    assert anonymous.status_code == 401
    assert _head(world) == before


def test_a_refused_upload_on_the_page_comes_back_as_typed(client, setting):
    world, _tokens, _clock, _app = setting
    _sign_in(client, "ana")
    page = client.get(f"/operations?plan={world.plan_id}")
    assert page.status_code == 200 and 'id="report-form"' in page.text
    typed = f"product,period,sub_period,output,unit\n{MANUFACTURING},1,12,-3,\n"
    before = _head(world)
    response = client.post(
        "/operations/reports",
        data={"csrf_token": csrf_of(page.text), "plan_id": str(world.plan_id), "csv": typed},
    )
    assert response.status_code == 422
    assert "negative" in response.text and "row 1" in response.text
    assert f"{MANUFACTURING},1,12,-3," in response.text  # the textarea keeps what was typed
    assert _head(world) == before
    forged = client.post(
        "/operations/reports", data={"csrf_token": "x", "plan_id": str(world.plan_id), "csv": typed}
    )
    assert forged.status_code == 403 and _head(world) == before
