"""Fixtures for the store tests: the same tests on SQLite and PostgreSQL."""

from db_fixtures import colombia, db, db_url, pg_session_url, sqlite_template  # noqa: F401
