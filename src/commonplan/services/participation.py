"""Live participatory rounds: councils send proposals through the server, iteration after iteration.

The Hahnel–Szczepanczyk procedure (:mod:`commonplan.participation`) run by people and programs
instead of inside one process:

1. An administrator gives the assembly one council per council of a participatory economy
   (:func:`provision_councils`, names ``WC 1`` … and ``CC 1`` …) and their members (people, or
   bot accounts: :func:`add_members`).
2. A facilitator opens a **live round** (:func:`open_live_round`) with the economy, the stopping
   threshold, the iteration cap, how long an iteration stays open and the price rule. Iteration
   1 opens at the initial prices.
3. In each iteration every council sends its proposal at the announced prices
   (:func:`submit_proposals`: one council or many per call; a council may revise its proposal
   until the iteration closes).
4. The iteration closes when every council has proposed, when its deadline passes
   (:func:`close_due_iterations`, run by the server's tick) or when the board closes it
   (:func:`close_iteration`). A council that did not propose in time has its last proposal
   stand, recorded as a copy (``carried_from``). The board sums the proposals and moves the
   prices with the same rule code as the simulation
   (:func:`commonplan.participation.live.board_step`); the next iteration opens, until no
   imbalance exceeds the threshold or the cap is reached.
5. The last iteration's proposals are the round's plan (:func:`final_plan`); a facilitator adds
   it as an alternative of a planning round (:func:`add_as_alternative`), which then goes
   through the vote and the publication like any other.

Every row is written in a transaction with its audit entry (:mod:`commonplan.store.records`), so
an acknowledged proposal survives a crash and the round continues after a restart. Disclosure:
a proposal row names its council, not the person who sent it; each council's proposals are
visible to the assembly's facilitators (the board) and to the council's members, the totals
per good to everyone (:func:`iteration_history`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commonplan.errors import (
    CommonplanError,
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
)
from commonplan.participation.live import (
    CouncilKind,
    Proposal,
    board_step,
    bot_proposals,
    check_proposal,
    class_imbalance,
    commodity_names,
    pack_economy,
    rule_from_parameters,
    rule_parameters,
    tally,
    unpack_economy,
)
from commonplan.participation.model import GoodClass, ParticipatoryEconomy
from commonplan.participation.procedure import (
    INITIAL_PRICE,
    MAX_ROUNDS,
    STOP_THRESHOLD,
    Councils,
    PriceRule,
    hahnel_szczepanczyk_rule,
)
from commonplan.services._common import (
    assembly_of,
    audit,
    audit_on_commit,
    require_in_assembly,
)
from commonplan.services.roles import Actor, require
from commonplan.store.blobs import get_blob, put_blob
from commonplan.store.database import Database
from commonplan.store.models import (
    Council,
    LiveCouncil,
    LiveIteration,
    LiveProposal,
    LiveRound,
    LiveRoundStatus,
    Membership,
    User,
    utcnow,
)
from commonplan.store.models import (
    CouncilKind as StoreCouncilKind,
)
from commonplan.store.records import read_records, record

MAX_BATCH = 5000
"""Most proposals one call may carry."""

_PROPOSALS = LiveProposal.__table__
# Without RETURNING, SQLite inserts many rows in one executemany (with it, one by one); the
# ids are then read back by the (round, iteration, council) key the table holds unique.
_INSERT_PROPOSALS = insert(_PROPOSALS)
_FRESH_IDS = select(_PROPOSALS.c.council_id, _PROPOSALS.c.id).where(
    _PROPOSALS.c.round_id == bindparam("round_id"),
    _PROPOSALS.c.iteration == bindparam("iteration"),
    _PROPOSALS.c.council_id.in_(bindparam("councils", expanding=True)),
)
_UPDATE_PROPOSAL = (
    update(_PROPOSALS)
    .where(_PROPOSALS.c.id == bindparam("row_id"))
    .values(
        output=bindparam("output"),
        quantities=bindparam("quantities"),
        salt=bindparam("salt"),
        submitted_at=bindparam("submitted_at"),
    )
)


def council_name(kind: CouncilKind, position: int) -> str:
    """The assembly council that stands for council ``position`` (0-based) of the economy."""
    return f"{'WC' if kind == 'worker' else 'CC'} {position + 1}"


# ---- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveRoundInfo:
    """A live round: its settings and where it stands.

    ``goods``: the commodities' names in order; ``price``: the prices of the open (or last)
    iteration, credits per unit; ``deadline``: when the open iteration closes (None: no
    deadline, or the round is over); ``n_proposed``: councils that proposed in it so far.
    """

    id: int
    assembly_id: int
    title: str
    status: str
    iteration: int
    n_workers: int
    n_consumers: int
    stop_threshold: float
    max_iterations: int
    iteration_seconds: int | None
    rule: dict[str, Any]
    initial_price: float
    goods: tuple[str, ...]
    price: tuple[float, ...]
    deadline: datetime | None
    n_proposed: int
    created_at: datetime
    finished_at: datetime | None

    @property
    def n_councils(self) -> int:
        return self.n_workers + self.n_consumers

    @property
    def is_open(self) -> bool:
        return self.status == LiveRoundStatus.OPEN.value


@dataclass(frozen=True)
class IterationInfo:
    """One iteration as everyone may see it: the prices it was opened at, and once closed the
    totals per good (units), the imbalance per good and the worst per good class (fractions),
    and how many councils proposed, had their last proposal stand, or had none."""

    number: int
    price: tuple[float, ...]
    opened_at: datetime
    deadline: datetime | None
    closed_at: datetime | None
    supply: tuple[float, ...] | None
    demand: tuple[float, ...] | None
    imbalance: tuple[float, ...] | None
    worst_imbalance: float | None
    class_imbalance: dict[str, float] | None
    n_proposed: int
    n_carried: int
    n_missing: int
    closed_by: str | None


@dataclass(frozen=True)
class SubmittedProposals:
    """What a call to :func:`submit_proposals` stored: the iteration, how many proposals
    (``replaced`` of them revised an earlier one of the same iteration), and whether the
    iteration then closed (every council had proposed)."""

    round_id: int
    iteration: int
    stored: int
    replaced: int
    closed: bool


@dataclass(frozen=True)
class RoundCouncil:
    """A council of a live round: the assembly's council id and name, and which council of
    the economy it is (``kind``, 0-based ``position``)."""

    council_id: int
    name: str
    kind: str
    position: int


@dataclass(frozen=True)
class CouncilView:
    """What a council's page shows: the council, the open iteration and its prices of the goods
    it makes or uses, its last proposal, and the last closed iteration's imbalance of those
    goods (fraction; positive surplus = excess supply)."""

    round: LiveRoundInfo
    council: RoundCouncil
    makes: str | None
    uses: tuple[str, ...]
    prices: dict[str, float]
    last_proposal: dict[str, Any] | None
    last_iteration: int | None
    imbalance: dict[str, float]
    surplus: dict[str, float]
    proposed_now: bool


# ---- provisioning (administrators) -------------------------------------------------------


def provision_councils(
    db: Database, actor: Actor, assembly_id: int, economy: ParticipatoryEconomy
) -> list[RoundCouncil]:
    """Give the assembly one council per council of ``economy`` (administrators).

    Worker council ``w`` is the workers' council ``WC w`` (its sector: the good it makes),
    consumer council ``c`` the consumers' council ``CC c``; councils of those names that exist
    already are kept. Returns every council in the economy's order (workers first).
    """
    require(actor, "create_council")
    names = commodity_names(economy)
    output = economy.worker_output_commodity
    wanted = [("worker", w, names[int(output[w])]) for w in range(economy.workers.count)]
    wanted += [("consumer", c, None) for c in range(economy.consumers.count)]
    with db.transaction() as session:
        assembly_of(session, assembly_id)
        existing = dict(
            session.execute(
                select(Council.name, Council.id).where(Council.assembly_id == assembly_id)
            ).all()
        )
        new = [
            {
                "assembly_id": assembly_id,
                "name": council_name(kind, position),  # type: ignore[arg-type]
                "kind": (
                    StoreCouncilKind.WORKERS if kind == "worker" else StoreCouncilKind.CONSUMERS
                ).value,
                "sector": sector,
                "created_at": utcnow(),
            }
            for kind, position, sector in wanted
            if council_name(kind, position) not in existing  # type: ignore[arg-type]
        ]
        if new:
            table = Council.__table__
            ids = session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), new
            ).scalars()
            existing.update(zip((row["name"] for row in new), ids, strict=True))
            audit(
                session,
                actor,
                "councils.provision",
                f"assembly {assembly_id}",
                {
                    "economy": economy.name,
                    "councils": [[existing[r["name"]], r["name"], r["kind"]] for r in new],
                },
            )
        return [
            RoundCouncil(existing[council_name(k, p)], council_name(k, p), k, p)  # type: ignore[arg-type]
            for k, p, _ in wanted
        ]


def add_members(db: Database, actor: Actor, user_id: int, council_ids: Sequence[int]) -> int:
    """Make a user a member of many councils at once (administrators), e.g. a bot account that
    proposes for them; memberships that exist are kept. Returns how many were added."""
    require(actor, "add_membership")
    with db.transaction() as session:
        if session.get(User, user_id) is None:
            raise NotFoundError(f"no user with id {user_id}", where="user id")
        wanted = sorted({int(c) for c in council_ids})
        found: set[int] = set()
        have: set[int] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            found.update(session.execute(select(Council.id).where(Council.id.in_(chunk))).scalars())
            have.update(
                session.execute(
                    select(Membership.council_id).where(
                        Membership.user_id == user_id, Membership.council_id.in_(chunk)
                    )
                ).scalars()
            )
        missing = sorted(set(wanted) - found)
        if missing:
            raise NotFoundError(
                f"no council with id {missing[0]}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                where="council ids",
            )
        new = [c for c in wanted if c not in have]
        if new:
            now = utcnow()
            session.execute(
                insert(Membership.__table__),
                [{"council_id": c, "user_id": user_id, "created_at": now} for c in new],
            )
            audit(
                session,
                actor,
                "memberships.add",
                f"user {user_id}",
                {"councils": new},
            )
        return len(new)


# ---- opening a round ----------------------------------------------------------------------


def _check_settings(
    stop_threshold: float, max_iterations: int, iteration_seconds: int | None, initial_price: float
) -> None:
    if not (isinstance(stop_threshold, int | float) and 0 < stop_threshold < 2):
        raise ParticipationInputError(
            f"the stopping threshold is {stop_threshold!r}",
            where="stop threshold",
            expected="a fraction in (0, 2), e.g. 0.03 for 3 %",
        )
    if not (isinstance(max_iterations, int) and 1 <= max_iterations <= 10_000):
        raise ParticipationInputError(
            f"the iteration cap is {max_iterations!r}",
            where="max iterations",
            expected="an integer from 1 to 10000 (the program's cap is 200)",
        )
    if iteration_seconds is not None and not (
        isinstance(iteration_seconds, int) and 1 <= iteration_seconds <= 366 * 86_400
    ):
        raise ParticipationInputError(
            f"the iteration length is {iteration_seconds!r} s",
            where="iteration seconds",
            expected="whole seconds from 1 to a year, or none (close when all have proposed)",
        )
    if not (
        isinstance(initial_price, int | float) and np.isfinite(initial_price) and initial_price > 0
    ):
        raise ParticipationInputError(
            f"the initial price is {initial_price!r}",
            where="initial price",
            expected="a finite price > 0 (credits per unit; the program's is 700)",
        )


def open_live_round(
    db: Database,
    actor: Actor,
    assembly_id: int,
    economy: ParticipatoryEconomy,
    *,
    title: str,
    stop_threshold: float = STOP_THRESHOLD,
    max_iterations: int = MAX_ROUNDS,
    iteration_seconds: int | None = None,
    rule: PriceRule = hahnel_szczepanczyk_rule,
    initial_price: float = INITIAL_PRICE,
    now: datetime | None = None,
) -> LiveRoundInfo:
    """Open a live round on an assembly (its facilitators) and its first iteration.

    Every council of ``economy`` must be a council of the assembly (:func:`provision_councils`).
    ``stop_threshold`` (fraction), ``max_iterations`` and ``rule`` as in
    :func:`~commonplan.participation.procedure.run_year`; ``iteration_seconds``: how long each
    iteration stays open (None: until every council has proposed or the board closes it);
    ``initial_price``: every price of iteration 1 (credits per unit).
    """
    require(actor, "open_live_round")
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ParticipationInputError(
            "the round's title is empty or too long", where="title", expected="1–200 characters"
        )
    _check_settings(stop_threshold, max_iterations, iteration_seconds, initial_price)
    parameters = rule_parameters(rule)
    moment = now or utcnow()
    n = economy.n_commodities
    with db.transaction() as session:
        assembly_of(session, assembly_id)
        require_in_assembly(session, actor, "open_live_round", assembly_id)
        by_name = dict(
            session.execute(
                select(Council.name, Council.id).where(Council.assembly_id == assembly_id)
            ).all()
        )
        councils = [("worker", w) for w in range(economy.workers.count)]
        councils += [("consumer", c) for c in range(economy.consumers.count)]
        missing = [council_name(k, p) for k, p in councils if council_name(k, p) not in by_name]  # type: ignore[arg-type]
        if missing:
            raise NotFoundError(
                f"the assembly has no council {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                where=f"assembly {assembly_id}",
                expected="one council per council of the economy (WC 1 …, CC 1 …)",
                fix="ask an administrator to open the round with provision (the page /live, or provision: true in the API)",
            )
        digest = put_blob(session, pack_economy(economy), kind="participatory-economy")
        row = LiveRound(
            assembly_id=assembly_id,
            title=title,
            economy_sha256=digest,
            n_commodities=n,
            n_workers=economy.workers.count,
            n_consumers=economy.consumers.count,
            stop_threshold=float(stop_threshold),
            max_iterations=int(max_iterations),
            iteration_seconds=iteration_seconds,
            rule=parameters,
            initial_price=float(initial_price),
            status=LiveRoundStatus.OPEN.value,
            iteration=1,
            created_by=actor.user_id,
            created_at=moment,
        )
        session.add(row)
        session.flush()
        table = LiveCouncil.__table__
        mapping = [
            {
                "round_id": row.id,
                "council_id": by_name[council_name(k, p)],  # type: ignore[arg-type]
                "kind": k,
                "position": p,
            }
            for k, p in councils
        ]
        ids = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), mapping
        ).scalars()
        records = [
            record("live_councils", dict(m, id=i)) for m, i in zip(mapping, ids, strict=True)
        ]
        first = _new_iteration(
            session,
            row,
            1,
            np.full(n, float(initial_price)),
            np.asarray(rule.initial_state(n), dtype=np.float64),
            moment,
        )
        audit(
            session,
            actor,
            "live.open",
            f"live round {row.id}",
            {
                "economy_sha256": digest,
                "records": [
                    *_records(session, "live_rounds", row.id),
                    *records,
                    *_records(session, "live_iterations", first.id),
                ],
            },
        )
        return _round_info(session, row)


def _new_iteration(
    session: Session,
    row: LiveRound,
    number: int,
    price: np.ndarray,
    state: np.ndarray,
    moment: datetime,
) -> LiveIteration:
    deadline = moment + timedelta(seconds=row.iteration_seconds) if row.iteration_seconds else None
    iteration = LiveIteration(
        round_id=row.id,
        number=number,
        price=[float(p) for p in price],
        state=[float(s) for s in state],
        opened_at=moment,
        deadline=deadline,
        n_proposed=0,
        n_carried=0,
        n_missing=0,
    )
    session.add(iteration)
    session.flush()
    return iteration


def _records(session: Session, table: str, *ids: int) -> list[dict[str, Any]]:
    session.flush()
    return read_records(session, table, ids)


# ---- reading ----------------------------------------------------------------------------------


_ECONOMIES: dict[str, ParticipatoryEconomy] = {}
_ECONOMIES_LOCK = threading.Lock()


def _economy(session: Session, row: LiveRound) -> ParticipatoryEconomy:
    """The round's economy (unpacked once per process and blob)."""
    return _economy_by_digest(session, row.economy_sha256)


