"""Priority ballots (council members): submit one's own ballot during the ballot phase.

Resubmitting replaces the member's current ballot; the earlier one stays stored, marked
superseded, so the history is kept. Submission is idempotent per client request id:
the server passes the client's ``Idempotency-Key`` (or a form's hidden nonce) as
``request_id``, and a retried request — after a timeout or a server restart — gets the
receipt of the ballot already stored instead of storing it a second time. Each member's
submissions are serialised by a row lock on their account, so concurrent retries cannot
race.

Secrecy: the ballot row names no voter; during the phase it carries the voter's key
(an HMAC of their id under the round's secret), and the member's first ballot of the
round adds a public :class:`~commonplan.store.models.Turnout` row. The audit entry of a
ballot names the voter and holds a commitment to the content, never the content
(:mod:`commonplan.services.receipts`); the member gets the receipt once, in the answer
that stores the ballot (a replayed request does not show it again: it is not stored).
Only the member reads their own ballot back, during the phase: when it closes the
ballots are sealed (:func:`commonplan.services.rounds.advance_phase`) and nothing stored
links them to their voters any more.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from commonplan.councils.ballots import validate_ballot
from commonplan.errors import (
    CommonplanError,
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
)
from commonplan.services._common import (
    audit_on_commit,
    lock_user,
)
from commonplan.services.receipts import (
    commitment_of,
    new_receipt,
    new_salt,
    tracker_of,
    voter_key,
)
from commonplan.services.roles import Actor, require
from commonplan.store.database import Database
from commonplan.store.models import (
    Ballot,
    Council,
    Membership,
    Phase,
    PlanningRound,
    RoundSecret,
    Turnout,
    utcnow,
)
from commonplan.store.records import record

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")

# Statements of the hot path, built once (their compiled form is cached by SQLAlchemy).
_BALLOTS = Ballot.__table__
_ROUND_FOR_BALLOT = select(
    PlanningRound.phase,
    PlanningRound.target_groups,
    PlanningRound.ballot_deadline,
    select(Membership.id)
    .join(Council, Council.id == Membership.council_id)
    .where(
        Membership.user_id == bindparam("user_id"), Council.assembly_id == PlanningRound.assembly_id
    )
    .exists(),
    select(RoundSecret.secret)
    .where(RoundSecret.round_id == PlanningRound.id, RoundSecret.kind == "ballot")
    .scalar_subquery(),
).where(PlanningRound.id == bindparam("round_id"))
# FOR SHARE on the round (PostgreSQL): closing the ballot phase (FOR UPDATE) waits for ballots in flight,
# so no acknowledged ballot is left out of the aggregation. SQLite serialises writers anyway.
_ROUND_FOR_BALLOT = _ROUND_FOR_BALLOT.with_for_update(read=True, of=PlanningRound.__table__)
_MY_BALLOTS = select(_BALLOTS).where(
    _BALLOTS.c.voter_key == bindparam("voter_key"),
    or_(
        _BALLOTS.c.request_id == bindparam("request_id"),
        and_(_BALLOTS.c.round_id == bindparam("round_id"), _BALLOTS.c.is_current),
    ),
)
_SUPERSEDE = (
    update(_BALLOTS)
    .where(_BALLOTS.c.id == bindparam("ballot_id"))
    .values(is_current=False, superseded_at=bindparam("now"))
)
_INSERT_BALLOT = insert(_BALLOTS).returning(_BALLOTS.c.id)
_INSERT_TURNOUT = insert(Turnout.__table__).returning(Turnout.__table__.c.id)


@dataclass(frozen=True)
class BallotReceipt:
    """What a member gets back for a ballot.

    ``replayed`` is True when ``request_id`` had already been stored (nothing new was
    written); ``replaced_id`` is the ballot this one superseded, if any. ``receipt`` is the
    voter's receipt secret, only in the answer that stored the ballot (keep it: it is not
    stored); ``tracker`` the ballot's tracker in the published, anonymous ballots.
    """

    id: int
    round_id: int
    user_id: int
    points: dict[str, float]
    request_id: str
    submitted_at: datetime
    is_current: bool
    replaced_id: int | None = None
    replayed: bool = False
    tracker: str | None = None
    receipt: str | None = None


def _receipt(
    row: Ballot, user_id: int, *, replaced_id: int | None = None, replayed: bool = False
) -> BallotReceipt:
    return BallotReceipt(
        row.id,
        row.round_id,
        user_id,
        dict(row.points),
        row.request_id,
        row.submitted_at,
        row.is_current,
        replaced_id,
        replayed,
        row.tracker,
    )


def check_request_id(request_id: str | None) -> str:
    """A valid idempotency key (1–64 of letters, digits, ``_.:-``); a fresh UUID if None."""
    if request_id is None:
        return uuid.uuid4().hex
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.match(request_id):
        raise ParticipationInputError(
            "the request id is not valid",
            where="request id",
            expected="1–64 letters, digits or _.:- (e.g. a UUID)",
            fix="send a fresh UUID per submission",
        )
    return request_id


def submit_ballot(
    db: Database,
    actor: Actor,
    round_id: int,
    points: Mapping[str, Any],
    *,
    request_id: str | None = None,
    member_id: int | None = None,
) -> BallotReceipt:
    """Store the actor's priority ballot for a round (council members only, in the ballot phase).

    ``points``: target group → points, at most two decimals, summing to exactly 100
    (:func:`~commonplan.councils.ballots.validate_ballot`). ``member_id``, if given,
    must be the actor's own id: nobody submits a ballot for somebody else. A member must
    belong to a council of the round's assembly, and the ballot deadline must not have
    passed. Nothing is stored when any check fails.
    """
    require(actor, "submit_ballot")
    if member_id is not None and member_id != actor.user_id:
        raise PermissionDeniedError(
            "a member can only submit their own ballot",
            where=f"member {member_id}",
            fix="sign in as that member, or submit your own ballot",
        )
    request_id = check_request_id(request_id)
    with db.transaction() as session:
        return _submit_in(session, db.is_postgresql, actor, round_id, points, request_id)


@dataclass(frozen=True)
class BallotSubmission:
    """One member's ballot, for :func:`submit_ballots`."""

    actor: Actor
    round_id: int
    points: Mapping[str, Any]
    request_id: str | None = None


