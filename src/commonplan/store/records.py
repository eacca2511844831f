"""Vote records in the audit chain: every row a decision rests on is hashed into an entry.

The rows of :data:`COVERED` (rounds, ballots, rankings, alternatives, results, published
plans; for monitoring a published plan, its monitor, production reports, monitor steps,
alarms and alarm events; and live participatory rounds, their councils, iterations and proposals) are written only by the services, and each write appends an audit entry whose
payload lists the rows it created or changed::

    "records": [{"table": "ballots", "id": 17, "hash": "<SHA-256 of the row>"}, …]

The hash of a row is the SHA-256 of the canonical JSON ``[table, [value of each covered
column]]`` (times as ISO 8601 UTC). Ballot and ranking rows carry a random ``salt``
column (never published), so their hash in the public log cannot be matched against a
guessed ballot: 100 points over four groups have only about 10⁵ integer allocations.

:func:`check_records` cross-checks both directions, from a snapshot of the chain:

* **edited** — a row whose content no longer hashes to what its latest entry recorded;
* **inserted** — a row no entry recorded (written around the services, or its entries
  removed: ``TRUNCATE audit_log`` leaves every stored ballot without its entry);
* **deleted** — a row an entry recorded that is no longer stored, unless a later entry
  retired it (a ``null`` hash: the services deleted it, as when ballots are sealed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from commonplan.store.audit import canonical_json
from commonplan.store.models import Base

COVERED: dict[str, tuple[str, ...]] = {
    "planning_rounds": (
        "id",
        "assembly_id",
        "title",
        "phase",
        "target_groups",
        "base_problem",
        "aggregation_rule",
        "weights",
        "ballot_deadline",
        "vote_deadline",
        "created_by",
    ),
    "ballots": (
        "id",
        "round_id",
        "voter_key",
        "points",
        "request_id",
        "is_current",
        "salt",
        "tracker",
    ),
    "turnout": ("id", "round_id", "user_id", "kind"),
    "rankings": ("id", "round_id", "voter_key", "order", "request_id", "salt", "tracker"),
    "alternatives": (
        "id",
        "round_id",
        "position",
        "label",
        "title",
        "description",
        "weights",
        "figures",
        "plan_sha256",
    ),
    "round_results": (
        "id",
        "round_id",
        "winner_label",
        "order",
        "labels",
        "pairwise",
        "strongest",
        "tie_break",
        "n_rankings",
    ),
    "published_plans": (
        "id",
        "round_id",
        "alternative_id",
        "plan_sha256",
        "figures",
        "published_by",
    ),
    "plan_monitors": (
        "id",
        "plan_id",
        "sub_periods",
        "unit",
        "council_hours",
        "facilitator_hours",
        "state_sha256",
        "period",
        "sub_period",
        "started_by",
    ),
    "production_reports": (
        "id",
        "plan_id",
        "product",
        "period",
        "sub_period",
        "output",
        "labour",
        "stock",
        "unit",
        "filed_by",
        "filed_at",
    ),
    "monitor_steps": ("id", "plan_id", "period", "sub_period", "table_sha256", "n_alarms"),
    "alarms": (
        "id",
        "plan_id",
        "product",
        "kind",
        "period",
        "sub_period",
        "council_id",
        "level",
        "status",
        "details",
        "raised_at",
        "acknowledged_at",
        "acknowledged_by",
    ),
    "alarm_events": ("id", "alarm_id", "kind", "level", "note", "action", "actor_id", "at"),
    "live_rounds": (
        "id",
        "assembly_id",
        "title",
        "economy_sha256",
        "n_commodities",
        "n_workers",
        "n_consumers",
        "stop_threshold",
        "max_iterations",
        "iteration_seconds",
        "rule",
        "initial_price",
        "status",
        "iteration",
        "created_by",
    ),
    "live_councils": ("id", "round_id", "council_id", "kind", "position"),
    "live_iterations": (
        "id",
        "round_id",
        "number",
        "price",
        "state",
        "opened_at",
        "deadline",
        "closed_at",
        "supply",
        "demand",
        "imbalance",
        "step",
        "worst_imbalance",
        "n_proposed",
        "n_carried",
        "n_missing",
        "closed_by",
    ),
    "live_proposals": (
        "id",
        "round_id",
        "iteration",
        "council_id",
        "output",
        "quantities",
        "salt",
        "carried_from",
    ),
}
"""Table → the columns whose values the row's hash covers (timestamps of bookkeeping left out)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def record_hash(table: str, row: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of the covered columns of one row of ``table``."""
    values = [_plain(row[column]) for column in COVERED[table]]
    return hashlib.sha256(canonical_json([table, values]).encode()).hexdigest()


