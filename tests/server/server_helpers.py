"""Helpers for the server tests (imported by the test modules)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

PASSWORD = "correct-horse-battery"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class TempPostgres:
    """A PostgreSQL database with a random name, created for a test module and dropped after."""

    name: str

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    @classmethod
    def create(cls) -> TempPostgres:
        name = f"commonplan_test_{secrets.token_hex(6)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return cls(name)

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def database_url(backend: str, tmp_path: Path) -> tuple[str, TempPostgres | None]:
    """A fresh, empty database of the given backend: its URL and the PostgreSQL handle to drop."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'commonplan.sqlite3'}", None
    pg = TempPostgres.create()
    return pg.url, pg


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