def submit_ballots(
    db: Database, submissions: Sequence[BallotSubmission]
) -> list[BallotReceipt | CommonplanError]:
    """Store several members' ballots in one transaction (group commit), each checked on its own.

    The result of each is what :func:`submit_ballot` returns, or the error it would raise (that
    ballot stores nothing; the others are not affected): one commit for many ballots is what
    lets a server take hundreds of ballots a second on one disk. Should the transaction itself
    fail (a concurrent writer in another process), each ballot is submitted on its own.
    """
    submissions = list(submissions)
    results: list[BallotReceipt | CommonplanError | None] = [None] * len(submissions)
    for k, item in enumerate(submissions):
        try:
            require(item.actor, "submit_ballot")
            submissions[k] = replace(item, request_id=check_request_id(item.request_id))
        except CommonplanError as error:
            results[k] = error
    pending = [k for k, r in enumerate(results) if r is None]
    try:
        with db.transaction() as session:
            for k in pending:
                item = submissions[k]
                try:
                    results[k] = _submit_in(
                        session,
                        db.is_postgresql,
                        item.actor,
                        item.round_id,
                        item.points,
                        item.request_id,
                    )
                except CommonplanError as error:  # raised before the ballot wrote anything
                    results[k] = error
    except DBAPIError:  # a concurrent writer (another process): one transaction per ballot
        for k in pending:
            item = submissions[k]
            try:
                results[k] = submit_ballot(
                    db, item.actor, item.round_id, item.points, request_id=item.request_id
                )
            except CommonplanError as error:
                results[k] = error
    return results  # type: ignore[return-value]


