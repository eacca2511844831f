"""Assemblies get a time zone (IANA name) in which deadlines are read and shown.

Existing assemblies get ``UTC``, the zone their deadlines were shown in before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite): the server default fills existing rows.
    op.add_column(
        "assemblies",
        sa.Column("time_zone", sa.String(length=64), nullable=False, server_default="UTC"),
    )


def downgrade() -> None:
    # Not batch mode: on SQLite a batch would copy and drop ``assemblies``. SQLite (3.35
    # and later) drops a plain column in place.
    op.execute("ALTER TABLE assemblies DROP COLUMN time_zone")
