"""A whole planning round through the JSON API, and what members must not be able to do."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from server_helpers import audit_head, bearer

GROUPS = ("food", "housing", "health")


def _ballot(client, world, user, round_id, points, **extra):
    return client.post(
        f"/api/v1/rounds/{round_id}/ballots",
        json={"points": points, **extra},
        headers=bearer(world, user),
    )


def _pairwise_oracle(rankings: list[list[str]], labels: list[str]) -> np.ndarray:
    """d[i, j] = number of rankings that put labels[i] above labels[j], counted pair by pair."""
    d = np.zeros((len(labels), len(labels)), dtype=int)
    for ranking in rankings:
        for (i, a), (j, b) in itertools.permutations(enumerate(labels), 2):
            if ranking.index(a) < ranking.index(b):
                d[i, j] += 1
    return d


def test_full_round_over_the_api(client, world):
    round_id = world.open_round("API round")
    url = f"/api/v1/rounds/{round_id}"
    ballots = {
        "m1": {"food": 50, "housing": 30, "health": 20},
        "m2": {"food": 10, "housing": 60, "health": 30},
        "m3": {"food": 33.33, "housing": 33.33, "health": 33.34},
    }
    for user, points in ballots.items():
        response = _ballot(client, world, user, round_id, points)
        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == world.users[user]
    # resubmission replaces, history kept
    again = _ballot(client, world, "m1", round_id, {"food": 40, "housing": 40, "health": 20})
    assert again.status_code == 201 and again.json()["replaced_id"] is not None
    history = client.get(f"{url}/ballots/me", headers=bearer(world, "m1")).json()
    assert [b["is_current"] for b in history] == [False, True]
    ballots["m1"] = {"food": 40, "housing": 40, "health": 20}
    turnout = client.get(f"{url}/turnout").json()
    assert (turnout["n_members"], turnout["n_ballots"]) == (3, 3)

    fac = bearer(world, "fac")
    advanced = client.post(f"{url}/advance", json={"expected": "ballot"}, headers=fac)
    assert advanced.status_code == 200, advanced.text
    weights = advanced.json()["weights"]
    # oracle: mean per council, then mean over councils weighted by membership (2 and 2)
    workers = np.mean([[ballots[m][g] for g in GROUPS] for m in ("m1", "m2")], axis=0)
    consumers = np.mean([[ballots[m][g] for g in GROUPS] for m in ("m2", "m3")], axis=0)
    expected = (2 * workers + 2 * consumers) / 4 / 100
    assert np.allclose([weights[g] for g in GROUPS], expected, atol=1e-9)
    assert sum(weights.values()) == pytest.approx(1.0)

    for title, w in (
        ("More food now", {"food": 0.6, "housing": 0.2, "health": 0.2}),
        ("Build housing", {"food": 0.2, "housing": 0.6, "health": 0.2}),
        ("Health first", {"food": 0.2, "housing": 0.2, "health": 0.6}),
    ):
        added = client.post(
            f"{url}/alternatives",
            headers=fac,
            json={"title": title, "weights": w, "figures": {"labour (hours)": 1.5e6}},
        )
        assert added.status_code == 201, added.text
    labels = [a["label"] for a in client.get(f"{url}/alternatives").json()]
    assert labels == ["A", "B", "C"]
    assert (
        client.post(f"{url}/advance", json={"expected": "alternatives"}, headers=fac).status_code
        == 200
    )

    rankings = {"m1": ["A", "B", "C"], "m2": ["B", "C", "A"], "m3": ["B", "A", "C"]}
    for user, order in rankings.items():
        response = client.post(
            f"{url}/rankings", json={"order": order}, headers=bearer(world, user)
        )
        assert response.status_code == 201, response.text
    tallied = client.post(f"{url}/tally", headers=fac)
    assert tallied.status_code == 200, tallied.text
    result = client.get(f"{url}/result").json()
    assert result["labels"] == labels
    assert np.array_equal(
        np.array(result["pairwise"]), _pairwise_oracle(list(rankings.values()), labels)
    )
    assert result["winner"] == "B"  # B beats A 2:1 and C 3:0: the Condorcet winner
    assert result["n_rankings"] == 3

    published = client.post(f"{url}/publish", headers=fac)
    assert published.status_code == 201, published.text
    plan = client.get(f"{url}/plan").json()
    assert plan["label"] == "B" and plan["title"] == "Build housing"

    # a published plan cannot be changed: publishing again, advancing, or adding alternatives
    before = audit_head(world)
    for method, path, body in (
        ("post", f"{url}/publish", None),
        ("post", f"{url}/advance", {}),
        ("post", f"{url}/alternatives", {"title": "Sneaky change"}),
        ("post", f"{url}/tally", None),
    ):
        response = getattr(client, method)(path, json=body, headers=fac)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["message"]
    assert client.get(f"{url}/plan").json() == plan
    assert audit_head(world) == before
    assert client.get("/api/v1/audit/verify").json()["ok"] is True


def test_member_cannot_vote_twice(client, world):
    round_id = world.open_round("Vote twice")
    fac = bearer(world, "fac")
    url = f"/api/v1/rounds/{round_id}"
    assert _ballot(client, world, "m1", round_id, {"food": 100}).status_code == 201
    client.post(f"{url}/advance", headers=fac)
    for title in ("One", "Two"):
        client.post(f"{url}/alternatives", headers=fac, json={"title": title})
    client.post(f"{url}/advance", headers=fac)
    first = client.post(f"{url}/rankings", json={"order": ["A", "B"]}, headers=bearer(world, "m1"))
    assert first.status_code == 201
    before = audit_head(world)
    second = client.post(f"{url}/rankings", json={"order": ["B", "A"]}, headers=bearer(world, "m1"))
    assert second.status_code == 409
    assert "already" in second.json()["message"]
    # a retry of the first request (same idempotency key) returns the stored ranking, not a second vote
    key = first.json()["request_id"]
    retry = client.post(
        f"{url}/rankings",
        json={"order": ["A", "B"], "request_id": key},
        headers=bearer(world, "m1"),
    )
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert audit_head(world) == before
    assert client.get(f"{url}/turnout").json()["n_rankings"] == 1


def test_member_cannot_vote_for_another_member(client, world):
    round_id = world.open_round("Impersonation")
    before = audit_head(world)
    for extra in ({"user_id": world.users["m2"]}, {"member_id": world.users["m2"]}):
        response = _ballot(client, world, "m1", round_id, {"food": 100}, **extra)
        assert response.status_code == 422
        assert response.json()["where"] in ("user_id", "member_id")
    assert audit_head(world) == before
    # what a member submits is always stored as theirs
    response = _ballot(client, world, "m1", round_id, {"food": 100})
    assert response.json()["user_id"] == world.users["m1"]
    m2 = client.get(f"/api/v1/rounds/{round_id}/ballots/me", headers=bearer(world, "m2")).json()
    assert m2 == []


def test_member_cannot_vote_outside_the_phase(client, world):
    round_id = world.open_round("Phases")
    url = f"/api/v1/rounds/{round_id}"
    fac = bearer(world, "fac")
    before = audit_head(world)
    early = client.post(f"{url}/rankings", json={"order": ["A"]}, headers=bearer(world, "m1"))
    assert early.status_code in (409, 422)
    assert audit_head(world) == before
    _ballot(client, world, "m1", round_id, {"food": 100})
    client.post(f"{url}/advance", headers=fac)
    before = audit_head(world)
    late = _ballot(client, world, "m2", round_id, {"food": 100})
    assert late.status_code == 409
    assert "phase" in late.json()["message"]
    assert audit_head(world) == before
    assert client.get(f"{url}/turnout").json()["n_ballots"] == 1


def test_outsider_member_is_refused(client, world):
    round_id = world.open_round("Outsider")
    before = audit_head(world)
    response = _ballot(client, world, "outsider", round_id, {"food": 100})
    assert response.status_code == 403
    assert audit_head(world) == before


@pytest.mark.parametrize(
    ("points", "fragment"),
    [
        ({"food": 50, "housing": 40}, "sum"),
        ({"food": -10, "housing": 110}, "-10"),
        ({"food": 50, "cheese": 50}, "cheese"),
        ({"food": 33.333, "housing": 66.667}, "decimal"),
        ({}, "sum"),
    ],
)
def test_malformed_ballots_are_refused_and_not_stored(client, world, points, fragment):
    round_id = world.open_round(f"Malformed {fragment} {len(points)}")
    before = audit_head(world)
    response = _ballot(client, world, "m1", round_id, points)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "BallotError"
    assert (
        fragment
        in (body["message"] + " " + (body["where"] or "") + " " + (body["expected"] or "")).lower()
    )
    assert audit_head(world) == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"points": {"food": "lots"}}',
        b'{"points": {"food": NaN}}',
        b'{"points": {"food": Infinity}}',
        b'{"points": [100]}',
        b'{"points": {"food": 100}',
        b"not json at all",
    ],
)
def test_unparsable_ballots_are_refused(client, world, raw):
    round_id = world.open_round(f"Unparsable {abs(hash(raw))}")
    before = audit_head(world)
    response = client.post(
        f"/api/v1/rounds/{round_id}/ballots",
        content=raw,
        headers={**bearer(world, "m1"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["message"]
    assert audit_head(world) == before


@pytest.mark.parametrize(
    ("order", "fragment"),
    [(["A", "A"], "twice"), (["A", "Z"], "z"), ([], "")],
)
def test_malformed_rankings_are_refused(client, world, order, fragment):
    round_id = world.open_round(f"Rankings {order}")
    url = f"/api/v1/rounds/{round_id}"
    fac = bearer(world, "fac")
    _ballot(client, world, "m1", round_id, {"food": 100})
    client.post(f"{url}/advance", headers=fac)
    for title in ("One", "Two"):
        client.post(f"{url}/alternatives", headers=fac, json={"title": title})
    client.post(f"{url}/advance", headers=fac)
    before = audit_head(world)
    response = client.post(f"{url}/rankings", json={"order": order}, headers=bearer(world, "m1"))
    assert response.status_code == 422, response.text
    assert fragment in response.text.lower()
    assert audit_head(world) == before


def test_oversized_body_is_refused(client, world):
    round_id = world.open_round("Oversized")
    before = audit_head(world)
    huge = {"points": {f"group {k}": 0 for k in range(20_000)}}
    response = client.post(
        f"/api/v1/rounds/{round_id}/ballots", json=huge, headers=bearer(world, "m1")
    )
    assert response.status_code == 413
    assert "bytes" in response.json()["message"]
    assert audit_head(world) == before


def test_idempotent_retry_stores_once(client, world):
    round_id = world.open_round("Retries")
    body = {"points": {"food": 70, "housing": 30}, "request_id": "retry-1"}
    first = client.post(
        f"/api/v1/rounds/{round_id}/ballots", json=body, headers=bearer(world, "m3")
    )
    second = client.post(
        f"/api/v1/rounds/{round_id}/ballots", json=body, headers=bearer(world, "m3")
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    history = client.get(
        f"/api/v1/rounds/{round_id}/ballots/me", headers=bearer(world, "m3")
    ).json()
    assert len(history) == 1


def test_unknown_objects_are_404(client, world):
    assert client.get("/api/v1/rounds/999999").status_code == 404
    assert client.get("/api/v1/assemblies/999999/rounds").status_code == 404
    response = client.post(
        "/api/v1/rounds/999999/ballots", json={"points": {"food": 100}}, headers=bearer(world, "m1")
    )
    assert response.status_code == 404


def test_tokens_and_authentication(client, world):
    good = client.post(
        "/api/v1/tokens", json={"username": "obs", "password": "correct-horse-battery"}
    )
    assert good.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {good.json()['token']}"})
    assert me.json()["username"] == "obs" and me.json()["role"] == "observer"
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer cp_1_forged"}).status_code == 401
    )
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def test_login_rate_limit(client, world):
    """After 3 failures (the fixture's limit) even the right password is refused with 429."""
    for _ in range(3):
        bad = client.post("/api/v1/tokens", json={"username": "m3", "password": "wrong-password"})
        assert bad.status_code == 401
    blocked = client.post(
        "/api/v1/tokens", json={"username": "m3", "password": "correct-horse-battery"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    # another user is not locked out by it
    other = client.post(
        "/api/v1/tokens", json={"username": "m2", "password": "correct-horse-battery"}
    )
    assert other.status_code == 201


def test_revoked_token_stops_working_within_the_cache_time(world):
    """Tokens are cached for ``token_cache_s``; after that a revoked token is refused."""
    import time

    from fastapi.testclient import TestClient

    from commonplan.server import Settings, create_app
    from commonplan.services import accounts

    app = create_app(Settings(secret_key="x", token_cache_s=0.3), database=world.database)
    new = accounts.create_token(world.database, world.actor("obs"), name="to revoke")
    headers = {"Authorization": f"Bearer {new.token}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        accounts.revoke_token(world.database, world.actor("obs"), new.id)
        time.sleep(0.4)
        refused = client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 401 and "revoked" in refused.json()["message"]


def test_an_assembly_is_created_with_its_time_zone(client, world):
    admin = bearer(world, "admin")
    created = client.post(
        "/api/v1/assemblies", json={"name": "Bogotá", "time_zone": "America/Bogota"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json()["time_zone"] == "America/Bogota"
    shown = client.get(f"/api/v1/assemblies/{created.json()['id']}").json()
    assert shown["time_zone"] == "America/Bogota"
    before = audit_head(world)
    refused = client.post(
        "/api/v1/assemblies", json={"name": "Olympus", "time_zone": "Mars/Olympus"}, headers=admin
    )
    assert refused.status_code == 422
    assert "unknown time zone" in refused.json()["message"]
    assert audit_head(world) == before
    default = client.post("/api/v1/assemblies", json={"name": "Plain"}, headers=admin)
    assert default.json()["time_zone"] == "UTC"
