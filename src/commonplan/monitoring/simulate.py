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


__all__ = ["Change", "execution_reports", "simulate_ratios"]
