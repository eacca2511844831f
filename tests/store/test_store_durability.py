"""Acknowledged means on disk: SQLite syncs its write-ahead log at every commit."""

from __future__ import annotations

from sqlalchemy import text

from commonplan.store import open_database, upgrade


def test_sqlite_commits_are_synced_to_disk(tmp_path):
    url = f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    upgrade(url)
    database = open_database(url)
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    database.dispose()
