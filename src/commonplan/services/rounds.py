"""Running a planning round (facilitators): open, advance phases, aggregate weights,
alternatives, tally, publish.

Phases, in order (:class:`~commonplan.store.models.Phase`)::

    ballot ──advance──▶ alternatives ──advance──▶ vote ──advance/tally──▶ tallied ──advance/publish──▶ published

* leaving ``ballot`` aggregates the ballots into the round's target weights (the rule
  chosen when the round was opened: ``mean`` or ``median``, see
  :mod:`commonplan.councils.ballots`);
* in ``alternatives`` the facilitator computes (or adds) the plan alternatives; leaving
  it needs at least two;
* leaving ``vote`` counts the rankings with the Schulze method;
* leaving ``tallied`` publishes the winning alternative's plan, which is immutable.

**Warnings** say, before the vote, when a vote cannot change what it seems to: a target
group with no sectors (no plan can deliver anything for it, so its points change
nothing), alternatives whose plans do not differ, and a target group a plan meets below
half of its target (:data:`LOW_FULFILMENT`). They are derived from what is stored — the
round's target groups and each alternative's key figures — so every reader sees the same
ones: :attr:`RoundInfo.warnings`, :attr:`AlternativeInfo.warnings` and, for the whole
round, :func:`round_warnings`.

Each function is one transaction, checks the actor's role and the round's phase, and
writes an audit entry that records the hash of every row it wrote (the round, an
alternative, the result, the published plan; see :mod:`commonplan.store.records`). The
round row is locked for the transaction, so two facilitators cannot advance the same
round twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from commonplan.councils.ballots import (
    RULES,
    TargetGroup,
    aggregate,
    target_weights,
    validate_target_groups,
)
from commonplan.councils.voting import schulze
from commonplan.errors import BallotError, ConflictError, ParticipationInputError, PhaseError
from commonplan.services._common import (
    assembly_of,
    audit,
    get_round,
    require_in_assembly,
    require_phase,
)
from commonplan.services.receipts import new_round_secret, new_salt, voter_key
from commonplan.services.roles import Actor, require
from commonplan.store.database import Database
from commonplan.store.models import (
    PHASE_ORDER,
    Alternative,
    Ballot,
    Council,
    Membership,
    Phase,
    PlanningRound,
    PublishedPlan,
    Ranking,
    RoundResult,
    RoundSecret,
    utcnow,
)
from commonplan.store.records import read_record, record, retired


@dataclass(frozen=True)
class RoundInfo:
    """A planning round as the services return it.

    ``weights`` is ``None`` until the ballot phase ends; then target group → weight
    (summing to 1). ``warnings``: target groups that no plan can serve (see
    :func:`target_group_warnings`).
    """

    id: int
    assembly_id: int
    title: str
    phase: Phase
    target_groups: tuple[TargetGroup, ...]
    aggregation_rule: str
    weights: dict[str, float] | None
    ballot_deadline: datetime | None
    vote_deadline: datetime | None
    base_problem: dict[str, Any]
    created_at: datetime
    warnings: tuple[str, ...] = ()

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.target_groups)


@dataclass(frozen=True)
class AggregatedWeights:
    """The outcome of aggregating a round's ballots.

    ``points`` is the assembly allocation (points per group, summing to 100),
    ``weights`` the same divided by 100; ``councils`` each council's allocation
    (council name → group → points); ``membership`` council name → number of members.
    """

    round_id: int
    rule: str
    points: dict[str, float]
    weights: dict[str, float]
    councils: dict[str, dict[str, float]]
    membership: dict[str, int]
    n_ballots: int


@dataclass(frozen=True)
class AlternativeInfo:
    """A plan alternative: its label (``A``, ``B``, …), weights, key figures and plan blob hash.

    ``warnings``: the target groups this plan meets below :data:`LOW_FULFILMENT` of their
    target, or whose fulfilment is unknown (see :func:`fulfilment_warnings`).
    """

    id: int
    round_id: int
    position: int
    label: str
    title: str
    description: str
    weights: dict[str, float]
    figures: dict[str, Any]
    plan_sha256: str | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResultInfo:
    """The Schulze result of a round, with the full pairwise and strongest-path matrices."""

    round_id: int
    winner: str
    order: tuple[str, ...]
    labels: tuple[str, ...]
    pairwise: pd.DataFrame
    strongest: pd.DataFrame
    tie_break: str
    n_rankings: int
    computed_at: datetime


@dataclass(frozen=True)
class PublishedPlanInfo:
    round_id: int
    alternative_id: int
    label: str
    title: str
    figures: dict[str, Any]
    plan_sha256: str | None
    published_by: int
    published_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


LOW_FULFILMENT = 0.5
"""A plan that meets a target group below this share of its target is flagged."""

SAME_PLAN_TOLERANCE = 1e-3
"""Two alternatives do not differ when every key figure agrees within this relative tolerance."""

_FIGURES_NOT_COMPARED = frozenset({"objective", "method"})
# the objective's value depends on the weights, not only on the plan; the method is how it was solved


def target_group_warnings(groups: Sequence[TargetGroup]) -> tuple[str, ...]:
    """One warning per product group that names no sectors: no plan delivers anything for it.

    Its fulfilment cannot be measured and the points given to it cannot change any plan
    (investment and import-independence groups need no sectors).
    """
    return tuple(
        f"target group {g.name!r} names no sectors of the economy: no plan can deliver "
        "anything for it, so the points given to it change nothing; open the round with "
        "the group's sectors"
        for g in groups
        if g.kind == "products" and not g.sectors
    )


def fulfilment_warnings(label: str, figures: Mapping[str, Any]) -> tuple[str, ...]:
    """Warnings for the target groups that alternative ``label`` meets below :data:`LOW_FULFILMENT`.

    ``figures["fulfilment_by_group"]`` maps group → delivered / target (``None`` when
    the group's target is zero or unknown, which is flagged too).
    """
    warnings = []
    for group, share in (figures.get("fulfilment_by_group") or {}).items():
        if share is None:
            warnings.append(
                f"plan {label}: the fulfilment of {group!r} is unknown "
                "(the group has no target in this economy)"
            )
        elif share < LOW_FULFILMENT:
            warnings.append(
                f"plan {label} meets {group!r} at {100 * share:.1f} % of its target "
                f"(below {100 * LOW_FULFILMENT:.0f} %)"
            )
    return tuple(warnings)


def _numbers(figures: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric key figures, flattened (``fulfilment_by_group.food``), without those not compared."""
    flat: dict[str, float] = {}
    for key, value in figures.items():
        if key in _FIGURES_NOT_COMPARED and not prefix:
            continue
        if isinstance(value, Mapping):
            flat.update(_numbers(value, f"{prefix}{key}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[prefix + key] = float(value)
    return flat


def _same_figures(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    if not a or a.keys() != b.keys():
        return False
    return all(
        abs(a[k] - b[k]) <= SAME_PLAN_TOLERANCE * max(abs(a[k]), abs(b[k])) + 1e-12 for k in a
    )


def same_plan_warnings(alternatives: Sequence[AlternativeInfo]) -> tuple[str, ...]:
    """One warning per alternative whose key figures equal an earlier one's (within :data:`SAME_PLAN_TOLERANCE`).

    Such alternatives put the same plan to the vote under different names: the
    trade-off that separates them changed nothing (for example, weights that move no
    binding resource).
    """
    warnings = []
    numbers = [_numbers(a.figures) for a in alternatives]
    for k, later in enumerate(alternatives):
        twin = next(
            (alternatives[j] for j in range(k) if _same_figures(numbers[j], numbers[k])), None
        )
        if twin is not None:
            warnings.append(
                f"plans {twin.label} and {later.label} do not differ: their key figures agree "
                f"within {100 * SAME_PLAN_TOLERANCE:g} %, so choosing between them changes nothing"
            )
    return tuple(warnings)


def _records(session: Session, *rows: Any) -> list[dict[str, Any]]:
    """The audit records of ORM rows just written (flushed first, then read back as stored)."""
    session.flush()
    return [read_record(session, row.__tablename__, row.id) for row in rows]


def round_info(row: PlanningRound) -> RoundInfo:
    weights = row.weights or None
    groups = tuple(TargetGroup.from_value(g) for g in row.target_groups)
    return RoundInfo(
        id=row.id,
        assembly_id=row.assembly_id,
        title=row.title,
        phase=Phase(row.phase),
        target_groups=groups,
        aggregation_rule=row.aggregation_rule,
        weights=dict(weights["weights"]) if weights else None,
        ballot_deadline=row.ballot_deadline,
        vote_deadline=row.vote_deadline,
        base_problem=dict(row.base_problem or {}),
        created_at=row.created_at,
        warnings=target_group_warnings(groups),
    )


def alternative_info(row: Alternative) -> AlternativeInfo:
    return AlternativeInfo(
        row.id,
        row.round_id,
        row.position,
        row.label,
        row.title,
        row.description,
        dict(row.weights),
        dict(row.figures),
        row.plan_sha256,
        fulfilment_warnings(row.label, row.figures),
    )


def result_info(row: RoundResult) -> ResultInfo:
    labels = pd.Index(row.labels, name="alternative")
    return ResultInfo(
        round_id=row.round_id,
        winner=row.winner_label,
        order=tuple(row.order),
        labels=tuple(row.labels),
        pairwise=pd.DataFrame(row.pairwise, index=labels, columns=labels),
        strongest=pd.DataFrame(row.strongest, index=labels, columns=labels),
        tie_break=row.tie_break,
        n_rankings=row.n_rankings,
        computed_at=row.computed_at,
    )


def open_round(
    db: Database,
    actor: Actor,
    assembly_id: int,
    title: str,
    target_groups: Sequence[TargetGroup | Mapping[str, Any] | str],
    *,
    base_problem: Mapping[str, Any] | None = None,
    ballot_deadline: datetime | None = None,
    vote_deadline: datetime | None = None,
    aggregation_rule: str = "mean",
) -> RoundInfo:
    """Open a planning round in the ballot phase (facilitators and administrators).

    ``base_problem`` holds the JSON parameters of the base plan problem (see
    :func:`commonplan.councils.alternatives.compute_alternatives`); deadlines are
    timezone-aware datetimes (ballots after ``ballot_deadline`` are refused).
    """
    require(actor, "open_round")
    groups = validate_target_groups(target_groups)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ParticipationInputError(
            "the round's title is empty or too long", where="title", expected="1–200 characters"
        )
    if aggregation_rule not in RULES:
        raise ParticipationInputError(
            f"unknown aggregation rule {aggregation_rule!r}",
            where="aggregation rule",
            expected="one of " + ", ".join(RULES),
        )
    for name, moment in (("ballot_deadline", ballot_deadline), ("vote_deadline", vote_deadline)):
        if moment is not None and moment.tzinfo is None:
            raise ParticipationInputError(
                f"{name} has no time zone",
                where=name,
                expected="a timezone-aware datetime (e.g. UTC)",
            )
    if ballot_deadline and vote_deadline and vote_deadline <= ballot_deadline:
        raise ParticipationInputError(
            "the vote deadline must come after the ballot deadline", where="vote_deadline"
        )
    with db.transaction() as session:
        assembly_of(session, assembly_id)
        require_in_assembly(session, actor, "open_round", assembly_id)
        row = PlanningRound(
            assembly_id=assembly_id,
            title=title,
            phase=Phase.BALLOT.value,
            target_groups=[g.to_dict() for g in groups],
            base_problem=dict(base_problem or {}),
            aggregation_rule=aggregation_rule,
            ballot_deadline=ballot_deadline,
            vote_deadline=vote_deadline,
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        session.add(RoundSecret(round_id=row.id, kind="ballot", secret=new_round_secret()))
        audit(
            session,
            actor,
            "round.open",
            f"round {row.id}",
            {
                "assembly_id": assembly_id,
                "title": title,
                "groups": [g.name for g in groups],
                "rule": aggregation_rule,
                "records": _records(session, row),
            },
        )
        return round_info(row)


def next_phase(phase: Phase | str) -> Phase | None:
    """The phase after ``phase`` (None after ``published``)."""
    k = PHASE_ORDER.index(Phase(phase))
    return PHASE_ORDER[k + 1] if k + 1 < len(PHASE_ORDER) else None


def advance_phase(
    db: Database, actor: Actor, round_id: int, *, expected: Phase | str | None = None
) -> RoundInfo:
    """Move the round to its next phase, doing what the move requires (see module doc).

    ``expected``, if given, is the phase the caller believes the round is in; a
    different phase raises :class:`PhaseError` (so a repeated click does not skip a phase).
    """
    require(actor, "advance_phase")
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_in_assembly(session, actor, "advance_phase", row.assembly_id)
        if expected is not None and row.phase != Phase(expected).value:
            raise PhaseError(
                f"round {round_id} is in the {row.phase} phase, not {Phase(expected).value}",
                where=f"round {round_id}",
                fix="reload the page and try again",
            )
        current = Phase(row.phase)
        written: list[Any] = []
        sealed: list[dict[str, Any]] = []
        if current is Phase.BALLOT:
            _aggregate_into(session, row, row.aggregation_rule)
            sealed = _seal_ballots(session, row)
        elif current is Phase.ALTERNATIVES:
            n = session.execute(
                select(func.count(Alternative.id)).where(Alternative.round_id == round_id)
            ).scalar_one()
            if n < 2:
                raise PhaseError(
                    f"round {round_id} has {n} alternatives; a vote needs at least two",
                    where=f"round {round_id}",
                    fix="compute or add alternatives first",
                )
            session.add(RoundSecret(round_id=row.id, kind="ranking", secret=new_round_secret()))
        elif current is Phase.VOTE:
            written.append(_tally_into(session, row))
            sealed = _seal_rankings(session, row)
        elif current is Phase.TALLIED:
            written.append(_publish_into(session, row, actor))
        else:
            raise ConflictError(
                f"round {round_id} is published; its plan cannot be changed",
                where=f"round {round_id}",
                fix="open a new round",
            )
        target = next_phase(current)
        assert target is not None
        row.phase = target.value
        audit(
            session,
            actor,
            "round.advance",
            f"round {round_id}",
            {
                "from": current.value,
                "to": target.value,
                "records": _records(session, row, *written) + sealed,
            },
        )
        return round_info(row)


def _round_ballots(
    session: Session, row: PlanningRound
) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, int], dict[int, str], dict[Any, str | None]]:
    """The current ballots (rows indexed by voter), who belongs to which council, council
    sizes and names, and each voter's tracker.

    While the phase is open a voter is known by their voter key, mapped back to the member
    with the round secret; once the ballots are sealed a voter is their ballot's tracker,
    with the councils recorded for it at the close (``weights["ballot_councils"]``).
    """
    groups = [g["name"] for g in row.target_groups]
    ballots = session.execute(
        select(Ballot.id, Ballot.voter_key, Ballot.points, Ballot.tracker).where(
            Ballot.round_id == row.id, Ballot.is_current.is_(True)
        )
    ).all()
    pairs = session.execute(
        select(Membership.council_id, Membership.user_id)
        .join(Council, Council.id == Membership.council_id)
        .where(Council.assembly_id == row.assembly_id)
    ).all()
    counts: dict[int, int] = {}
    for council, _member in pairs:
        counts[council] = counts.get(council, 0) + 1
    names = dict(
        session.execute(
            select(Council.id, Council.name).where(Council.assembly_id == row.assembly_id)
        ).all()
    )
    secret = session.execute(
        select(RoundSecret.secret).where(
            RoundSecret.round_id == row.id, RoundSecret.kind == "ballot"
        )
    ).scalar_one_or_none()
    if secret is not None:
        members = {voter_key(secret, user): user for _c, user in pairs}
        voters = [members.get(b.voter_key, f"ballot {b.id}") for b in ballots]
        memberships = pd.DataFrame(pairs, columns=["council", "member"])
    else:
        voters = [b.tracker or f"ballot {b.id}" for b in ballots]
        ids = {name: council for council, name in names.items()}
        recorded = (row.weights or {}).get("ballot_councils", {})
        memberships = pd.DataFrame(
            [
                (ids[name], voter)
                for voter in voters
                for name in recorded.get(voter, ())
                if name in ids
            ],
            columns=["council", "member"],
        )
    matrix = pd.DataFrame.from_dict(
        {v: b.points for v, b in zip(voters, ballots, strict=True)},
        orient="index",
        columns=groups,
        dtype=float,
    ).fillna(0.0)
    trackers = {v: b.tracker for v, b in zip(voters, ballots, strict=True)}
    return matrix, memberships, counts, names, trackers


def _seal_ballots(session: Session, row: PlanningRound) -> list[dict[str, Any]]:
    """Seal the round's ballots at the close of its ballot phase (see :func:`_seal`)."""
    return _seal(session, row, Ballot.__table__, "ballot", ("points", "is_current"))


def _seal_rankings(session: Session, row: PlanningRound) -> list[dict[str, Any]]:
    """Seal the round's rankings at the tally (see :func:`_seal`)."""
    return _seal(session, row, Ranking.__table__, "ranking", ("order",))


def _seal(
    session: Session, row: PlanningRound, table: Any, kind: str, kept: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Seal the round's ballots or rankings; return the audit records.

    The current rows (all rankings; a ballot's latest) are inserted again in random order,
    with fresh ids and salts, no voter key, no request id and the close as their time;
    every row of the phase is deleted (each recorded as retired), and so is the round's
    secret of ``kind``. From then on nothing stored links them to their voters. Trackers
    are kept, so receipts still find them; ``kept`` names the content columns copied.
    """
    rows = session.execute(select(table).where(table.c.round_id == row.id)).all()
    # SQLite reuses the largest freed rowid: number the sealed rows above every id ever
    # used, so that none takes the id of a phase row an earlier audit entry names.
    # (PostgreSQL's sequence never reuses one.)
    next_id = None
    if session.get_bind().dialect.name == "sqlite":
        next_id = (session.execute(select(func.max(table.c.id))).scalar_one() or 0) + 1
    current = [r for r in rows if getattr(r, "is_current", True)]
    random.SystemRandom().shuffle(current)
    session.execute(delete(table).where(table.c.round_id == row.id))
    session.execute(
        delete(RoundSecret).where(RoundSecret.round_id == row.id, RoundSecret.kind == kind)
    )
    records = [retired(table.name, r.id) for r in sorted(rows, key=lambda r: r.id)]
    now = utcnow()
    fresh = []
    for old in current:
        values = {
            "round_id": row.id,
            "voter_key": None,
            **{column: old._mapping[column] for column in kept},
            "request_id": None,
            "salt": new_salt(),
            "tracker": old.tracker,
        }
        if next_id is not None:
            values = {"id": next_id, **values}
            next_id += 1
        new_id = session.execute(
            insert(table).values(**values, submitted_at=now).returning(table.c.id)
        ).scalar_one()
        fresh.append(record(table.name, {**values, "id": new_id}))
    fresh.sort(key=lambda item: item["hash"])  # in no order that says anything
    return records + fresh


def _aggregate_into(session: Session, row: PlanningRound, rule: str) -> AggregatedWeights:
    matrix, memberships, counts, names, trackers = _round_ballots(session, row)
    try:
        councils, assembly = aggregate(matrix, memberships, counts, rule=rule)
    except BallotError as error:
        raise PhaseError(
            f"cannot aggregate round {row.id}: {error.message}",
            where=f"round {row.id}",
            fix=error.fix,
        ) from None
    weights = target_weights(assembly)
    result = AggregatedWeights(
        round_id=row.id,
        rule=rule,
        points={g: float(v) for g, v in assembly.items()},
        weights={g: float(v) for g, v in weights.items()},
        councils={
            names[c]: {g: float(v) for g, v in councils.loc[c].items()} for c in councils.index
        },
        membership={names[c]: int(counts[c]) for c in councils.index},
        n_ballots=len(matrix),
    )
    row.aggregation_rule = rule
    row.weights = {
        "rule": rule,
        "points": result.points,
        "weights": result.weights,
        "councils": result.councils,
        "membership": result.membership,
        "n_ballots": result.n_ballots,
        # each ballot's councils as aggregated, for the anonymous publication's recount
        "ballot_councils": _ballot_councils(memberships, names, trackers),
    }
    return result


def _ballot_councils(
    memberships: pd.DataFrame, names: Mapping[int, str], trackers: Mapping[Any, str | None]
) -> dict[str, list[str]]:
    """Tracker → the names of its voter's councils (sorted), for the ballots that have a tracker."""
    councils: dict[Any, list[str]] = {}
    for council, member in memberships.itertuples(index=False):
        councils.setdefault(member, []).append(names[council])
    return {
        tracker: sorted(councils.get(user, []))
        for user, tracker in trackers.items()
        if tracker is not None
    }


def aggregate_weights(
    db: Database, actor: Actor, round_id: int, *, rule: str | None = None
) -> AggregatedWeights:
    """Re-aggregate the (closed) ballots with ``rule`` (``mean`` or ``median``) in the alternatives phase.

    The ballot phase's end aggregates with the round's rule automatically; this lets the
    facilitator switch rules before alternatives are computed.
    """
    require(actor, "aggregate_weights")
    if rule is not None and rule not in RULES:
        raise ParticipationInputError(
            f"unknown aggregation rule {rule!r}",
            where="rule",
            expected="one of " + ", ".join(RULES),
        )
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_in_assembly(session, actor, "aggregate_weights", row.assembly_id)
        require_phase(row, Phase.ALTERNATIVES, "aggregate the ballots")
        result = _aggregate_into(session, row, rule or row.aggregation_rule)
        audit(
            session,
            actor,
            "round.aggregate",
            f"round {round_id}",
            {"rule": result.rule, "points": result.points, "records": _records(session, row)},
        )
        return result


def add_alternative(
    db: Database,
    actor: Actor,
    round_id: int,
    title: str,
    *,
    description: str = "",
    weights: Mapping[str, float] | None = None,
    figures: Mapping[str, Any] | None = None,
    plan: pd.DataFrame | None = None,
) -> AlternativeInfo:
    """Add one alternative by hand in the alternatives phase (facilitators); labelled A, B, C, … in order.

    ``plan`` (optional) is a labelled DataFrame (e.g. activity levels and outputs per
    product) stored as a Parquet blob.
    """
    require(actor, "compute_alternatives")
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_in_assembly(session, actor, "compute_alternatives", row.assembly_id)
        require_phase(row, Phase.ALTERNATIVES, "add alternatives")
        return alternative_info(
            _insert_alternative(session, row, actor, title, description, weights, figures, plan)
        )


MAX_ALTERNATIVES = 26


def _insert_alternative(
    session: Session,
    row: PlanningRound,
    actor: Actor,
    title: str,
    description: str,
    weights: Mapping[str, float] | None,
    figures: Mapping[str, Any] | None,
    plan: pd.DataFrame | None,
) -> Alternative:
    from commonplan.store.audit import canonical_json
    from commonplan.store.blobs import frame_to_parquet, put_blob

    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ParticipationInputError(
            "an alternative's title is empty or too long",
            where="title",
            expected="1–200 characters",
        )
    n = session.execute(
        select(func.count(Alternative.id)).where(Alternative.round_id == row.id)
    ).scalar_one()
    if n >= MAX_ALTERNATIVES:
        raise ConflictError(f"round {row.id} already has {n} alternatives", where=f"round {row.id}")
    figures = dict(figures or {})
    canonical_json(figures)  # refuses NaN and infinities
    digest = put_blob(session, frame_to_parquet(plan), kind="plan") if plan is not None else None
    alternative = Alternative(
        round_id=row.id,
        position=n,
        label=chr(ord("A") + n),
        title=title,
        description=description,
        weights=dict(weights or {}),
        figures=figures,
        plan_sha256=digest,
    )
    session.add(alternative)
    audit(
        session,
        actor,
        "alternative.add",
        f"round {row.id}",
        {
            "label": alternative.label,
            "title": title,
            "plan_sha256": digest,
            "records": _records(session, alternative),
        },
    )
    return alternative


def compute_alternatives(
    db: Database, actor: Actor, round_id: int, **options: Any
) -> list[AlternativeInfo]:
    """Compute the round's plan alternatives from its aggregated weights and stated trade-offs.

    Uses :func:`commonplan.councils.alternatives.compute_alternatives` on the
    assembly's stored economy and the round's ``base_problem``; ``options`` are passed
    on (e.g. ``trade_offs``). Replaces nothing: the round must have no alternatives yet.
    The planning runs before the write transaction, so the database is not held
    during the solve.
    """
    require(actor, "compute_alternatives")
    from commonplan.councils.alternatives import compute_alternatives as compute
    from commonplan.services.assemblies import load_economy
    from commonplan.store.models import Assembly

    with db.read() as session:
        row = get_round(session, round_id)
        require_in_assembly(session, actor, "compute_alternatives", row.assembly_id)
        require_phase(row, Phase.ALTERNATIVES, "compute alternatives")
        info = round_info(row)
        assembly = session.get(Assembly, row.assembly_id)
        economy_id = assembly.economy_id if assembly is not None else None
    if economy_id is None:
        raise ConflictError(
            f"the assembly of round {round_id} has no economy",
            where=f"round {round_id}",
            fix="create the assembly with an economy",
        )
    assert info.weights is not None
    economy = load_economy(db, economy_id)
    computed = compute(
        economy, info.target_groups, info.weights, base_problem=info.base_problem, **options
    )
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_phase(row, Phase.ALTERNATIVES, "compute alternatives")
        existing = session.execute(
            select(func.count(Alternative.id)).where(Alternative.round_id == round_id)
        ).scalar_one()
        if existing:
            raise ConflictError(
                f"round {round_id} already has {existing} alternatives", where=f"round {round_id}"
            )
        rows = [
            _insert_alternative(
                session,
                row,
                actor,
                alt.title,
                alt.description,
                alt.weights,
                alt.figures,
                alt.plan_frame,
            )
            for alt in computed
        ]
        return [alternative_info(r) for r in rows]


def round_warnings(db: Database, round_id: int) -> tuple[str, ...]:
    """Everything voters should know before they vote on round ``round_id``, in order:

    target groups no plan can serve (:func:`target_group_warnings`), alternatives that do
    not differ (:func:`same_plan_warnings`), and groups each alternative meets below
    :data:`LOW_FULFILMENT` (:func:`fulfilment_warnings`). Empty when there is nothing to say.
    """
    with db.read() as session:
        info = round_info(get_round(session, round_id))
        alternatives = [
            alternative_info(r)
            for r in session.execute(
                select(Alternative)
                .where(Alternative.round_id == round_id)
                .order_by(Alternative.position)
            ).scalars()
        ]
    return (
        info.warnings
        + same_plan_warnings(alternatives)
        + tuple(w for a in alternatives for w in a.warnings)
    )


def _tally_into(session: Session, row: PlanningRound) -> RoundResult:
    alternatives = (
        session.execute(
            select(Alternative.label)
            .where(Alternative.round_id == row.id)
            .order_by(Alternative.position)
        )
        .scalars()
        .all()
    )
    rankings = (
        session.execute(
            select(Ranking.order).where(Ranking.round_id == row.id).order_by(Ranking.id)
        )
        .scalars()
        .all()
    )
    if not rankings:
        raise PhaseError(
            f"round {row.id} has no rankings to count",
            where=f"round {row.id}",
            fix="wait for members to rank the alternatives",
        )
    outcome = schulze([list(r) for r in rankings], alternatives)
    result = RoundResult(
        round_id=row.id,
        winner_label=outcome.winner,
        order=list(outcome.order),
        labels=list(outcome.alternatives),
        pairwise=outcome.pairwise.to_numpy().tolist(),
        strongest=outcome.strongest.to_numpy().tolist(),
        tie_break=outcome.tie_break_rule if outcome.tie_broken else "",
        n_rankings=outcome.n_ballots,
    )
    session.add(result)
    session.flush()
    return result


def tally_round(db: Database, actor: Actor, round_id: int) -> ResultInfo:
    """Count the rankings with the Schulze method and move the round to ``tallied``."""
    require(actor, "tally_round")
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_in_assembly(session, actor, "tally_round", row.assembly_id)
        require_phase(row, Phase.VOTE, "tally the vote")
        result = _tally_into(session, row)
        sealed = _seal_rankings(session, row)
        row.phase = Phase.TALLIED.value
        audit(
            session,
            actor,
            "round.tally",
            f"round {round_id}",
            {
                "winner": result.winner_label,
                "order": result.order,
                "n_rankings": result.n_rankings,
                "records": _records(session, row, result) + sealed,
            },
        )
        return result_info(result)


def _publish_into(session: Session, row: PlanningRound, actor: Actor) -> PublishedPlan:
    if session.execute(select(PublishedPlan.id).where(PublishedPlan.round_id == row.id)).first():
        raise ConflictError(
            f"round {row.id}'s plan is already published and cannot be changed",
            where=f"round {row.id}",
            fix="open a new round",
        )
    result = session.execute(select(RoundResult).where(RoundResult.round_id == row.id)).scalar_one()
    winner = session.execute(
        select(Alternative).where(
            Alternative.round_id == row.id, Alternative.label == result.winner_label
        )
    ).scalar_one()
    if actor.user_id is None:
        raise ConflictError(
            "publishing needs an account (the system actor cannot sign a publication)",
            where="publish",
            fix="publish as a facilitator",
        )
    published = PublishedPlan(
        round_id=row.id,
        alternative_id=winner.id,
        plan_sha256=winner.plan_sha256,
        figures=dict(winner.figures),
        published_by=actor.user_id,
    )
    session.add(published)
    session.flush()
    return published


def publish_plan(db: Database, actor: Actor, round_id: int) -> PublishedPlanInfo:
    """Publish the winning alternative's plan (facilitators); afterwards it cannot be changed.

    Publishing again, or publishing before the tally, is refused.
    """
    require(actor, "publish_plan")
    with db.transaction() as session:
        row = get_round(session, round_id, lock=True)
        require_in_assembly(session, actor, "publish_plan", row.assembly_id)
        if row.phase == Phase.PUBLISHED.value:
            raise ConflictError(
                f"round {round_id}'s plan is already published and cannot be changed",
                where=f"round {round_id}",
                fix="open a new round",
            )
        require_phase(row, Phase.TALLIED, "publish the plan")
        published = _publish_into(session, row, actor)
        row.phase = Phase.PUBLISHED.value
        audit(
            session,
            actor,
            "plan.publish",
            f"round {round_id}",
            {
                "alternative_id": published.alternative_id,
                "plan_sha256": published.plan_sha256,
                "records": _records(session, row, published),
            },
        )
        winner = session.get(Alternative, published.alternative_id)
        return PublishedPlanInfo(
            round_id,
            published.alternative_id,
            winner.label,
            winner.title,
            dict(published.figures),
            published.plan_sha256,
            published.published_by,
            published.published_at,
        )
