"""Helpers for the server tests (imported by the test modules)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"


def bearer(world, username: str | None) -> dict[str, str]:
    """Authorization header of a user (no header for None, the anonymous visitor)."""
    return {} if username is None else {"Authorization": f"Bearer {world.tokens[username]}"}


_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no anti-forgery token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a browser would."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def audit_head(world) -> int:
    """Number of audit entries: every stored change appends one, so unchanged means nothing stored."""
    from commonplan.services import queries

    return queries.verify_audit_log(world.database).head_seq
