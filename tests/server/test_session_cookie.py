"""The signed session cookie carries the session id and nothing else: who is signed in and
the page notices (which can hold a ballot's receipt) stay on the server; the anti-forgery
token is bound to the id. A cookie tampered with, or saved before signing in or out, gets
nothing: no account, no notice, no accepted form."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
from fastapi.testclient import TestClient
from itsdangerous import BadSignature, TimestampSigner
from server_helpers import audit_head, csrf_of, sign_in
from sqlalchemy import select

from commonplan.store.models import PageNotice

SECRET = "test-secret"  # the key of the app fixture (conftest)
COOKIE = "commonplan_session"


def _cookie(client: TestClient) -> str:
    return client.cookies.get(COOKIE) or ""


def _contents(raw: str) -> dict:
    """What the cookie holds, read as the server reads it (an independent decoder: itsdangerous)."""
    return json.loads(base64.b64decode(TimestampSigner(SECRET).unsign(raw.encode())))


def _restore(client: TestClient, raw: str) -> None:
    """Put ``raw`` back as the session cookie, as a person copying a saved cookie would."""
    domains = {c.domain for c in client.cookies.jar if c.name == COOKIE} or {"testserver.local"}
    client.cookies.clear()
    client.cookies.set(COOKIE, raw, domain=domains.pop())


def _signed_in_as(html: str) -> str | None:
    """The account the page's header names (None when it offers to sign in)."""
    match = re.search(r'<div class="who">\s*<span>([^<]+)<span class="badge">', html)
    return match.group(1).strip() if match else None


@pytest.fixture()
def browser(app):
    with TestClient(app) as test_client:
        yield test_client


