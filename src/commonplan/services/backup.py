"""Backups, restores and exports of a whole Commonplan database.

* :func:`backup_database` copies a running database without stopping writers.
  SQLite: the online backup API (:meth:`sqlite3.Connection.backup`, in one step, so the
  copy is the database as of one commit — a plain file copy of a database in WAL mode
  can miss committed transactions still in the ``-wal`` file). PostgreSQL: ``pg_dump
  --format=custom``, which reads one consistent snapshot. Before success is reported the
  copy is opened and its audit chain verified (for PostgreSQL by restoring it into a
  scratch database that is dropped afterwards), so a backup that would not restore, or
  whose chain is broken, is never reported as good.
* :func:`restore_database` verifies a backup the same way, then replaces the target
  database's content with it (stop the server first) and verifies the result.
* :func:`export_records` writes every table as one Parquet file, with a manifest of
  row counts and SHA-256 hashes — the records in an open format, for archives and
  analysis outside Commonplan.

Every function raises :class:`~commonplan.errors.DatabaseError` saying what went wrong
and how to fix it; nothing is left half-written at the destination.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import URL, make_url

from commonplan.errors import DatabaseError
from commonplan.store.audit import canonical_json, verify_audit
from commonplan.store.database import Database, open_database, resolve_url, safe_url
from commonplan.store.models import Base, utcnow

EXPORT_FORMAT = "commonplan-records"
EXPORT_VERSION = 1
MANIFEST_NAME = "manifest.json"
_EXPORT_BATCH_ROWS = 5_000


@dataclass(frozen=True)
class BackupReport:
    """A verified copy: where it is, its size and SHA-256, and what its audit check found.

    ``rows`` counts the rows of every table in the copy; ``audit_entries`` and
    ``audit_head_hash`` are the verified chain's length and last hash.
    """

    path: Path
    backend: str
    size_bytes: int
    sha256: str
    audit_entries: int
    audit_head_hash: str
    rows: dict[str, int]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checked(database: Database) -> tuple[int, str, dict[str, int]]:
    """Verify the audit chain of ``database`` and count its rows; raise if the chain is broken."""
    with database.read() as session:
        report = verify_audit(session)
        rows = {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }
    report.raise_if_broken()
    return report.n_entries, report.head_hash, rows


def _verified(url: str, where: str) -> tuple[int, str, dict[str, int]]:
    try:
        database = open_database(url)  # the schema must be one this code can read
    except DatabaseError as error:
        raise DatabaseError(
            f"the backup cannot be opened: {error.message}",
            where=where,
            expected="a Commonplan database backup at this code's schema revision",
            fix=error.fix,
        ) from None
    try:
        return _checked(database)
    finally:
        database.dispose()


def _report(path: Path, backend: str, checked: tuple[int, str, dict[str, int]]) -> BackupReport:
    entries, head, rows = checked
    return BackupReport(path, backend, path.stat().st_size, _file_sha256(path), entries, head, rows)


def _fresh_destination(path: Path) -> Path:
    if path.exists():
        raise DatabaseError(
            "the backup file already exists",
            where=str(path),
            expected="a path where nothing is stored yet",
            fix="choose a new file name (backups are never overwritten)",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(path.name + ".partial")


def backup_database(url: str | None, path: str | os.PathLike[str]) -> BackupReport:
    """Copy the database at ``url`` (see :func:`~commonplan.store.database.resolve_url`) to ``path``, verified.

    The copy is written next to ``path`` and renamed into place only once its audit
    chain verifies; ``path`` must not exist yet.
    """
    url = resolve_url(url)
    target = Path(path)
    partial = _fresh_destination(target)
    partial.unlink(missing_ok=True)
    try:
        if make_url(url).get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), partial)
            checked = _verified(f"sqlite:///{partial}", str(target))
            backend = "sqlite"
        else:
            _run_tool("pg_dump", "--format=custom", f"--file={partial}", url=url)
            checked = _verify_pg_dump(url, partial, str(target))
            backend = "postgresql"
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return _report(target, backend, checked)


def restore_database(path: str | os.PathLike[str], url: str | None = None) -> BackupReport:
    """Replace the content of the database at ``url`` with the backup at ``path``, verified before and after.

    Stop the server first: connections open during the restore would see the old data
    or fail. SQLite: the backup's pages replace the file's (through the backup API, under
    SQLite's locks). PostgreSQL: ``pg_restore --clean --single-transaction``, so the
    database is either fully restored or unchanged.
    """
    url = resolve_url(url)
    source = Path(path)
    if not source.is_file():
        raise DatabaseError(
            "there is no backup file here",
            where=str(source),
            expected="a file written by `commonplan db backup`",
            fix="check the path",
        )
    if make_url(url).get_backend_name() == "sqlite":
        _verified(f"sqlite:///{source}", str(source))
        _sqlite_copy(source, _sqlite_path(url))
        backend = "sqlite"
    else:
        _verify_pg_dump(url, source, str(source))
        _run_tool(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            source,
            url=url,
        )
        backend = "postgresql"
    return _report(source, backend, _verified(url, safe_url(url)))


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise DatabaseError(
            "only a SQLite database in a file can be backed up or restored",
            where=safe_url(url),
            expected="a URL like sqlite:///path/to/commonplan.sqlite3",
        )
    return Path(database)


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy ``source`` onto ``destination`` with SQLite's backup API, in one step (one consistent state)."""
    if not source.is_file():
        raise DatabaseError(
            "the SQLite database file does not exist",
            where=str(source),
            fix="check the database URL",
        )
    reader = sqlite3.connect(source, timeout=30)
    try:
        writer = sqlite3.connect(destination, timeout=30)
        try:
            reader.backup(writer)  # pages=-1: everything at once, under one read transaction
        finally:
            writer.close()
    except sqlite3.Error as error:
        raise DatabaseError(
            f"the SQLite backup failed ({error})",
            where=f"{source} → {destination}",
            fix="check the disk space and the file permissions",
        ) from error
    finally:
        reader.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string (no password) and the environment that carries the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return plain.render_as_string(hide_password=False), env


def _run_tool(tool: str, *arguments: str | os.PathLike[str], url: str) -> None:
    """Run a PostgreSQL client program (``pg_dump``, ``pg_restore``) against the database at ``url``."""
    executable = shutil.which(tool)
    if executable is None:
        raise DatabaseError(
            f"`{tool}` was not found on PATH",
            where="PostgreSQL client tools",
            expected=f"the `{tool}` program of a PostgreSQL client at least as new as the server",
            fix="install the PostgreSQL client tools (e.g. `apt install postgresql-client`) and retry",
        )
    dsn, env = _libpq(url)
    command = [executable, f"--dbname={dsn}", *map(str, arguments)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise DatabaseError(
            f"`{tool}` failed ({reason})",
            where=safe_url(url),
            fix="check that the database is reachable and the client tools match the server",
        )


@contextmanager
def _scratch_database(url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of ``url`` (dropped afterwards)."""
    parsed = make_url(url)
    name = f"{(parsed.database or 'commonplan')[:40]}_verify_{secrets.token_hex(6)}"
    quoted = '"' + name.replace('"', '""') + '"'
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    except Exception as error:
        admin.dispose()
        raise DatabaseError(
            "cannot create a scratch database to check the backup",
            where=safe_url(url),
            expected="a PostgreSQL account allowed to CREATE DATABASE",
            fix="grant CREATEDB to the account, or verify the dump by restoring it yourself",
        ) from error
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


def _verify_pg_dump(url: str, dump: Path, where: str) -> tuple[int, str, dict[str, int]]:
    with _scratch_database(url) as scratch:
        _run_tool("pg_restore", "--no-owner", "--exit-on-error", dump, url=scratch)
        return _verified(scratch, where)


# --- export -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedTable:
    """One exported table: its Parquet file (relative to the export folder), rows and SHA-256."""

    table: str
    file: str
    rows: int
    sha256: str


def _arrow_type(column: Any) -> pa.DataType:
    try:
        python_type = getattr(column.type, "impl_instance", column.type).python_type
    except NotImplementedError:
        return pa.string()
    if python_type is bool:
        return pa.bool_()
    if python_type is int:
        return pa.int64()
    if python_type is float:
        return pa.float64()
    if python_type is bytes:
        return pa.binary()
    if python_type is datetime:
        return pa.timestamp("us", tz="UTC")
    return pa.string()  # text, and JSON documents as canonical JSON text


def _cell(value: Any, kind: pa.DataType) -> Any:
    if value is None or not pa.types.is_string(kind) or isinstance(value, str):
        return value
    return canonical_json(value)


def _table_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _arrow_type(c), nullable=True) for c in table.columns])


NOT_EXPORTED = frozenset({"round_secrets", "page_notices"})
"""Tables an export leaves out: they are keys and sealed messages, not records."""


def export_records(db: Database, folder: str | os.PathLike[str]) -> list[ExportedTable]:
    """Write every table of ``db`` to ``folder/<table>.parquet`` plus ``folder/manifest.json``.

    All tables are read in one read transaction (one snapshot on PostgreSQL, repeatable
    read), so the files agree with each other. JSON columns are written as canonical JSON
    text, times as UTC timestamps (microseconds), bytes as binary. The manifest records the
    schema revision, the export time, and each file's row count and SHA-256. ``folder``
    must be empty or not exist. Left out: :data:`NOT_EXPORTED` (the round secrets that map
    voters to their ballots while a ballot phase is open, and sealed page notices).
    """
    from commonplan.store.migrate import current_revision

    out = Path(folder)
    if out.exists() and any(out.iterdir()):
        raise DatabaseError(
            "the export folder is not empty",
            where=str(out),
            expected="an empty or new folder",
            fix="choose a new folder (exports never overwrite files)",
        )
    out.mkdir(parents=True, exist_ok=True)
    exported: list[ExportedTable] = []
    with db.read() as session:
        connection = session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"} if db.is_postgresql else {}
        )
        revision = current_revision(connection)
        for table in Base.metadata.sorted_tables:
            if table.name in NOT_EXPORTED:
                continue
            schema = _table_schema(table)
            path = out / f"{table.name}.parquet"
            rows = 0
            with pq.ParquetWriter(path, schema) as writer:
                result = connection.execution_options(yield_per=_EXPORT_BATCH_ROWS).execute(
                    select(table).order_by(*table.primary_key.columns)
                )
                for batch in result.partitions():
                    columns = {
                        field.name: [_cell(row[k], field.type) for row in batch]
                        for k, field in enumerate(schema)
                    }
                    writer.write_table(pa.table(columns, schema=schema))
                    rows += len(batch)
                if rows == 0:
                    writer.write_table(schema.empty_table())
            exported.append(ExportedTable(table.name, path.name, rows, _file_sha256(path)))
    manifest = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "schema_revision": revision,
        "exported_at": utcnow().isoformat(),
        "tables": {t.table: {"file": t.file, "rows": t.rows, "sha256": t.sha256} for t in exported},
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return exported
