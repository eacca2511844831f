"""Live participatory rounds: the round, its councils, its iterations and the proposals.

Every row is recorded in the audit chain by the services that write it
(:mod:`commonplan.store.records`); the tables are new, so there is nothing to adopt.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "live_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("economy_sha256", sa.String(length=64), nullable=False),
        sa.Column("n_commodities", sa.Integer(), nullable=False),
        sa.Column("n_workers", sa.Integer(), nullable=False),
        sa.Column("n_consumers", sa.Integer(), nullable=False),
        sa.Column("stop_threshold", sa.Float(), nullable=False),
        sa.Column("max_iterations", sa.Integer(), nullable=False),
        sa.Column("iteration_seconds", sa.Integer(), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("initial_price", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _when("created_at"),
        _when("finished_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["assembly_id"], ["assemblies.id"], name=op.f("fk_live_rounds_assembly_id_assemblies")
        ),
        sa.ForeignKeyConstraint(
            ["economy_sha256"], ["blobs.sha256"], name=op.f("fk_live_rounds_economy_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_live_rounds_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_rounds")),
    )
    with op.batch_alter_table("live_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_rounds_assembly_id"), ["assembly_id"])

    op.create_table(
        "live_councils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_live_councils_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["live_rounds.id"], name=op.f("fk_live_councils_round_id_live_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_councils")),
        sa.UniqueConstraint("round_id", "council_id", name="uq_live_councils_round_council"),
        sa.UniqueConstraint("round_id", "kind", "position", name="uq_live_councils_round_position"),
    )
    with op.batch_alter_table("live_councils", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_councils_round_id"), ["round_id"])
        batch_op.create_index(batch_op.f("ix_live_councils_council_id"), ["council_id"])

    op.create_table(
        "live_iterations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("price", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        _when("opened_at"),
        _when("deadline", nullable=True),
        _when("closed_at", nullable=True),
        sa.Column("supply", sa.JSON(), nullable=True),
        sa.Column("demand", sa.JSON(), nullable=True),
        sa.Column("imbalance", sa.JSON(), nullable=True),
        sa.Column("step", sa.JSON(), nullable=True),
        sa.Column("worst_imbalance", sa.Float(), nullable=True),
        sa.Column("n_proposed", sa.Integer(), nullable=False),
        sa.Column("n_carried", sa.Integer(), nullable=False),
        sa.Column("n_missing", sa.Integer(), nullable=False),
        sa.Column("closed_by", sa.String(length=20), nullable=True),
        sa.Column("received", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["live_rounds.id"], name=op.f("fk_live_iterations_round_id_live_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_iterations")),
        sa.UniqueConstraint("round_id", "number", name=op.f("uq_live_iterations_round_id")),
    )
    with op.batch_alter_table("live_iterations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_iterations_round_id"), ["round_id"])

    op.create_table(
        "live_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("output", sa.Float(), nullable=True),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("carried_from", sa.Integer(), nullable=True),
        _when("submitted_at"),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_live_proposals_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["live_rounds.id"], name=op.f("fk_live_proposals_round_id_live_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_proposals")),
        sa.UniqueConstraint(
            "round_id", "iteration", "council_id", name=op.f("uq_live_proposals_round_id")
        ),
    )
    with op.batch_alter_table("live_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_proposals_round_id"), ["round_id"])


def downgrade() -> None:
    for table, indices in (
        ("live_proposals", ("round_id",)),
        ("live_iterations", ("round_id",)),
        ("live_councils", ("round_id", "council_id")),
        ("live_rounds", ("assembly_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indices:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
