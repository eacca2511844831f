"""The append-only, hash-chained audit log.

Every change a service makes appends one :class:`~commonplan.store.models.AuditEntry`
in the same transaction. Entry ``k`` stores

    hash_k = SHA-256( prev_hash_k ‖ "\\n" ‖ canonical JSON [created_at, actor_id, actor, action, subject] ‖ "\\n" ‖ payload )

with ``prev_hash_k = hash_{k-1}`` (``GENESIS`` = 64 zeros for the first), and the
entries are numbered ``seq = 1, 2, 3, …`` without gaps. The single ``audit_head`` row
holds the last ``seq`` and ``hash``; appending locks it, so concurrent transactions
never fork the chain. The database also refuses ``UPDATE`` and ``DELETE`` on the log
(triggers created by the migration); the chain detects tampering by anyone who gets
around that.

:func:`verify_audit` walks the chain and names each broken entry:

* **edited** — an entry's content no longer matches its stored hash (or its hash was
  recomputed, which breaks the next entry's link);
* **deleted** — a gap in ``seq``, or the head records more entries than remain;
* **inserted** — an entry whose successor links past it to its predecessor, or an entry
  beyond the recorded head.

It then cross-checks the vote records (rounds, ballots, rankings, alternatives, results,
published plans) against the entries that recorded them (:mod:`commonplan.store.records`),
so a direct SQL edit, deletion or insertion of such a row is found too, and so is an
emptied log (``TRUNCATE audit_log`` and a reset head) while vote records remain.
Verification takes no lock: it reads one snapshot (:func:`snapshot`) and writers go on.

A hash chain without a secret only shows tampering by someone who did not rewrite the
whole tail and the head; sign the head and keep the signature elsewhere
(:mod:`commonplan.store.anchor`, ``commonplan audit anchor``) to detect that too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from commonplan.errors import AuditIntegrityError
from commonplan.store.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from commonplan.store.database import Database

GENESIS = "0" * 64
"""``prev_hash`` of the first entry."""


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text, no NaN."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=str,
    )


def entry_hash(
    prev_hash: str,
    created_at: str,
    actor_id: int | None,
    actor: str,
    action: str,
    subject: str,
    payload: str,
) -> str:
    """The SHA-256 (hex) of one entry chained to ``prev_hash``."""
    header = canonical_json([created_at, actor_id, actor, action, subject])
    return hashlib.sha256(f"{prev_hash}\n{header}\n{payload}".encode()).hexdigest()


def _hash_of(entry: Any) -> str:
    return entry_hash(
        entry.prev_hash,
        entry.created_at,
        entry.actor_id,
        entry.actor,
        entry.action,
        entry.subject,
        entry.payload,
    )


_HEAD, _LOG = AuditHead.__table__, AuditEntry.__table__
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_ENTRY = insert(_LOG)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


# PostgreSQL: lock the head, insert the entry chained to it and move the head in ONE statement
# (one round trip while the head is locked instead of three). The database computes the hash
# with the formula of entry_hash: SHA-256 of the UTF-8 bytes of prev_hash ‖ "\n" ‖ header ‖
# "\n" ‖ payload. Every value is a bound parameter (psycopg's %(name)s placeholders).
# ``locked`` waits for the head row (FOR UPDATE); under READ COMMITTED it then holds the latest
# committed head. Without a head row (a database created outside the migrations) the chain
# starts from GENESIS and the head row is created, as append_audit's general path does. The
# statement always returns exactly one row (or fails, and then nothing is committed).
_APPEND_PG = """
WITH locked AS (
    SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE
), head AS (
    SELECT seq, hash FROM locked
    UNION ALL SELECT 0, %(genesis)s WHERE NOT EXISTS (SELECT 1 FROM locked)
), entry AS (
    INSERT INTO audit_log
        (seq, created_at, actor_id, actor, action, subject, payload, prev_hash, hash)
    SELECT head.seq + 1, %(created_at)s, %(actor_id)s, %(actor)s, %(action)s, %(subject)s,
           %(payload)s, head.hash,
           encode(sha256(convert_to(
               head.hash || E'\\n' || %(header)s || E'\\n' || %(payload)s, 'UTF8')), 'hex')
    FROM head
    RETURNING seq, hash
)
INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM entry
ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash
RETURNING seq, hash
"""
_ON_COMMIT = "commonplan.audit_on_commit"
"""``session.info`` key: the entries :func:`append_audit_on_commit` left for the commit."""
TRANSACTION = "commonplan.transaction"
"""``session.info`` key set by :meth:`Database.transaction` (which calls :func:`commit_with_audit`)."""


def _one_statement_append(connection: Connection) -> bool:
    """True on PostgreSQL with a UTF-8 database (the database hashes the same bytes as Python)."""
    if connection.dialect.name != "postgresql":
        return False
    info = getattr(connection.connection.dbapi_connection, "info", None)
    return info is not None and info.parameter_status("server_encoding") == "UTF8"


def _pg_parameters(
    action: str, subject: str, actor: str, actor_id: int | None, payload: Mapping[str, Any] | None
) -> dict[str, Any]:
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    return {
        "created_at": created_at,
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "subject": subject,
        "payload": canonical_json(dict(payload or {})),
        "header": canonical_json([created_at, actor_id, actor, action, subject]),
        "genesis": GENESIS,
    }


class AppendedEntry(NamedTuple):
    """The number and hash of the entry just appended."""

    seq: int
    hash: str


def append_audit(
    session: Session,
    *,
    action: str,
    subject: str,
    actor: str,
    actor_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AppendedEntry:
    """Append one entry to the chain inside the caller's transaction; return its ``seq`` and ``hash``.

    ``action`` is a dotted verb (``"ballot.submit"``), ``subject`` what it concerns
    (``"round 3"``), ``payload`` a JSON-able mapping of the details. The head lock is
    held until the caller commits, so on PostgreSQL writers' commits follow one another
    (measured faster here than chaining pending entries in a second transaction after each
    commit, which costs more round trips than it saves in waiting); call it as the last
    statement of the transaction. On PostgreSQL it is one statement (lock the head, insert
    the entry, move the head), elsewhere three.
    """
    connection = session.connection()
    if _one_statement_append(connection):
        parameters = _pg_parameters(action, subject, actor, actor_id, payload)
        seq, digest = connection.exec_driver_sql(_APPEND_PG, parameters).one()
        return AppendedEntry(seq, digest)
    created_at = datetime.now(UTC).isoformat(timespec="microseconds")
    payload_text = canonical_json(dict(payload or {}))
    head = connection.execute(_LOCK_HEAD).first()
    if head is None:  # a database created outside the migrations
        connection.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        head = (0, GENESIS)
    prev_seq, prev_hash = head
    digest = entry_hash(prev_hash, created_at, actor_id, actor, action, subject, payload_text)
    connection.execute(
        _INSERT_ENTRY,
        {
            "seq": prev_seq + 1,
            "created_at": created_at,
            "actor_id": actor_id,
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload_text,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    connection.execute(_MOVE_HEAD, {"new_seq": prev_seq + 1, "new_hash": digest})
    return AppendedEntry(prev_seq + 1, digest)


def append_audit_on_commit(
    session: Session,
    *,
    action: str,
    subject: str,
    actor: str,
    actor_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Like :func:`append_audit`, for the last write of a short transaction: on PostgreSQL the
    entry is appended by the commit.

    Inside :meth:`~commonplan.store.database.Database.transaction` on PostgreSQL the entry is
    kept until the block ends; :func:`commit_with_audit` then sends the append and ``COMMIT``
    together in one pipelined round trip, so the chain head is locked only while the database
    runs those two statements, not while the server answers a round trip (a thread waiting
    for the GIL on a busy machine). The entry is in the same transaction as the write it
    records: both are committed, or neither. Elsewhere (SQLite, another session) it is
    appended at once, as :func:`append_audit` does.
    """
    connection = session.connection()
    if session.info.get(TRANSACTION) and _one_statement_append(connection):
        session.info.setdefault(_ON_COMMIT, []).append(
            _pg_parameters(action, subject, actor, actor_id, payload)
        )
        return
    append_audit(
        session, action=action, subject=subject, actor=actor, actor_id=actor_id, payload=payload
    )


