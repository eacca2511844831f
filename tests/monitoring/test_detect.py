"""The change detector: Shiryaev's recursion in closed form, false alarms, steps and outliers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from commonplan.errors import InvalidValueError, ShapeError
from commonplan.monitoring.baselines import cusum_alarm_times, focus_alarm_times
from commonplan.monitoring.detect import ChangeDetector, DetectorSettings
from commonplan.monitoring.simulate import Change, simulate_ratios


def _known_noise(detector: ChangeDetector, n: int, sigma: float):
    state = detector.start(n)
    state.weight[:] = 1e12  # the noise estimate holds (t with ~10¹² dof: normal)
    state.sum_squares[:] = 1e12 * sigma**2
    state.seen[:] = 10**6
    return state


def test_odds_equal_the_sum_over_change_times_of_shiryaev_posterior():
    # P(change | data) with a geometric prior on the change time: the odds are
    # Σ_s ρ Π_{i=s..t} L(x_i)/(1 − ρ), here computed directly over every change time s.
    rho, delta, sigma = 0.01, 1.0, 0.05
    settings = DetectorSettings(shifts=(delta,), hazard=rho, outlier_probability=0.0, warmup=0)
    detector = ChangeDetector(settings)
    state = _known_noise(detector, 1, sigma)
    rng = np.random.default_rng(0)
    y = 1 + sigma * (rng.standard_normal(40) - 0.6)
    x = (y - 1) / sigma
    for t in range(len(y)):
        state, step = detector.update(state, y[t : t + 1])
        ratios = {
            d: stats.norm.pdf(x[: t + 1] - d) / stats.norm.pdf(x[: t + 1]) / (1 - rho)
            for d in (-delta, delta)
        }
        odds = np.mean([sum(rho * np.prod(r[s:]) for s in range(t + 1)) for r in ratios.values()])
        assert step.probability[0] == pytest.approx(odds / (1 + odds), rel=1e-9)


def test_in_control_false_alarms_are_rare_and_steps_are_caught():
    rng = np.random.default_rng(11)
    noise = rng.uniform(0.01, 0.2, 400)
    detector = ChangeDetector()
    quiet = simulate_ratios(noise, 400, seed=12)
    state = detector.start(noise.size)
    alarms = 0
    for t in range(quiet.shape[1]):
        state, step = detector.update(state, quiet[:, t])
        alarms += int(step.alarm.sum())
        state = detector.reset(state, step.alarm)
    steps_watched = noise.size * quiet.shape[1]
    assert steps_watched / max(alarms, 1) > 200  # ARL is calibrated to ≈ 390 in the benchmark
    shifted = simulate_ratios(noise, 140, (Change(np.arange(400), 100, step=-2.0),), seed=13)
    state, first = detector.start(noise.size), np.full(noise.size, -1)
    for t in range(shifted.shape[1]):
        state, step = detector.update(state, shifted[:, t])
        first[step.alarm & (first < 0)] = t
    late = first[first >= 100]
    assert late.size >= 0.7 * noise.size
    assert np.median(late - 100 + 1) <= 6
    assert np.all(step.direction[first >= 100] == -1)


def test_an_isolated_outlier_does_not_alarm_where_cusum_does():
    noise = np.full(1000, 0.05)
    outliers = (Change(np.arange(1000), 50, outlier=8.0),)
    detector = ChangeDetector()

    def alarmed_after_50(y):
        state, hit = detector.start(1000), np.zeros(1000, dtype=bool)
        for t in range(53):
            state, step = detector.update(state, y[:, t])
            hit |= step.alarm & (t >= 50)
        return hit

    # Same noise with and without the outliers: what the outliers add.
    with_outliers = alarmed_after_50(simulate_ratios(noise, 53, outliers, seed=5))
    without = alarmed_after_50(simulate_ratios(noise, 53, seed=5))
    assert with_outliers.mean() - without.mean() <= 0.01
    y = simulate_ratios(noise, 53, outliers, seed=5)
    cusum = cusum_alarm_times((y - 1) / 0.05)
    alive = (cusum < 0) | (cusum >= 50)
    assert np.mean(cusum[alive] >= 50) > 0.95


def test_cusum_baseline_has_its_textbook_run_length():
    # k = 0.5, h = 4.77: two-sided in-control ARL 370 (Montgomery §9.1). Censored estimate.
    z = np.random.default_rng(8).standard_normal((2000, 1500))
    first = cusum_alarm_times(z)
    arl = np.where(first >= 0, first + 1, 1500).sum() / (first >= 0).sum()
    assert 330 <= arl <= 410


def test_focus_statistic_is_the_maximum_over_change_times():
    z = np.random.default_rng(2).standard_normal((1, 30))
    z[0, 20:] += 3.0
    first = focus_alarm_times(z, threshold=8.0)
    brute = [
        max((z[0, s : t + 1].sum()) ** 2 / (2 * (t + 1 - s)) for s in range(t + 1))
        for t in range(30)
    ]
    expected = next(t for t, value in enumerate(brute) if value > 8.0)
    assert first[0] == expected


def test_reset_moves_the_reference_and_settings_are_checked():
    detector = ChangeDetector()
    state = detector.start(3)
    state = detector.reset(state, np.array([True, False, False]), 0.8)
    assert state.reference.tolist() == [0.8, 1.0, 1.0]
    with pytest.raises(ShapeError):
        detector.update(state, np.ones(2))
    with pytest.raises(InvalidValueError, match="infinite"):
        detector.update(state, np.array([1.0, -np.inf, 1.0]))
    with pytest.raises(InvalidValueError):
        DetectorSettings(hazard=1.5)
    with pytest.raises(InvalidValueError):
        DetectorSettings(shifts=(0.0,))
