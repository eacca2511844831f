"""CLI commands that copy the whole database: ``commonplan db backup``, ``db restore`` and ``export``.

They join the ``db`` group of :mod:`commonplan.cli.admin`; the work is in
:mod:`commonplan.services.backup`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from commonplan.cli.admin import DatabaseUrl, db_app

if TYPE_CHECKING:
    from commonplan.services.backup import BackupReport


def _summary(report: BackupReport) -> str:
    rows = report.rows
    return (
        f"{report.size_bytes} bytes, SHA-256 {report.sha256}; audit log intact: "
        f"{report.audit_entries} entries, head hash {report.audit_head_hash}; "
        f"{rows.get('ballots', 0)} ballots, {rows.get('rankings', 0)} rankings"
    )


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Copy the running database to PATH (SQLite backup API, or pg_dump), then verify the copy's audit chain."""
    from commonplan.services.backup import backup_database

    report = backup_database(database_url, path)
    typer.echo(f"backup written to {report.path} and verified: {_summary(report)}")


@db_app.command("restore")
def db_restore(
    path: Annotated[Path, typer.Argument(help="A file written by `commonplan db backup`.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database without asking first.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace the database's content with the backup at PATH (stop the server first); both are verified."""
    from commonplan.services.backup import restore_database
    from commonplan.store.database import resolve_url, safe_url

    url = resolve_url(database_url)
    if not yes:
        typer.confirm(f"Replace everything in {safe_url(url)} with {path}?", abort=True)
    report = restore_database(path, url)
    typer.echo(f"database {safe_url(url)} restored from {path} and verified: {_summary(report)}")


def export(
    folder: Annotated[Path, typer.Argument(help="An empty or new folder for the Parquet files.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Write every table as a Parquet file in FOLDER, with a manifest of row counts and SHA-256 hashes."""
    from commonplan.services.backup import MANIFEST_NAME, export_records
    from commonplan.store import open_database

    database = open_database(database_url)
    try:
        tables = export_records(database, folder)
    finally:
        database.dispose()
    total = sum(t.rows for t in tables)
    typer.echo(
        f"exported {len(tables)} tables ({total} rows) to {folder}; see {folder / MANIFEST_NAME}"
    )


def register(app: typer.Typer) -> None:
    """Add ``commonplan export`` (the ``db backup`` and ``db restore`` commands join admin's ``db`` group)."""
    app.command("export")(export)