def commit_with_audit(session: Session) -> None:
    """Append the entries left by :func:`append_audit_on_commit` and commit, in one round trip.

    Called by :meth:`Database.transaction` at the end of the block; does nothing when no
    entry is waiting (the caller's commit follows as usual). After it the DBAPI connection
    is committed, so SQLAlchemy's own commit that follows sends nothing. A failing append
    or commit raises, and the block rolls back: nothing is stored.
    """
    pending = session.info.pop(_ON_COMMIT, None)
    if not pending:
        return
    session.flush()
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        with raw.pipeline(), raw.cursor() as cursor:
            for parameters in pending:
                cursor.execute(_APPEND_PG, parameters)
            cursor.execute("COMMIT")
    except dbapi_error as error:  # raised as SQLAlchemy raises it for any statement
        raise DBAPIError.instance(
            _APPEND_PG, pending, error, dbapi_error, dialect=connection.dialect
        ) from error


@dataclass(frozen=True)
class AuditProblem:
    """One break in the chain: ``kind`` is ``"edited"``, ``"deleted"`` or ``"inserted"``."""

    seq: int
    kind: str
    message: str


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`verify_audit`."""

    n_entries: int
    head_seq: int
    head_hash: str
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_if_broken(self) -> None:
        """Raise :class:`AuditIntegrityError` naming the first broken entry."""
        if self.problems:
            first = self.problems[0]
            raise AuditIntegrityError(
                f"the audit log's hash chain is broken: {first.message}"
                + (
                    f" (and {len(self.problems) - 1} more problems)"
                    if len(self.problems) > 1
                    else ""
                ),
                where=f"audit entry {first.seq}" if first.seq else "vote records",
                expected="every entry's hash to match its content and the previous entry's hash",
                fix="restore the audit log from a backup and investigate who changed it",
            )


@contextmanager
def snapshot(database: Database) -> Iterator[Session]:
    """A read-only session on one consistent snapshot of the database, taking no lock.

    PostgreSQL: a ``REPEATABLE READ`` transaction (every statement sees the data as of the
    first). SQLite in WAL mode: the read transaction begun by the first ``SELECT`` sees the
    database as of then, and writers commit beside it. Either way, a verification in
    progress never makes a ballot wait.
    """
    with database.read() as session:
        if database.is_postgresql:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session


def verify_audit(session: Session) -> AuditReport:
    """Walk the whole chain and report every edited, deleted or inserted entry (see module doc),
    then every vote record that differs from the entry that recorded it
    (:func:`~commonplan.store.records.check_records`).

    It takes no lock: run it in one snapshot (:func:`snapshot`), so that the head, the entries
    and the records it reads are consistent while writers go on appending.
    """
    from commonplan.store.records import check_records, recorded_rows  # records hash with ours

    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    n_entries, highest = session.execute(
        select(func.count(AuditEntry.seq), func.max(AuditEntry.seq))
    ).one()
    contiguous = n_entries == (highest or 0)  # seq is the primary key: unique integers ≥ 1
    renumbered_deletion = contiguous and n_entries < head_seq
    log = _LOG.c
    entries = session.execute(
        select(
            log.seq,
            log.created_at,
            log.actor_id,
            log.actor,
            log.action,
            log.subject,
            log.payload,
            log.prev_hash,
            log.hash,
        )
        .order_by(log.seq)
        .execution_options(yield_per=5000)
    )
    problems: list[AuditProblem] = []

    def flag(seq: int, kind: str, message: str) -> None:
        problems.append(AuditProblem(seq, kind, message))

    prev_seq, prev_hash, prev_prev_hash = 0, GENESIS, None
    payloads: list[tuple[int, str]] = []
    for entry in entries:
        payloads.append((entry.seq, entry.payload))
        recomputed = _hash_of(entry)
        if entry.seq > prev_seq + 1:
            gap = (
                f"entry {prev_seq + 1}"
                if entry.seq == prev_seq + 2
                else f"entries {prev_seq + 1}–{entry.seq - 1}"
            )
            flag(prev_seq + 1, "deleted", f"{gap} deleted (gap before entry {entry.seq})")
        elif entry.prev_hash != prev_hash:
            if prev_prev_hash is not None and entry.prev_hash == prev_prev_hash:
                flag(
                    prev_seq,
                    "inserted",
                    f"entry {prev_seq} was inserted (entry {entry.seq} links past it)",
                )
            elif renumbered_deletion:
                flag(
                    entry.seq,
                    "deleted",
                    f"an entry before entry {entry.seq} was deleted and the later entries renumbered "
                    f"(entry {entry.seq} links to a hash no remaining entry has)",
                )
            elif prev_seq == 0:
                flag(entry.seq, "edited", f"entry {entry.seq} does not start from the genesis hash")
            elif recomputed == entry.hash and not any(p.seq == prev_seq for p in problems):
                flag(
                    prev_seq,
                    "edited",
                    f"entry {prev_seq} was edited and its hash recomputed (entry {entry.seq} no longer links to it)",
                )
        if recomputed != entry.hash:
            flag(
                entry.seq,
                "edited",
                f"entry {entry.seq} was edited (its content does not match its hash)",
            )
        if entry.seq > head_seq:
            flag(
                entry.seq,
                "inserted",
                f"entry {entry.seq} was inserted after the recorded head (seq {head_seq})",
            )
        prev_prev_hash, prev_hash, prev_seq = prev_hash, entry.hash, entry.seq
    if prev_seq < head_seq:
        if renumbered_deletion and any(p.kind == "deleted" for p in problems):
            flag(head_seq, "deleted", f"the head records {head_seq} entries, {prev_seq} remain")
        elif head_seq > prev_seq + 1:
            flag(
                prev_seq + 1,
                "deleted",
                f"entries {prev_seq + 1}–{head_seq} deleted (the head records {head_seq})",
            )
        else:
            flag(
                head_seq,
                "deleted",
                f"entry {head_seq} deleted (the last entry; the head records {head_seq})",
            )
    elif prev_seq == head_seq and prev_hash != head_hash and not problems:
        flag(prev_seq, "edited", f"entry {prev_seq} does not match the recorded head hash")
    for seq, kind, message in check_records(session, recorded_rows(payloads)):
        flag(seq, kind, message)
    return AuditReport(
        n_entries=n_entries,
        head_seq=head_seq,
        head_hash=head_hash,
        problems=problems,
    )


def audit_entries(
    session: Session, *, limit: int = 100, before_seq: int | None = None
) -> list[AuditEntry]:
    """The latest entries, newest first (``before_seq`` pages backwards)."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.execute(query).scalars())
