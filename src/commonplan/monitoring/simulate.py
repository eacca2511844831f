"""Seeded executions of a plan with known changes: for tests, benchmarks and the demo.

A simulated series is the ratio actual/plan: ``1 + σ ε_t`` (Gaussian noise of width ``σ``,
a share of plan), plus whatever changes are put in: a step of the level, a change of slope,
isolated outliers. Everything is drawn from :class:`numpy.random.Generator` with the given
seed, so the same call gives the same series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.errors import InvalidValueError
from commonplan.monitoring.reports import PlanTargets


@dataclass(frozen=True)
class Change:
    """A change in the series ``series`` (indices) from step ``start`` on (0-based).

    ``step``: a shift of the level by this many noise widths; ``slope``: a drift of this
    many noise widths per step, starting at 0; ``outlier``: one observation off by this many
    noise widths, at ``start`` only.
    """

    series: np.ndarray
    start: int
    step: float = 0.0
    slope: float = 0.0
    outlier: float = 0.0


def simulate_ratios(
    noise: np.ndarray, steps: int, changes: tuple[Change, ...] = (), *, seed: int = 0
) -> np.ndarray:
    """Ratios actual/plan, ``(len(noise), steps)``, with the given changes put in."""
    noise = np.asarray(noise, dtype=float)
    if noise.ndim != 1 or np.any(noise <= 0) or not np.all(np.isfinite(noise)):
        raise InvalidValueError("noise widths must be positive and finite", where="noise")
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal((noise.size, steps))
    for change in changes:
        rows = np.asarray(change.series)
        if change.step:
            shocks[rows, change.start :] += change.step
        if change.slope:
            shocks[rows, change.start :] += change.slope * np.arange(steps - change.start)
        if change.outlier:
            shocks[rows, change.start] += change.outlier
    return 1.0 + noise[:, None] * shocks


def execution_reports(targets: PlanTargets, ratios: np.ndarray) -> pd.DataFrame:
    """Production reports (the format :func:`validate_reports` reads) of an execution whose
    ratios actual/plan per product and sub-period are ``ratios`` (products × sub-periods, in
    order through the periods)."""
    n, steps = ratios.shape
    shares = targets.shares()
    rows = []
    for k in range(steps):
        p, s = divmod(k, targets.sub_periods)
        planned = targets.planned[:, p] * shares[s]
        rows.append(
            pd.DataFrame(
                {
                    "product": targets.products,
                    "period": targets.periods[p],
                    "sub_period": s + 1,
                    "output": np.maximum(planned * ratios[:, k], 0.0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@dataclass(frozen=True)
class CutoffExecution:
    """A simulated execution of a plan in which a partner's supplies stop mid-period.

    ``targets`` and ``reports`` as the monitor reads them; ``shortfall``: the true ratio
    actual/plan after the stop per product of ``region`` (1 where unaffected); ``outlier``:
    the product and 0-based sub-period of the one transient outlier; ``start``: the 0-based
    sub-period from which supplies stop.
    """

    targets: PlanTargets
    reports: pd.DataFrame
    shortfall: pd.Series
    outlier: tuple[str, int]
    start: int


def cutoff_execution(
    plan: object,
    region: str,
    partner: str,
    *,
    sub_periods: int = 12,
    start: int | None = None,
    noise: float = 0.01,
    seed: int = 0,
) -> CutoffExecution:
    """Execute ``plan`` (a :class:`~commonplan.planning.plan.Plan` of a multi-regional
    economy) with noise of width ``noise`` (share of plan); from the 0-based sub-period ``start`` of
    the plan on (default: the middle of its second period, or of its first if it has one),
    ``partner``'s intermediate supplies to ``region`` stop, and each of
    ``region``'s products falls short by the share of everything it needs (directly and
    through other products, the columns of ``L − I``) that came from ``partner``: no
    substitution in the short run. One product of another region has one 12σ outlier in the second half of the time before the stop.
    """
    economy = plan.problem.economy  # type: ignore[attr-defined]
    targets = PlanTargets.from_plan(plan, sub_periods)
    if start is None:
        start = sub_periods * min(1, len(targets.periods) - 1) + sub_periods // 2
    regions = economy.products.get_level_values(0).astype(str)
    if region not in set(regions) or partner not in set(regions) or region == partner:
        raise InvalidValueError(
            f"region {region!r} and partner {partner!r} must be two regions of the economy",
            where="cutoff_execution",
            expected=", ".join(sorted(set(regions))),
        )
    # The partner's share of everything each product needs, directly and through other
    # products: the columns of (I − A)⁻¹ A = L − I.
    from commonplan.linalg import LeontiefSolver

    affected = regions == region
    A = sp.csc_array(economy.A)
    total = LeontiefSolver(A).solve(A[:, np.flatnonzero(affected)].toarray())
    needs = np.zeros(len(regions))
    needs[affected] = total.sum(axis=0)
    from_partner = np.zeros(len(regions))
    from_partner[affected] = total[regions == partner].sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(needs > 0, from_partner / needs, 0.0)
    ratio = np.where(affected, 1.0 - share, 1.0)
    steps = len(targets.periods) * sub_periods
    n = len(targets.products)
    others = np.flatnonzero(~affected & (regions != partner))
    rng = np.random.default_rng(seed)
    outlier_product = int(rng.choice(others))
    outlier_step = int(rng.integers(max(1, start // 2), max(2, start)))
    changes = [Change(np.array([outlier_product]), outlier_step, outlier=12.0)]
    ratios = simulate_ratios(np.full(n, noise), steps, tuple(changes), seed=seed)
    ratios[:, start:] *= ratio[:, None]
    return CutoffExecution(
        targets=targets,
        reports=execution_reports(targets, ratios),
        shortfall=pd.Series(
            ratio[affected], index=[targets.products[i] for i in np.flatnonzero(affected)]
        ),
        outlier=(targets.products[outlier_product], outlier_step),
        start=start,
    )


__all__ = ["Change", "CutoffExecution", "cutoff_execution", "execution_reports", "simulate_ratios"]
