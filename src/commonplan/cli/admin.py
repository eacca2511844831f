"""CLI commands for the store: ``commonplan db …``, ``commonplan admin …``, ``commonplan audit …``.

Each takes ``--database-url`` (default: ``$COMMONPLAN_DATABASE_URL``, else the SQLite
file in the user's data folder). Errors print one line (see :mod:`commonplan.cli.main`).
"""

from __future__ import annotations

import os
from pathlib import Path
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
audit_app = typer.Typer(
    help="Check the audit log, sign its head, recount rounds.", no_args_is_help=True
)


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


KeyFile = Annotated[Path, typer.Option("--key", help="Ed25519 private key (from `audit keygen`).")]


@audit_app.command("verify")
def audit_verify(
    anchor: Annotated[
        Path | None,
        typer.Option("--anchor", help="An anchor from `audit anchor`: detects a rewritten tail."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The public key the anchor was signed with."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Walk the hash chain and the vote records; name every edited, deleted or inserted one."""
    from commonplan.errors import ParticipationInputError
    from commonplan.services import verify_audit_log
    from commonplan.store import open_database
    from commonplan.store.anchor import check_anchor, load_public_key, read_anchor
    from commonplan.store.audit import snapshot

    if (anchor is None) != (public_key is None):
        raise ParticipationInputError(
            "--anchor and --public-key go together",
            where="audit verify",
            fix="pass both the anchor file and the public key file, or neither",
        )
    database = open_database(database_url)
    try:
        report = verify_audit_log(database)
        if anchor is not None and public_key is not None:
            with snapshot(database) as session:
                check_anchor(session, read_anchor(anchor), load_public_key(public_key))
    finally:
        database.dispose()
    for problem in report.problems:
        typer.secho(
            f"entry {problem.seq}: {problem.kind}: {problem.message}", fg=typer.colors.RED, err=True
        )
    report.raise_if_broken()
    anchored = " and matches the anchor" if anchor is not None else ""
    typer.echo(
        f"audit log intact{anchored}: {report.n_entries} entries, head hash {report.head_hash} "
        "(sign it with `commonplan audit anchor` to detect a rewritten tail later)"
    )


@audit_app.command("keygen")
def audit_keygen(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Private key file to create (mode 0600).")
    ],
) -> None:
    """Create an Ed25519 key for signing anchors: the private key and OUTPUT.pub beside it."""
    from commonplan.store.anchor import write_keypair

    public = write_keypair(output)
    typer.echo(f"private key {output} (keep it off the database server), public key {public}")


@audit_app.command("anchor")
def audit_anchor(
    key: KeyFile,
    output: Annotated[Path, typer.Option("-o", "--output", help="Anchor file to write (JSON).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Verify the audit log, then sign its head and write the anchor (keep it elsewhere)."""
    from commonplan.services import verify_audit_log
    from commonplan.store import open_database
    from commonplan.store.anchor import load_private_key, sign_head

    private = load_private_key(key)
    database = open_database(database_url)
    try:
        report = verify_audit_log(database)
    finally:
        database.dispose()
    report.raise_if_broken()
    signed = sign_head(private, report.head_seq, report.head_hash)
    output.write_text(signed.to_json() + "\n")
    typer.echo(f"anchored entry {signed.seq} (hash {signed.hash}) in {output}")


@audit_app.command("tally")
def audit_tally(
    round_id: Annotated[int, typer.Argument(help="Planning round id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Recount a round from its published, anonymous ballots and compare with the stored result."""
    from commonplan.services import get_result, get_round_info
    from commonplan.services.publication import publication, recount
    from commonplan.store import open_database

    database = open_database(database_url)
    try:
        published = publication(database, round_id)
        stored_weights = get_round_info(database, round_id).weights or {}
        result = get_result(database, round_id)
    finally:
        database.dispose()
    counted = recount(published)
    same_weights = stored_weights.keys() == counted.weights.keys() and all(
        abs(counted.weights[g] - w) <= 1e-9 for g, w in stored_weights.items()
    )
    typer.echo(
        f"round {round_id}: {len(published.ballots)} ballots, {len(published.rankings)} rankings"
    )
    typer.echo(
        "weights: "
        + ", ".join(f"{g} {w:.4f}" for g, w in counted.weights.items())
        + (" (as stored)" if same_weights else " (DIFFERENT from the stored weights)")
    )
    if result is not None:
        same_winner = counted.winner == result.winner and counted.order == result.order
        typer.echo(
            f"Schulze winner {counted.winner}, order {' > '.join(counted.order)}"
            + (" (as stored)" if same_winner else f" (stored: {result.winner}: DIFFERENT)")
        )
    else:
        same_winner = True
    if not (same_weights and same_winner):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``db``, ``admin`` and ``audit`` command groups to the ``commonplan`` app."""
    app.add_typer(db_app, name="db")
    app.add_typer(admin_app, name="admin")
    app.add_typer(audit_app, name="audit")
