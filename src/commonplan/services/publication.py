"""The published, anonymous ballots of a round, their recount, and receipt checks.

Once a round's ballot phase is over, its current ballots are public without their
voters: each as its tracker, the councils its voter belongs to, and its points. Once the
vote is tallied, its rankings are public the same way. From that publication anyone can
recompute the round's weights (:func:`commonplan.councils.ballots.aggregate` with the
stored rule and council sizes) and the Schulze result (:func:`commonplan.councils.voting.schulze`),
and a voter holding a receipt can find their ballot by its tracker and check the
commitment in their audit entry (:func:`check_receipt`). Turnout (who took part) is
public; which ballot is whose is not.

A ballot's councils must stay known, since each council's allocation is the mean (or
median) of its members' ballots. In a small council this can identify a voter: a council
of one publishes its member's ballot (see "Threat model" in ``docs/councils.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from commonplan.councils.ballots import aggregate, target_weights
from commonplan.councils.voting import schulze
from commonplan.errors import PhaseError
from commonplan.services._common import get_round
from commonplan.services.receipts import commitment_of, tracker_of
from commonplan.store.database import Database
from commonplan.store.models import (
    PHASE_ORDER,
    Alternative,
    AuditEntry,
    Ballot,
    Phase,
    Ranking,
)


@dataclass(frozen=True)
class PublishedBallot:
    """One anonymous ballot: its tracker, its voter's councils (names) and its points."""

    tracker: str
    councils: tuple[str, ...]
    points: dict[str, float]


@dataclass(frozen=True)
class PublishedRanking:
    """One anonymous ranking: its tracker and the labels, best first."""

    tracker: str
    order: tuple[str, ...]


@dataclass(frozen=True)
class Publication:
    """What anyone may recount a round from (sorted by tracker, so in no order of casting).

    ``membership``: council name → number of members when the ballots were aggregated (the
    councils' weights), and each ballot's ``councils`` as they were then (ballots stored
    before schema 0002 get their voter's current councils); ``rankings`` and ``labels``
    are empty before the tally.
    """

    round_id: int
    groups: tuple[str, ...]
    rule: str
    membership: dict[str, int]
    ballots: tuple[PublishedBallot, ...]
    labels: tuple[str, ...]
    rankings: tuple[PublishedRanking, ...]


@dataclass(frozen=True)
class Recount:
    """Weights and Schulze winner recomputed from a :class:`Publication`."""

    weights: dict[str, float]
    winner: str | None
    order: tuple[str, ...]


def _after(phase: str, limit: Phase) -> bool:
    return PHASE_ORDER.index(Phase(phase)) > PHASE_ORDER.index(limit)


def publication(db: Database, round_id: int) -> Publication:
    """The round's anonymous ballots (after the ballot phase) and rankings (after the tally)."""
    with db.read() as session:
        row = get_round(session, round_id)
        if not _after(row.phase, Phase.BALLOT):
            raise PhaseError(
                f"round {round_id}'s ballots are secret until its ballot phase is over",
                where=f"round {round_id}",
                expected="a round past the ballot phase",
                fix="wait for the facilitator to close the ballot phase",
            )
        stored = row.weights or {}
        aggregated = stored.get("ballot_councils", {})  # recorded at the close, by tracker
        ballots = [
            PublishedBallot(tracker, tuple(aggregated.get(tracker) or ()), dict(points))
            for tracker, points in session.execute(
                select(Ballot.tracker, Ballot.points).where(
                    Ballot.round_id == round_id, Ballot.is_current.is_(True)
                )
            )
        ]
        labels: list[str] = []
        rankings: list[PublishedRanking] = []
        if _after(row.phase, Phase.VOTE):
            labels = list(
                session.execute(
                    select(Alternative.label)
                    .where(Alternative.round_id == round_id)
                    .order_by(Alternative.position)
                ).scalars()
            )
            rankings = [
                PublishedRanking(tracker, tuple(order))
                for tracker, order in session.execute(
                    select(Ranking.tracker, Ranking.order).where(Ranking.round_id == round_id)
                )
            ]
        return Publication(
            round_id=round_id,
            groups=tuple(g["name"] for g in row.target_groups),
            rule=stored.get("rule", row.aggregation_rule),
            membership=dict(stored.get("membership", {})),
            ballots=tuple(sorted(ballots, key=lambda b: b.tracker or "")),
            labels=tuple(labels),
            rankings=tuple(sorted(rankings, key=lambda r: r.tracker or "")),
        )


def recount(published: Publication) -> Recount:
    """Recompute the weights and the Schulze result from a publication alone (no database)."""
    matrix = pd.DataFrame(
        [b.points for b in published.ballots],
        index=range(len(published.ballots)),
        columns=list(published.groups),
        dtype=float,
    ).fillna(0.0)
    pairs = pd.DataFrame(
        [(c, k) for k, b in enumerate(published.ballots) for c in b.councils],
        columns=["council", "member"],
    )
    _, allocation = aggregate(matrix, pairs, published.membership, rule=published.rule)
    weights = {g: float(w) for g, w in target_weights(allocation).items()}
    if not published.rankings:
        return Recount(weights, None, ())
    outcome = schulze([list(r.order) for r in published.rankings], list(published.labels))
    return Recount(weights, outcome.winner, tuple(outcome.order))


@dataclass(frozen=True)
class ReceiptCheck:
    """What a receipt shows: whether its ballot (or ranking) is published and counted, with
    the content published under its tracker, and whether an audit entry commits to that content."""

    kind: str
    counted: bool
    content: dict[str, float] | tuple[str, ...] | None
    committed_in_seq: int | None


def check_receipt(db: Database, round_id: int, receipt: str) -> ReceiptCheck:
    """Check a voter's receipt against the public record only (publication and audit log).

    ``counted`` is True when a published ballot or ranking carries the receipt's tracker and
    an audit entry of the round holds the commitment to exactly that content.
    """
    published = publication(db, round_id)
    tracker = tracker_of(receipt)
    found: tuple[str, dict[str, float] | tuple[str, ...]] | None = None
    for ballot in published.ballots:
        if ballot.tracker == tracker:
            found = ("ballot", ballot.points)
    for ranking in published.rankings:
        if ranking.tracker == tracker:
            found = ("ranking", ranking.order)
    if found is None:
        return ReceiptCheck("unknown", False, None, None)
    kind, content = found
    expected = commitment_of(
        receipt, kind, round_id, list(content) if kind == "ranking" else content
    )
    with db.read() as session:
        seq = session.execute(
            select(AuditEntry.seq).where(
                AuditEntry.action == f"{kind}.submit",
                AuditEntry.subject == f"round {round_id}",
                AuditEntry.payload.contains(f'"commitment":"{expected}"'),
            )
        ).scalar()
    return ReceiptCheck(kind, seq is not None, content, seq)
