"""Vote records in the audit chain: ballot and ranking trackers and salts.

Adds ``tracker`` (the SHA-256 of the voter's receipt, unique) and ``salt`` to ``ballots``
and ``rankings``. A database that already holds vote records gets one audit entry,
``audit.adopt``, recording the hash of every row of the covered tables as they stand, so
that ``commonplan audit verify`` checks them from now on (rows before it were not
recorded when written; the entry says so).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("ballots", "rankings")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("salt", sa.String(length=32), nullable=True))
        op.add_column(table, sa.Column("tracker", sa.String(length=64), nullable=True))
        op.create_index(op.f(f"ix_{table}_tracker"), table, ["tracker"], unique=True)
    _adopt_existing_records()


# The covered columns as they stood at this revision. Frozen here, not imported from
# ``store.records``: a later revision may cover other columns (or drop some), and this
# step must still read the tables as they are at 0002.
_COVERED_AT_0002: dict[str, tuple[str, ...]] = {
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
        "user_id",
        "points",
        "request_id",
        "is_current",
        "salt",
        "tracker",
    ),
    "rankings": ("id", "round_id", "user_id", "order", "request_id", "salt", "tracker"),
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
}
_JSON_COLUMNS = frozenset(
    {"target_groups", "base_problem", "weights", "points", "order", "figures", "labels"}
    | {"pairwise", "strongest"}
)
_TIME_COLUMNS = frozenset({"ballot_deadline", "vote_deadline"})


def _frozen_table(name: str) -> sa.TableClause:
    from commonplan.store.types import UTCDateTime

    def column(column_name: str) -> sa.ColumnClause:
        if column_name in _JSON_COLUMNS:
            return sa.column(column_name, sa.JSON)
        if column_name in _TIME_COLUMNS:
            return sa.column(column_name, UTCDateTime)
        if column_name == "is_current":
            return sa.column(column_name, sa.Boolean)
        return sa.column(column_name)

    return sa.table(name, *[column(c) for c in _COVERED_AT_0002[name]])


def _row_hash(table: str, values: dict) -> str:
    """As ``store.records.record_hash`` computed it at this revision."""
    import hashlib
    from datetime import UTC, datetime

    from commonplan.store.audit import canonical_json

    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        return value

    listed = [plain(values[c]) for c in _COVERED_AT_0002[table]]
    return hashlib.sha256(canonical_json([table, listed]).encode()).hexdigest()


def _adopt_existing_records() -> None:
    from sqlalchemy.orm import Session

    from commonplan.store.audit import append_audit

    connection = op.get_bind()
    session = Session(bind=connection)
    records = []
    for name in _COVERED_AT_0002:
        table = _frozen_table(name)
        for row in connection.execute(sa.select(table).order_by(table.c.id)):
            values = dict(row._mapping)
            records.append(
                {"table": name, "id": int(values["id"]), "hash": _row_hash(name, values)}
            )
    if records:
        append_audit(
            session,
            action="audit.adopt",
            subject="schema 0002",
            actor="migration",
            payload={
                "note": "rows stored before schema 0002, recorded as they stood at the upgrade",
                "records": records,
            },
        )
    session.flush()


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(op.f(f"ix_{table}_tracker"), table_name=table)
        for column in ("tracker", "salt"):  # plain ALTER TABLE (SQLite ≥ 3.35, PostgreSQL)
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
