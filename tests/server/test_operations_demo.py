"""The served demo's operations page (USA 2021): the seeded execution's alarms at every level,
the re-plan comparison, and a facilitator opening a new round from the re-plan."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from server_helpers import csrf_of, sign_in

from commonplan import services as S
from commonplan.server import Settings, create_app
from commonplan.services import monitoring, replanning
from commonplan.services.demo import demo_password
from commonplan.store.database import open_database

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture()
def demo(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}", migrate=True)
    seed = S.seed_demo(db, now=NOW)
    app = create_app(Settings(secret_key="demo-page-secret"), database=db, clock=lambda: NOW)
    with TestClient(app) as client:
        yield db, seed, client
    db.dispose()


def _ids(html: str, section: str) -> set[int]:
    start = html.index(f'id="level-{section}"')
    end = html.index("</section>", start)
    return {int(k) for k in re.findall(r'id="alarm-(\d+)"', html[start:end])}


def test_the_demo_operations_page(demo):
    db, seed, client = demo
    page = client.get(f"/operations?plan={seed.plan_id}")
    assert page.status_code == 200
    html = page.text
    by_level = monitoring.open_alarms_by_level(db, seed.plan_id)
    for level in ("council", "facilitators", "assembly"):
        assert by_level[level] and _ids(html, level) == {a.id for a in by_level[level]}
    view = replanning.replan_plan(db, seed.plan_id)
    falls = view.replan.targets[view.replan.targets["falls"]]
    assert f"{len(falls)} of {len(view.replan.targets)} targets fall" in html
    shown = re.findall(r"<code>([^<]+)</code>", html[html.index('id="replan-targets"') :])
    worst = falls.nsmallest(1, "change")["product"].iloc[0]
    assert worst in shown
    # the state re-planned from is the alarmed products
    alarmed = {a.product for a in monitoring.list_alarms(db, seed.plan_id)}
    assert set(view.levels.index) == alarmed
    assert 'id="replan-prices"' in html and 'id="replan-round-form"' not in html  # anonymous
    fragment = client.get(f"/fragments/operations?plan={seed.plan_id}")
    assert fragment.status_code == 200 and 'id="replan"' not in fragment.text


def test_a_facilitator_opens_a_round_from_the_replan(demo):
    db, seed, client = demo
    rounds_before = S.get_round_info(db, seed.round_id).id
    sign_in(client, "member1", demo_password("member1"))
    page = client.get(f"/operations?plan={seed.plan_id}")
    assert 'id="replan-round-form"' not in page.text
    refused = client.post(
        "/operations/replan-round",
        data={"plan_id": seed.plan_id, "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    sign_in(client, "facilitator", demo_password("facilitator"))
    page = client.get(f"/operations?plan={seed.plan_id}")
    assert 'id="replan-round-form"' in page.text
    done = client.post(
        "/operations/replan-round",
        data={"plan_id": seed.plan_id, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    newest = S.seed_demo(db).round_id  # the latest round of the demo assembly
    assert newest > rounds_before
    opened = S.get_round_info(db, newest)
    assert opened.title.startswith("Re-plan of Plan in execution from 1.10")
    assert opened.base_problem["capacity"] == replanning.replan_plan(db, seed.plan_id).capacity
    assert S.verify_audit_log(db).ok


def test_the_replan_over_the_api(demo):
    db, seed, client = demo
    body = client.get(f"/api/v1/plans/{seed.plan_id}/replan")
    assert body.status_code == 200
    data = body.json()
    view = replanning.replan_plan(db, seed.plan_id)
    assert (data["period"], data["sub_period"]) == ("1", 10)
    assert data["capacity_limits"] == pytest.approx(view.capacity)
    falls = [t for t in data["targets"] if t["falls"]]
    assert len(falls) == int(view.replan.targets["falls"].sum()) and data["prices"]
    assert all(c["gap"] > 0 for c in data["capacity"])
    token = S.create_token(db, S.authenticate(db, "member2", demo_password("member2"))).token
    refused = client.post(
        f"/api/v1/plans/{seed.plan_id}/replan/round",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403 and refused.json()["error"] == "PermissionDeniedError"
    token = S.create_token(
        db, S.authenticate(db, "facilitator", demo_password("facilitator"))
    ).token
    opened = client.post(
        f"/api/v1/plans/{seed.plan_id}/replan/round",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert opened.status_code == 201 and opened.json()["phase"] == "ballot"
    assert client.get("/api/v1/plans/999/replan").status_code == 404
