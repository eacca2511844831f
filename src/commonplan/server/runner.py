"""Start the web server: open (and migrate) the database, optionally seed the demo, run uvicorn.

This is what ``commonplan serve`` and ``commonplan demo --serve`` call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from commonplan.server.settings import Settings
from commonplan.store.database import open_database, safe_url


def run(
    settings: Settings | None = None,
    *,
    seed_demo: bool = False,
    access_log: bool = False,
    log_level: str = "warning",
    workers: int = 1,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve Commonplan on ``settings.host:settings.port`` until interrupted.

    The database (``settings.database_url``; SQLite by default) is migrated to the latest
    schema first (unless ``settings.apply_migrations`` is False, in which case an older
    schema stops the start with a :class:`~commonplan.errors.DatabaseError`). With
    ``seed_demo=True`` the demo assembly, councils, accounts, a published plan in simulated
    execution and an open round are created
    (see :func:`commonplan.services.demo.seed_demo`) and the demo accounts are printed.
    ``echo`` receives the start-up lines (the CLI passes ``typer.echo``).

    ``workers > 1`` runs that many server processes on the same port (uvicorn's
    multiprocess mode), for PostgreSQL deployments with several cores: the parent
    migrates and seeds, then hands the settings to the workers through ``COMMONPLAN_*``
    environment variables. Each worker keeps its own sign-in rate limit and token cache.
    On SQLite, which admits one writer at a time, extra workers mostly wait for each other.
    """
    import uvicorn

    from commonplan.server.app import create_app, tune_garbage_collector

    settings = settings or Settings.from_env()
    database = open_database(settings.database_url, migrate=settings.apply_migrations)
    if seed_demo:
        from commonplan.services.demo import seed_demo as seed

        demo = seed(database)
        echo(
            f"demo assembly {demo.assembly_id} with round {demo.round_id} "
            f"({'created' if demo.created else 'already there'}); demo accounts "
            "(public passwords, for trying Commonplan only):"
        )
        for account in demo.accounts:
            echo(f"  {account.username:<12} {account.password:<24} {account.role.value}")
        if demo.plan_id is not None:
            echo(
                f"a published plan in execution, its alarms and the re-plan: "
                f"/operations?plan={demo.plan_id}"
            )
        if demo.live_round_id is not None:
            echo(
                "a live participatory round awaiting the members' proposals: "
                f"/live/{demo.live_round_id}"
            )
    if workers > 1:
        database.dispose()
    app = create_app(settings, database=database) if workers <= 1 else None
    if not settings.secret_from_environment:
        echo(
            "note: COMMONPLAN_SECRET_KEY is not set; a random key signs sessions, so sign-ins "
            "end when the server restarts"
        )
    echo(f"database: {safe_url(database.url)}")
    echo(
        f"Commonplan is serving on http://{settings.host}:{settings.port}/"
        + (f" with {workers} worker processes" if workers > 1 else "")
        + " (Ctrl+C stops it)"
    )
    logging.getLogger("uvicorn.error").setLevel(log_level.upper())
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": access_log,
        "server_header": False,
        # Commonplan reads X-Forwarded-For itself, from COMMONPLAN_TRUSTED_PROXIES only
        "proxy_headers": False,
        "timeout_graceful_shutdown": 5,
    }
    if workers > 1:
        os.environ.update(settings.to_env())
        uvicorn.run(
            "commonplan.server.app:app_from_environment", factory=True, workers=workers, **options
        )
        return
    tune_garbage_collector()
    uvicorn.run(app, **options)
