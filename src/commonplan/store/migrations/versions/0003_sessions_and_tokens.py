"""Accounts: server-side web sessions, sign-in throttling, password resets, facilitators per assembly.

Existing facilitator accounts are charged with every existing assembly, so that what
they could do before the upgrade they can still do after it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reset_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("reset_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_table(
        "assembly_facilitators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assembly_id"],
            ["assemblies.id"],
            name=op.f("fk_assembly_facilitators_assembly_id_assemblies"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assembly_facilitators_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assembly_facilitators")),
        sa.UniqueConstraint(
            "assembly_id", "user_id", name=op.f("uq_assembly_facilitators_assembly_id")
        ),
    )
    with op.batch_alter_table("assembly_facilitators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assembly_facilitators_assembly_id"), ["assembly_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assembly_facilitators_user_id"), ["user_id"], unique=False
        )
    op.execute(
        "INSERT INTO assembly_facilitators (assembly_id, user_id, created_at) "
        "SELECT assemblies.id, users.id, CURRENT_TIMESTAMP FROM assemblies, users "
        "WHERE users.role = 'facilitator'"
    )


def downgrade() -> None:
    with op.batch_alter_table("assembly_facilitators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assembly_facilitators_user_id"))
        batch_op.drop_index(batch_op.f("ix_assembly_facilitators_assembly_id"))
    op.drop_table("assembly_facilitators")
    op.drop_table("sign_in_throttle")
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_web_sessions_user_id"))
    op.drop_table("web_sessions")
    # Not batch mode: on SQLite it would copy and drop ``users``, and the drop would cascade
    # to every API token. SQLite (3.35 and later) drops a plain column in place.
    for column in ("reset_expires_at", "reset_hash"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
