"""CLI command ``commonplan serve``: the HTTP API and web pages on 127.0.0.1:8000."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default 127.0.0.1, or $COMMONPLAN_HOST)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default 8000, or $COMMONPLAN_PORT).")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL (default $COMMONPLAN_DATABASE_URL, else a SQLite file).",
        ),
    ] = None,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations on start.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (for PostgreSQL on several cores).")
    ] = 1,
) -> None:
    """Serve the JSON API (/api/v1, schema at /openapi.json) and the web pages.

    The database is migrated to the latest schema on start. Secrets and limits come from
    the environment (COMMONPLAN_SECRET_KEY, COMMONPLAN_MAX_BODY_BYTES, …; see docs/server.md).
    """
    from commonplan.server import Settings, run

    overrides: dict[str, object] = {"apply_migrations": migrate}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if database_url is not None:
        overrides["database_url"] = database_url
    run(Settings.from_env(**overrides), access_log=access_log, workers=workers, echo=typer.echo)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``commonplan`` app."""
    app.command("serve")(serve)
