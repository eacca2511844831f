"""Alembic environment for Commonplan's schema (run through :func:`commonplan.store.upgrade`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from commonplan.store.models import Base

config = context.config
target_metadata = Base.metadata
ADVISORY_LOCK = 7_231_994_411  # any constant: serialises concurrent upgrades on PostgreSQL


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from commonplan.store.database import create_engine_for

        engine = create_engine_for(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `commonplan db upgrade`")
run_migrations_online()
