"""Read-side queries for dashboards, results, published plans and the audit log.

All are public (observers and visitors may read them) and run in a read-only session.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from commonplan.services._common import assembly_of, get_round
from commonplan.services.assemblies import AssemblyInfo, CouncilInfo, get_assembly, list_councils
from commonplan.services.rounds import (
    AlternativeInfo,
    PublishedPlanInfo,
    ResultInfo,
    RoundInfo,
    alternative_info,
    result_info,
    round_info,
)
from commonplan.store.audit import (
    AuditReport,
    audit_entries,
    canonical_json,
    snapshot,
    verify_audit,
)
from commonplan.store.blobs import frame_from_parquet, get_blob
from commonplan.store.database import Database
from commonplan.store.models import (
    Alternative,
    Council,
    Membership,
    PlanningRound,
    PublishedPlan,
    RoundResult,
)
from commonplan.store.models import Turnout as TurnoutRow


@dataclass(frozen=True)
class CouncilTurnout:
    council_id: int
    name: str
    kind: str
    n_members: int
    n_ballots: int
    n_rankings: int


@dataclass(frozen=True)
class Turnout:
    """How many of the assembly's members (distinct people in any council) took part.

    ``ballot_share`` and ``ranking_share`` are fractions in [0, 1] (0 when nobody is a member).
    """

    round_id: int
    n_members: int
    n_ballots: int
    n_rankings: int
    ballot_share: float
    ranking_share: float
    councils: tuple[CouncilTurnout, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything an assembly's dashboard shows: the assembly, its councils, its latest round."""

    assembly: AssemblyInfo
    councils: tuple[CouncilInfo, ...]
    rounds: tuple[RoundInfo, ...]
    current_round: RoundInfo | None
    turnout: Turnout | None
    alternatives: tuple[AlternativeInfo, ...]
    result: ResultInfo | None
    published: PublishedPlanInfo | None


@dataclass(frozen=True)
class AuditRecord:
    """One audit log entry for display."""

    seq: int
    created_at: str
    actor: str
    action: str
    subject: str
    payload: str
    hash: str


def get_round_info(db: Database, round_id: int) -> RoundInfo:
    with db.read() as session:
        return round_info(get_round(session, round_id))


def list_rounds(db: Database, assembly_id: int | None = None) -> list[RoundInfo]:
    """Rounds (of one assembly, or all), newest first."""
    with db.read() as session:
        query = select(PlanningRound).order_by(PlanningRound.id.desc())
        if assembly_id is not None:
            query = query.where(PlanningRound.assembly_id == assembly_id)
        return [round_info(r) for r in session.execute(query).scalars()]


def turnout(db: Database, round_id: int) -> Turnout:
    """Ballots and rankings cast against membership, overall and per council."""
    with db.read() as session:
        row = get_round(session, round_id)
        n_members = session.execute(
            select(func.count(func.distinct(Membership.user_id)))
            .join(Council, Council.id == Membership.council_id)
            .where(Council.assembly_id == row.assembly_id)
        ).scalar_one()
        n_ballots = session.execute(
            select(func.count(TurnoutRow.id)).where(
                TurnoutRow.round_id == round_id, TurnoutRow.kind == "ballot"
            )
        ).scalar_one()
        n_rankings = session.execute(
            select(func.count(TurnoutRow.id)).where(
                TurnoutRow.round_id == round_id, TurnoutRow.kind == "ranking"
            )
        ).scalar_one()
        ballots = (
            select(TurnoutRow.user_id)
            .where(TurnoutRow.round_id == round_id, TurnoutRow.kind == "ballot")
            .subquery()
        )
        rankings = (
            select(TurnoutRow.user_id)
            .where(TurnoutRow.round_id == round_id, TurnoutRow.kind == "ranking")
            .subquery()
        )
        per_council = session.execute(
            select(
                Council.id,
                Council.name,
                Council.kind,
                func.count(Membership.id),
                func.count(ballots.c.user_id),
                func.count(rankings.c.user_id),
            )
            .outerjoin(Membership, Membership.council_id == Council.id)
            .outerjoin(ballots, ballots.c.user_id == Membership.user_id)
            .outerjoin(rankings, rankings.c.user_id == Membership.user_id)
            .where(Council.assembly_id == row.assembly_id)
            .group_by(Council.id, Council.name, Council.kind)
            .order_by(Council.id)
        ).all()
        return Turnout(
            round_id=round_id,
            n_members=n_members,
            n_ballots=n_ballots,
            n_rankings=n_rankings,
            ballot_share=n_ballots / n_members if n_members else 0.0,
            ranking_share=n_rankings / n_members if n_members else 0.0,
            councils=tuple(CouncilTurnout(*r) for r in per_council),
        )


def list_alternatives(db: Database, round_id: int) -> list[AlternativeInfo]:
    with db.read() as session:
        rows = session.execute(
            select(Alternative)
            .where(Alternative.round_id == round_id)
            .order_by(Alternative.position)
        ).scalars()
        return [alternative_info(r) for r in rows]


def get_result(db: Database, round_id: int) -> ResultInfo | None:
    """The Schulze result (winner, order, pairwise and strongest-path matrices), or None before the tally."""
    with db.read() as session:
        row = session.execute(
            select(RoundResult).where(RoundResult.round_id == round_id)
        ).scalar_one_or_none()
        return result_info(row) if row is not None else None


