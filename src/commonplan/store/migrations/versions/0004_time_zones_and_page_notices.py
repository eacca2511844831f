"""Assemblies get a time zone; page notices move from the cookie into the database.

* ``assemblies.time_zone``: the IANA name in which deadlines are read and shown.
  Existing assemblies get ``UTC``, the zone their deadlines were shown in before.
* ``page_notices``: the notice a page shows once after a form ("Your ballot is stored…"),
  sealed and keyed by the hash of the browser's session id, so the signed cookie carries
  nothing but that id.

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
    op.create_table(
        "page_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_notices")),
    )
    with op.batch_alter_table("page_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_page_notices_session_hash"), ["session_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("page_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_notices_session_hash"))
    op.drop_table("page_notices")
    # Not batch mode: on SQLite a batch would copy and drop ``assemblies``. SQLite (3.35
    # and later) drops a plain column in place.
    op.execute("ALTER TABLE assemblies DROP COLUMN time_zone")
