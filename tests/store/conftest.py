"""Fixtures for the store tests: the same tests on SQLite and PostgreSQL."""

from db_fixtures import (  # noqa: F401
    cheap_password_hashing,
    colombia,
    db,
    db_url,
    pg_session_url,
    sqlite_template,
)