def get_published_plan(db: Database, round_id: int) -> PublishedPlanInfo | None:
    with db.read() as session:
        row = session.execute(
            select(PublishedPlan).where(PublishedPlan.round_id == round_id)
        ).scalar_one_or_none()
        if row is None:
            return None
        winner = session.get(Alternative, row.alternative_id)
        return PublishedPlanInfo(
            row.round_id,
            row.alternative_id,
            winner.label,
            winner.title,
            dict(row.figures),
            row.plan_sha256,
            row.published_by,
            row.published_at,
        )


def plan_frame(db: Database, sha256: str) -> pd.DataFrame:
    """A stored plan blob (an alternative's or the published plan's) as its labelled DataFrame."""
    with db.read() as session:
        return frame_from_parquet(get_blob(session, sha256))


def dashboard(db: Database, assembly_id: int) -> Dashboard:
    """The assembly's dashboard: councils, rounds, and the latest round's turnout, alternatives and result."""
    assembly = get_assembly(db, assembly_id)
    rounds = list_rounds(db, assembly_id)
    current = rounds[0] if rounds else None
    return Dashboard(
        assembly=assembly,
        councils=tuple(list_councils(db, assembly_id)),
        rounds=tuple(rounds),
        current_round=current,
        turnout=turnout(db, current.id) if current else None,
        alternatives=tuple(list_alternatives(db, current.id)) if current else (),
        result=get_result(db, current.id) if current else None,
        published=get_published_plan(db, current.id) if current else None,
    )


PUBLIC_VERIFY_MAX_AGE_S = 5.0
"""How old a verification report the public endpoint and page may show (seconds)."""

_SECRET_FIELDS = {"ballot.submit": "points", "ranking.submit": "order"}
"""Content that entries written before schema 0002 held, withheld from display."""


def _public_payload(action: str, payload: str) -> str:
    field = _SECRET_FIELDS.get(action)
    if field is None or f'"{field}"' not in payload:
        return payload
    content = json.loads(payload)
    content[field] = "(withheld: ballots are secret)"
    return canonical_json(content)


def audit_log(
    db: Database, *, limit: int = 100, before_seq: int | None = None
) -> list[AuditRecord]:
    """The latest audit entries, newest first (page back with ``before_seq``).

    Ballot and ranking entries hold a commitment, not the content; the content that entries
    written before schema 0002 held is withheld from display (``hash`` is still the stored
    one, so :func:`verify_audit_log` checks them)."""
    limit = max(1, min(int(limit), 1000))
    with db.read() as session:
        return [
            AuditRecord(
                e.seq,
                e.created_at,
                e.actor,
                e.action,
                e.subject,
                _public_payload(e.action, e.payload),
                e.hash,
            )
            for e in audit_entries(session, limit=limit, before_seq=before_seq)
        ]


_VERIFYING = threading.Lock()
_VERIFIED: dict[str, tuple[float, AuditReport]] = {}
_clock = time.monotonic


def verify_audit_log(db: Database, *, max_age_s: float = 0.0) -> AuditReport:
    """Walk the audit chain and the vote records; report any edited, deleted or inserted one.

    It reads one snapshot and takes no lock, so ballots go on being stored meanwhile.
    With ``max_age_s > 0`` a report at most that many seconds old may be returned, and
    concurrent callers wait for the one verification in progress instead of starting
    their own: the server passes a few seconds, so that clients looping on the public
    endpoint walk the chain at most once per that interval.
    """
    if max_age_s <= 0:
        return _verify_now(db)
    with _VERIFYING:
        cached = _VERIFIED.get(db.url)
        if cached is not None and _clock() - cached[0] <= max_age_s:
            return cached[1]
        report = _verify_now(db)
        _VERIFIED[db.url] = (_clock(), report)
        return report


def _verify_now(db: Database) -> AuditReport:
    with snapshot(db) as session:
        return verify_audit(session)


def assembly_summary(db: Database, assembly_id: int) -> dict[str, Any]:
    """Counts for an assembly (councils, members, rounds) as a plain dict."""
    with db.read() as session:
        assembly_of(session, assembly_id)
        n_councils = session.execute(
            select(func.count(Council.id)).where(Council.assembly_id == assembly_id)
        ).scalar_one()
        n_members = session.execute(
            select(func.count(func.distinct(Membership.user_id)))
            .join(Council, Council.id == Membership.council_id)
            .where(Council.assembly_id == assembly_id)
        ).scalar_one()
        n_rounds = session.execute(
            select(func.count(PlanningRound.id)).where(PlanningRound.assembly_id == assembly_id)
        ).scalar_one()
        return {"councils": n_councils, "members": n_members, "rounds": n_rounds}


__all__ = [
    "AuditRecord",
    "CouncilTurnout",
    "Dashboard",
    "Turnout",
    "assembly_summary",
    "audit_log",
    "dashboard",
    "get_published_plan",
    "get_result",
    "get_round_info",
    "list_alternatives",
    "list_rounds",
    "plan_frame",
    "turnout",
    "verify_audit_log",
]