def test_the_cookie_holds_only_the_session_id_at_every_step(browser, world):
    browser.get("/login")
    anonymous = _contents(_cookie(browser))
    assert set(anonymous) == {"sid"} and len(anonymous["sid"]) >= 43  # 256 random bits
    sign_in(browser, "m1")
    signed_in = _contents(_cookie(browser))
    assert set(signed_in) == {"sid"} and signed_in["sid"] != anonymous["sid"]  # a fresh id
    assert "Signed in as" in browser.get("/").text  # the notice, from the server

    round_id = world.open_round("Cookie round")
    page = browser.get("/ballot")
    stored = browser.post(
        "/ballot",
        data={
            "points:food": "60",
            "points:housing": "40",
            "round_id": str(round_id),
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert stored.status_code == 303
    raw = _cookie(browser)
    assert set(_contents(raw)) == {"sid"}
    with world.database.read() as session:
        rows = session.execute(select(PageNotice)).scalars().all()
        mine = [
            r
            for r in rows
            if r.session_hash == hashlib.sha256(signed_in["sid"].encode()).hexdigest()
        ]
        assert len(mine) == 1
        sealed = mine[0].sealed
    shown = browser.get("/ballot").text
    receipt = re.search(r"Your receipt: ([A-Za-z0-9_\-]+)", shown).group(1)
    assert receipt not in raw and receipt.encode() not in sealed and b"receipt" not in sealed
    assert "Your receipt" not in browser.get("/ballot").text  # shown once
    with world.database.read() as session:
        left = session.execute(
            select(PageNotice.id).where(PageNotice.session_hash == mine[0].session_hash)
        ).all()
    assert left == []

    browser.post("/logout", data={"csrf_token": csrf_of(browser.get("/").text)})
    assert set(_contents(_cookie(browser))) <= {"sid"}
    assert _contents(_cookie(browser)).get("sid") != signed_in["sid"]


def test_a_cookie_saved_before_sign_out_gets_nothing(browser, app, world):
    round_id = world.open_round("Saved cookie")
    sign_in(browser, "m2")
    saved, saved_page = _cookie(browser), browser.get("/ballot").text
    assert _signed_in_as(saved_page) is not None
    browser.post("/logout", data={"csrf_token": csrf_of(saved_page)})

    _restore(browser, saved)
    before = audit_head(world)
    page = browser.get("/ballot").text
    assert _signed_in_as(page) is None and "Sign in" in page
    replayed = browser.post(
        "/ballot",
        data={"points:food": "100", "round_id": str(round_id), "csrf_token": csrf_of(saved_page)},
    )
    assert replayed.status_code in (401, 403)
    assert audit_head(world) == before

    # the account's next session leaves a notice; the old cookie does not see it
    with TestClient(app) as other:
        sign_in(other, "m2")
        _restore(browser, saved)
        assert "Signed in as" not in browser.get("/").text
        assert "Signed in as" in other.get("/").text


def test_a_tampered_cookie_gets_nothing(browser, world):
    round_id = world.open_round("Tampered cookie")
    sign_in(browser, "m3")
    raw, page = _cookie(browser), browser.get("/ballot").text
    sid = _contents(raw)["sid"]
    forged_value = base64.b64encode(json.dumps({"sid": sid}).encode())
    forgeries = {
        "flipped signature": raw[:-1] + ("A" if raw[-1] != "A" else "B"),
        "other key": TimestampSigner("not-the-secret").sign(forged_value).decode(),
        "unsigned": forged_value.decode(),
    }
    for what, forged in forgeries.items():
        with pytest.raises(BadSignature):
            TimestampSigner(SECRET).unsign(forged.encode())  # the oracle agrees it is forged
        _restore(browser, forged)
        before = audit_head(world)
        shown = browser.get("/ballot").text
        assert _signed_in_as(shown) is None, what
        refused = browser.post(
            "/ballot",
            data={"points:food": "100", "round_id": str(round_id), "csrf_token": csrf_of(page)},
        )
        assert refused.status_code in (401, 403), what
        assert audit_head(world) == before, what
    _restore(browser, raw)  # the genuine cookie still works
    assert _signed_in_as(browser.get("/ballot").text) is not None


def test_the_anti_forgery_token_is_bound_to_the_session_id(browser, app, world):
    sign_in(browser, "admin")
    token = csrf_of(browser.get("/admin").text)
    assert token == csrf_of(browser.get("/").text)  # stable within a session
    with TestClient(app) as other:
        sign_in(other, "admin")
        other_token = csrf_of(other.get("/admin").text)
        assert other_token != token
        before = audit_head(world)
        crossed = other.post(
            "/admin/user",
            data={
                "csrf_token": token,
                "username": "crossed",
                "password": "long-enough-pass",
                "role": "member",
            },
        )
        assert crossed.status_code == 403 and audit_head(world) == before
    anonymous_token = csrf_of(TestClient(app).get("/login").text)
    assert anonymous_token != token


def test_a_cookie_from_before_the_upgrade_is_rewritten_to_the_id_alone(browser, world):
    sign_in(browser, "obs")
    sid = _contents(_cookie(browser))["sid"]
    old_style = {"sid": sid, "csrf": "a-token-kept-in-the-cookie", "flash": ["ok", "old notice"]}
    signed = TimestampSigner(SECRET).sign(base64.b64encode(json.dumps(old_style).encode()))
    _restore(browser, signed.decode())
    page = browser.get("/").text
    assert _signed_in_as(page) is not None  # the session itself still holds
    assert "old notice" not in page and csrf_of(page) != old_style["csrf"]
    assert _contents(_cookie(browser)) == {"sid": sid}


def test_an_api_client_with_a_bearer_token_gets_no_session_cookie(app, world):
    """A bearer request without cookies skips the session layer: no cookie is set, and the
    token alone decides who it is; a page request in the same client still gets its session."""
    with TestClient(app) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {world.tokens['m1']}"})
        assert me.status_code == 200 and me.json()["username"] == "m1"
        assert "set-cookie" not in me.headers and COOKIE not in client.cookies
        anonymous = client.get("/api/v1/me")
        assert anonymous.status_code == 401
        client.get("/login")
        assert set(_contents(_cookie(client))) == {"sid"}
    with TestClient(app) as browser:  # behind a proxy's HTTP Basic sign-in: a session as usual
        page = browser.get("/login", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert page.status_code == 200 and set(_contents(_cookie(browser))) == {"sid"}
