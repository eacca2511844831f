"""Classical change detectors the filter is measured against, on standardised series.

Both take ``z`` (series × steps) already standardised with the *true* in-control mean and
noise width, which the Bayesian filter does not get: they are the peers' best case.
"""

from __future__ import annotations

import numpy as np


def cusum_alarm_times(z: np.ndarray, k: float = 0.5, h: float = 4.77) -> np.ndarray:
    """First alarm step of a two-sided tabular CUSUM (Page 1954) per series, −1 if none.

    ``C⁺_t = max(0, C⁺_{t−1} + z_t − k)``, ``C⁻_t = max(0, C⁻_{t−1} − z_t − k)``; an alarm when
    either exceeds ``h``. ``k = 0.5, h = 4.77`` is the textbook design with an in-control
    average run length of 370 (Montgomery, *Introduction to Statistical Quality Control*, §9.1).
    """
    z = np.atleast_2d(np.asarray(z, dtype=float))
    up = np.zeros(z.shape[0])
    down = np.zeros(z.shape[0])
    first = np.full(z.shape[0], -1)
    for t in range(z.shape[1]):
        up = np.maximum(0.0, up + z[:, t] - k)
        down = np.maximum(0.0, down - z[:, t] - k)
        hit = ((up > h) | (down > h)) & (first < 0)
        first[hit] = t
    return first


def focus_alarm_times(z: np.ndarray, threshold: float, window: int = 400) -> np.ndarray:
    """First alarm step of the FOCuS statistic for a change in mean from a known 0, −1 if none.

    FOCuS (Romano, Eckley, Fearnhead & Rigaill 2023) computes, at each step, the likelihood
    ratio statistic maximised over every change time and every size of shift,
    ``max_s (Σ_{s<i≤t} z_i)² / (2 (t − s))``, and alarms above ``threshold``. This version
    maximises over the last ``window`` change times explicitly (the `focus-cpt` package does
    not build on this machine); it equals FOCuS whenever the change is within the window.
    """
    z = np.atleast_2d(np.asarray(z, dtype=float))
    n, steps = z.shape
    cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(z, axis=1)], axis=1)
    first = np.full(n, -1)
    for t in range(1, steps + 1):
        start = max(0, t - window)
        sums = cumulative[:, t : t + 1] - cumulative[:, start:t]
        lengths = t - np.arange(start, t)
        statistic = (sums * sums / (2.0 * lengths)).max(axis=1)
        hit = (statistic > threshold) & (first < 0)
        first[hit] = t - 1
    return first


__all__ = ["cusum_alarm_times", "focus_alarm_times"]