def _submit_in(
    session: Any,
    is_postgresql: bool,
    actor: Actor,
    round_id: int,
    points: Mapping[str, Any],
    request_id: str,
) -> BallotReceipt:
    """The ballot's checks and writes inside the caller's transaction; every check comes
    before the first write, so a refusal leaves the transaction as it was."""
    user_id = actor.user_id
    assert user_id is not None
    if is_postgresql:  # SQLite's BEGIN IMMEDIATE already serialises writers
        lock_user(session, user_id)
    connection = session.connection()
    row = connection.execute(_ROUND_FOR_BALLOT, {"round_id": round_id, "user_id": user_id}).first()
    if row is None:
        raise NotFoundError(
            f"no planning round with id {round_id}",
            where="round id",
            fix="check the round's id",
        )
    phase, target_groups, ballot_deadline, is_member, secret = row
    complete = validate_ballot(points, [g["name"] for g in target_groups])
    key = voter_key(secret, user_id) if secret is not None else None
    mine = []
    if key is not None:  # the phase is open (its secret is deleted when it closes)
        mine = connection.execute(
            _MY_BALLOTS, {"voter_key": key, "request_id": request_id, "round_id": round_id}
        ).all()
    stored = next((b for b in mine if b.request_id == request_id), None)
    if stored is not None:
        if dict(stored.points) != complete:
            raise ConflictError(
                "this request id was already used for a different ballot",
                where="request id",
                fix="send a fresh request id for a new ballot",
            )
        return _receipt(stored, user_id, replayed=True)
    if phase != Phase.BALLOT.value:
        raise PhaseError(
            f"cannot submit a ballot: round {round_id} is in the {phase} phase",
            where=f"round {round_id}",
            expected="the ballot phase",
            fix="wait for the facilitator to move the round to the right phase",
        )
    deadline = ballot_deadline
    now = utcnow()
    if deadline is not None and now > deadline:
        raise PhaseError(
            f"the ballot deadline of round {round_id} has passed ({deadline.isoformat()})",
            where=f"round {round_id}",
            expected="a submission before the deadline",
        )
    if not is_member:
        raise PermissionDeniedError(
            f"user {actor.username!r} is not a member of any council of this assembly",
            where=f"round {round_id}",
            fix="ask an administrator to add you to your council",
        )
    if key is None:
        raise ConflictError(
            f"round {round_id} has no ballot key although its ballot phase is open",
            where=f"round {round_id}",
            fix="the database was changed around the services: restore it from a backup",
        )
    records = []
    previous = next((b for b in mine if b.round_id == round_id and b.is_current), None)
    if previous is not None:  # free the one-current-ballot index before inserting
        connection.execute(_SUPERSEDE, {"ballot_id": previous.id, "now": now})
        records.append(record("ballots", dict(previous._mapping, is_current=False)))
    else:  # the member's first ballot of the round: they took part
        turnout = {"round_id": round_id, "user_id": user_id, "kind": "ballot"}
        turnout_id = connection.execute(_INSERT_TURNOUT, dict(turnout, created_at=now)).scalar_one()
        records.append(record("turnout", dict(turnout, id=turnout_id)))
    receipt = new_receipt()
    values = {
        "round_id": round_id,
        "voter_key": key,
        "points": complete,
        "request_id": request_id,
        "is_current": True,
        "salt": new_salt(),
        "tracker": tracker_of(receipt),
    }
    ballot_id = connection.execute(_INSERT_BALLOT, dict(values, submitted_at=now)).scalar_one()
    records.append(record("ballots", dict(values, id=ballot_id)))
    replaced = previous.id if previous is not None else None
    audit_on_commit(  # the last write: appended together with the commit
        session,
        actor,
        "ballot.submit",
        f"round {round_id}",
        {
            "ballot_id": ballot_id,
            "commitment": commitment_of(receipt, "ballot", round_id, complete),
            "replaces": replaced,
            "records": records,
        },
    )
    return BallotReceipt(
        ballot_id,
        round_id,
        user_id,
        complete,
        request_id,
        now,
        True,
        replaced,
        False,
        values["tracker"],
        receipt,
    )


def _my_key(session: Any, actor: Actor, round_id: int) -> str | None:
    """The actor's voter key in the round's open ballot phase (None once it is closed)."""
    secret = session.execute(
        select(RoundSecret.secret).where(
            RoundSecret.round_id == round_id, RoundSecret.kind == "ballot"
        )
    ).scalar_one_or_none()
    if secret is None or actor.user_id is None:
        return None
    return voter_key(secret, actor.user_id)


def my_ballot(db: Database, actor: Actor, round_id: int) -> BallotReceipt | None:
    """The actor's current ballot for a round, or None. Only while the ballot phase is open:
    after it the ballots are sealed, and the member finds theirs with their receipt."""
    with db.read() as session:
        key = _my_key(session, actor, round_id)
        if key is None:
            return None
        row = session.execute(
            select(Ballot).where(
                Ballot.round_id == round_id,
                Ballot.voter_key == key,
                Ballot.is_current.is_(True),
            )
        ).scalar_one_or_none()
        return _receipt(row, actor.user_id) if row is not None else None


def my_ballot_history(db: Database, actor: Actor, round_id: int) -> list[BallotReceipt]:
    """All the actor's ballots for a round, oldest first (the last one is current); empty
    once the ballot phase is closed."""
    with db.read() as session:
        key = _my_key(session, actor, round_id)
        if key is None:
            return []
        rows = session.execute(
            select(Ballot)
            .where(Ballot.round_id == round_id, Ballot.voter_key == key)
            .order_by(Ballot.id)
        ).scalars()
        return [_receipt(r, actor.user_id) for r in rows]
