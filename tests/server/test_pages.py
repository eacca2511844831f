"""The web pages: signing in, ballots and rankings through forms, refusals, cookies and headers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from server_helpers import audit_head, bearer, csrf_of, sign_in

from commonplan.services import accounts, assemblies
from commonplan.services.roles import Actor


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the PostgreSQL paths are covered by test_api_round and test_load."""
    return "sqlite"


@pytest.fixture()
def browser(app):
    with TestClient(app) as test_client:
        yield test_client


def _ballots(client, world, user, round_id):
    return client.get(f"/api/v1/rounds/{round_id}/ballots/me", headers=bearer(world, user)).json()


def test_public_pages_render(browser, world):
    world.open_round("Public pages")
    for path in (
        "/",
        "/economy",
        "/ballot",
        "/alternatives",
        "/results",
        "/plan",
        "/audit",
        "/login",
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert 'name="viewport"' in response.text
        assert "cdn" not in response.text.lower()
    assert browser.get("/vendor/plotly.min.js").status_code == 200
    assert browser.get("/static/htmx.min.js").status_code == 200


def test_session_cookie_and_security_headers(browser, world):
    page = browser.get("/login")
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"


def test_sign_in_failure_and_rate_limit(browser, world):
    token = csrf_of(browser.get("/login").text)
    for _ in range(3):
        wrong = browser.post(
            "/login", data={"username": "outsider", "password": "nope-nope", "csrf_token": token}
        )
        assert wrong.status_code == 401
        assert "wrong user name or password" in wrong.text
    blocked = browser.post(
        "/login",
        data={"username": "outsider", "password": "correct-horse-battery", "csrf_token": token},
    )
    assert blocked.status_code == 429


def test_sign_in_does_not_redirect_elsewhere(browser, world):
    token = csrf_of(browser.get("/login").text)
    response = browser.post(
        "/login",
        data={
            "username": "m1",
            "password": "correct-horse-battery",
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_ballot_through_the_form(browser, world):
    round_id = world.open_round("Form ballot")
    sign_in(browser, "m1")
    page = browser.get("/ballot")
    assert 'name="points:food"' in page.text
    token = csrf_of(page.text)
    stored = browser.post(
        "/ballot",
        data={
            "points:food": "62.5",
            "points:housing": "37.5",
            "points:health": "",
            "csrf_token": token,
            "request_id": "form-1",
        },
        follow_redirects=False,
    )
    assert stored.status_code == 303
    history = _ballots(browser, world, "m1", round_id)
    assert len(history) == 1
    assert history[0]["points"] == {"food": 62.5, "housing": 37.5, "health": 0.0}
    shown = browser.get("/ballot").text
    assert "Your ballot is stored" in shown
    assert 'id="current-ballot"' in shown and "food 62.5" in shown
    # a double click (same form, same request id) stores nothing new
    browser.post(
        "/ballot",
        data={
            "points:food": "62.5",
            "points:housing": "37.5",
            "csrf_token": token,
            "request_id": "form-1",
        },
    )
    assert len(_ballots(browser, world, "m1", round_id)) == 1


def test_ballot_page_shows_the_receipt_once(browser, world):
    world.open_round("Form receipt")
    sign_in(browser, "m3")
    token = csrf_of(browser.get("/ballot").text)
    form = {"points:food": "70", "points:housing": "30", "csrf_token": token}
    stored = browser.post(
        "/ballot", data={**form, "request_id": "receipt-1"}, follow_redirects=False
    )
    assert stored.status_code == 303, stored.text[:2000]
    shown = browser.get("/ballot").text
    found = re.search(r"Your receipt: ([A-Za-z0-9_\-]+)", shown)
    assert found and len(found.group(1)) >= 32
    assert found.group(1) not in browser.get("/ballot").text  # shown once, never again
    browser.post("/ballot", data={**form, "request_id": "receipt-1"})  # a replay
    assert "Your receipt" not in browser.get("/ballot").text


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"points:food": "50", "points:housing": "40"}, "sum"),
        ({"points:food": "-5", "points:housing": "105"}, "-5"),
        ({"points:food": "lots", "points:housing": "100"}, "lots"),
        ({"points:cheese": "100"}, "cheese"),
    ],
)
def test_malformed_ballot_form_is_refused(browser, world, fields, fragment):
    round_id = world.open_round(f"Form malformed {fragment}")
    sign_in(browser, "m2")
    token = csrf_of(browser.get("/ballot").text)
    before = audit_head(world)
    response = browser.post("/ballot", data={**fields, "csrf_token": token})
    assert response.status_code == 422
    assert fragment in response.text
    assert 'class="notice error"' in response.text
    assert audit_head(world) == before
    assert _ballots(browser, world, "m2", round_id) == []


