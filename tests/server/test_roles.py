"""The role × endpoint matrix: every write endpoint refuses every role that may not use it,
through the JSON API and through the pages, and nothing is stored when it refuses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from server_helpers import audit_head, bearer, csrf_of, sign_in

from commonplan.services import assemblies, rounds
from commonplan.services.roles import FACILITATION, PERMISSIONS, Actor


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the PostgreSQL paths are covered by test_api_round and test_load."""
    return "sqlite"


EVERYONE = (None, "admin", "fac", "obs", "m1")
ROLE_OF = {
    None: None,
    "admin": "administrator",
    "fac": "facilitator",
    "obs": "observer",
    "m1": "member",
}

# (method, path template, service action, body). Path ids are filled from the world.
WRITE_ENDPOINTS = [
    (
        "POST",
        "/api/v1/users",
        "create_user",
        {"username": "newbie", "password": "long-enough-pass", "role": "observer"},
    ),
    ("POST", "/api/v1/users/{outsider}/active", "set_user_active", {"active": True}),
    (
        "POST",
        "/api/v1/users/{outsider}/password",
        "reset_password",
        {"password": "another-long-pass"},
    ),
    ("POST", "/api/v1/users/{outsider}/password-reset", "reset_password", None),
    ("POST", "/api/v1/assemblies", "create_assembly", {"name": "Another assembly"}),
    (
        "POST",
        "/api/v1/assemblies/{assembly_id}/councils",
        "create_council",
        {"name": "Peasants: grain", "kind": "peasants", "sector": "A01"},
    ),
    ("POST", "/api/v1/councils/{council_id}/members", "add_membership", {"user_id": "{outsider}"}),
    (
        "DELETE",
        "/api/v1/councils/{council_id}/members/{user_id}",
        "remove_membership",
        None,
    ),  # user_id: outsider
    (
        "POST",
        "/api/v1/assemblies/{assembly_id}/rounds",
        "open_round",
        {"title": "New round", "target_groups": [{"name": "food"}, {"name": "energy"}]},
    ),
    ("POST", "/api/v1/rounds/{round_id}/advance", "advance_phase", {}),
    ("POST", "/api/v1/rounds/{round_id}/aggregate", "aggregate_weights", {}),
    ("POST", "/api/v1/rounds/{round_id}/alternatives", "compute_alternatives", {"title": "Plan X"}),
    ("POST", "/api/v1/rounds/{round_id}/alternatives/compute", "compute_alternatives", {}),
    ("POST", "/api/v1/rounds/{round_id}/tally", "tally_round", None),
    ("POST", "/api/v1/rounds/{round_id}/publish", "publish_plan", None),
    ("POST", "/api/v1/rounds/{round_id}/ballots", "submit_ballot", {"points": {"food": 100}}),
    ("POST", "/api/v1/rounds/{round_id}/rankings", "submit_ranking", {"order": ["A", "B"]}),
    # monitoring (plan and alarm 1 need not exist: the role check comes first)
    ("POST", "/api/v1/plans/{plan_id}/monitor", "start_monitoring", {"sub_periods": 4}),
    (
        "POST",
        "/api/v1/plans/{plan_id}/reports",
        "file_reports",
        {"rows": [{"product": "USA/11", "period": 1, "sub_period": 1, "output": 1.0}]},
    ),
    ("POST", "/api/v1/plans/{plan_id}/reports/upload", "file_reports", None),
    (
        "POST",
        "/api/v1/alarms/{alarm_id}/acknowledge",
        "acknowledge_alarm",
        {"note": "seen", "action": "acting"},
    ),
    ("POST", "/api/v1/alarms/{alarm_id}/close", "close_alarm", {"note": "dealt with"}),
    ("POST", "/api/v1/plans/{plan_id}/alarms/escalate", "escalate_alarms", None),
    ("POST", "/api/v1/plans/{plan_id}/replan/round", "open_round", None),
    # live participatory rounds (no live round exists: the role check comes first)
    (
        "POST",
        "/api/v1/assemblies/{assembly_id}/live",
        "open_live_round",
        {
            "title": "Live",
            "generated": {"worker_councils": 12, "consumer_councils": 2, "goods_per_class": 4},
        },
    ),
    ("POST", "/api/v1/users/{outsider}/memberships", "add_membership", {"councils": [1]}),
    (
        "POST",
        "/api/v1/live/{round_id}/proposals",
        "submit_proposals",
        {"iteration": 1, "proposals": [{"council": 1, "quantities": {}}]},
    ),
    ("POST", "/api/v1/live/{round_id}/close", "close_iteration", None),
    (
        "POST",
        "/api/v1/live/{round_id}/alternative",
        "compute_alternatives",
        {"planning_round_id": 1},
    ),
    # last, and in this order: the facilitator's charge is removed, then given back
    ("DELETE", "/api/v1/assemblies/{assembly_id}/facilitators/{fac}", "remove_facilitator", None),
    (
        "POST",
        "/api/v1/assemblies/{assembly_id}/facilitators",
        "add_facilitator",
        {"user_id": "{fac}"},
    ),
]
# Account endpoints whose rule is "one's own, or an administrator" (tested in test_accounts_api).
OWN_ACCOUNT_ENDPOINTS = {
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/{token_id}"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/password-reset"),
}


