"""Rankings name no voter either: voter keys under a ``ranking`` round secret, sealed at the tally.

As 0005 did for ballots: ``rankings.user_id`` goes, ``voter_key`` comes (one ranking per
voter key and round), ``request_id`` may be null; rounds in their vote phase get a
``ranking`` secret and their rankings the voter keys; rankings of rounds already tallied
lose their link at once (keeping their row ids, which earlier entries name). Every
ranking takes part in turnout (``kind = 'ranking'``). One ``audit.adopt`` entry records
the changed rows. Downgrade refuses once a sealed ranking names no voter any more.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:50:00
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen here (see 0002): the covered columns of the tables this revision changes.
_RANKINGS_AT_0006 = ("id", "round_id", "voter_key", "order", "request_id", "salt", "tracker")
_RANKINGS_AT_0005 = ("id", "round_id", "user_id", "order", "request_id", "salt", "tracker")
_TURNOUT = ("id", "round_id", "user_id", "kind")


def _voter_key(secret: str, user_id: int) -> str:
    """As ``services.receipts.voter_key`` computes it."""
    return hmac.new(bytes.fromhex(secret), f"voter {user_id}".encode(), hashlib.sha256).hexdigest()


def _records(connection: sa.Connection, name: str, columns: tuple[str, ...]) -> list[dict]:
    from commonplan.store.audit import canonical_json

    table = sa.table(name, *[sa.column(c, sa.JSON if c == "order" else None) for c in columns])
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
    connection = op.get_bind()
    op.add_column("rankings", sa.Column("voter_key", sa.String(length=64), nullable=True))
    secret_of = {}
    for round_id, phase in connection.execute(sa.text("SELECT id, phase FROM planning_rounds")):
        if phase == "vote":
            secret_of[round_id] = secrets.token_hex(32)
            connection.execute(
                sa.text(
                    "INSERT INTO round_secrets (round_id, kind, secret) VALUES (:r, 'ranking', :s)"
                ),
                {"r": round_id, "s": secret_of[round_id]},
            )
    rows = connection.execute(sa.text("SELECT id, round_id, user_id FROM rankings")).all()
    for ranking_id, round_id, user_id in rows:
        if round_id in secret_of:
            connection.execute(
                sa.text("UPDATE rankings SET voter_key = :k WHERE id = :i"),
                {"k": _voter_key(secret_of[round_id], user_id), "i": ranking_id},
            )
    first_new = connection.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM turnout")).scalar()
    connection.execute(
        sa.text(
            "INSERT INTO turnout (round_id, user_id, kind, created_at) "
            "SELECT round_id, user_id, 'ranking', submitted_at FROM rankings ORDER BY submitted_at"
        )
    )
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rankings_round_id", type_="unique")
        batch_op.drop_constraint("uq_rankings_user_id", type_="unique")
        batch_op.drop_index("ix_rankings_user_id")
        batch_op.drop_constraint("fk_rankings_user_id_users", type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.alter_column("request_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint("uq_rankings_round_id", ["round_id", "voter_key"])
        batch_op.create_unique_constraint("uq_rankings_voter_key", ["voter_key", "request_id"])
        batch_op.create_index("ix_rankings_voter_key", ["voter_key"], unique=False)
    # request ids may now be null: those of rounds already tallied go with the link
    connection.execute(sa.text("UPDATE rankings SET request_id = NULL WHERE voter_key IS NULL"))
    records = _records(connection, "rankings", _RANKINGS_AT_0006)
    records += [r for r in _records(connection, "turnout", _TURNOUT) if r["id"] > first_new]
    _adopt(
        connection,
        "schema 0006",
        "rankings keyed by voter keys instead of user ids, and the turnout they make",
        records,
    )


def downgrade() -> None:
    connection = op.get_bind()
    op.add_column("rankings", sa.Column("user_id", sa.Integer(), nullable=True))
    secret_of = dict(
        connection.execute(
            sa.text("SELECT round_id, secret FROM round_secrets WHERE kind = 'ranking'")
        ).all()
    )
    voters: dict[tuple[int, str], int] = {}
    for round_id, user_id in connection.execute(
        sa.text("SELECT round_id, user_id FROM turnout WHERE kind = 'ranking'")
    ):
        if round_id in secret_of:
            voters[(round_id, _voter_key(secret_of[round_id], user_id))] = user_id
    for ranking_id, round_id, key in connection.execute(
        sa.text("SELECT id, round_id, voter_key FROM rankings")
    ).all():
        user_id = voters.get((round_id, key))
        if user_id is None:
            raise RuntimeError(
                f"cannot downgrade below schema 0006: ranking {ranking_id} of round {round_id} "
                "is sealed and names no voter any more (restore a backup taken before the upgrade)"
            )
        connection.execute(
            sa.text(
                "UPDATE rankings SET user_id = :u, request_id = COALESCE(request_id, :q) "
                "WHERE id = :i"
            ),
            {"u": user_id, "q": uuid.uuid4().hex, "i": ranking_id},
        )
    dropped = [
        r[0] for r in connection.execute(sa.text("SELECT id FROM turnout WHERE kind = 'ranking'"))
    ]
    connection.execute(sa.text("DELETE FROM turnout WHERE kind = 'ranking'"))
    connection.execute(sa.text("DELETE FROM round_secrets WHERE kind = 'ranking'"))
    with op.batch_alter_table("rankings", schema=None) as batch_op:
        batch_op.drop_index("ix_rankings_voter_key")
        batch_op.drop_constraint("uq_rankings_voter_key", type_="unique")
        batch_op.drop_constraint("uq_rankings_round_id", type_="unique")
        batch_op.drop_column("voter_key")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("request_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key("fk_rankings_user_id_users", "users", ["user_id"], ["id"])
        batch_op.create_unique_constraint("uq_rankings_round_id", ["round_id", "user_id"])
        batch_op.create_unique_constraint("uq_rankings_user_id", ["user_id", "request_id"])
        batch_op.create_index("ix_rankings_user_id", ["user_id"], unique=False)
    records = _records(connection, "rankings", _RANKINGS_AT_0005)
    records += [{"table": "turnout", "id": i, "hash": None} for i in dropped]
    _adopt(connection, "schema 0006 downgrade", "rankings keyed by user ids again", records)
