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
_RECORDED = (
    "planning_rounds",
    "ballots",
    "rankings",
    "alternatives",
    "round_results",
    "published_plans",
)
"""The covered tables that exist at this revision (later revisions add more to ``COVERED``)."""


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("salt", sa.String(length=32), nullable=True))
        op.add_column(table, sa.Column("tracker", sa.String(length=64), nullable=True))
        op.create_index(op.f(f"ix_{table}_tracker"), table, ["tracker"], unique=True)
    _adopt_existing_records()


def _adopt_existing_records() -> None:
    from sqlalchemy.orm import Session

    from commonplan.store.audit import append_audit
    from commonplan.store.records import read_record

    connection = op.get_bind()
    session = Session(bind=connection)
    records = [
        read_record(session, table, row_id)
        for table in _RECORDED
        for row_id in session.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars()
    ]
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
