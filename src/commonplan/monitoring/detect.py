"""When has a series really left its plan? A Bayesian change detector on the filter's scale.

The four-state filter (:mod:`commonplan.monitoring.filter`) says, step by step, which state
the *last* observation most likely came from. That tells a jump of several noise widths from
an outlier within one or two observations, but a shift of half a noise width is never likely
at any single step: it shows only in the accumulated evidence. This module accumulates it.

Hypotheses, for a series of ratios ``y_t`` (actual / plan) with noise variance ``V`` (the
filter's estimate ``S_t``):

* **on plan**: ``y_t = r + ν_t``, with ``r`` the reference level (1.0, or the level accepted
  when an alarm was last acknowledged);
* **changed**: from an unknown time on, ``y_t = r + δ√V + ν_t``, with ``δ`` one of
  ``shifts`` (in noise widths, both signs) with prior weights ``weights``, and the change time
  geometric with hazard ``ρ`` per step (Shiryaev 1963).

Under both, ``ν_t`` is the filter's mixture of the steady and outlier states (an outlier with
probability ε and variance ``v_out V``), so one wild value hardly moves the evidence. With
``x_t = (y_t − r)/√S_t`` the odds of "changed" follow Shiryaev's recursion, for each shift,

    Ω_t(δ) = (Ω_{t-1}(δ) + ρ) / (1 − ρ) · L_δ(x_t),
    L_δ(x) = [(1 − ε) φ(x − δ) + ε φ_out(x)] / [(1 − ε) φ(x) + ε φ_out(x)],

and ``P(changed | data) = Ω / (1 + Ω)`` with ``Ω = Σ_δ w_δ Ω_t(δ)``. Most of the prior weight
is on shifts of about one noise width, which are the hard ones; a little on large shifts
keeps a sustained jump of many widths from being read as a run of outliers. The direction
(shortfall or excess) is the sign of the shift that carries most of the odds.

An alarm is raised when the probability passes ``threshold``; ``reset`` starts the evidence
afresh (after an acknowledgement), optionally at a new reference level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from commonplan.errors import InvalidValueError
from commonplan.monitoring.filter import observations

# Successive differences overlap, so n of them carry about 2n/3 degrees of freedom.
_DOF_PER_DIFFERENCE = 2.0 / 3.0
# A half squared difference above this many noise variances (a 3.5σ difference: 1 in 2,000
# for Gaussian noise) is an outlier or a jump, not noise; the estimate must have this weight first.
_WILD = 12.0
_MIN_WEIGHT = 5.0


@dataclass(frozen=True)
class DetectorSettings:
    """Settings of :class:`ChangeDetector`.

    ``shifts``: the alternative shifts, in noise widths (each is used with both signs), with
    prior ``weights`` (normalised; shared by both signs);
    ``hazard``: ρ, the prior probability per step that a change starts; ``threshold``: the
    posterior probability of a change that raises an alarm; ``outlier_probability`` and
    ``outlier_variance``: ε and ``v_out`` (as in the filter's outlier state);
    ``warmup``: observations before the detector speaks (the noise estimate is poor before).
    Defaults are calibrated in ``benchmarks/bench_monitoring.py`` to an in-control average
    run length above 370 steps.
    """

    shifts: tuple[float, ...] = (0.6, 1.0, 1.4, 3.0, 6.0, 12.0)
    weights: tuple[float, ...] | None = (0.3, 0.3, 0.3, 0.1 / 3, 0.1 / 3, 0.1 / 3)
    hazard: float = 0.0045
    threshold: float = 0.5
    outlier_probability: float = 0.02
    outlier_variance: float = 100.0
    warmup: int = 8
    discount: float = 0.999

    def __post_init__(self) -> None:
        shifts = np.asarray(self.shifts, dtype=float)
        if (
            shifts.ndim != 1
            or shifts.size == 0
            or np.any(shifts <= 0)
            or not np.all(np.isfinite(shifts))
        ):
            raise InvalidValueError(
                "shifts must be positive, finite noise widths",
                where="DetectorSettings.shifts",
                expected="for example (0.5, 1.0, 2.0)",
            )
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != shifts.shape or np.any(weights < 0) or weights.sum() <= 0:
                raise InvalidValueError(
                    "weights must be one non-negative number per shift, not all zero",
                    where="DetectorSettings.weights",
                )
        if not 0 < self.hazard < 1 or not 0 < self.threshold < 1:
            raise InvalidValueError(
                "hazard and threshold must lie strictly between 0 and 1", where="DetectorSettings"
            )
        if not 0 <= self.outlier_probability < 1 or self.outlier_variance <= 1 or self.warmup < 0:
            raise InvalidValueError(
                "outlier_probability must be in [0, 1), outlier_variance above 1, warmup ≥ 0",
                where="DetectorSettings",
            )


class ChangeDetector:
    """Shiryaev's change detector, a mixture over shift sizes, for many series at once.

    State is two arrays: the odds per series and signed shift (``(n, 2·len(shifts))``) and the
    reference level per series (``(n,)``); :meth:`update` is one observation per series.
    """

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        s = np.asarray(self.settings.shifts, dtype=float)
        self.shifts = np.concatenate([-s[::-1], s])
        w = (
            np.ones(s.size)
            if self.settings.weights is None
            else np.asarray(self.settings.weights, float)
        )
        w = np.concatenate([w[::-1], w])
        self._weights = w / w.sum()

    def start(self, n_series: int, reference: float | np.ndarray = 1.0) -> DetectorState:
        """Fresh evidence for ``n_series`` series, each with its reference level."""
        n = int(n_series)
        ref = np.broadcast_to(np.asarray(reference, dtype=float), (n,)).copy()
        return DetectorState(
            odds=np.zeros((n, self.shifts.size)),
            reference=ref,
            previous=np.full(n, np.nan),
            sum_squares=np.zeros(n),
            weight=np.zeros(n),
            seen=np.zeros(n, dtype=np.int64),
        )

    def update(self, state: DetectorState, y: np.ndarray) -> tuple[DetectorState, DetectorStep]:
        """Take one ratio per series (NaN: none this step) and return the new evidence."""
        y = observations(y, state.reference.shape[0], "ChangeDetector.update")
        st = self.settings
        n = y.shape[0]
        odds = np.empty_like(state.odds)
        previous, sum_squares = np.empty(n), np.empty(n)
        weight, seen = np.empty(n), np.empty(n, dtype=np.int64)
        probability, noise = np.empty(n), np.empty(n)
        direction = np.empty(n, dtype=np.int64)
        _detector_kernel(
            state.odds,
            state.reference,
            state.previous,
            state.sum_squares,
            state.weight,
            state.seen,
            y,
            self.shifts,
            self._weights,
            st.hazard,
            st.outlier_probability,
            st.outlier_variance,
            st.warmup,
            st.discount,
            odds,
            previous,
            sum_squares,
            weight,
            seen,
            probability,
            direction,
            noise,
        )
        new = DetectorState(
            odds=odds,
            reference=state.reference,
            previous=previous,
            sum_squares=sum_squares,
            weight=weight,
            seen=seen,
        )
        return new, DetectorStep(
            probability=probability,
            direction=direction,
            alarm=probability >= st.threshold,
            noise=noise,
        )

    def reset(
        self, state: DetectorState, which: np.ndarray, reference: np.ndarray | float | None = None
    ) -> DetectorState:
        """Clear the evidence of the series selected by ``which`` (a boolean mask or indices),
        optionally moving their reference level (for example to the level acknowledged)."""
        odds = state.odds.copy()
        odds[which] = 0.0
        ref = state.reference.copy()
        if reference is not None:
            ref[which] = np.broadcast_to(np.asarray(reference, dtype=float), ref[which].shape)
        return DetectorState(
            odds=odds,
            reference=ref,
            previous=state.previous.copy(),
            sum_squares=state.sum_squares.copy(),
            weight=state.weight.copy(),
            seen=state.seen.copy(),
        )


@numba.njit(cache=True, parallel=True)
def _detector_kernel(
    odds_in, reference, previous_in, sum_in, weight_in, seen_in, y, shifts, weights,
    rho, eps, v_out, warmup, discount,
    odds, previous, sum_squares, weight, seen, probability, direction, noise,
):  # fmt: skip
    """One step of the detector for every series (see the module text)."""
    k_shifts = shifts.size
    half = k_shifts // 2
    log_eps = np.log(eps) if eps > 0 else -np.inf
    log_keep = np.log1p(-eps)
    log_scale = -0.5 * np.log(v_out)
    for k in numba.prange(y.shape[0]):
        yk = y[k]
        observed = not np.isnan(yk)
        w_old = weight_in[k]
        known = w_old > 0 and sum_in[k] > 0
        variance = sum_in[k] / w_old if known else 1.0
        active = observed and known and seen_in[k] >= warmup
        nu = max(_DOF_PER_DIFFERENCE * w_old, 1.0)
        x = (yk - reference[k]) / np.sqrt(variance) if active else 0.0
        u = x / np.sqrt(v_out)
        log_out = log_eps + log_scale - 0.5 * (nu + 1.0) * np.log1p(u * u / nu)
        log_null = np.logaddexp(log_keep - 0.5 * (nu + 1.0) * np.log1p(x * x / nu), log_out)
        total = 0.0
        up = 0.0
        down = 0.0
        for j in range(k_shifts):
            if active:
                d = x - shifts[j]
                log_alt = np.logaddexp(log_keep - 0.5 * (nu + 1.0) * np.log1p(d * d / nu), log_out)
                ratio = np.exp(min(log_alt - log_null, 700.0))
                value = min((odds_in[k, j] + rho) / (1.0 - rho) * ratio, 1e300)
            else:
                value = odds_in[k, j]
            odds[k, j] = value
            total += weights[j] * value
            if j < half:
                down += value
            else:
                up += value
        probability[k] = total / (1.0 + total)
        direction[k] = 1 if up >= down else -1
        noise[k] = np.sqrt(variance) if known else np.nan
        # The noise from successive differences (see the module text).
        has_previous = observed and not np.isnan(previous_in[k])
        grow = False
        wild = False
        if has_previous:
            diff = yk - previous_in[k]
            half_square = 0.5 * diff * diff
            wild = known and w_old >= _MIN_WEIGHT and half_square > _WILD * variance
            grow = not wild
        if grow:
            sum_squares[k] = discount * sum_in[k] + half_square
            weight[k] = discount * w_old + 1.0
            seen[k] = seen_in[k] + 1
        else:
            sum_squares[k] = sum_in[k]
            weight[k] = w_old
            seen[k] = seen_in[k]
        if wild:
            previous[k] = np.nan
        elif observed:
            previous[k] = yk
        else:
            previous[k] = previous_in[k]


@dataclass
class DetectorState:
    """The evidence of :class:`ChangeDetector` per series: ``odds`` per signed shift, the
    ``reference`` level, the ``previous`` observation, the discounted ``sum_squares`` of half
    squared differences and their discounted count ``weight`` (the noise estimate is their
    ratio), and the differences ``seen`` (for the warm-up)."""

    odds: np.ndarray
    reference: np.ndarray
    previous: np.ndarray
    sum_squares: np.ndarray
    weight: np.ndarray
    seen: np.ndarray


@dataclass(frozen=True)
class DetectorStep:
    """One update's verdict per series: ``probability`` of a change since the reference,
    ``direction`` (+1 above plan, −1 below), ``alarm`` (probability ≥ threshold), and the
    ``noise`` width used (√V, NaN until two observations)."""

    probability: np.ndarray
    direction: np.ndarray
    alarm: np.ndarray
    noise: np.ndarray


__all__ = ["ChangeDetector", "DetectorSettings", "DetectorState", "DetectorStep"]
