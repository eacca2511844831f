"""Secret ballots over the API: the public audit log and publication never link a voter to content."""

from __future__ import annotations

import json

from server_helpers import bearer

from commonplan.services import queries, rounds


def test_the_public_audit_log_shows_participation_not_content(client, world):
    round_id = world.open_round("Secret round")
    cast = client.post(
        f"/api/v1/rounds/{round_id}/ballots",
        json={"points": {"food": 61.25, "housing": 38.75}},
        headers=bearer(world, "m1"),
    )
    assert cast.status_code == 201
    receipt, tracker = cast.json()["receipt"], cast.json()["tracker"]
    assert receipt and tracker
    log = client.get("/api/v1/audit", params={"limit": 1000})  # anonymous
    entry = next(e for e in log.json() if e["action"] == "ballot.submit" and e["actor"] == "m1")
    assert entry["subject"] == f"round {round_id}"  # who took part is public …
    assert set(entry["payload"]) == {"ballot_id", "commitment", "replaces", "records"}
    assert "61.25" not in log.text and receipt not in log.text and tracker not in log.text
    assert client.get(f"/api/v1/rounds/{round_id}/publication").status_code == 409  # … content not

    rounds.advance_phase(world.database, world.actor("fac"), round_id)
    published = client.get(f"/api/v1/rounds/{round_id}/publication").json()
    [ballot] = published["ballots"]
    assert set(ballot) == {"tracker", "councils", "points"}
    assert ballot["tracker"] == tracker and ballot["points"]["food"] == 61.25
    assert "m1" not in json.dumps(published)


def test_verification_reports_are_shared_for_a_few_seconds(client, world, monkeypatch):
    calls = []
    verify_now = queries._verify_now
    monkeypatch.setattr(queries, "_verify_now", lambda db: calls.append(1) or verify_now(db))
    now = [1_000_000.0]
    monkeypatch.setattr(queries, "_clock", lambda: now[0])
    queries._VERIFIED.clear()
    for _ in range(5):  # an anonymous client looping on the endpoint …
        assert client.get("/api/v1/audit/verify").json()["ok"]
    assert len(calls) == 1  # … walks the chain once
    now[0] += queries.PUBLIC_VERIFY_MAX_AGE_S + 1
    assert client.get("/audit?verify=1").status_code == 200
    assert len(calls) == 2
