"""The served demo's plan in execution: a round carried to publication, then watched.

:func:`seed_execution` takes the demo assembly through a whole round (ballots, computed
alternatives, a Schulze vote, publication), starts monitoring the published plan with
monthly reports, and files a simulated execution of the first :data:`MONTHS_FILED` months
through :func:`commonplan.services.monitoring.file_reports`, so every report, monitor step
and alarm is in the audit chain like real ones:

* every product has seeded noise of :data:`NOISE` (a share of plan);
* from month :data:`STOP_MONTH` the economy's imports stop: the :data:`N_SHORT` products
  with the largest direct import content (imports per unit of output, from the economy's
  imports account) fall short of plan by that content (kept within 2–70 %), with no
  substitution in the short run (without an imports account: the largest products, by :data:`FALLBACK_SHORTFALL`);
* the next most import-dependent product has stocks of imported inputs that run down: its
  output slips by :data:`SLIP_PER_MONTH` of plan a month from month :data:`STOP_MONTH` + 1
  (a change of slope, alarmed later than the steps);
* one other product has a single transient outlier of :data:`OUTLIER_SIGMA` noise widths.

Each month is filed at a time in the past (one month every :data:`HOURS_PER_MONTH` hours up
to ``now``), and :func:`~commonplan.services.monitoring.escalate_due` then runs at ``now``:
the alarms raised longest ago have risen to the facilitators or the whole assembly, the
latest are still with the responsible council. Everything is deterministic given the economy
and :data:`SEED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from commonplan.councils.ballots import TargetGroup
from commonplan.economy import Economy
from commonplan.monitoring.reports import PlanTargets
from commonplan.services import monitoring, rounds
from commonplan.services.ballots import submit_ballot
from commonplan.services.queries import list_alternatives
from commonplan.services.roles import Actor
from commonplan.services.votes import submit_ranking
from commonplan.store.database import Database

SEED = 2026
SUB_PERIODS = 12
"""Monthly reports in the yearly plan."""
MONTHS_FILED = 10
STOP_MONTH = 5
"""The first month (1-based) without imports."""
N_SHORT = 6
NOISE = 0.01
OUTLIER_SIGMA = 12.0
OUTLIER_MONTH = 8
FALLBACK_SHORTFALL = 0.2
SLIP_PER_MONTH = 0.04
HOURS_PER_MONTH = 36.0
"""Hours between the filings of two months (the demo's clock runs fast)."""
EXECUTED_TITLE = "Plan in execution"


@dataclass(frozen=True)
class SeededExecution:
    """What :func:`seed_execution` made: the round and plan ids, the products that fall short
    (label → true ratio actual/plan from :data:`STOP_MONTH` on), the product that slips and
    the outlier (product, 1-based month)."""

    round_id: int
    plan_id: int
    shortfall: dict[str, float]
    slip: str
    outlier: tuple[str, int]


def _publish_round(
    db: Database,
    facilitator: Actor,
    members: list[Actor],
    assembly_id: int,
    groups: tuple[TargetGroup, ...],
    base_problem: dict[str, Any],
) -> int:
    """A round carried through ballots, alternatives, vote and publication; its id."""
    opened = rounds.open_round(
        db, facilitator, assembly_id, EXECUTED_TITLE, groups, base_problem=base_problem
    )
    names = [g.name for g in groups]
    for k, member in enumerate(members):
        points = np.full(len(names), 100 // len(names), dtype=float)
        points[k % len(names)] += 100 - points.sum()
        submit_ballot(db, member, opened.id, dict(zip(names, points, strict=True)))
    rounds.advance_phase(db, facilitator, opened.id)
    rounds.compute_alternatives(db, facilitator, opened.id)
    rounds.advance_phase(db, facilitator, opened.id)
    labels = [a.label for a in list_alternatives(db, opened.id)]
    for k, member in enumerate(members):
        submit_ranking(db, member, opened.id, labels[k % 2 :] + labels[: k % 2])
    rounds.advance_phase(db, facilitator, opened.id)
    rounds.publish_plan(db, facilitator, opened.id)
    return opened.id


def import_content(economy: Economy, products: tuple[str, ...]) -> pd.Series | None:
    """Direct imports per unit of output of each product (labels ``REGION/SECTOR``), from the
    economy's imports account and observed activity levels; None without either."""
    from commonplan.councils.alternatives import imports_account
    from commonplan.monitoring.reports import product_label

    account = imports_account(economy)
    if account is None or economy.activity_levels is None:
        return None
    coefficients = np.asarray(economy.account_coefficients[economy.account_names.index(account)])
    levels = np.asarray(economy.activity_levels, dtype=float)
    make = economy.make
    output = np.asarray(make @ levels, dtype=float).ravel()
    imported = np.asarray(make @ (coefficients * levels), dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        content = np.where(output > 0, imported / output, 0.0)
    labels = [product_label(p) for p in economy.products]
    return pd.Series(content, index=labels).reindex(list(products)).fillna(0.0)


def _shortfall(economy: Economy, targets: PlanTargets) -> tuple[dict[str, float], str]:
    """The products that fall short when imports stop, their ratio actual/plan, and the
    product that slips."""
    products = targets.products
    planned = pd.Series(targets.planned[:, 0], index=list(products))
    content = import_content(economy, products)
    if content is not None and (content[planned > 0] > 0.02).sum() > N_SHORT:
        ranked = content[planned > 0].sort_values(ascending=False, kind="stable")
        chosen = ranked.iloc[:N_SHORT]
        return {p: float(np.clip(1.0 - c, 0.3, 0.98)) for p, c in chosen.items()}, str(
            ranked.index[N_SHORT]
        )
    ranked = planned.sort_values(ascending=False, kind="stable")
    return {p: 1.0 - FALLBACK_SHORTFALL for p in ranked.index[:N_SHORT]}, str(ranked.index[N_SHORT])


def simulated_reports(
    economy: Economy, targets: PlanTargets
) -> tuple[pd.DataFrame, dict[str, float], str, tuple[str, int]]:
    """The first :data:`MONTHS_FILED` months of reports (the format ``file_reports`` reads),
    the shortfall, the product that slips and the outlier (product, 1-based month)."""
    from commonplan.monitoring.simulate import Change, execution_reports, simulate_ratios

    products = list(targets.products)
    shortfall, slip = _shortfall(economy, targets)
    planned = targets.planned[:, 0]
    others = [
        k for k, p in enumerate(products) if p not in shortfall and p != slip and planned[k] > 0
    ]
    rng = np.random.default_rng(SEED)
    outlier = int(rng.choice(others))
    changes = (
        Change(np.array([outlier]), OUTLIER_MONTH - 1, outlier=OUTLIER_SIGMA),
        Change(np.array([products.index(slip)]), STOP_MONTH - 1, slope=-SLIP_PER_MONTH / NOISE),
    )
    ratios = simulate_ratios(np.full(len(products), NOISE), MONTHS_FILED, changes, seed=SEED)
    for product, ratio in shortfall.items():
        ratios[products.index(product), STOP_MONTH - 1 :] *= ratio
    frame = execution_reports(targets, ratios)
    return frame, shortfall, slip, (products[outlier], OUTLIER_MONTH)


def seed_execution(
    db: Database,
    facilitator: Actor,
    members: list[Actor],
    assembly_id: int,
    economy: Economy,
    groups: tuple[TargetGroup, ...],
    base_problem: dict[str, Any],
    now: datetime,
) -> SeededExecution:
    """Publish a plan in the demo assembly, monitor it and file its simulated first months."""
    round_id = _publish_round(db, facilitator, members, assembly_id, groups, base_problem)
    plan_id = monitoring.plan_id_of_round(db, round_id)
    assert plan_id is not None
    monitoring.start_monitoring(db, facilitator, plan_id, sub_periods=SUB_PERIODS)
    targets = monitoring.plan_targets(db, plan_id)
    frame, shortfall, slip, outlier = simulated_reports(economy, targets)
    frame["unit"] = targets.unit
    for month in range(1, MONTHS_FILED + 1):
        filed_at = now - timedelta(hours=HOURS_PER_MONTH * (MONTHS_FILED - month))
        monitoring.file_reports(
            db, facilitator, plan_id, frame[frame["sub_period"] == month], now=filed_at
        )
    monitoring.escalate_due(db, facilitator, now, plan_id=plan_id)
    return SeededExecution(round_id, plan_id, shortfall, slip, outlier)


__all__ = ["SeededExecution", "import_content", "seed_execution", "simulated_reports"]
