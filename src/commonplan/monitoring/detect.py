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
  ``shifts`` (in noise widths, both signs) with equal prior weight, and the change time
  geometric with hazard ``ρ`` per step (Shiryaev 1963).

Under both, ``ν_t`` is the filter's mixture of the steady and outlier states (an outlier with
probability ε and variance ``v_out V``), so one wild value hardly moves the evidence. With
``x_t = (y_t − r)/√S_t`` the odds of "changed" follow Shiryaev's recursion, for each shift,

    Ω_t(δ) = (Ω_{t-1}(δ) + ρ) / (1 − ρ) · L_δ(x_t),
    L_δ(x) = [(1 − ε) φ(x − δ) + ε φ_out(x)] / [(1 − ε) φ(x) + ε φ_out(x)],

and ``P(changed | data) = Ω / (1 + Ω)`` with ``Ω = mean over δ of Ω_t(δ)``. The direction
(shortfall or excess) is the sign of the shift that carries most of the odds.

An alarm is raised when the probability passes ``threshold``; ``reset`` starts the evidence
afresh (after an acknowledgement), optionally at a new reference level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commonplan.errors import InvalidValueError, ShapeError

# Successive differences overlap, so n of them carry about 2n/3 degrees of freedom.
_DOF_PER_DIFFERENCE = 2.0 / 3.0
# A half squared difference above this many noise variances (a 3.5σ difference: 1 in 2,000
# for Gaussian noise) is an outlier or a jump, not noise; the estimate must have this weight first.
_WILD = 12.0
_MIN_WEIGHT = 5.0


@dataclass(frozen=True)
class DetectorSettings:
    """Settings of :class:`ChangeDetector`.

    ``shifts``: the alternative shifts, in noise widths (each is used with both signs);
    ``hazard``: ρ, the prior probability per step that a change starts; ``threshold``: the
    posterior probability of a change that raises an alarm; ``outlier_probability`` and
    ``outlier_variance``: ε and ``v_out`` (as in the filter's outlier state);
    ``warmup``: observations before the detector speaks (the noise estimate is poor before).
    Defaults are calibrated in ``benchmarks/bench_monitoring.py`` to an in-control average
    run length above 370 steps.
    """

    shifts: tuple[float, ...] = (0.6, 1.0, 1.4)
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
        y = np.asarray(y, dtype=float)
        if y.shape != state.reference.shape:
            raise ShapeError(
                f"update takes one value per series: got shape {y.shape} for "
                f"{state.reference.shape[0]} series",
                where="ChangeDetector.update",
            )
        if np.any(np.isinf(y)):
            raise InvalidValueError(
                "an observation is infinite",
                where="ChangeDetector.update",
                fix="send NaN for a missing value",
            )
        st = self.settings
        observed = ~np.isnan(y)
        known = state.weight > 0
        variance = np.where(known, state.sum_squares / np.where(known, state.weight, 1.0), 1.0)
        active = observed & known & (state.seen >= st.warmup)
        x = np.where(active, (y - state.reference) / np.sqrt(variance), 0.0)[:, None]
        nu = np.maximum(_DOF_PER_DIFFERENCE * state.weight, 1.0)[:, None]

        def kernel(u: np.ndarray) -> np.ndarray:
            return -0.5 * (nu + 1) * np.log1p(u * u / nu)

        eps, v_out = st.outlier_probability, st.outlier_variance
        with np.errstate(divide="ignore"):  # ε = 0: no outlier state
            log_eps = np.log(eps)
        log_out = log_eps - 0.5 * np.log(v_out) + kernel(x / np.sqrt(v_out))
        log_null = np.logaddexp(np.log1p(-eps) + kernel(x), log_out)
        log_alt = np.logaddexp(np.log1p(-eps) + kernel(x - self.shifts), log_out)
        ratio = np.exp(np.minimum(log_alt - log_null, 700.0))
        rho = st.hazard
        odds = np.where(active[:, None], (state.odds + rho) / (1 - rho) * ratio, state.odds)
        odds = np.minimum(odds, 1e300)

        # The noise from successive differences: a shift of level leaves them unchanged. A
        # difference too wide for the noise (an outlier, or the jump of a step) is left out,
        # and so is the next one, which shares its observation.
        has_previous = observed & ~np.isnan(state.previous)
        half_square = 0.5 * (y - np.where(has_previous, state.previous, 0.0)) ** 2
        wild = (
            has_previous & known & (state.weight >= _MIN_WEIGHT) & (half_square > _WILD * variance)
        )
        grow = has_previous & ~wild
        sum_squares = np.where(
            grow, st.discount * state.sum_squares + half_square, state.sum_squares
        )
        weight = np.where(grow, st.discount * state.weight + 1.0, state.weight)
        previous = np.where(wild, np.nan, np.where(observed, y, state.previous))

        total = odds.mean(axis=1)
        probability = total / (1.0 + total)
        half = self.shifts.size // 2
        direction = np.where(odds[:, half:].sum(axis=1) >= odds[:, :half].sum(axis=1), 1, -1)
        new = DetectorState(
            odds=odds,
            reference=state.reference,
            previous=previous,
            sum_squares=sum_squares,
            weight=weight,
            seen=state.seen + grow,
        )
        return new, DetectorStep(
            probability=probability,
            direction=direction,
            alarm=probability >= st.threshold,
            noise=np.sqrt(variance) * known + np.where(known, 0.0, np.nan),
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
