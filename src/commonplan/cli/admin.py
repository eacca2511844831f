"""CLI commands for the store: ``commonplan db …``, ``commonplan admin …``, ``commonplan audit …``.

Each takes ``--database-url`` (default: ``$COMMONPLAN_DATABASE_URL``, else the SQLite
file in the user's data folder). Errors print one line (see :mod:`commonplan.cli.main`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from commonplan.store.database import Database

T = TypeVar("T")

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


def _with_database(database_url: str | None, action: Callable[[Database], T]) -> T:
    """Run ``action`` on the opened database, and close it."""
    from commonplan.store import open_database

    database = open_database(database_url)
    try:
        return action(database)
    finally:
        database.dispose()


Username = Annotated[str, typer.Argument(help="The account's login name.")]


@admin_app.command("list-users")
def list_users(database_url: DatabaseUrl = None) -> None:
    """List the accounts: id, name, role, and whether each is active."""
    from commonplan.services import list_users as listed

    for user in _with_database(database_url, listed):
        state = "active" if user.active else "disabled"
        typer.echo(f"{user.id}\t{user.username}\t{user.role.value}\t{state}")


def _set_active(username: str, active: bool, database_url: str | None) -> None:
    from commonplan.services import Actor, find_user, set_user_active

    def act(database: Database) -> Any:
        user = find_user(database, username)
        return set_user_active(database, Actor.system(), user.id, active)

    user = _with_database(database_url, act)
    typer.echo(f"user {user.username!r} is {'enabled' if active else 'disabled'}")


@admin_app.command("disable-user")
def disable_user(username: Username, database_url: DatabaseUrl = None) -> None:
    """Disable an account: it cannot sign in, its sessions end and its API tokens are refused."""
    _set_active(username, False, database_url)


@admin_app.command("enable-user")
def enable_user(username: Username, database_url: DatabaseUrl = None) -> None:
    """Enable a disabled account again."""
    _set_active(username, True, database_url)


@admin_app.command("reset-password")
def reset_password(
    username: Username,
    one_time: Annotated[
        bool,
        typer.Option(
            "--one-time",
            help="Issue a one-time reset code (valid 24 h) for the owner to set their own password.",
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Reset an account's password; its sessions end and its API tokens are revoked.

    The new password is read from standard input when it is not a terminal, else
    prompted for; it is never taken from the command line, where other users of the
    machine and the shell's history would see it. With ``--one-time`` a reset code is
    printed instead, once.
    """
    import sys

    from commonplan.services import Actor, find_user, issue_password_reset, set_password

    password = None
    if not one_time:
        if sys.stdin.isatty():
            password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")

    def act(database: Database) -> Any:
        user = find_user(database, username)
        if password is None:
            return issue_password_reset(database, Actor.system(), user.id)
        return set_password(database, Actor.system(), user.id, password)

    outcome = _with_database(database_url, act)
    if password is None:
        typer.echo(
            f"one-time reset code for {username!r} (valid until {outcome.expires_at:%Y-%m-%d %H:%M} UTC;"
            " the owner enters it with a new password on the /password-reset page, or POSTs it"
            " to /api/v1/password-reset):"
        )
        typer.echo(outcome.code)
    else:
        typer.echo(f"password of {username!r} reset; its sessions and API tokens have ended")


@admin_app.command("list-tokens")
def list_tokens(username: Username, database_url: DatabaseUrl = None) -> None:
    """List an account's API tokens (id, name, prefix, expiry, revocation); never their secrets."""
    from commonplan.services import Actor, find_user
    from commonplan.services import list_tokens as listed

    def act(database: Database) -> Any:
        return listed(database, Actor.system(), find_user(database, username).id)

    for token in _with_database(database_url, act):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "live"
        expires = f"{token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "never"
        typer.echo(f"{token.id}\t{token.name}\t{token.prefix}…\texpires {expires}\t{state}")


@admin_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The token's id (see list-tokens).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke an API token at once."""
    from commonplan.services import Actor
    from commonplan.services import revoke_token as revoke

    _with_database(database_url, lambda database: revoke(database, Actor.system(), token_id))
    typer.echo(f"token {token_id} revoked")


@admin_app.command("create-assembly")
def create_assembly(
    name: Annotated[str, typer.Argument(help="The assembly's name (unique).")],
    time_zone: Annotated[
        str,
        typer.Option(
            "--time-zone",
            help="IANA time zone in which deadlines are read and shown (e.g. Europe/Madrid).",
        ),
    ] = "UTC",
    economy_id: Annotated[
        int | None, typer.Option("--economy-id", help="Id of a stored economy.")
    ] = None,
    description: Annotated[str, typer.Option("--description", help="Shown on the pages.")] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Create an assembly (as the local administrator)."""
    from commonplan.services import Actor
    from commonplan.services import create_assembly as create

    info = _with_database(
        database_url,
        lambda database: create(
            database,
            Actor.system(),
            name,
            economy_id=economy_id,
            description=description,
            time_zone=time_zone,
        ),
    )
    typer.echo(f"created assembly {info.name!r} (id {info.id}), time zone {info.time_zone}")


@admin_app.command("add-facilitator")
def add_facilitator(
    username: Username,
    assembly_id: Annotated[int, typer.Argument(help="The assembly's id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Let a facilitator account run the rounds of an assembly."""
    from commonplan.services import Actor, find_user
    from commonplan.services import add_facilitator as add

    _with_database(
        database_url,
        lambda database: add(
            database, Actor.system(), assembly_id, find_user(database, username).id
        ),
    )
    typer.echo(f"{username!r} facilitates assembly {assembly_id}")


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
