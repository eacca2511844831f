"""Where the data lives: engine and session factory for SQLite (default) or PostgreSQL.

* The URL comes from the argument, else the environment variable
  ``COMMONPLAN_DATABASE_URL``, else a SQLite file ``commonplan.sqlite3`` in the user's
  data folder (``$COMMONPLAN_HOME``, else ``$XDG_DATA_HOME/commonplan``, else
  ``~/.local/share/commonplan``), created on first use.
* SQLite connections run in WAL mode with foreign keys on, ``synchronous=FULL`` and a
  30 s busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so concurrent
  writers queue instead of failing half-way. ``FULL`` syncs the write-ahead log at every
  commit, so an acknowledged ballot survives a power cut; ``NORMAL`` syncs only at
  checkpoints, and the last commits before a power cut could roll back (measured cost in
  ``docs/server.md``).
* PostgreSQL URLs ``postgresql://`` / ``postgres://`` use the psycopg 3 driver.

:func:`open_database` refuses to hand out a database that is unreachable or whose
schema is not the one this code was written for, with a :class:`~commonplan.errors.DatabaseError`
saying what to do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from commonplan.errors import DatabaseError

ENV_URL = "COMMONPLAN_DATABASE_URL"
"""Environment variable naming the database, e.g. ``postgresql://user@host:5432/commonplan``."""

SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_SYNCHRONOUS = "FULL"
"""Acknowledged means on disk: the WAL is synced before a commit returns."""


def default_sqlite_path() -> Path:
    """The default SQLite file: ``$COMMONPLAN_HOME/commonplan.sqlite3`` or the XDG data folder."""
    home = os.environ.get("COMMONPLAN_HOME")
    if home:
        return Path(home) / "commonplan.sqlite3"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "commonplan" / "commonplan.sqlite3"


def resolve_url(url: str | None = None) -> str:
    """The database URL to use: ``url``, else ``$COMMONPLAN_DATABASE_URL``, else the default SQLite file.

    ``postgresql://`` and ``postgres://`` are mapped to the installed psycopg 3 driver.
    """
    url = url or os.environ.get(ENV_URL) or f"sqlite:///{default_sqlite_path()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def create_engine_for(url: str | None = None, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for ``url`` with Commonplan's connection settings.

    For SQLite the file's folder is created if missing, and every connection gets WAL
    mode, foreign keys, ``synchronous=FULL`` and the busy timeout.
    """
    url = resolve_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise DatabaseError(
            "the database URL cannot be parsed",
            where=ENV_URL,
            expected="a URL like sqlite:///path/to/file.sqlite3 or postgresql://user@host:5432/db",
            fix=f"set {ENV_URL} to a valid SQLAlchemy URL",
        ) from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_file(url)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise unreachable_error(url, error) from error
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        return create_engine(url, **kwargs)
    raise DatabaseError(
        f"database backend {backend!r} is not supported",
        where=safe_url(url),
        expected="sqlite or postgresql",
        fix=f"point {ENV_URL} at a SQLite file or a PostgreSQL database",
    )


_BEGIN_MODES = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def _configure_sqlite(engine: Engine) -> None:
    """Pragmas on connect; we issue BEGIN ourselves so writers can take the lock up front."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(_BEGIN_MODES[mode])


class Database:
    """An engine plus session factories: :meth:`transaction` for writes, :meth:`read` for reads.

    Build it with :func:`open_database`, which checks reachability and schema version.
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.url = resolve_url(url) if engine is None else engine.url.render_as_string(False)
        self.engine = engine if engine is not None else create_engine_for(self.url)
        write_engine = self.engine
        if self.is_sqlite:
            write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write_sessions = sessionmaker(bind=write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        from commonplan.store.audit import TRANSACTION, commit_with_audit

        with self._write_sessions() as session, session.begin():
            session.info[TRANSACTION] = True
            yield session
            commit_with_audit(session)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it at the end rolls its transaction back (nothing is committed)."""
        with self._read_sessions() as session:
            yield session

    def check(self) -> None:
        """Raise :class:`DatabaseError` unless the database is reachable and at the current schema."""
        from commonplan.store.migrate import current_revision, head_revision

        try:
            with self.engine.connect() as connection:
                revision = current_revision(connection)
        except SQLAlchemyError as error:
            raise unreachable_error(self.url, error) from error
        head = head_revision()
        if revision is None:
            raise DatabaseError(
                "the database has no Commonplan schema yet",
                where=safe_url(self.url),
                expected=f"schema revision {head}",
                fix="run `commonplan db upgrade` (or start the server, which upgrades)",
            )
        if revision != head:
            raise DatabaseError(
                f"the database schema is at revision {revision}, this Commonplan needs {head}",
                where=safe_url(self.url),
                expected=f"schema revision {head}",
                fix="run `commonplan db upgrade` (if the database is newer, upgrade Commonplan)",
            )

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({safe_url(self.url)!r})"


def unreachable_error(url: str, error: Exception) -> DatabaseError:
    """The error for a database that cannot be reached or opened."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
    return DatabaseError(
        f"cannot reach the database ({reason})",
        where=safe_url(url),
        expected="a running database server or a writable SQLite file",
        fix=f"start the database or correct {ENV_URL}",
    )


def open_database(url: str | None = None, *, migrate: bool = False, check: bool = True) -> Database:
    """Open the database at ``url`` (see :func:`resolve_url`).

    With ``migrate=True`` the schema is first brought to the latest revision (what
    ``commonplan serve`` does on start). With ``check=True`` (default) a database that is
    unreachable or not at the latest schema raises :class:`DatabaseError`.
    """
    url = resolve_url(url)
    if migrate:
        from commonplan.store.migrate import upgrade

        upgrade(url)
    database = Database(url)
    if check:
        try:
            database.check()
        except DatabaseError:
            database.dispose()
            raise
    return database
