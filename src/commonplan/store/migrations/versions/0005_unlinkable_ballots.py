"""Ballots name no voter: voter keys, round secrets, a turnout table, sealing at the close.

* ``round_secrets``: the key of a round's voter keys while its ballot phase is open.
* ``turnout``: who took part (round, user, kind), counted for turnout.
* ``ballots``: ``user_id`` goes; ``voter_key`` (``HMAC-SHA256(round secret, user id)``)
  comes, for resubmission during the phase; ``request_id`` may be null (sealed ballots).

Data: rounds still in their ballot phase get a secret, and their ballots the voter keys;
ballots of rounds past it lose their link at once (no voter key, no request id; their
row ids stay, which earlier audit entries name: rounds closed from now on are sealed with
fresh ids, see ``services.rounds``). Every ballot takes part in turnout. One
``audit.adopt`` entry records the changed rows, so ``audit verify`` checks them.

Downgrade puts ``user_id`` back where a voter key still names the voter (open ballot
phases) and refuses when a sealed ballot would need a voter nobody can name any more.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 17:40:00
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here (see 0002): the covered columns of the tables this revision changes.
_BALLOTS_AT_0005 = ("id", "round_id", "voter_key", "points", "request_id", "is_current")
_BALLOTS_AT_0005 += ("salt", "tracker")
_BALLOTS_AT_0004 = ("id", "round_id", "user_id", "points", "request_id", "is_current")
_BALLOTS_AT_0004 += ("salt", "tracker")
_TURNOUT_AT_0005 = ("id", "round_id", "user_id", "kind")


def _voter_key(secret: str, user_id: int) -> str:
    """As ``services.receipts.voter_key`` computes it."""
    return hmac.new(bytes.fromhex(secret), f"voter {user_id}".encode(), hashlib.sha256).hexdigest()


def _table(name: str, columns: tuple[str, ...]) -> sa.TableClause:
    types = {"points": sa.JSON, "is_current": sa.Boolean}
    return sa.table(name, *[sa.column(c, types.get(c)) for c in columns])


def _records(connection: sa.Connection, name: str, columns: tuple[str, ...]) -> list[dict]:
    from commonplan.store.audit import canonical_json

    table = _table(name, columns)
    records = []
    for row in connection.execute(sa.select(table).order_by(table.c.id)):
        values = [row._mapping[c] for c in columns]
        digest = hashlib.sha256(canonical_json([name, values]).encode()).hexdigest()
        records.append({"table": name, "id": int(row._mapping["id"]), "hash": digest})
    return records


def _adopt(connection: sa.Connection, subject: str, note: str, records: list[dict]) -> None:
    from sqlalchemy.orm import Session

    from commonplan.store.audit import append_audit

    if not records:
        return
    session = Session(bind=connection)
    append_audit(
        session,
        action="audit.adopt",
        subject=subject,
        actor="migration",
        payload={"note": note, "records": records},
    )
    session.flush()


def upgrade() -> None:
    op.create_table(
        "round_secrets",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name=op.f("fk_round_secrets_round_id_planning_rounds"),
        ),
        sa.PrimaryKeyConstraint("round_id", "kind", name=op.f("pk_round_secrets")),
    )
    op.create_table(
        "turnout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["planning_rounds.id"], name=op.f("fk_turnout_round_id_planning_rounds")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_turnout_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_turnout")),
        sa.UniqueConstraint("round_id", "user_id", "kind", name=op.f("uq_turnout_round_id")),
    )
    with op.batch_alter_table("turnout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_turnout_round_id"), ["round_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_turnout_user_id"), ["user_id"], unique=False)
    op.add_column("ballots", sa.Column("voter_key", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    _link_to_voter_keys(connection)

    op.drop_index("uq_ballots_current", table_name="ballots")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_constraint("uq_ballots_user_id", type_="unique")
        batch_op.drop_index("ix_ballots_user_id")
        batch_op.drop_constraint("fk_ballots_user_id_users", type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.alter_column("request_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_ballots_voter_key"), ["voter_key", "request_id"]
        )
        batch_op.create_index(batch_op.f("ix_ballots_voter_key"), ["voter_key"], unique=False)
    op.create_index(
        "uq_ballots_current",
        "ballots",
        ["round_id", "voter_key"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    # request ids may now be null: those of rounds past their ballot phase go with the link
    connection.execute(sa.text("UPDATE ballots SET request_id = NULL WHERE voter_key IS NULL"))
    records = _records(connection, "ballots", _BALLOTS_AT_0005)
    records += _records(connection, "turnout", _TURNOUT_AT_0005)
    _adopt(
        connection,
        "schema 0005",
        "ballots keyed by voter keys instead of user ids, and the turnout they make",
        records,
    )


def _link_to_voter_keys(connection: sa.Connection) -> None:
    """Secrets for the rounds in their ballot phase, voter keys for their ballots, no key
    for the others; a turnout row per member who cast a ballot."""
    rounds = dict(connection.execute(sa.text("SELECT id, phase FROM planning_rounds")).all())
    round_secrets = {}
    for round_id, phase in rounds.items():
        if phase == "ballot":
            round_secrets[round_id] = secrets.token_hex(32)
            connection.execute(
                sa.text(
                    "INSERT INTO round_secrets (round_id, kind, secret) VALUES (:r, 'ballot', :s)"
                ),
                {"r": round_id, "s": round_secrets[round_id]},
            )
    ballots = connection.execute(sa.text("SELECT id, round_id, user_id FROM ballots")).all()
    for ballot_id, round_id, user_id in ballots:
        secret = round_secrets.get(round_id)
        if secret is not None:
            connection.execute(
                sa.text("UPDATE ballots SET voter_key = :k WHERE id = :i"),
                {"k": _voter_key(secret, user_id), "i": ballot_id},
            )
    connection.execute(
        sa.text(
            "INSERT INTO turnout (round_id, user_id, kind, created_at) "
            "SELECT round_id, user_id, 'ballot', MIN(submitted_at) FROM ballots "
            "GROUP BY round_id, user_id ORDER BY MIN(submitted_at)"
        )
    )


def downgrade() -> None:
    connection = op.get_bind()
    op.add_column("ballots", sa.Column("user_id", sa.Integer(), nullable=True))
    secret_of = dict(
        connection.execute(
            sa.text("SELECT round_id, secret FROM round_secrets WHERE kind = 'ballot'")
        ).all()
    )
    voters: dict[tuple[int, str], int] = {}
    for round_id, user_id in connection.execute(
        sa.text("SELECT round_id, user_id FROM turnout WHERE kind = 'ballot'")
    ):
        if round_id in secret_of:
            voters[(round_id, _voter_key(secret_of[round_id], user_id))] = user_id
    rows = connection.execute(sa.text("SELECT id, round_id, voter_key FROM ballots")).all()
    for ballot_id, round_id, key in rows:
        user_id = voters.get((round_id, key))
        if user_id is None:
            raise RuntimeError(
                f"cannot downgrade below schema 0005: ballot {ballot_id} of round {round_id} "
                "is sealed and names no voter any more (restore a backup taken before the upgrade)"
            )
        connection.execute(
            sa.text(
                "UPDATE ballots SET user_id = :u, request_id = COALESCE(request_id, :q) "
                "WHERE id = :i"
            ),
            {"u": user_id, "q": uuid.uuid4().hex, "i": ballot_id},
        )
    turnout_ids = [r[0] for r in connection.execute(sa.text("SELECT id FROM turnout"))]

    op.drop_index("uq_ballots_current", table_name="ballots")
    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballots_voter_key"))
        batch_op.drop_constraint(batch_op.f("uq_ballots_voter_key"), type_="unique")
        batch_op.drop_column("voter_key")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("request_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key("fk_ballots_user_id_users", "users", ["user_id"], ["id"])
        batch_op.create_unique_constraint("uq_ballots_user_id", ["user_id", "request_id"])
        batch_op.create_index("ix_ballots_user_id", ["user_id"], unique=False)
    op.create_index(
        "uq_ballots_current",
        "ballots",
        ["round_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("is_current"),
        postgresql_where=sa.text("is_current"),
    )
    with op.batch_alter_table("turnout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turnout_user_id"))
        batch_op.drop_index(batch_op.f("ix_turnout_round_id"))
    op.drop_table("turnout")
    op.drop_table("round_secrets")
    records = _records(connection, "ballots", _BALLOTS_AT_0004)
    records += [{"table": "turnout", "id": i, "hash": None} for i in turnout_ids]
    _adopt(connection, "schema 0005 downgrade", "ballots keyed by user ids again", records)
