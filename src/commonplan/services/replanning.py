"""Re-planning a monitored council plan from where its execution stands, and opening a new
planning round from the re-plan.

A council plan has one period (the round's year), so "the remaining periods" are the rest of
the current one. The published plan's :class:`~commonplan.planning.problem.PlanProblem` is
rebuilt exactly as the round computed it (the assembly's economy, the round's aggregated
weights and base problem, the winning alternative's trade-off) and checked against the
published plan table. The monitor's forecast of each product's total for the period (the
output reported so far plus the remaining months at the filtered level and slope) as a share
of plan is the :class:`~commonplan.monitoring.replan.ExecutionState`'s level: a product
forecast to fall short caps the activities that make it at that share of their published
levels for the period. :func:`~commonplan.monitoring.replan.replan` then re-solves and
compares: targets that fall, capacity to add, shadow prices.

:func:`open_replan_round` opens a new round through :func:`commonplan.services.rounds.open_round`
with the same target groups and base problem plus the re-plan's capacity limits
(``base_problem["capacity"]``, which :func:`commonplan.councils.alternatives.compute_alternatives`
honours), so its alternatives are computed, voted on and published like any other round's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from commonplan.errors import ConflictError
from commonplan.services import monitoring
from commonplan.services.roles import Actor, require
from commonplan.services.rounds import RoundInfo, open_round, round_info
from commonplan.store.blobs import frame_from_parquet, get_blob
from commonplan.store.database import Database
from commonplan.store.models import Alternative, Assembly, PlanningRound, PublishedPlan

_CACHE: dict[tuple[str, int, str], ReplanView] = {}
_CACHE_SIZE = 8
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class ReplanView:
    """A re-plan of monitored plan ``plan_id`` as of the monitor's ``period``/``sub_period``.

    ``levels``: the forecast share of plan per product below plan (the state re-planned
    from); ``capacity``: activity label → the limit the state puts on it (activity units);
    ``replan``: the core's :class:`~commonplan.monitoring.replan.Replan`.
    """

    plan_id: int
    period: str
    sub_period: int
    levels: pd.Series
    capacity: dict[str, float]
    replan: Any


def _published_problem(db: Database, plan_id: int) -> tuple[Any, RoundInfo, str]:
    """The published plan recomputed (a :class:`Plan`), its round and the monitor state's hash."""
    from commonplan.councils.alternatives import DEFAULT_TRADE_OFFS
    from commonplan.councils.alternatives import compute_alternatives as compute
    from commonplan.services.assemblies import load_economy

    with db.read() as session:
        monitor = monitoring._monitor_row(session, plan_id)
        plan_row = session.get(PublishedPlan, plan_id)
        info = round_info(session.get(PlanningRound, plan_row.round_id))
        title = session.get(Alternative, plan_row.alternative_id).title
        economy_id = session.get(Assembly, info.assembly_id).economy_id
        stored = frame_from_parquet(get_blob(session, plan_row.plan_sha256))
        state = str(monitor.state_sha256)
    trade_off = next((t for t in DEFAULT_TRADE_OFFS if t.title == title), None)
    if trade_off is None or economy_id is None or info.weights is None:
        raise ConflictError(
            f"published plan {plan_id} was not computed from a trade-off, so it has no problem "
            "to re-plan",
            where=f"plan {plan_id}",
            fix="re-plan plans whose alternatives the round computed",
        )
    (alternative,) = compute(
        load_economy(db, economy_id),
        info.target_groups,
        info.weights,
        base_problem=info.base_problem,
        trade_offs=[trade_off],
    )
    published = stored["output"].to_numpy(float)
    again = alternative.plan_frame["output"].to_numpy(float)
    if published.shape != again.shape or not np.allclose(
        again, published, rtol=1e-6, atol=1e-9 * max(1.0, float(np.abs(published).max()))
    ):
        raise ConflictError(
            f"published plan {plan_id} cannot be recomputed: its problem gives another plan",
            where=f"plan {plan_id}",
            fix="the economy or the solver changed since publication; open a new round instead",
        )
    return alternative.plan, info, state


def forecast_levels(db: Database, plan_id: int) -> tuple[pd.Series, str, int]:
    """The products the monitor's shortfall rule flags now (the period's forecast total below
    95 % of plan even at its 95 % upper bound: ``total_upper < 0.95 total_plan``), with their
    forecast total as a share of plan (``total_forecast / total_plan``), and the monitor's
    position."""
    frame = monitoring.series(db, plan_id)
    if frame.empty:
        raise ConflictError(
            f"nothing has been observed on plan {plan_id} yet",
            where=f"plan {plan_id}",
            fix="file the first sub-period's reports, then re-plan",
        )
    latest = frame.groupby("product", sort=False).tail(1).set_index("product")
    total = pd.to_numeric(latest["total_forecast"], errors="coerce")
    upper = pd.to_numeric(latest["total_upper"], errors="coerce")
    plan = pd.to_numeric(latest["total_plan"], errors="coerce")
    from commonplan.monitoring.alarms import AlarmRule

    short = (plan > 0) & (upper < (1 - AlarmRule().shortfall_margin) * plan)
    share = (total / plan).where(short).dropna().clip(lower=0.0)
    last = frame.iloc[-1]
    return share, str(last["period"]), int(last["sub_period"])


def replan_plan(db: Database, plan_id: int) -> ReplanView:
    """Re-plan monitored plan ``plan_id``'s period from the monitor's forecast (public).

    The result is kept per monitor state, so asking again before new reports costs nothing.
    """
    from commonplan.monitoring.replan import ExecutionState, remaining_problem, replan

    with db.read() as session:
        state = str(monitoring._monitor_row(session, plan_id).state_sha256)
    key = (db.url, plan_id, state)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    plan, _, _ = _published_problem(db, plan_id)
    share, period, sub_period = forecast_levels(db, plan_id)
    levels = share
    execution = ExecutionState(start=plan.problem.periods[0], levels=levels)
    result = replan(plan, execution)
    problem = remaining_problem(plan, execution)
    limits = np.asarray(problem.capacity)[:, 0]
    labels = ["/".join(map(str, a)) for a in problem.economy.activities]
    capacity = {labels[k]: float(limits[k]) for k in np.flatnonzero(np.isfinite(limits))}
    view = ReplanView(plan_id, period, sub_period, levels, capacity, result)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = view
    return view


def open_replan_round(
    db: Database, actor: Actor, plan_id: int, *, title: str | None = None
) -> RoundInfo:
    """Open a new planning round from the re-plan of monitored plan ``plan_id`` (facilitators
    of its assembly): the same target groups and base problem, with the re-plan's capacity
    limits, in the ballot phase."""
    require(actor, "open_round")  # before the solve; open_round checks the assembly
    view = replan_plan(db, plan_id)
    with db.read() as session:
        plan_row = session.get(PublishedPlan, plan_id)
        info = round_info(session.get(PlanningRound, plan_row.round_id))
    base = dict(info.base_problem)
    base["capacity"] = view.capacity
    base["replan_of"] = {"plan_id": plan_id, "period": view.period, "sub_period": view.sub_period}
    return open_round(
        db,
        actor,
        info.assembly_id,
        title or f"Re-plan of {info.title} from {view.period}.{view.sub_period}"[:200],
        info.target_groups,
        base_problem=base,
        aggregation_rule=info.aggregation_rule,
    )


__all__ = ["ReplanView", "forecast_levels", "open_replan_round", "replan_plan"]