def _fill(template, world, round_id):
    ids = {
        "assembly_id": world.assembly_id,
        "council_id": world.council_ids[0],
        "round_id": round_id,
        "user_id": world.users["outsider"],
        "plan_id": 1,
        "alarm_id": 1,
        **world.users,
    }
    if isinstance(template, str):
        out = template
        for key, value in ids.items():
            out = out.replace("{" + key + "}", str(value))
        return int(out) if out.isdigit() and template.startswith("{") else out
    if isinstance(template, dict):
        return {k: _fill(v, world, round_id) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, world, round_id) for v in template]
    return template


def test_matrix_covers_every_write_endpoint(app):
    """No write endpoint of the API (as its OpenAPI schema lists them) escapes the matrix."""
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method != "get"
    }
    listed = {(m, p.replace("{outsider}", "{user_id}")) for m, p, _, _ in WRITE_ENDPOINTS}
    listed = {(m, p.replace("{fac}", "{user_id}")) for m, p in listed} | OWN_ACCOUNT_ENDPOINTS
    assert routes == listed


@pytest.mark.parametrize(
    ("method", "path", "action", "body"),
    WRITE_ENDPOINTS,
    ids=[f"{m} {p}" for m, p, _, _ in WRITE_ENDPOINTS],
)
def test_write_endpoints_refuse_roles_without_permission(client, world, method, path, action, body):
    allowed = {role.value for role in PERMISSIONS[action]}
    refused = [user for user in EVERYONE if ROLE_OF[user] not in allowed]
    assert refused, "every action is refused to someone"
    round_id = world.open_round(f"Matrix {action} {path}")
    for user in refused:
        before = audit_head(world)
        response = client.request(
            method,
            _fill(path, world, round_id),
            json=_fill(body, world, round_id),
            headers=bearer(world, user),
        )
        expected = 401 if user is None else 403
        assert response.status_code == expected, (user, response.text)
        assert response.json()["message"]
        assert audit_head(world) == before, f"{user} changed the store through {path}"


def test_allowed_roles_get_past_the_role_check(client, world):
    """The matrix's other half: allowed roles are not refused with 401/403."""
    round_id = world.open_round("Allowed roles")
    for method, path, action, body in WRITE_ENDPOINTS:
        for user in EVERYONE:
            if user is None or ROLE_OF[user] not in {r.value for r in PERMISSIONS[action]}:
                continue
            if user == "admin" and action in ("advance_phase", "tally_round", "publish_plan"):
                continue  # one allowed role suffices for phase moves; keeps the round in order
            response = client.request(
                method,
                _fill(path, world, round_id),
                json=_fill(body, world, round_id),
                headers=bearer(world, user),
            )
            assert response.status_code not in (401, 403), (user, path, response.text)


@pytest.fixture()
def browser(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("user", ["obs", "fac", "admin", None])
def test_pages_refuse_ballots_and_rankings_from_non_members(browser, world, user):
    world.open_round(f"Pages refuse {user}")
    if user is not None:
        sign_in(browser, user)
    for page, action, fields in (
        ("/ballot", "/ballot", {"points:food": "100"}),
        ("/alternatives", "/ranking", {"rank:A": "1", "rank:B": "2"}),
    ):
        token = csrf_of(browser.get(page).text)
        before = audit_head(world)
        response = browser.post(
            action, data={**fields, "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == (401 if user is None else 403), response.text
        assert audit_head(world) == before


def test_pages_refuse_forms_without_the_csrf_token(browser, world):
    world.open_round("CSRF")
    sign_in(browser, "m1")
    before = audit_head(world)
    for token in ("", "forged-token"):
        response = browser.post("/ballot", data={"points:food": "100", "csrf_token": token})
        assert response.status_code == 403
        assert "anti-forgery" in response.text
    assert audit_head(world) == before


ROUND_ENDPOINTS = [
    (m, p, body)
    for m, p, action, body in WRITE_ENDPOINTS
    # the live rounds' assembly scoping is tested on the services (test_services_roles)
    if action in FACILITATION
    and action not in ("open_round", "open_live_round")
    and not p.startswith("/api/v1/live/")
]


def test_a_facilitator_of_one_assembly_cannot_run_another(client, world):
    """Every round endpoint refuses the facilitator on an assembly they do not facilitate
    (403, nothing stored); an administrator gets past the same check."""
    system = Actor.system()
    other = assemblies.create_assembly(world.database, system, "Assembly the facilitator lacks")
    other_round = rounds.open_round(
        world.database, world.actor("admin"), other.id, "Elsewhere", ["food", "energy"]
    ).id
    fac = bearer(world, "fac")
    before = audit_head(world)
    opened = client.post(
        f"/api/v1/assemblies/{other.id}/rounds",
        json={"title": "Not mine", "target_groups": [{"name": "food"}, {"name": "energy"}]},
        headers=fac,
    )
    assert opened.status_code == 403 and "does not facilitate" in opened.json()["message"]
    for method, path, body in ROUND_ENDPOINTS:
        response = client.request(
            method,
            _fill(path, world, other_round),
            json=_fill(body, world, other_round),
            headers=fac,
        )
        assert response.status_code == 403, (path, response.text)
        assert "does not facilitate" in response.json()["message"]
    assert audit_head(world) == before
    advanced = client.post(f"/api/v1/rounds/{other_round}/advance", headers=bearer(world, "admin"))
    assert advanced.status_code not in (401, 403), advanced.text
