"""Helpers shared by the service modules (not public API)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from commonplan.errors import NotFoundError, PermissionDeniedError, PhaseError
from commonplan.services.roles import FACILITATION, Actor, require
from commonplan.store.audit import append_audit, append_audit_on_commit
from commonplan.store.models import (
    Assembly,
    AssemblyFacilitator,
    Council,
    Phase,
    PlanningRound,
    Role,
    User,
)


def audit(
    session: Session,
    actor: Actor,
    action: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Append an audit entry for ``actor`` inside the current transaction."""
    append_audit(
        session,
        action=action,
        subject=subject,
        actor=actor.username,
        actor_id=actor.user_id,
        payload=payload,
    )


def audit_on_commit(
    session: Session,
    actor: Actor,
    action: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Like :func:`audit`, as the transaction's last write: on PostgreSQL the entry is appended
    by the commit, in one round trip with it (see :func:`~commonplan.store.audit.append_audit_on_commit`)."""
    append_audit_on_commit(
        session,
        action=action,
        subject=subject,
        actor=actor.username,
        actor_id=actor.user_id,
        payload=payload,
    )


def require_in_assembly(session: Session, actor: Actor, action: str, assembly_id: int) -> Actor:
    """:func:`~commonplan.services.roles.require`, and for a facilitator's round action also
    that they are charged with assembly ``assembly_id``; else :class:`PermissionDeniedError`."""
    require(actor, action)
    if action not in FACILITATION or Role(actor.role) is not Role.FACILITATOR:
        return actor
    charged = session.execute(
        select(AssemblyFacilitator.id).where(
            AssemblyFacilitator.assembly_id == assembly_id,
            AssemblyFacilitator.user_id == actor.user_id,
        )
    ).first()
    if charged is None:
        raise PermissionDeniedError(
            f"{actor.username!r} does not facilitate assembly {assembly_id}",
            where=f"assembly {assembly_id}",
            expected="a facilitator of this assembly, or an administrator",
            fix="ask an administrator to make the account a facilitator of this assembly",
        )
    return actor


def get_or_404(session: Session, model: type, key: int, what: str) -> Any:
    """The row of ``model`` with primary key ``key`` or a :class:`NotFoundError` naming ``what``."""
    row = session.get(model, key)
    if row is None:
        raise NotFoundError(
            f"no {what} with id {key}", where=f"{what} id", fix=f"check the {what}'s id"
        )
    return row


def get_round(session: Session, round_id: int, *, lock: bool | str = False) -> PlanningRound:
    """The planning round ``round_id``, row-locked ``FOR UPDATE`` when ``lock`` is True, ``FOR SHARE``
    when ``lock == "share"`` (PostgreSQL; SQLite serialises writers anyway)."""
    query = select(PlanningRound).where(PlanningRound.id == round_id)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            f"no planning round with id {round_id}", where="round id", fix="check the round's id"
        )
    return row


def require_phase(planning_round: PlanningRound, phase: Phase, action: str) -> None:
    """Raise :class:`PhaseError` unless the round is in ``phase``."""
    if planning_round.phase != phase.value:
        raise PhaseError(
            f"cannot {action}: round {planning_round.id} is in the {planning_round.phase} phase",
            where=f"round {planning_round.id}",
            expected=f"the {phase.value} phase",
            fix="wait for the facilitator to move the round to the right phase",
        )


_LOCK_USER = (
    select(User.__table__.c.active)
    .where(User.__table__.c.id == bindparam("user_id"))
    .with_for_update()
)


def lock_user(session: Session, user_id: int) -> None:
    """Lock the user's row for the transaction (serialises one member's concurrent submissions)."""
    active = session.connection().execute(_LOCK_USER, {"user_id": user_id}).scalar_one_or_none()
    if not active:
        raise NotFoundError(f"no active user with id {user_id}", where="user id")


def is_member_of_assembly(session: Session, user_id: int, assembly_id: int) -> bool:
    """True when the user belongs to at least one council of the assembly."""
    from commonplan.store.models import Membership

    query = (
        select(Membership.id)
        .join(Council, Council.id == Membership.council_id)
        .where(Membership.user_id == user_id, Council.assembly_id == assembly_id)
        .limit(1)
    )
    return session.execute(query).first() is not None


def assembly_of(session: Session, assembly_id: int) -> Assembly:
    return get_or_404(session, Assembly, assembly_id, "assembly")
