"""CLI commands for the store: ``commonplan db …``, ``commonplan admin …``, ``commonplan audit …``.

Each takes ``--database-url`` (default: ``$COMMONPLAN_DATABASE_URL``, else the SQLite
file in the user's data folder). Errors print one line (see :mod:`commonplan.cli.main`).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL of the database (default: $COMMONPLAN_DATABASE_URL, else the local SQLite file).",
        show_default=False,
    ),
]

db_app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Administer accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the audit log.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema to the latest revision (creates a SQLite file on first use)."""
    from commonplan.store import resolve_url, upgrade
    from commonplan.store.database import safe_url

    url = resolve_url(database_url)
    revision = upgrade(url)
    typer.echo(f"database {safe_url(url)} is at schema revision {revision}")


@db_app.command("status")
def db_status(database_url: DatabaseUrl = None) -> None:
    """Say which schema revision the database is at, and whether that is the latest."""
    from commonplan.store import open_database

    database = open_database(database_url)  # raises a clear DatabaseError if unreachable or old
    database.dispose()
    typer.echo(f"database {database!r} is reachable and at the latest schema revision")


@admin_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, '.', '_', '-').")],
    role: Annotated[
        str, typer.Option("--role", help="administrator, facilitator, member or observer.")
    ] = "member",
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown on pages.")] = "",
    password_env: Annotated[
        str,
        typer.Option(
            "--password-env",
            help="Read the password from this environment variable instead of prompting.",
        ),
    ] = "COMMONPLAN_NEW_PASSWORD",
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account (as the local administrator). The password is prompted for, or read from the environment."""
    from commonplan.services import Actor
    from commonplan.services import create_user as create
    from commonplan.store import open_database

    password = os.environ.get(password_env) or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    database = open_database(database_url)
    try:
        user = create(database, Actor.system(), username, password, role, display_name=display_name)
    finally:
        database.dispose()
    typer.echo(f"created user {user.username!r} (id {user.id}) with role {user.role.value}")


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrl = None) -> None:
    """Walk the hash chain of the audit log; name every edited, deleted or inserted entry."""
    from commonplan.services import verify_audit_log
    from commonplan.store import open_database

    database = open_database(database_url)
    try:
        report = verify_audit_log(database)
    finally:
        database.dispose()
    for problem in report.problems:
        typer.secho(
            f"entry {problem.seq}: {problem.kind}: {problem.message}", fg=typer.colors.RED, err=True
        )
    report.raise_if_broken()
    typer.echo(
        f"audit log intact: {report.n_entries} entries, head hash {report.head_hash} "
        "(keep a copy of this hash to detect a rewritten tail later)"
    )


def register(app: typer.Typer) -> None:
    """Add the ``db``, ``admin`` and ``audit`` command groups to the ``commonplan`` app."""
    app.add_typer(db_app, name="db")
    app.add_typer(admin_app, name="admin")
    app.add_typer(audit_app, name="audit")
