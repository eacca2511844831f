"""Alembic migrations, run programmatically: :func:`upgrade` brings a database to the latest schema.

The migration scripts ship inside the package (``commonplan/store/migrations``), so an
installed Commonplan can upgrade any database without an ``alembic.ini`` at hand.
On PostgreSQL an advisory lock makes concurrent upgrades (several server processes
starting at once) run one after the other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from commonplan.errors import DatabaseError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The latest schema revision this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(connection: Connection) -> str | None:
    """The schema revision recorded in the database (None for an empty database)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Bring the database at ``url`` to ``revision`` (default: the latest); return the revision reached.

    Raises :class:`~commonplan.errors.DatabaseError` if the database cannot be reached.
    """
    from commonplan.store.database import (
        create_engine_for,
        resolve_url,
        safe_url,
        unreachable_error,
    )

    url = resolve_url(url)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        with engine.connect() as connection:
            reached = current_revision(connection)
    except CommandError as error:
        raise DatabaseError(
            f"cannot migrate the database: {error}",
            where=safe_url(url),
            expected=f"a database at a schema revision this version of Commonplan knows (latest {head_revision()})",
            fix="upgrade Commonplan to the version that wrote this database, or point COMMONPLAN_DATABASE_URL at another database",
        ) from error
    except SQLAlchemyError as error:
        raise unreachable_error(url, error) from error
    finally:
        engine.dispose()
    return reached or ""


def downgrade(url: str | None, revision: str) -> None:
    """Take the database back to ``revision`` (``"base"`` empties it). For tests and repairs."""
    from commonplan.store.database import create_engine_for, resolve_url

    url = resolve_url(url)
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()
