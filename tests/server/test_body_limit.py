"""The request body limit: 413 for oversized bodies, whether their length is declared or chunked."""

from __future__ import annotations

import json

from server_helpers import audit_head, bearer


def _chunked(payload: bytes, size: int = 4096):
    """The payload as a generator: httpx sends it with Transfer-Encoding: chunked, no Content-Length."""
    for start in range(0, len(payload), size):
        yield payload[start : start + size]


def _ballot_headers(world) -> dict[str, str]:
    return {**bearer(world, "m1"), "Content-Type": "application/json"}


def test_an_oversized_chunked_body_gets_413(client, world):
    round_id = world.open_round("Chunked oversized")
    before = audit_head(world)
    huge = json.dumps({"points": {f"group {k}": 0 for k in range(20_000)}}).encode()
    response = client.post(
        f"/api/v1/rounds/{round_id}/ballots", content=_chunked(huge), headers=_ballot_headers(world)
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "RequestTooLarge"
    assert audit_head(world) == before


def test_a_small_chunked_body_is_read_whole(client, world):
    round_id = world.open_round("Chunked small")
    body = json.dumps({"points": {"food": 60, "housing": 40}}).encode()
    response = client.post(
        f"/api/v1/rounds/{round_id}/ballots",
        content=_chunked(body, size=7),
        headers=_ballot_headers(world),
    )
    assert response.status_code in (200, 201), response.text
    assert response.json()["points"] == {"food": 60, "health": 0, "housing": 40}
