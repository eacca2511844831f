"""Rankings (council members): rank the round's alternatives once, during the vote phase.

A member cannot vote twice: a second ranking is refused with a
:class:`~commonplan.errors.ConflictError` (a retry of the same request, recognised by
its ``request_id``, gets the stored receipt back instead). The count itself is
:func:`commonplan.services.rounds.tally_round` (Schulze method).

As for ballots, the audit entry holds a commitment to the ranking, not the ranking, and
the member gets a receipt once (:mod:`commonplan.services.receipts`); the ranking row
names no voter, only their voter key under the round's ``ranking`` secret, and the
tally seals the rankings (:func:`commonplan.services.rounds.advance_phase`), after which
nothing stored links them to their voters. The member's first ranking adds a public
:class:`~commonplan.store.models.Turnout` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commonplan.councils.voting import validate_ranking
from commonplan.errors import ConflictError, PermissionDeniedError, PhaseError
from commonplan.services._common import (
    audit,
    get_round,
    is_member_of_assembly,
    lock_user,
    require_phase,
)
from commonplan.services.ballots import check_request_id
from commonplan.services.receipts import (
    commitment_of,
    new_receipt,
    new_salt,
    tracker_of,
    voter_key,
)
from commonplan.services.roles import Actor, require
from commonplan.store.database import Database
from commonplan.store.models import Alternative, Phase, Ranking, RoundSecret, Turnout, utcnow
from commonplan.store.records import read_record


@dataclass(frozen=True)
class RankingReceipt:
    """A stored ranking (labels, best first); ``replayed`` when the request had been stored before.

    ``receipt`` only in the answer that stored it; ``tracker`` as for ballots."""

    id: int
    round_id: int
    user_id: int
    order: tuple[str, ...]
    request_id: str
    submitted_at: datetime
    replayed: bool = False
    tracker: str | None = None
    receipt: str | None = None


def _receipt(
    row: Ranking, user_id: int, replayed: bool = False, receipt: str | None = None
) -> RankingReceipt:
    return RankingReceipt(
        row.id,
        row.round_id,
        user_id,
        tuple(row.order),
        row.request_id,
        row.submitted_at,
        replayed,
        row.tracker,
        receipt,
    )


def _already_voted(round_id: int) -> ConflictError:
    return ConflictError(
        f"you have already ranked the alternatives of round {round_id}",
        where=f"round {round_id}",
        expected="one ranking per member",
        fix="a ranking cannot be changed once cast",
    )


def submit_ranking(
    db: Database,
    actor: Actor,
    round_id: int,
    order: Sequence[str],
    *,
    request_id: str | None = None,
    member_id: int | None = None,
) -> RankingReceipt:
    """Store the actor's ranking of the round's alternatives (labels, best first), once.

    Council members only, in the vote phase, for themselves; unlisted alternatives rank
    last. Duplicates or unknown labels raise :class:`~commonplan.errors.BallotError`.
    """
    require(actor, "submit_ranking")
    if member_id is not None and member_id != actor.user_id:
        raise PermissionDeniedError(
            "a member can only cast their own ranking", where=f"member {member_id}"
        )
    request_id = check_request_id(request_id)
    assert actor.user_id is not None
    try:
        with db.transaction() as session:
            lock_user(session, actor.user_id)
            # FOR SHARE: closing the vote (FOR UPDATE) waits for rankings in flight
            row = get_round(session, round_id, lock="share")
            labels = (
                session.execute(
                    select(Alternative.label)
                    .where(Alternative.round_id == round_id)
                    .order_by(Alternative.position)
                )
                .scalars()
                .all()
            )
            ranking = list(validate_ranking(order, labels)) if labels else None
            key = _my_key(session, actor.user_id, round_id)
            stored = None
            if key is not None:  # the vote is open (its secret is deleted at the tally)
                stored = session.execute(
                    select(Ranking).where(
                        Ranking.voter_key == key, Ranking.request_id == request_id
                    )
                ).scalar_one_or_none()
            if stored is not None:
                if list(stored.order) != ranking:
                    raise ConflictError(
                        "this request id was already used for a different ranking",
                        where="request id",
                        fix="send a fresh request id",
                    )
                return _receipt(stored, actor.user_id, replayed=True)
            require_phase(row, Phase.VOTE, "rank the alternatives")
            deadline = row.vote_deadline
            if deadline is not None and utcnow() > deadline:
                raise PhaseError(
                    f"the vote deadline of round {round_id} has passed", where=f"round {round_id}"
                )
            if not is_member_of_assembly(session, actor.user_id, row.assembly_id):
                raise PermissionDeniedError(
                    f"user {actor.username!r} is not a member of any council of this assembly",
                    where=f"round {round_id}",
                )
            if key is None:
                raise ConflictError(
                    f"round {round_id} has no ranking key although its vote is open",
                    where=f"round {round_id}",
                    fix="the database was changed around the services: restore it from a backup",
                )
            if session.execute(
                select(Ranking.id).where(Ranking.round_id == round_id, Ranking.voter_key == key)
            ).first():
                raise _already_voted(round_id)
            turnout = Turnout(round_id=round_id, user_id=actor.user_id, kind="ranking")
            session.add(turnout)
            receipt = new_receipt()
            stored = Ranking(
                round_id=round_id,
                voter_key=key,
                order=ranking,
                request_id=request_id,
                salt=new_salt(),
                tracker=tracker_of(receipt),
            )
            session.add(stored)
            session.flush()
            audit(
                session,
                actor,
                "ranking.submit",
                f"round {round_id}",
                {
                    "ranking_id": stored.id,
                    "commitment": commitment_of(receipt, "ranking", round_id, ranking),
                    "records": [
                        read_record(session, "turnout", turnout.id),
                        read_record(session, "rankings", stored.id),
                    ],
                },
            )
            return _receipt(stored, actor.user_id, receipt=receipt)
    except IntegrityError as error:  # the unique (round, user) constraint: a concurrent second vote
        raise _already_voted(round_id) from error


def _my_key(session: Any, user_id: int | None, round_id: int) -> str | None:
    """The member's voter key in the round's open vote (None before it opens or after the tally)."""
    secret = session.execute(
        select(RoundSecret.secret).where(
            RoundSecret.round_id == round_id, RoundSecret.kind == "ranking"
        )
    ).scalar_one_or_none()
    if secret is None or user_id is None:
        return None
    return voter_key(secret, user_id)


def my_ranking(db: Database, actor: Actor, round_id: int) -> RankingReceipt | None:
    """The actor's ranking for a round, or None. Only while the vote is open: after the
    tally the rankings are sealed, and the member finds theirs with their receipt."""
    with db.read() as session:
        key = _my_key(session, actor.user_id, round_id)
        if key is None:
            return None
        row = session.execute(
            select(Ranking).where(Ranking.round_id == round_id, Ranking.voter_key == key)
        ).scalar_one_or_none()
        return _receipt(row, actor.user_id) if row is not None else None
