"""The four-state filter: the Kalman filter when its states coincide; telling steps from outliers."""

from __future__ import annotations

import numpy as np
import pytest

from commonplan.errors import InvalidValueError, ShapeError
from commonplan.monitoring.filter import (
    OUTLIER,
    STEP,
    FilterPriors,
    MultiStateFilter,
    kalman_local_level,
)
from commonplan.monitoring.simulate import Change, simulate_ratios


def _one_state_filter(level_var: float, v: float, c0: float) -> MultiStateFilter:
    # Four identical states with V known (no learning) are one state: a local-level model.
    return MultiStateFilter(
        FilterPriors(
            probabilities=(0.25, 0.25, 0.25, 0.25),
            observation=(1.0,) * 4,
            level=(level_var / v,) * 4,
            slope=(0.0,) * 4,
            slope0_var=0.0,
            level0_var=c0 / v,
            variance0=v,
            dof0=1e15,
            variance_discount=1.0,
        )
    )


def test_with_one_state_and_known_variance_it_is_the_kalman_filter_of_a_local_level_model():
    rng = np.random.default_rng(7)
    v, w, c0 = 0.01, 0.002, 0.3
    y = 1.0 + np.cumsum(np.sqrt(w) * rng.standard_normal(80)) + np.sqrt(v) * rng.standard_normal(80)
    y[[10, 11, 40]] = np.nan  # missing reports: the level only evolves
    filt = _one_state_filter(w, v, c0)
    state = filt.start(1)
    means, variances = [], []
    for value in y:
        state, step = filt.update(state, np.array([value]))
        means.append(step.level[0])
        variances.append(state.level_variance()[0])
    oracle_means, oracle_vars = _kalman_with_gaps(y, w, v, 1.0, c0)
    np.testing.assert_allclose(means, oracle_means, rtol=0, atol=1e-12)
    np.testing.assert_allclose(variances, oracle_vars, rtol=1e-10)


def _kalman_with_gaps(y, w, v, m0, c0):
    means, variances, m, c = [], [], m0, c0
    for value in y:
        if np.isnan(value):
            c = c + w
        else:
            m_seg, c_seg = kalman_local_level(np.array([value]), w, v, m, c)
            m, c = m_seg[0], c_seg[0]
        means.append(m)
        variances.append(c)
    return np.array(means), np.array(variances)


def test_kalman_oracle_matches_the_steady_state_riccati_solution():
    # The oracle itself against a closed form: the steady-state variance of a local level
    # model solves c = (c + w) v / (c + w + v).
    w, v = 0.5, 2.0
    _, variances = kalman_local_level(np.zeros(500), w, v, 0.0, 10.0)
    c = (-w + np.sqrt(w * w + 4 * w * v)) / 2
    assert variances[-1] == pytest.approx(c, rel=1e-12)


def test_one_step_later_a_step_and_an_outlier_are_told_apart():
    noise = np.full(2, 0.02)
    y = simulate_ratios(
        noise,
        60,
        (Change(np.array([0]), 40, step=12.0), Change(np.array([1]), 40, outlier=12.0)),
        seed=1,
    )
    filt = MultiStateFilter()
    state = filt.start(2)
    for t in range(42):
        state, step = filt.update(state, y[:, t])
        if t == 41:
            retro = step.retrospective
    assert retro[0, STEP] > 0.9  # the jump stayed: a step at 40
    assert retro[1, OUTLIER] > 0.9  # it came back: an outlier at 40
    # And the level follows the step but ignores the outlier.
    assert step.level[0] == pytest.approx(1 + 12 * 0.02, abs=3 * 0.02)
    assert step.level[1] == pytest.approx(1.0, abs=3 * 0.02)


def test_forecast_interval_covers_about_its_probability_in_control():
    rng = np.random.default_rng(3)
    noise = rng.uniform(0.01, 0.2, 1000)
    y = simulate_ratios(noise, 150, seed=4)
    filt = MultiStateFilter()
    state = filt.start(noise.size)
    inside = []
    for t in range(149):
        state, step = filt.update(state, y[:, t])
        if t >= 30:
            inside.append((y[:, t + 1] >= step.lower) & (y[:, t + 1] <= step.upper))
    coverage = np.mean(inside)
    assert 0.92 <= coverage <= 0.995, coverage


def test_bad_input_is_refused_clearly():
    filt = MultiStateFilter()
    state = filt.start(3)
    with pytest.raises(ShapeError, match="one value per series"):
        filt.update(state, np.ones(2))
    with pytest.raises(InvalidValueError, match="infinite"):
        filt.update(state, np.array([1.0, np.inf, 1.0]))
    with pytest.raises(InvalidValueError, match="sum to 1"):
        FilterPriors(probabilities=(0.5, 0.2, 0.2, 0.2))
    with pytest.raises(InvalidValueError, match="non-negative"):
        FilterPriors(level=(0.0, -1.0, 0.0, 0.0))


def test_state_passed_in_is_not_changed_and_missing_values_only_evolve():
    filt = MultiStateFilter()
    state = filt.start(2)
    state, _ = filt.update(state, np.array([1.0, 1.1]))
    before = state.take(np.arange(2))
    new, step = filt.update(state, np.array([np.nan, 1.0]))
    np.testing.assert_array_equal(state.mean, before.mean)
    assert not step.observed[0] and step.observed[1]
    assert new.steps.tolist() == [1, 2]
    assert np.isnan(step.error[0]) and np.isfinite(step.error[1])
    np.testing.assert_allclose(new.weights[0], filt.priors.probabilities)
