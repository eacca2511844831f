"""A four-state multi-process Bayesian filter, after Harrison & Stevens (1971, 1976).

Each monitored series is the ratio ``actual / plan`` of one product or activity, one value per
sub-period (a week, a month). Its model is the linear growth dynamic linear model

    y_t = μ_t + ν_t,                ν_t ~ N(0, v_k V)
    μ_t = μ_{t-1} + β_t + ω_t,      ω_t ~ N(0, w_k V)
    β_t = β_{t-1} + ζ_t,            ζ_t ~ N(0, s_k V)

in which, at each step, one of four *states* k holds, drawn independently with prior
probabilities π_k: **steady** (small ω, no ζ), **step** (a large ω: the level jumps),
**slope** (a large ζ: the growth rate changes) and **outlier** (a large ν: one observation is
off, the level is not). The observation variance ``V`` is unknown and learnt online (a
normal/inverse-gamma prior with ``n`` degrees of freedom, discounted so that a change of noise
is followed; West & Harrison 1997, §10.8).

Each step is exact Bayes from the four posteriors of the previous step into sixteen
(previous state × current state), which are then *collapsed* back into four Gaussians by
matching first and second moments (Harrison & Stevens' class II model of order 1). The
posterior of each state at ``t`` is returned, and so is the *retrospective* probability of each
state at ``t − 1`` given the data to ``t``: one observation later, a step and an outlier are
told apart (after a step the next point stays off; after an outlier it comes back).

Everything works on arrays of ``n_series``, one observation per series at a time: no history is
kept or refitted. See ``docs/monitoring.md`` for the choice of priors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np
from scipy import stats

from commonplan.errors import InvalidValueError, ShapeError

STATES: tuple[str, ...] = ("steady", "step", "slope", "outlier")
STEADY, STEP, SLOPE, OUTLIER = range(4)


def observations(y: np.ndarray, n_series: int, where: str) -> np.ndarray:
    """``y`` as floats, one per series, NaN for a missing value; infinities are refused."""
    y = np.asarray(y, dtype=float)
    if y.shape != (n_series,):
        raise ShapeError(
            f"update takes one value per series: got shape {y.shape} for {n_series} series",
            where=where,
        )
    if np.any(np.isinf(y)):
        raise InvalidValueError(
            "an observation is infinite", where=where, fix="send NaN for a missing value"
        )
    return y


@dataclass(frozen=True)
class FilterPriors:
    """The model's prior settings; variances are multiples of the observation variance ``V``.

    ``probabilities``: π for (steady, step, slope, outlier) at every step, summing to 1.
    ``observation``: v_k, ``level``: w_k, ``slope``: s_k, each per state.
    ``level0``, ``slope0``: prior mean of μ and β (1.0 and 0.0: the series is on plan);
    ``level0_var``, ``slope0_var``: their prior variances, in units of ``variance0``.
    ``variance0``: prior guess of ``V`` (a 5 % noise: 0.0025); ``dof0``: its weight in
    observations; ``variance_discount``: δ in ``n_t = δ n_{t-1} + 1`` (1.0 never forgets).
    ``interval``: the central probability of the forecast interval.
    """

    probabilities: tuple[float, float, float, float] = (0.94, 0.02, 0.02, 0.02)
    observation: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 100.0)
    level: tuple[float, float, float, float] = (0.0, 25.0, 0.0, 0.0)
    slope: tuple[float, float, float, float] = (0.0, 0.0, 0.25, 0.0)
    level0: float = 1.0
    slope0: float = 0.0
    level0_var: float = 100.0
    slope0_var: float = 0.01
    variance0: float = 0.0025
    dof0: float = 1.0
    variance_discount: float = 0.99
    interval: float = 0.95

    def __post_init__(self) -> None:
        for name in ("probabilities", "observation", "level", "slope"):
            values = np.asarray(getattr(self, name), dtype=float)
            if values.shape != (4,) or not np.all(np.isfinite(values)) or np.any(values < 0):
                raise InvalidValueError(
                    f"FilterPriors.{name} must be four finite, non-negative numbers",
                    where=f"FilterPriors.{name}",
                    expected="one value per state (steady, step, slope, outlier)",
                )
        if not np.isclose(sum(self.probabilities), 1.0) or min(self.probabilities) <= 0:
            raise InvalidValueError(
                "FilterPriors.probabilities must be positive and sum to 1",
                where="FilterPriors.probabilities",
                fix="give four positive probabilities that add up to 1",
            )
        if min(self.observation) <= 0:
            raise InvalidValueError(
                "every state needs a positive observation variance",
                where="FilterPriors.observation",
            )
        scalars = (self.level0_var, self.variance0, self.dof0)
        if min(scalars) <= 0 or not 0 < self.variance_discount <= 1 or not 0 < self.interval < 1:
            raise InvalidValueError(
                "level0_var, variance0 and dof0 must be positive, variance_discount in (0, 1], "
                "interval in (0, 1)",
                where="FilterPriors",
            )


@dataclass
class FilterState:
    """The filter's memory for ``n`` series: four Gaussians each, and the variance estimate.

    ``weights`` (n, 4): posterior probability of each state at the last step;
    ``mean`` (n, 4, 2): level and slope per state; ``cov`` (n, 4, 3): the covariance's
    entries (level-level, level-slope, slope-slope), in the units of the ratio squared;
    ``variance`` (n,): the estimate ``S`` of ``V``; ``dof`` (n,): its degrees of freedom;
    ``steps`` (n,): observations taken so far.
    """

    weights: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    variance: np.ndarray
    dof: np.ndarray
    steps: np.ndarray

    @property
    def n_series(self) -> int:
        """How many series the state holds."""
        return int(self.weights.shape[0])

    def level(self) -> np.ndarray:
        """Posterior mean level μ (n,), mixed over states."""
        return np.einsum("nk,nk->n", self.weights, self.mean[:, :, 0])

    def slope(self) -> np.ndarray:
        """Posterior mean slope β (n,), per sub-period, mixed over states."""
        return np.einsum("nk,nk->n", self.weights, self.mean[:, :, 1])

    def level_variance(self) -> np.ndarray:
        """Posterior variance of μ (n,), including the spread between states."""
        mean = self.level()
        within = np.einsum("nk,nk->n", self.weights, self.cov[:, :, 0])
        between = np.einsum("nk,nk->n", self.weights, (self.mean[:, :, 0] - mean[:, None]) ** 2)
        return within + between

    def take(self, index: np.ndarray) -> FilterState:
        """The state of the series selected by ``index`` (a copy)."""
        return FilterState(*(np.array(getattr(self, name)[index]) for name in _FIELDS))


_FIELDS = ("weights", "mean", "cov", "variance", "dof", "steps")


@dataclass(frozen=True)
class FilterStep:
    """What one update says about each of ``n`` series.

    ``probabilities`` (n, 4): P(state at t | data to t); ``retrospective`` (n, 4):
    P(state at t−1 | data to t), NaN at a series' first step; ``level``, ``slope``: the
    posterior means; ``forecast``: the one-step forecast of the next ratio with its
    ``lower``/``upper`` interval bounds; ``error``: the standardised one-step error of this
    observation (``(y − f)/√Q`` under the steady state, in units of its spread); ``variance``:
    the estimate of V; ``observed``: False where the value was missing (the state only evolved).
    """

    probabilities: np.ndarray
    retrospective: np.ndarray
    level: np.ndarray
    slope: np.ndarray
    forecast: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    error: np.ndarray
    variance: np.ndarray
    observed: np.ndarray = field(repr=False)


class MultiStateFilter:
    """Harrison & Stevens' four-state filter for many series at once.

    >>> f = MultiStateFilter()
    >>> state = f.start(3)
    >>> state, step = f.update(state, np.array([1.0, 0.98, 1.03]))
    >>> step.probabilities.shape
    (3, 4)
    """

    def __init__(self, priors: FilterPriors | None = None) -> None:
        self.priors = priors or FilterPriors()
        p = self.priors
        self._log_prior = np.log(np.asarray(p.probabilities, dtype=float))
        self._v = np.asarray(p.observation, dtype=float)
        self._w = np.asarray(p.level, dtype=float)
        self._s = np.asarray(p.slope, dtype=float)

    def start(self, n_series: int) -> FilterState:
        """A fresh state for ``n_series`` series, all at the priors."""
        if int(n_series) < 0:
            raise ShapeError("the number of series must be non-negative", where="start")
        n = int(n_series)
        p = self.priors
        weights = np.tile(np.asarray(p.probabilities, dtype=float), (n, 1))
        mean = np.zeros((n, 4, 2))
        mean[:, :, 0] = p.level0
        mean[:, :, 1] = p.slope0
        cov = np.zeros((n, 4, 3))
        cov[:, :, 0] = p.level0_var * p.variance0
        cov[:, :, 2] = p.slope0_var * p.variance0
        return FilterState(
            weights=weights,
            mean=mean,
            cov=cov,
            variance=np.full(n, p.variance0),
            dof=np.full(n, p.dof0),
            steps=np.zeros(n, dtype=np.int64),
        )

    def update(self, state: FilterState, y: np.ndarray) -> tuple[FilterState, FilterStep]:
        """Take one observation per series (NaN: none this step) and return the new state.

        ``y`` (n,) is the ratio actual/plan of each series for this sub-period. The state passed
        in is not changed.
        """
        y = observations(y, state.n_series, "MultiStateFilter.update")
        n = state.n_series
        out = FilterState(
            weights=np.empty((n, 4)),
            mean=np.empty((n, 4, 2)),
            cov=np.empty((n, 4, 3)),
            variance=np.empty(n),
            dof=np.empty(n),
            steps=np.empty(n, dtype=np.int64),
        )
        retrospective = np.empty((n, 4))
        error = np.empty(n)
        _update_kernel(
            state.weights,
            state.mean,
            state.cov,
            state.variance,
            state.dof,
            state.steps,
            y,
            self._log_prior,
            self._v,
            self._w,
            self._s,
            self.priors.variance_discount,
            out.weights,
            out.mean,
            out.cov,
            out.variance,
            out.dof,
            out.steps,
            retrospective,
            error,
        )
        new = out
        observed = ~np.isnan(y)
        level, slope, forecast, lower, upper = self._summary(new, 1)
        return new, FilterStep(
            probabilities=new.weights,
            retrospective=retrospective,
            level=level,
            slope=slope,
            forecast=forecast,
            lower=lower,
            upper=upper,
            error=error,
            variance=new.variance,
            observed=observed,
        )

    def forecast(
        self, state: FilterState, horizon: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast of the ratio ``horizon`` steps ahead: mean, lower and upper bound (n,).

        The mean mixes the states; the bounds are the Student-t interval (with the filter's
        degrees of freedom) of the value if the series stays *steady* over the horizon: the
        band of normal operation, which a step, a change of slope or an outlier leaves.
        """
        return self._summary(state, horizon)[2:]

    def _summary(
        self, state: FilterState, horizon: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Level, slope, and the ``horizon``-step forecast with its interval, per series."""
        h = float(horizon)
        # The evolution and noise over h steps if the series stays steady: the band of normal
        # operation (a value outside it is what the other states are there to explain).
        spread = (
            h * self._w[STEADY] + h * (h + 1) * (2 * h + 1) / 6 * self._s[STEADY] + self._v[STEADY]
        )
        dofs, where = np.unique(state.dof, return_inverse=True)
        quantile = stats.t.ppf(0.5 + self.priors.interval / 2, dofs)[where.reshape(-1)]
        n = state.n_series
        out = np.empty((5, n))
        _summary_kernel(
            state.weights, state.mean, state.cov, state.variance, quantile, h, spread, out
        )
        return out[0], out[1], out[2], out[3], out[4]


@numba.njit(cache=True, parallel=True, fastmath=False)
def _update_kernel(
    weights, mean, cov, variance, dof, steps, y, log_prior, v, w, s, discount,
    out_weights, out_mean, out_cov, out_variance, out_dof, out_steps, retrospective, error,
):  # fmt: skip
    """One step of the class II filter for every series (see the module text): the sixteen
    transitions, their posteriors and the moment-matching collapse back to four states."""
    n_series = y.shape[0]
    for k in numba.prange(n_series):
        s_old = variance[k]
        n_old = dof[k]
        obs = not np.isnan(y[k])
        yk = y[k] if obs else 0.0
        n_new = discount * n_old + 1.0 if obs else n_old
        log_j = np.empty((4, 4))
        p00 = np.empty((4, 4))
        p1 = np.empty((4, 4))
        c00 = np.empty((4, 4))
        c01 = np.empty((4, 4))
        c11 = np.empty((4, 4))
        s_ij = np.empty((4, 4))
        top = -np.inf
        for i in range(4):
            m0 = mean[k, i, 0]
            m1 = mean[k, i, 1]
            a0 = m0 + m1
            g00 = cov[k, i, 0] + 2.0 * cov[k, i, 1] + cov[k, i, 2]
            g01 = cov[k, i, 1] + cov[k, i, 2]
            g11 = cov[k, i, 2]
            for j in range(4):
                r00 = g00 + s_old * w[j]
                r01 = g01
                r11 = g11 + s_old * s[j]
                if obs:
                    q = r00 + s_old * v[j]
                    e = yk - a0
                    lw = (
                        np.log(weights[k, i])
                        + log_prior[j]
                        - 0.5 * np.log(q)
                        - 0.5 * (n_old + 1.0) * np.log1p(e * e / (n_old * q))
                    )
                    k0 = r00 / q
                    k1 = r01 / q
                    p00[i, j] = a0 + k0 * e
                    p1[i, j] = m1 + k1 * e
                    c00[i, j] = r00 - r00 * k0
                    c01[i, j] = r01 - r00 * k1
                    c11[i, j] = r11 - r01 * k1
                    if j == 3:
                        s_ij[i, j] = s_old
                    else:
                        s_ij[i, j] = s_old * (1.0 + (e * e / q - 1.0) / n_new)
                    if i == 0 and j == 0:
                        error[k] = e / np.sqrt(q)
                else:
                    lw = np.log(weights[k, i]) + log_prior[j]
                    p00[i, j] = a0
                    p1[i, j] = m1
                    c00[i, j] = r00
                    c01[i, j] = r01
                    c11[i, j] = r11
                    s_ij[i, j] = s_old
                log_j[i, j] = lw
                if lw > top:
                    top = lw
        total = 0.0
        for i in range(4):
            for j in range(4):
                log_j[i, j] = np.exp(log_j[i, j] - top)
                total += log_j[i, j]
        inv_s = 0.0
        for i in range(4):
            for j in range(4):
                log_j[i, j] /= total
                inv_s += log_j[i, j] / s_ij[i, j]
        s_new = 1.0 / inv_s
        scale = s_new / s_old
        if not obs:
            error[k] = np.nan
        for i in range(4):
            r = 0.0
            for j in range(4):
                r += log_j[i, j]
            retrospective[k, i] = r if (obs and steps[k] > 0) else np.nan
        wsum = 0.0
        for j in range(4):
            pj = 0.0
            for i in range(4):
                pj += log_j[i, j]
            safe = max(pj, 1e-300)
            mu0 = 0.0
            mu1 = 0.0
            for i in range(4):
                h = log_j[i, j] / safe
                mu0 += h * p00[i, j]
                mu1 += h * p1[i, j]
            v00 = 0.0
            v01 = 0.0
            v11 = 0.0
            for i in range(4):
                h = log_j[i, j] / safe
                d0 = p00[i, j] - mu0
                d1 = p1[i, j] - mu1
                v00 += h * (c00[i, j] * scale + d0 * d0)
                v01 += h * (c01[i, j] * scale + d0 * d1)
                v11 += h * (c11[i, j] * scale + d1 * d1)
            out_mean[k, j, 0] = mu0
            out_mean[k, j, 1] = mu1
            out_cov[k, j, 0] = v00
            out_cov[k, j, 1] = v01
            out_cov[k, j, 2] = v11
            out_weights[k, j] = max(pj, 1e-12)
            wsum += out_weights[k, j]
        for j in range(4):
            out_weights[k, j] /= wsum
        out_variance[k] = s_new
        out_dof[k] = n_new
        out_steps[k] = steps[k] + (1 if obs else 0)


@numba.njit(cache=True, parallel=True)
def _summary_kernel(weights, mean, cov, variance, quantile, h, spread, out):  # fmt: skip
    """Mixture mean level and slope, and the forecast μ + hβ with its Student-t interval."""
    for k in numba.prange(weights.shape[0]):
        level = 0.0
        slope = 0.0
        f = 0.0
        for j in range(4):
            level += weights[k, j] * mean[k, j, 0]
            slope += weights[k, j] * mean[k, j, 1]
        f = level + h * slope
        var = 0.0
        for j in range(4):
            fj = mean[k, j, 0] + h * mean[k, j, 1]
            vj = cov[k, j, 0] + 2.0 * h * cov[k, j, 1] + h * h * cov[k, j, 2]
            var += weights[k, j] * (vj + variance[k] * spread + (fj - f) ** 2)
        width = quantile[k] * np.sqrt(var)
        out[0, k] = level
        out[1, k] = slope
        out[2, k] = f
        out[3, k] = f - width
        out[4, k] = f + width


def kalman_local_level(
    y: np.ndarray, level_variance: float, observation_variance: float, m0: float, c0: float
) -> tuple[np.ndarray, np.ndarray]:
    """The textbook Kalman filter of a local-level model with known variances.

    Returns the filtered means and variances of the level (each ``len(y)``). It is the
    closed form that :class:`MultiStateFilter` reduces to with one state and a known ``V``;
    tests use it as the oracle.
    """
    means, variances = np.empty(len(y)), np.empty(len(y))
    m, c = m0, c0
    for t, value in enumerate(np.asarray(y, dtype=float)):
        r = c + level_variance
        q = r + observation_variance
        m = m + r / q * (value - m)
        c = r - r * r / q
        means[t], variances[t] = m, c
    return means, variances


__all__ = [
    "OUTLIER",
    "SLOPE",
    "STATES",
    "STEADY",
    "STEP",
    "FilterPriors",
    "FilterState",
    "FilterStep",
    "MultiStateFilter",
    "kalman_local_level",
]