def record(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The ``{"table", "id", "hash"}`` item an audit entry lists for one written row."""
    return {"table": table, "id": int(row["id"]), "hash": record_hash(table, row)}


def retired(table: str, row_id: int) -> dict[str, Any]:
    """The item an audit entry lists for a row the services deleted (``hash`` null): from
    that entry on, the row must be gone (the ballots of a closed phase, once sealed)."""
    return {"table": table, "id": int(row_id), "hash": None}


def _columns(table: str) -> list[Any]:
    columns = Base.metadata.tables[table].c
    return [columns[name] for name in COVERED[table]]


def read_record(session: Session | Connection, table: str, row_id: int) -> dict[str, Any]:
    """The record of row ``row_id`` of ``table`` as stored now (call after the write is flushed)."""
    id_column = Base.metadata.tables[table].c.id
    row = session.execute(select(*_columns(table)).where(id_column == row_id)).one()
    return record(table, row._mapping)


def read_records(
    session: Session | Connection, table: str, row_ids: Iterable[int]
) -> list[dict[str, Any]]:
    """The records of many rows of ``table`` as stored now, in the order of ``row_ids``, read in
    batches (one query per 1000 rows instead of one per row)."""
    ids = [int(i) for i in row_ids]
    id_column = Base.metadata.tables[table].c.id
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        for row in session.execute(select(*_columns(table)).where(id_column.in_(batch))):
            item = record(table, row._mapping)
            found[item["id"]] = item
    return [found[i] for i in ids]


def recorded_rows(entries: Iterable[tuple[int, str]]) -> dict[tuple[str, int], tuple[int, str]]:
    """``(table, id) → (seq, hash)`` of the latest entry recording each row, from ``(seq, payload)``."""
    latest: dict[tuple[str, int], tuple[int, str]] = {}
    for seq, payload in entries:
        if '"records"' not in payload:
            continue
        for item in json.loads(payload).get("records", ()):
            latest[(item["table"], int(item["id"]))] = (seq, item["hash"])
    return latest


def check_records(
    session: Session, latest: Mapping[tuple[str, int], tuple[int, str]]
) -> list[tuple[int, str, str]]:
    """``(seq, kind, message)`` for every covered row that differs from its latest audit entry."""
    problems: list[tuple[int, str, str]] = []
    for table in COVERED:
        stored: set[int] = set()
        rows = session.execute(select(*_columns(table)).execution_options(yield_per=5000))
        for row in rows:
            values = row._mapping
            key = (table, int(values["id"]))
            stored.add(key[1])
            entry = latest.get(key)
            if entry is None or entry[1] is None:
                problems.append(
                    (
                        0,
                        "inserted",
                        f"{table} row {key[1]} is in no audit entry (written around the "
                        "services, or the entries that recorded it were removed)",
                    )
                )
            elif record_hash(table, values) != entry[1]:
                problems.append(
                    (
                        entry[0],
                        "edited",
                        f"{table} row {key[1]} was changed after audit entry {entry[0]} recorded it",
                    )
                )
        for (name, row_id), (seq, digest) in latest.items():
            if name == table and digest is not None and row_id not in stored:
                problems.append(
                    (
                        seq,
                        "deleted",
                        f"{table} row {row_id}, recorded by audit entry {seq}, is gone",
                    )
                )
    return problems
