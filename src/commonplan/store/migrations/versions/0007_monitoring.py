"""Monitoring a published plan: production reports, the monitor's state and steps, alarms.

Production reports, monitor steps and alarm events are append-only (database triggers, as
for the audit log and published plans): a filed report is never changed, only added to.
Every row is recorded in the audit chain by the services that write it
(:mod:`commonplan.store.records`); the tables are new, so there is nothing to adopt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("sub_period", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by"], ["users.id"], name=op.f("fk_alarms_acknowledged_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["council_id"], ["councils.id"], name=op.f("fk_alarms_council_id_councils")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["published_plans.id"], name=op.f("fk_alarms_plan_id_published_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarms_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "monitor_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("sub_period", sa.Integer(), nullable=False),
        sa.Column("table_sha256", sa.String(length=64), nullable=False),
        sa.Column("n_alarms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["published_plans.id"],
            name=op.f("fk_monitor_steps_plan_id_published_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["table_sha256"], ["blobs.sha256"], name=op.f("fk_monitor_steps_table_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_steps")),
        sa.UniqueConstraint(
            "plan_id", "period", "sub_period", name=op.f("uq_monitor_steps_plan_id")
        ),
    )
    with op.batch_alter_table("monitor_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_steps_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("sub_periods", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("council_hours", sa.Float(), nullable=False),
        sa.Column("facilitator_hours", sa.Float(), nullable=False),
        sa.Column("state_sha256", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=40), nullable=True),
        sa.Column("sub_period", sa.Integer(), nullable=True),
        sa.Column("started_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["published_plans.id"],
            name=op.f("fk_plan_monitors_plan_id_published_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by"], ["users.id"], name=op.f("fk_plan_monitors_started_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["state_sha256"], ["blobs.sha256"], name=op.f("fk_plan_monitors_state_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_monitors")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_plan_monitors_plan_id")),
    )
    op.create_table(
        "production_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("sub_period", sa.Integer(), nullable=False),
        sa.Column("output", sa.Float(), nullable=False),
        sa.Column("labour", sa.Float(), nullable=True),
        sa.Column("stock", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["filed_by"], ["users.id"], name=op.f("fk_production_reports_filed_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["published_plans.id"],
            name=op.f("fk_production_reports_plan_id_published_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_reports")),
        sa.UniqueConstraint(
            "plan_id", "product", "period", "sub_period", name=op.f("uq_production_reports_plan_id")
        ),
    )
    with op.batch_alter_table("production_reports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_production_reports_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_alarm_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name=op.f("fk_alarm_events_alarm_id_alarms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
    )
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_events_alarm_id"), ["alarm_id"], unique=False)
    _append_only(APPEND_ONLY)


APPEND_ONLY = ("production_reports", "monitor_steps", "alarm_events")


def _append_only(tables: tuple[str, ...]) -> None:
    """Rows of these tables can be inserted, never updated or deleted (the function
    ``commonplan_refuse_change`` on PostgreSQL comes from revision 0001)."""
    dialect = op.get_bind().dialect.name
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
                    f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: rows cannot be "
                    "updated or deleted'); END"
                )


def downgrade() -> None:
    with op.batch_alter_table("alarm_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_events_alarm_id"))

    op.drop_table("alarm_events")
    with op.batch_alter_table("production_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_reports_plan_id"))

    op.drop_table("production_reports")
    op.drop_table("plan_monitors")
    with op.batch_alter_table("monitor_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitor_steps_plan_id"))

    op.drop_table("monitor_steps")
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarms_plan_id"))

    op.drop_table("alarms")
