"""Initial schema: accounts, assemblies, councils, rounds, ballots, votes, results, blobs, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 08:11:28.411810
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

GENESIS_HASH = "0" * 64  # prev_hash of the first audit entry (commonplan.store.audit.GENESIS)


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "economies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("blob_sha256", sa.String(length=64), nullable=False),
        sa.Column("n_products", sa.Integer(), nullable=False),
        sa.Column("n_activities", sa.Integer(), nullable=False),
        sa.Column("units", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_sha256"], ["blobs.sha256"], name=op.f("fk_economies_blob_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_economies")),
    )
    op.create_table(
        "assemblies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("economy_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["economy_id"], ["economies.id"], name=op.f("fk_assemblies_economy_id_economies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assemblies")),
        sa.UniqueConstraint("name", name=op.f("uq_assemblies_name")),
    )
    op.create_table(
        "councils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("sector", sa.String(length=200), nullable=True),
        sa.Column("enterprise", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assembly_id"], ["assemblies.id"], name=op.f("fk_councils_assembly_id_assemblies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_councils")),
        sa.UniqueConstraint("assembly_id", "name", name=op.f("uq_councils_assembly_id")),
    )
    with op.batch_alter_table("councils", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_councils_assembly_id"), ["assembly_id"], unique=False)

    op.create_table(
        "planning_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assembly_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("base_problem", sa.JSON(), nullable=False),
        sa.Column("aggregation_rule", sa.String(length=20), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=True),
        sa.Column("ballot_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vote_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assembly_id"],
            ["assemblies.id"],
            name=op.f("fk_planning_rounds_assembly_id_assemblies"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_planning_rounds_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planning_rounds")),
    )
    with op.batch_alter_table("planning_rounds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planning_rounds_assembly_id"), ["assembly_id"], unique=False
        )

    op.create_table(
        "alternatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("weights", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_sha256"], ["blobs.sha256"], name=op.f("fk_alternatives_plan_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name=op.f("fk_alternatives_round_id_planning_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alternatives")),
        sa.UniqueConstraint("round_id", "label", name=op.f("uq_alternatives_round_id")),
    )
    with op.batch_alter_table("alternatives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alternatives_round_id"), ["round_id"], unique=False)

    op.create_table(
        "ballots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["planning_rounds.id"], name=op.f("fk_ballots_round_id_planning_rounds")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_ballots_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballots")),
        sa.UniqueConstraint("user_id", "request_id", name=op.f("uq_ballots_user_id")),
    )
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballots_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ballots_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_ballots_current",
            ["round_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )

    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_memberships_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("council_id", "user_id", name=op.f("uq_memberships_council_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_council_id"), ["council_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memberships_user_id"), ["user_id"], unique=False)

    op.create_table(
        "rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["planning_rounds.id"], name=op.f("fk_rankings_round_id_planning_rounds")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_rankings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rankings")),
        sa.UniqueConstraint("round_id", "user_id", name=op.f("uq_rankings_round_id")),
        sa.UniqueConstraint("user_id", "request_id", name=op.f("uq_rankings_user_id")),
    )
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rankings_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rankings_user_id"), ["user_id"], unique=False)

    op.create_table(
        "round_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("winner_label", sa.String(length=100), nullable=False),
        sa.Column("order", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("pairwise", sa.JSON(), nullable=False),
        sa.Column("strongest", sa.JSON(), nullable=False),
        sa.Column("tie_break", sa.Text(), nullable=False),
        sa.Column("n_rankings", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name=op.f("fk_round_results_round_id_planning_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_results")),
        sa.UniqueConstraint("round_id", name=op.f("uq_round_results_round_id")),
    )
    op.create_table(
        "published_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("alternative_id", sa.Integer(), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alternative_id"],
            ["alternatives.id"],
            name=op.f("fk_published_plans_alternative_id_alternatives"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_sha256"], ["blobs.sha256"], name=op.f("fk_published_plans_plan_sha256_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["users.id"], name=op.f("fk_published_plans_published_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name=op.f("fk_published_plans_round_id_planning_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_published_plans")),
        sa.UniqueConstraint("round_id", name=op.f("uq_published_plans_round_id")),
    )
    op.bulk_insert(
        sa.table(
            "audit_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.Integer),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": GENESIS_HASH}],
    )
    _append_only(("published_plans", "audit_log"))


def _append_only(tables: tuple[str, ...]) -> None:
    """Database-level guard: rows of these tables can be inserted, never updated or deleted."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION commonplan_refuse_change() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'table % is append-only: rows cannot be updated or deleted', "
            "TG_TABLE_NAME; END $$ LANGUAGE plpgsql"
        )
    for table in tables:
        if dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION commonplan_refuse_change()"
            )
        elif dialect == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: rows cannot be updated or deleted'); END"
                )


def downgrade() -> None:
    op.drop_table("published_plans")
    op.drop_table("round_results")
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rankings_user_id"))
        batch_op.drop_index(batch_op.f("ix_rankings_round_id"))

    op.drop_table("rankings")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_user_id"))
        batch_op.drop_index(batch_op.f("ix_memberships_council_id"))

    op.drop_table("memberships")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ballots_current",
            sqlite_where=sa.text("is_current"),
            postgresql_where=sa.text("is_current"),
        )
        batch_op.drop_index(batch_op.f("ix_ballots_user_id"))
        batch_op.drop_index(batch_op.f("ix_ballots_round_id"))

    op.drop_table("ballots")
    with op.batch_alter_table("alternatives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alternatives_round_id"))

    op.drop_table("alternatives")
    with op.batch_alter_table("planning_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planning_rounds_assembly_id"))

    op.drop_table("planning_rounds")
    with op.batch_alter_table("councils", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_councils_assembly_id"))

    op.drop_table("councils")
    op.drop_table("assemblies")
    op.drop_table("economies")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("blobs")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS commonplan_refuse_change()")