def _to_vote_phase(client, world, round_id, titles=("Plan one", "Plan two", "Plan three")):
    fac = bearer(world, "fac")
    url = f"/api/v1/rounds/{round_id}"
    client.post(f"{url}/ballots", json={"points": {"food": 100}}, headers=bearer(world, "m3"))
    assert client.post(f"{url}/advance", headers=fac).status_code == 200
    for title in titles:
        assert (
            client.post(f"{url}/alternatives", headers=fac, json={"title": title}).status_code
            == 201
        )
    assert client.post(f"{url}/advance", headers=fac).status_code == 200


def test_ranking_through_the_form_once(browser, world):
    round_id = world.open_round("Form ranking")
    _to_vote_phase(browser, world, round_id)
    sign_in(browser, "m1")
    page = browser.get("/alternatives")
    assert 'name="rank:A"' in page.text and "Plan three" in page.text
    token = csrf_of(page.text)
    before = audit_head(world)
    tied = browser.post(
        "/ranking", data={"rank:A": "1", "rank:B": "1", "rank:C": "2", "csrf_token": token}
    )
    assert tied.status_code == 422 and "both have rank 1" in tied.text
    assert audit_head(world) == before
    ok = browser.post(
        "/ranking",
        data={
            "rank:A": "3",
            "rank:B": "1",
            "rank:C": "2",
            "csrf_token": token,
            "request_id": "rank-form-1",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    mine = browser.get(f"/api/v1/rounds/{round_id}/rankings/me", headers=bearer(world, "m1")).json()
    assert mine["order"] == ["B", "C", "A"]
    again = browser.post(
        "/ranking", data={"rank:A": "1", "rank:B": "2", "rank:C": "3", "csrf_token": token}
    )
    assert again.status_code == 409
    assert browser.get(f"/api/v1/rounds/{round_id}/turnout").json()["n_rankings"] == 1


def test_ballot_form_outside_the_phase_is_refused(browser, world):
    round_id = world.open_round("Form late ballot")
    _to_vote_phase(browser, world, round_id)
    sign_in(browser, "m2")
    token = csrf_of(browser.get("/ballot").text)
    before = audit_head(world)
    response = browser.post("/ballot", data={"points:food": "100", "csrf_token": token})
    assert response.status_code == 409 and "phase" in response.text
    assert audit_head(world) == before


def test_published_plan_cannot_be_changed_through_the_pages(browser, world):
    round_id = world.open_round("Form publish")
    _to_vote_phase(browser, world, round_id, titles=("Keep", "Change"))
    browser.post(
        f"/api/v1/rounds/{round_id}/rankings",
        json={"order": ["A", "B"]},
        headers=bearer(world, "m1"),
    )
    sign_in(browser, "fac")
    for expected in ("vote", "tallied"):
        token = csrf_of(browser.get("/").text)
        moved = browser.post(
            "/round/advance",
            data={"csrf_token": token, "round_id": str(round_id), "expected": expected},
            follow_redirects=False,
        )
        assert moved.status_code == 303, moved.text
    plan = browser.get("/plan")
    assert "Keep" in plan.text and "immutable" in plan.text
    token = csrf_of(plan.text)
    before = audit_head(world)
    for expected in ("published", "tallied", ""):
        response = browser.post(
            "/round/advance",
            data={"csrf_token": token, "round_id": str(round_id), "expected": expected},
        )
        assert response.status_code == 409, response.text
    assert audit_head(world) == before
    assert browser.get(f"/api/v1/rounds/{round_id}/plan").json()["label"] == "A"
    results = browser.get("/results").text
    assert 'id="pairwise"' in results and 'id="winner"' in results


def test_economy_explorer_shows_key_sectors(browser, world):
    """Backward indices on the page match an independent dense Leontief inverse."""
    from commonplan.datasets import load_dataset

    economy = load_dataset("bea2021_15")
    system = Actor.system()
    stored = assemblies.store_economy(world.database, system, economy, name="BEA 2021, 15 sectors")
    assembly = assemblies.create_assembly(
        world.database, system, "Explorer assembly", economy_id=stored.id
    )
    page = browser.get(f"/economy?assembly={assembly.id}")
    assert page.status_code == 200
    assert 'data-chart="linkages-data"' in page.text and 'id="linkages-data"' in page.text
    A = economy.A.toarray() if hasattr(economy.A, "toarray") else np.asarray(economy.A)
    backward = np.linalg.inv(np.eye(len(A)) - A).sum(axis=0)
    power = backward / backward.mean()
    labels = [" / ".join(map(str, p)) for p in economy.products]
    strongest_key = labels[int(np.argmax(np.where(power > 1, power, -np.inf)))]
    cells = page.text
    shown = [label for label in labels if f"<td>{label}</td>" in cells]
    assert shown, "no key sector listed"
    for label in shown:
        k = labels.index(label)
        assert power[k] > 1, label
        assert f"{power[k]:.3f}" in cells
    assert strongest_key in shown or len(shown) == 15


def test_turnout_fragment_refreshes_with_htmx(browser, world):
    round_id = world.open_round("Turnout fragment")
    dashboard = browser.get("/").text
    assert f'hx-get="http://testserver/fragments/turnout?round={round_id}"' in dashboard
    before = browser.get(f"/fragments/turnout?round={round_id}").text
    assert "0 / 3" in before
    browser.post(
        f"/api/v1/rounds/{round_id}/ballots",
        json={"points": {"food": 100}},
        headers=bearer(world, "m2"),
    )
    after = browser.get(f"/fragments/turnout?round={round_id}").text
    assert "1 / 3" in after and "<html" not in after
    assert (
        browser.get("/fragments/turnout?round=x", headers={"Accept": "text/html"}).status_code
        == 422
    )


def test_audit_page_verifies_the_chain_on_request(browser, world):
    page = browser.get("/audit")
    assert "was not checked" in page.text and "round.open" in page.text
    checked = browser.get("/audit?verify=1")
    assert "verifies: no entry was edited, deleted or inserted" in checked.text


def test_unknown_page_is_an_html_404(browser, world):
    page = browser.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "<html" in page.text
    api = browser.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["error"] == "HTTPError"


def test_ballot_form_of_a_second_assembly_goes_to_its_round(browser, world):
    from commonplan.services import rounds

    system = Actor.system()
    other = assemblies.create_assembly(world.database, system, "Second assembly")
    council = assemblies.create_council(
        world.database, system, other.id, "Consumers: south", "consumers", region="south"
    )
    assemblies.add_membership(world.database, system, council.id, world.users["m3"])
    accounts.add_facilitator(world.database, system, other.id, world.users["fac"])
    other_round = rounds.open_round(
        world.database, world.actor("fac"), other.id, "South round", ["water", "schools"]
    ).id
    world.open_round("First assembly, newer round")
    sign_in(browser, "m3")
    page = browser.get(f"/ballot?assembly={other.id}")
    assert "South round" in page.text and 'name="points:water"' in page.text
    assert f'action="http://testserver/ballot?assembly={other.id}"' in page.text
    assert f'href="/alternatives?assembly={other.id}"' in page.text
    response = browser.post(
        f"/ballot?assembly={other.id}",
        data={
            "points:water": "70",
            "points:schools": "30",
            "round_id": str(other_round),
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ballot?assembly={other.id}"
    stored = _ballots(browser, world, "m3", other_round)
    assert len(stored) == 1 and stored[0]["points"] == {"water": 70.0, "schools": 30.0}