def _round(session: Session, round_id: int, *, lock: bool | str = False) -> LiveRound:
    query = select(LiveRound).where(LiveRound.id == round_id)
    if lock == "share":
        query = query.with_for_update(read=True)
    elif lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            f"no live round with id {round_id}", where="live round id", fix="check the round's id"
        )
    return row


def _iteration(session: Session, round_id: int, number: int) -> LiveIteration:
    row = session.execute(
        select(LiveIteration).where(
            LiveIteration.round_id == round_id, LiveIteration.number == number
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"live round {round_id} has no iteration {number}", where="iteration")
    return row


def _count_proposals(session: Session, round_id: int, number: int) -> int:
    return session.execute(
        select(func.count(LiveProposal.id)).where(
            LiveProposal.round_id == round_id, LiveProposal.iteration == number
        )
    ).scalar_one()


def _round_info(session: Session, row: LiveRound) -> LiveRoundInfo:
    current = _iteration(session, row.id, row.iteration)
    economy = _economy(session, row)
    return LiveRoundInfo(
        row.id,
        row.assembly_id,
        row.title,
        row.status,
        row.iteration,
        row.n_workers,
        row.n_consumers,
        row.stop_threshold,
        row.max_iterations,
        row.iteration_seconds,
        dict(row.rule),
        row.initial_price,
        commodity_names(economy),
        tuple(current.price),
        current.deadline if current.closed_at is None else None,
        _count_proposals(session, row.id, row.iteration)
        if current.closed_at is None
        else current.n_proposed,
        row.created_at,
        row.finished_at,
    )


def live_round_info(db: Database, round_id: int) -> LiveRoundInfo:
    """A live round's settings and state (public)."""
    with db.read() as session:
        return _round_info(session, _round(session, round_id))


def list_live_rounds(db: Database, assembly_id: int | None = None) -> list[LiveRoundInfo]:
    """Live rounds, newest first (of one assembly if given; public)."""
    with db.read() as session:
        query = select(LiveRound).order_by(LiveRound.id.desc())
        if assembly_id is not None:
            query = query.where(LiveRound.assembly_id == assembly_id)
        return [_round_info(session, r) for r in session.execute(query).scalars()]


def _iteration_info(
    economy: ParticipatoryEconomy, row: LiveIteration, n_open: int
) -> IterationInfo:
    closed = row.closed_at is not None
    return IterationInfo(
        row.number,
        tuple(row.price),
        row.opened_at,
        row.deadline,
        row.closed_at,
        tuple(row.supply) if closed else None,
        tuple(row.demand) if closed else None,
        tuple(row.imbalance) if closed else None,
        row.worst_imbalance,
        class_imbalance(economy, np.asarray(row.imbalance)) if closed else None,
        row.n_proposed if closed else n_open,
        row.n_carried,
        row.n_missing,
        row.closed_by,
    )


def iteration_history(db: Database, round_id: int) -> list[IterationInfo]:
    """Every iteration of a live round, first to last, with its totals once closed (public:
    the aggregate of the proposals, never a council's own)."""
    with db.read() as session:
        row = _round(session, round_id)
        economy = _economy(session, row)
        iterations = session.execute(
            select(LiveIteration)
            .where(LiveIteration.round_id == round_id)
            .order_by(LiveIteration.number)
        ).scalars()
        n_open = _count_proposals(session, round_id, row.iteration)
        return [_iteration_info(economy, it, n_open) for it in iterations]


def trajectory(db: Database, round_id: int) -> pd.DataFrame:
    """The worst imbalance (fraction) per good class in each closed iteration: one row per
    iteration, one column per class (the facilitator's live chart)."""
    rows = {
        it.number: it.class_imbalance
        for it in iteration_history(db, round_id)
        if it.class_imbalance is not None
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[c.label for c in GoodClass])
    frame.index.name = "iteration"
    return frame


def round_councils(db: Database, actor: Actor, round_id: int) -> list[RoundCouncil]:
    """The councils of a live round the actor may propose for (those they are a member of)."""
    if actor.user_id is None:
        return []
    with db.read() as session:
        _round(session, round_id)
        rows = session.execute(
            select(LiveCouncil.council_id, Council.name, LiveCouncil.kind, LiveCouncil.position)
            .join(Council, Council.id == LiveCouncil.council_id)
            .join(Membership, Membership.council_id == LiveCouncil.council_id)
            .where(LiveCouncil.round_id == round_id, Membership.user_id == actor.user_id)
            .order_by(LiveCouncil.kind.desc(), LiveCouncil.position)
        ).all()
        return [RoundCouncil(*r) for r in rows]


def _is_board(session: Session, actor: Actor, assembly_id: int) -> bool:
    """True for administrators and the assembly's facilitators (the facilitation board)."""
    try:
        require_in_assembly(session, actor, "close_iteration", assembly_id)
    except PermissionDeniedError:
        return False
    return True


def _proposal_json(
    names: Sequence[str], output: float | None, quantities: Mapping[str, Any]
) -> dict[str, Any]:
    shown: dict[str, Any] = {"quantities": {names[int(k)]: v for k, v in quantities.items()}}
    if output is not None:
        shown["output"] = output
    return shown


def council_view(db: Database, actor: Actor, round_id: int, council_id: int) -> CouncilView:
    """What one council's page shows (its members and the board only)."""
    with db.read() as session:
        row = _round(session, round_id)
        mapped = session.execute(
            select(LiveCouncil.kind, LiveCouncil.position, Council.name)
            .join(Council, Council.id == LiveCouncil.council_id)
            .where(LiveCouncil.round_id == round_id, LiveCouncil.council_id == council_id)
        ).first()
        if mapped is None:
            raise NotFoundError(
                f"council {council_id} takes no part in live round {round_id}", where="council id"
            )
        member = (
            actor.user_id is not None
            and session.execute(
                select(Membership.id).where(
                    Membership.council_id == council_id, Membership.user_id == actor.user_id
                )
            ).first()
            is not None
        )
        if not member and not _is_board(session, actor, row.assembly_id):
            raise PermissionDeniedError(
                "only the council's members and the board see a council's proposals",
                where=f"council {council_id}",
                fix="sign in as a member of the council",
            )
        kind, position, name = mapped
        economy = _economy(session, row)
        names = commodity_names(economy)
        makes = None
        if kind == "worker":
            makes = names[int(economy.worker_output_commodity[position])]
            wc = economy.workers
            used = wc.input_commodity[wc.input_offsets[position] : wc.input_offsets[position + 1]]
            uses = tuple(dict.fromkeys(names[int(k)] for k in used))
        else:
            uses = tuple(
                names[k]
                for good_class in (GoodClass.PRIVATE, GoodClass.PUBLIC)
                for k in range(economy.n_commodities)[economy.class_slice(good_class)]
            )
        current = _iteration(session, round_id, row.iteration)
        goods = ((makes,) if makes else ()) + uses
        index = {n: k for k, n in enumerate(names)}
        prices = {g: float(current.price[index[g]]) for g in goods}
        latest = session.execute(
            select(LiveProposal.iteration, LiveProposal.output, LiveProposal.quantities)
            .where(LiveProposal.round_id == round_id, LiveProposal.council_id == council_id)
            .order_by(LiveProposal.iteration.desc())
            .limit(1)
        ).first()
        closed = session.execute(
            select(LiveIteration)
            .where(LiveIteration.round_id == round_id, LiveIteration.closed_at.is_not(None))
            .order_by(LiveIteration.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        imbalance: dict[str, float] = {}
        surplus: dict[str, float] = {}
        if closed is not None:
            for g in goods:
                k = index[g]
                imbalance[g] = float(closed.imbalance[k])
                surplus[g] = float(closed.supply[k]) - float(closed.demand[k])
        return CouncilView(
            _round_info(session, row),
            RoundCouncil(council_id, name, kind, position),
            makes,
            uses,
            prices,
            _proposal_json(names, latest.output, latest.quantities) if latest else None,
            latest.iteration if latest else None,
            imbalance,
            surplus,
            bool(latest) and latest.iteration == row.iteration and current.closed_at is None,
        )


_ENGINES: dict[str, Councils] = {}


def suggested_proposal(db: Database, round_id: int, kind: str, position: int) -> dict[str, Any]:
    """The council's own optimum at the open iteration's prices, as a bot proposes it
    (:func:`~commonplan.participation.live.bot_proposals`): what a council's page offers."""
    with db.read() as session:
        row = _round(session, round_id)
        economy = _economy(session, row)
        price = np.asarray(_iteration(session, round_id, row.iteration).price, dtype=np.float64)
        digest = row.economy_sha256
    with _ECONOMIES_LOCK:
        engine = _ENGINES.get(digest)
    if engine is None:
        engine = Councils(economy)
        with _ECONOMIES_LOCK:
            while len(_ENGINES) >= 8:
                _ENGINES.pop(next(iter(_ENGINES)))
            _ENGINES[digest] = engine
    return bot_proposals(engine, price, kind, [position])[0]  # type: ignore[arg-type]


def board_proposals(db: Database, actor: Actor, round_id: int, iteration: int) -> pd.DataFrame:
    """Every council's proposal in one iteration, one row per council and good (the board only:
    the assembly's facilitators and administrators). Columns: ``council``, ``kind``,
    ``position`` (1-based), ``good``, ``role`` (``output``/``input``/``request``), ``units``,
    ``carried_from``."""
    with db.read() as session:
        row = _round(session, round_id)
        if not _is_board(session, actor, row.assembly_id):
            raise PermissionDeniedError(
                "only the facilitation board sees each council's proposal",
                where=f"live round {round_id}",
                fix="see the totals per good instead (the iteration history)",
            )
        _iteration(session, round_id, iteration)
        economy = _economy(session, row)
        names = commodity_names(economy)
        output_of = economy.worker_output_commodity
        rows = session.execute(
            select(
                Council.name,
                LiveCouncil.kind,
                LiveCouncil.position,
                LiveProposal.output,
                LiveProposal.quantities,
                LiveProposal.carried_from,
            )
            .join(
                LiveCouncil,
                (LiveCouncil.council_id == LiveProposal.council_id)
                & (LiveCouncil.round_id == round_id),
            )
            .join(Council, Council.id == LiveProposal.council_id)
            .where(LiveProposal.round_id == round_id, LiveProposal.iteration == iteration)
            .order_by(LiveCouncil.kind.desc(), LiveCouncil.position)
        ).all()
        out = []
        for name, kind, position, output, quantities, carried in rows:
            if kind == "worker":
                out.append(
                    (
                        name,
                        kind,
                        position + 1,
                        names[int(output_of[position])],
                        "output",
                        output,
                        carried,
                    )
                )
            role = "input" if kind == "worker" else "request"
            for k, units in quantities.items():
                out.append((name, kind, position + 1, names[int(k)], role, units, carried))
        return pd.DataFrame(
            out, columns=["council", "kind", "position", "good", "role", "units", "carried_from"]
        )


# ---- proposing --------------------------------------------------------------------------------


def _parse_items(
    economy: ParticipatoryEconomy,
    items: Sequence[Mapping[str, Any]],
    mapping: Mapping[int, tuple[str, int]],
) -> list[tuple[int, Proposal]]:
    names = None  # check_proposal's cached index of the goods
    parsed: list[tuple[int, Proposal]] = []
    seen: set[int] = set()
    for n, item in enumerate(items):
        where = f"proposal {n + 1}"
        if not isinstance(item, Mapping):
            raise ParticipationInputError(
                "a proposal is not an object",
                where=where,
                expected='{"council": id, "quantities": {...}}',
            )
        unknown = set(item) - {"council", "output", "quantities"}
        if unknown:
            raise ParticipationInputError(
                f"unknown field {sorted(unknown)[0]!r}",
                where=where,
                expected="council, output (worker councils), quantities",
            )
        council = item.get("council")
        if isinstance(council, bool) or not isinstance(council, int) or council not in mapping:
            raise ParticipationInputError(
                f"council {council!r} takes no part in this round",
                where=f"{where}, council",
                expected="the id of one of the round's councils (GET …/councils/me)",
            )
        if council in seen:
            raise ParticipationInputError(
                f"council {council} has two proposals in this request",
                where=f"{where}, council",
                fix="send one proposal per council",
            )
        seen.add(council)
        quantities = item.get("quantities") or {}
        if not isinstance(quantities, Mapping):
            raise ParticipationInputError(
                "quantities is not an object",
                where=f"{where}, quantities",
                expected="{good: units}",
            )
        kind, position = mapping[council]
        parsed.append(
            (
                council,
                check_proposal(
                    economy,
                    kind,  # type: ignore[arg-type]
                    position,
                    output=item.get("output"),
                    quantities=quantities,
                    names=names,
                    where=f"{where} (council {council})",
                ),
            )
        )
    return parsed


_ROUNDS, _ITERATIONS, _COUNCILS = (
    LiveRound.__table__,
    LiveIteration.__table__,
    LiveCouncil.__table__,
)
# The hot path's statements, built once (their compiled form is cached by SQLAlchemy).
_OPEN_STATE = (
    select(
        _ROUNDS.c.status,
        _ROUNDS.c.iteration,
        _ROUNDS.c.economy_sha256,
        _ROUNDS.c.assembly_id,
        _ITERATIONS.c.closed_at,
        _ITERATIONS.c.deadline,
        _ROUNDS.c.n_workers + _ROUNDS.c.n_consumers,
    )
    .join(
        _ITERATIONS,
        (_ITERATIONS.c.round_id == _ROUNDS.c.id) & (_ITERATIONS.c.number == _ROUNDS.c.iteration),
    )
    .where(_ROUNDS.c.id == bindparam("round_id"))
    # FOR SHARE (PostgreSQL): closing an iteration (FOR UPDATE) waits for submissions in
    # flight, so no acknowledged proposal is left out of the tally
    .with_for_update(read=True, of=_ROUNDS)
)
_MEMBERSHIP = Membership.__table__
_BATCH_COUNCILS = (
    select(_COUNCILS.c.council_id, _COUNCILS.c.kind, _COUNCILS.c.position, _PROPOSALS.c.id)
    .outerjoin(
        _PROPOSALS,
        (_PROPOSALS.c.round_id == _COUNCILS.c.round_id)
        & (_PROPOSALS.c.iteration == bindparam("iteration"))
        & (_PROPOSALS.c.council_id == _COUNCILS.c.council_id),
    )
    .where(
        _COUNCILS.c.round_id == bindparam("round_id"),
        _COUNCILS.c.council_id.in_(bindparam("councils", expanding=True)),
    )
)
_BATCH_MEMBERS = select(_MEMBERSHIP.c.council_id, _MEMBERSHIP.c.user_id).where(
    _MEMBERSHIP.c.council_id.in_(bindparam("councils", expanding=True)),
    _MEMBERSHIP.c.user_id.in_(bindparam("users", expanding=True)),
)
_COUNT_RECEIVED = (
    update(_ITERATIONS)
    .where(
        _ITERATIONS.c.round_id == bindparam("rid"),
        _ITERATIONS.c.number == bindparam("num"),
    )
    .values(received=_ITERATIONS.c.received + bindparam("fresh"))
    .returning(_ITERATIONS.c.received)
)


def _economy_by_digest(session: Session, digest: str) -> ParticipatoryEconomy:
    """The economy stored under ``digest``, unpacked once per process (the last 8 kept)."""
    with _ECONOMIES_LOCK:
        economy = _ECONOMIES.get(digest)
    if economy is None:
        economy = unpack_economy(get_blob(session, digest))
        with _ECONOMIES_LOCK:
            while len(_ECONOMIES) >= 8:
                _ECONOMIES.pop(next(iter(_ECONOMIES)))
            _ECONOMIES[digest] = economy
    return economy


def _check_open(round_id: int, state: Any, iteration: int, moment: datetime) -> None:
    if state is None:
        raise NotFoundError(
            f"no live round with id {round_id}", where="live round id", fix="check the round's id"
        )
    status, current, _, _, closed_at, deadline, _ = state
    if status != LiveRoundStatus.OPEN.value:
        raise PhaseError(
            f"live round {round_id} is over ({status}); it takes no more proposals",
            where=f"live round {round_id}",
            fix="see the round's plan",
        )
    if iteration != current or closed_at is not None:
        raise PhaseError(
            f"iteration {iteration} of live round {round_id} is not open (iteration {current} is)",
            where=f"live round {round_id}, iteration {iteration}",
            expected=f"a proposal for iteration {current}, at its prices",
            fix="fetch the round's current prices and propose again",
        )
    if deadline is not None and moment > deadline:
        raise PhaseError(
            f"iteration {iteration} of live round {round_id} closed at {deadline.isoformat()}",
            where=f"live round {round_id}, iteration {iteration}",
            expected="a proposal before the deadline",
            fix="your last proposal stands; propose in the next iteration",
        )


@dataclass(frozen=True)
class Submission:
    """One call's proposals (see :func:`submit_proposals`), for :func:`submit_many`."""

    actor: Actor
    round_id: int
    iteration: int
    proposals: Sequence[Mapping[str, Any]]
    now: datetime | None = None


def submit_proposals(
    db: Database,
    actor: Actor,
    round_id: int,
    iteration: int,
    proposals: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None = None,
) -> SubmittedProposals:
    """Store proposals of one or many councils for the open iteration (their members).

    Each item is ``{"council": id, "output": units, "quantities": {good: units}}``: a worker
    council's output of its own good and its inputs, a consumer council's requests (no
    output). ``iteration`` must be the open one. The actor must be a member of every council
    named. One bad item refuses the whole call with one error naming it, and nothing stored
    changes. A council that proposed already in this iteration revises its proposal. When
    the last council has proposed, the iteration closes and the next one opens.
    """
    [result] = submit_many(db, [Submission(actor, round_id, iteration, proposals, now)])
    if isinstance(result, CommonplanError):
        raise result
    return result


def _check_submission(submission: Submission) -> None:
    require(submission.actor, "submit_proposals")
    proposals = submission.proposals
    if not isinstance(proposals, Sequence) or isinstance(proposals, str | bytes) or not proposals:
        raise ParticipationInputError(
            "no proposals", where="proposals", expected="a list of 1 or more proposals"
        )
    if len(proposals) > MAX_BATCH:
        raise ParticipationInputError(
            f"{len(proposals)} proposals in one request",
            where="proposals",
            expected=f"at most {MAX_BATCH}",
            fix="send them in several requests",
        )


def submit_many(
    db: Database, submissions: Sequence[Submission]
) -> list[SubmittedProposals | CommonplanError]:
    """Store several calls' proposals in one transaction (group commit), each checked on its own.

    The result of each is what :func:`submit_proposals` returns, or the error it would raise
    (that call stores nothing; the others are not affected). One commit for many calls is what
    lets a server take thousands of one-council requests per iteration. Should the transaction
    itself fail (a concurrent writer in another process), each call is retried on its own.
    """
    results: list[SubmittedProposals | CommonplanError | None] = [None] * len(submissions)
    for k, submission in enumerate(submissions):
        try:
            _check_submission(submission)
        except CommonplanError as error:
            results[k] = error
    pending = [k for k, r in enumerate(results) if r is None]
    if not pending:
        return results  # type: ignore[return-value]
    try:
        stored = _store_many(db, [submissions[k] for k in pending])
    except IntegrityError:  # a council twice in the batch, or a concurrent writer's row
        stored = [_store_alone(db, submissions[k]) for k in pending]
    completed: set[tuple[int, int, datetime]] = set()
    for k, (result, complete) in zip(pending, stored, strict=True):
        results[k] = result
        if complete is not None:
            completed.add(complete)
    closed = {
        (round_id, iteration)
        for round_id, iteration, moment in completed
        if _close(db, Actor.system(), round_id, iteration, "complete", moment) is not None
    }
    for k, result in enumerate(results):
        if isinstance(result, SubmittedProposals) and (result.round_id, result.iteration) in closed:
            results[k] = replace(result, closed=True)
    return results  # type: ignore[return-value]


def _store_alone(
    db: Database, submission: Submission, attempts: int = 3
) -> tuple[SubmittedProposals | CommonplanError, tuple[int, int, datetime] | None]:
    """One submission in its own transaction; retried when another writer stored a proposal of
    the same council meanwhile (the retry sees that row and revises it)."""
    for attempt in range(attempts):
        try:
            return _store_many(db, [submission])[0]
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _requested(submission: Submission) -> set[int]:
    return {
        c
        for p in submission.proposals
        if isinstance(p, Mapping)
        for c in [p.get("council")]
        if isinstance(c, int) and not isinstance(c, bool)
    }


@dataclass
class _Batch:
    """What one group-commit transaction read once for all its submissions."""

    states: dict[int, Any]
    councils: dict[tuple[int, int], dict[int, tuple[str, int, int | None]]]
    members: set[tuple[int, int]]


def _prefetch(connection: Any, submissions: Sequence[Submission]) -> _Batch:
    """The rounds' open state (taking their share lock), and per (round, iteration) the
    requested councils' kind, position and proposal so far; and who is a member of which."""
    states: dict[int, Any] = {}
    wanted: dict[tuple[int, int], set[int]] = {}
    users: set[int] = set()
    for submission in submissions:
        if submission.round_id not in states:
            states[submission.round_id] = connection.execute(
                _OPEN_STATE, {"round_id": submission.round_id}
            ).first()
        key = (submission.round_id, submission.iteration)
        wanted.setdefault(key, set()).update(_requested(submission))
        if submission.actor.user_id is not None:
            users.add(submission.actor.user_id)
    councils: dict[tuple[int, int], dict[int, tuple[str, int, int | None]]] = {}
    everyone: set[int] = set()
    for (round_id, iteration), ids in wanted.items():
        rows = connection.execute(
            _BATCH_COUNCILS,
            {"round_id": round_id, "iteration": iteration, "councils": sorted(ids)},
        ).all()
        councils[(round_id, iteration)] = {c: (k, p, row_id) for c, k, p, row_id in rows}
        everyone.update(ids)
    members: set[tuple[int, int]] = set()
    if everyone and users:
        members = {
            (c, u)
            for c, u in connection.execute(
                _BATCH_MEMBERS, {"councils": sorted(everyone), "users": sorted(users)}
            )
        }
    return _Batch(states, councils, members)


def _store_many(
    db: Database, submissions: Sequence[Submission]
) -> list[tuple[SubmittedProposals | CommonplanError, tuple[int, int, datetime] | None]]:
    """Check each submission on its own and write the valid ones in one transaction, with one
    audit entry that names, per submission, the account that sent it and its rows. Per
    submission its result and, if it completed its iteration, ``(round id, iteration, time)``."""
    out: list[list[Any]] = []
    fresh: list[dict[str, Any]] = []
    owners: list[int] = []  # for each fresh row, its submission's position in ``out``
    records: dict[int, list[dict[str, Any]]] = {}
    with db.transaction() as session:
        connection = session.connection()
        batch = _prefetch(connection, submissions)
        claimed: set[tuple[int, int, int]] = set()  # councils given a new row in this batch
        for submission in submissions:
            try:
                result, rows, revised = _store_one(session, connection, submission, batch, claimed)
            except CommonplanError as error:
                out.append([error, None])
                continue
            records[len(out)] = revised
            owners += [len(out)] * len(rows)
            fresh += rows
            out.append([result, None])
        if fresh:
            ids = _insert_proposals(connection, fresh)
            for owner, values, row_id in zip(owners, fresh, ids, strict=True):
                values = {k: v for k, v in values.items() if k != "submitted_at"}
                records[owner].append(record("live_proposals", dict(values, id=row_id)))
        stored = [k for k, item in enumerate(out) if isinstance(item[0], SubmittedProposals)]
        if stored:
            actors = {submissions[k].actor for k in stored}
            actor = actors.pop() if len(actors) == 1 else Actor.system()
            audit_on_commit(
                session,
                actor,
                "live.propose",
                ", ".join(sorted({f"live round {submissions[k].round_id}" for k in stored})),
                {
                    "submissions": [
                        {
                            "actor": submissions[k].actor.username,
                            "actor_id": submissions[k].actor.user_id,
                            "iteration": submissions[k].iteration,
                            "n_proposals": len(records[k]),
                        }
                        for k in stored
                    ],
                    "records": [item for k in stored for item in records[k]],
                },
            )
        # last: the iteration rows stay locked only until the commit
        counts: dict[tuple[int, int], int] = {}
        for owner in owners:
            key = (out[owner][0].round_id, out[owner][0].iteration)
            counts[key] = counts.get(key, 0) + 1
        for (round_id, iteration), n_fresh in counts.items():
            received = connection.execute(
                _COUNT_RECEIVED, {"rid": round_id, "num": iteration, "fresh": n_fresh}
            ).scalar_one()
            if received >= batch.states[round_id][6]:  # every council has proposed, and
                # every earlier submission has committed (each held this row's lock until then)
                last = max(
                    o
                    for o in owners
                    if (out[o][0].round_id, out[o][0].iteration) == (round_id, iteration)
                )
                out[last][1] = (round_id, iteration, result_time(submissions[last]))
    return [(item[0], item[1]) for item in out]


def _insert_proposals(connection: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``live_proposals`` in one statement; their ids, in their order."""
    connection.execute(_INSERT_PROPOSALS, rows)
    wanted: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        wanted.setdefault((row["round_id"], row["iteration"]), []).append(row["council_id"])
    found: dict[tuple[int, int, int], int] = {}
    for (round_id, iteration), councils in wanted.items():
        for council, row_id in connection.execute(
            _FRESH_IDS, {"round_id": round_id, "iteration": iteration, "councils": councils}
        ):
            found[(round_id, iteration, council)] = row_id
    return [found[(row["round_id"], row["iteration"], row["council_id"])] for row in rows]


def result_time(submission: Submission) -> datetime:
    return submission.now or utcnow()


def _store_one(
    session: Session,
    connection: Any,
    submission: Submission,
    batch: _Batch,
    claimed: set[tuple[int, int, int]],
) -> tuple[SubmittedProposals, list[dict[str, Any]], list[dict[str, Any]]]:
    """Check one submission and write its revisions; its result, its new rows (to insert) and
    the records of the rows it revised. Nothing is written before every check has passed."""
    actor, round_id, iteration = submission.actor, submission.round_id, submission.iteration
    moment = result_time(submission)
    state = batch.states[round_id]
    _check_open(round_id, state, iteration, moment)
    economy = _economy_by_digest(session, state[2])
    known = batch.councils[(round_id, iteration)]
    mapping = {c: (kind, position) for c, (kind, position, _) in known.items()}
    parsed = _parse_items(economy, submission.proposals, mapping)
    outside = sorted(c for c, _ in parsed if (c, actor.user_id) not in batch.members)
    if outside:
        raise PermissionDeniedError(
            f"{actor.username!r} is not a member of council {outside[0]}"
            + (f" (nor of {len(outside) - 1} more)" if len(outside) > 1 else ""),
            where="proposal councils",
            fix="propose only for your own councils",
        )
    if any((round_id, iteration, c) in claimed for c, _ in parsed):
        # a council proposed twice in the same batch: the second is a revision of a row that
        # is not inserted yet; the caller writes the batch again one submission at a time
        raise IntegrityError("a council twice in one batch", None, ValueError())
    fresh, revised = [], []
    for council, proposal in parsed:
        values = {
            "round_id": round_id,
            "iteration": iteration,
            "council_id": council,
            "output": proposal.output,
            "quantities": {str(k): v for k, v in proposal.quantities.items()},
            "salt": secrets.token_hex(16),
            "carried_from": None,
        }
        row_id = known[council][2]
        if row_id is not None:
            revised.append(dict(values, id=row_id))
        else:
            fresh.append(dict(values, submitted_at=moment))
            claimed.add((round_id, iteration, council))
    if revised:
        connection.execute(
            _UPDATE_PROPOSAL,
            [
                {
                    "row_id": v["id"],
                    "output": v["output"],
                    "quantities": v["quantities"],
                    "salt": v["salt"],
                    "submitted_at": moment,
                }
                for v in revised
            ],
        )
    result = SubmittedProposals(round_id, iteration, len(parsed), len(revised), False)
    return result, fresh, [record("live_proposals", v) for v in revised]


# ---- the board -----------------------------------------------------------------------------


def close_iteration(
    db: Database, actor: Actor, round_id: int, *, now: datetime | None = None
) -> IterationInfo:
    """Close the open iteration now (the assembly's facilitators): councils that have not
    proposed have their last proposal stand. Returns the closed iteration."""
    require(actor, "close_iteration")
    with db.read() as session:
        row = _round(session, round_id)
        require_in_assembly(session, actor, "close_iteration", row.assembly_id)
        if row.status != LiveRoundStatus.OPEN.value:
            raise PhaseError(
                f"live round {round_id} is over ({row.status})", where=f"live round {round_id}"
            )
        number = row.iteration
    closed = _close(db, actor, round_id, number, "board", now or utcnow())
    if closed is None:
        raise ConflictError(
            f"iteration {number} of live round {round_id} was closed meanwhile",
            where=f"live round {round_id}",
            fix="reload the round",
        )
    return closed


def close_due_iterations(db: Database, now: datetime | None = None) -> list[tuple[int, int]]:
    """Close every open iteration whose deadline has passed (the server's tick; idempotent).
    Returns ``(round id, iteration)`` of those closed."""
    moment = now or utcnow()
    with db.read() as session:
        due = session.execute(
            select(LiveRound.id, LiveRound.iteration)
            .join(
                LiveIteration,
                (LiveIteration.round_id == LiveRound.id)
                & (LiveIteration.number == LiveRound.iteration),
            )
            .where(
                LiveRound.status == LiveRoundStatus.OPEN.value,
                LiveIteration.closed_at.is_(None),
                LiveIteration.deadline.is_not(None),
                LiveIteration.deadline < moment,
            )
        ).all()
    closed = []
    for round_id, number in due:
        if _close(db, Actor.system(), round_id, number, "deadline", moment) is not None:
            closed.append((round_id, number))
    return closed


def _close(
    db: Database, actor: Actor, round_id: int, number: int, reason: str, moment: datetime
) -> IterationInfo | None:
    """Close iteration ``number`` if it is still the open one (else None): carry the late
    councils' last proposals, tally, move the prices, open the next iteration or end the round."""
    with db.transaction() as session:
        row = _round(session, round_id, lock=True)
        current = _iteration(session, round_id, number)
        if row.iteration != number or row.status != LiveRoundStatus.OPEN.value or current.closed_at:
            return None
        economy = _economy(session, row)
        mapped = session.execute(
            select(LiveCouncil.council_id, LiveCouncil.kind, LiveCouncil.position).where(
                LiveCouncil.round_id == round_id
            )
        ).all()
        councils = {c: p for c, _, p in mapped}
        kinds = {c: k for c, k, _ in mapped}
        proposals = {
            c: (o, q)
            for c, o, q in session.execute(
                select(LiveProposal.council_id, LiveProposal.output, LiveProposal.quantities).where(
                    LiveProposal.round_id == round_id, LiveProposal.iteration == number
                )
            )
        }
        n_proposed = len(proposals)
        records: list[dict[str, Any]] = []
        carried_rows = []
        if number > 1 and n_proposed < len(councils):
            for c, o, q, origin in session.execute(
                select(
                    LiveProposal.council_id,
                    LiveProposal.output,
                    LiveProposal.quantities,
                    LiveProposal.carried_from,
                ).where(LiveProposal.round_id == round_id, LiveProposal.iteration == number - 1)
            ):
                if c not in proposals:
                    proposals[c] = (o, q)
                    carried_rows.append(
                        {
                            "round_id": round_id,
                            "iteration": number,
                            "council_id": c,
                            "output": o,
                            "quantities": q,
                            "salt": secrets.token_hex(16),
                            "carried_from": origin if origin is not None else number - 1,
                        }
                    )
        if carried_rows:
            ids = _insert_proposals(
                session.connection(), [dict(v, submitted_at=moment) for v in carried_rows]
            )
            records += [
                record("live_proposals", dict(v, id=i))
                for v, i in zip(carried_rows, ids, strict=True)
            ]
        totals = _tally(economy, proposals, councils, kinds)
        rule = rule_from_parameters(row.rule)
        step = board_step(
            np.asarray(current.price, dtype=np.float64),
            np.asarray(current.state, dtype=np.float64),
            totals,
            rule=rule,
            stop_threshold=row.stop_threshold,
        )
        current.closed_at = moment
        current.supply = [float(v) for v in totals.supply]
        current.demand = [float(v) for v in totals.demand]
        current.imbalance = [float(v) for v in step.imbalance]
        current.step = [float(v) for v in step.step]
        current.worst_imbalance = step.worst if np.isfinite(step.worst) else None
        current.n_proposed = n_proposed
        current.n_carried = len(carried_rows)
        current.n_missing = len(councils) - len(proposals)
        current.closed_by = reason
        if not np.isfinite(totals.supply).all() or not np.isfinite(totals.demand).all():
            current.supply = current.demand = current.imbalance = current.step = None
        ended = None
        if step.diverged:
            ended = LiveRoundStatus.DIVERGED
        elif step.converged:
            ended = LiveRoundStatus.CONVERGED
        elif number >= row.max_iterations:
            ended = LiveRoundStatus.CAPPED
        next_id = None
        if ended is None:
            following = _new_iteration(session, row, number + 1, step.price, step.state, moment)
            row.iteration = number + 1
            next_id = following.id
        else:
            row.status = ended.value
            row.finished_at = moment
        session.flush()
        records += _records(session, "live_iterations", current.id)
        if next_id is not None:
            records += _records(session, "live_iterations", next_id)
        records += _records(session, "live_rounds", row.id)
        audit(
            session,
            actor,
            "live.iteration.close",
            f"live round {round_id}",
            {
                "iteration": number,
                "reason": reason,
                "worst_imbalance": current.worst_imbalance,
                "status": row.status,
                "records": records,
            },
        )
        return _iteration_info(economy, current, n_proposed)


def _tally(
    economy: ParticipatoryEconomy,
    proposals: Mapping[int, tuple[float | None, Mapping[str, Any]]],
    positions: Mapping[int, int],
    kinds: Mapping[int, str],
) -> Any:
    output = np.zeros(economy.workers.count)
    inputs: tuple[list[int], list[float]] = ([], [])
    requests: tuple[list[int], list[float]] = ([], [])
    # sum in the economy's council order, so a run does not depend on the order of arrival
    for council in sorted(proposals, key=lambda c: (kinds[c] != "worker", positions[c])):
        value, quantities = proposals[council]
        target = inputs
        if kinds[council] == "worker":
            output[positions[council]] = value
        else:
            target = requests
        for k, units in quantities.items():
            target[0].append(int(k))
            target[1].append(float(units))
    return tally(
        economy,
        output,
        (np.asarray(inputs[0], dtype=np.int64), np.asarray(inputs[1], dtype=np.float64)),
        (np.asarray(requests[0], dtype=np.int64), np.asarray(requests[1], dtype=np.float64)),
    )


# ---- the plan -------------------------------------------------------------------------------------


def final_plan(db: Database, round_id: int) -> pd.DataFrame:
    """The plan of a finished live round: per good (rows), the prices the last proposals were
    made at (credits per unit), supply and demand (units), surplus and imbalance (fraction)."""
    with db.read() as session:
        row = _round(session, round_id)
        if row.status == LiveRoundStatus.OPEN.value:
            raise PhaseError(
                f"live round {round_id} is still open (iteration {row.iteration})",
                where=f"live round {round_id}",
                expected="a finished round (converged or capped)",
                fix="wait until its proposals balance",
            )
        last = _iteration(session, round_id, row.iteration)
        economy = _economy(session, row)
        if last.supply is None:
            raise ConflictError(
                f"live round {round_id} diverged: it has no plan",
                where=f"live round {round_id}",
                fix="open a new round with other settings",
            )
        frame = pd.DataFrame(
            {
                "price": last.price,
                "supply": last.supply,
                "demand": last.demand,
                "surplus": np.asarray(last.supply) - np.asarray(last.demand),
                "imbalance": last.imbalance,
            },
            index=pd.Index(commodity_names(economy), name="good"),
        )
        return frame


def add_as_alternative(
    db: Database, actor: Actor, live_round_id: int, planning_round_id: int
) -> Any:
    """Add a finished live round's plan as an alternative of a planning round in its
    alternatives phase (facilitators), from where it is voted on and published as usual."""
    from commonplan.services.rounds import add_alternative

    require(actor, "compute_alternatives")
    plan = final_plan(db, live_round_id)
    info = live_round_info(db, live_round_id)
    return add_alternative(
        db,
        actor,
        planning_round_id,
        f"Participatory plan: {info.title}"[:200],
        description=(
            f"The proposals of live round {info.id} after {info.iteration} iterations "
            f"({info.status}; worst imbalance {100 * float(plan['imbalance'].max()):.2f} %)."
        ),
        figures={
            "live_round": info.id,
            "iterations": info.iteration,
            "status": info.status,
            "worst_imbalance": float(plan["imbalance"].max()),
        },
        plan=plan.reset_index(),
    )


def read_economy_text(text: str, name: str = "experiment") -> ParticipatoryEconomy:
    """A participatory economy from the text of a pequod-cljs experiment file (``.clj``), as
    uploaded; errors name the council and field (:func:`~commonplan.participation.read_experiment`)."""
    import tempfile
    from pathlib import Path

    from commonplan.participation import read_experiment

    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "experiment"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{safe[:60]}.clj"
        path.write_text(text, encoding="utf-8")
        economy = read_experiment(path)
    return economy
