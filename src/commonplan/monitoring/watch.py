"""The monitor of one published plan: reports in, posterior and alarms out, one sub-period at a time.

:class:`Monitor` holds, for every product of the plan, the four-state filter
(:mod:`~commonplan.monitoring.filter`) and the change detector
(:mod:`~commonplan.monitoring.detect`) on the ratio *actual / planned* of each sub-period,
and the output reported so far in the current period. :meth:`Monitor.observe` takes the
reports of the next sub-period and returns a :class:`MonitorStep`: one row per product with
the state probabilities, the forecast band, the forecast of the period's total against the
plan and any alarm newly raised. The whole state fits in a few arrays and travels as bytes
(:meth:`Monitor.to_bytes`), so a server keeps it as one blob per plan.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from commonplan.errors import ReportError
from commonplan.monitoring.alarms import AlarmRule
from commonplan.monitoring.detect import ChangeDetector, DetectorSettings, DetectorState
from commonplan.monitoring.filter import (
    OUTLIER,
    SLOPE,
    STEP,
    FilterPriors,
    FilterState,
    MultiStateFilter,
)
from commonplan.monitoring.reports import PlanTargets

_FORMAT = "commonplan-monitor-1"
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class MonitorStep:
    """What one sub-period's reports say.

    ``table``: one row per product: ``planned`` and ``actual`` output of the sub-period (plan
    units; ``actual`` NaN where nothing was reported), ``ratio``, the filter's ``p_steady``,
    ``p_step``, ``p_slope``, ``p_outlier``, ``level`` and ``slope`` of the ratio, the one-step
    ``forecast`` with ``lower``/``upper`` (ratio), ``change_probability`` (detector),
    ``direction`` (−1 below plan, +1 above), ``outlier_before`` (the previous observation was
    a transient outlier), ``total_forecast`` (with ``total_upper``, its 95 % upper bound) and
    ``total_plan`` of the period (plan units),
    and ``alarm`` ("change", "shortfall" or empty) where an alarm is newly raised.
    ``alarms``: the rows of ``table`` with an alarm.
    """

    period: str
    sub_period: int
    table: pd.DataFrame

    @property
    def alarms(self) -> pd.DataFrame:
        """The products with an alarm raised at this step."""
        return self.table[self.table["alarm"] != ""]


class Monitor:
    """Watch a plan's products through their production reports (see the module text)."""

    def __init__(
        self,
        targets: PlanTargets,
        *,
        priors: FilterPriors | None = None,
        detector: DetectorSettings | None = None,
        rule: AlarmRule | None = None,
    ) -> None:
        self.targets = targets
        self.filter = MultiStateFilter(priors)
        self.detector = ChangeDetector(detector)
        self.rule = rule or AlarmRule()
        n = len(targets.products)
        self._filter_state: FilterState = self.filter.start(n)
        self._detector_state: DetectorState = self.detector.start(n)
        self.position = 0
        self._actual = np.zeros(n)
        self._seen = 0
        self._open_change = np.zeros(n, dtype=bool)
        self._open_shortfall = np.zeros(n, dtype=bool)
        self._index = pd.Index(targets.products, name="product")

    # -- position in the plan -------------------------------------------------------------

    @property
    def next_period(self) -> tuple[str, int] | None:
        """(period, sub_period) the next reports must be for; ``None`` when the plan is over."""
        t = self.targets
        if self.position >= len(t.periods) * t.sub_periods:
            return None
        return t.periods[self.position // t.sub_periods], self.position % t.sub_periods + 1

    def open_alarms(self) -> pd.DataFrame:
        """Products with an open alarm, by kind (booleans)."""
        return pd.DataFrame(
            {"change": self._open_change, "shortfall": self._open_shortfall}, index=self._index
        )

    # -- one sub-period ----------------------------------------------------------------------

    def observe(self, reports: pd.DataFrame) -> MonitorStep:
        """Take the validated reports of the next sub-period (products not in it: no report).

        ``reports`` is :func:`~commonplan.monitoring.reports.validate_reports`' output for
        exactly one (period, sub_period), the one :attr:`next_period` names.
        """
        expected = self.next_period
        if expected is None:
            raise ReportError("the plan's last sub-period is already reported", where="reports")
        period, sub = expected
        if len(reports):
            got = set(
                zip(reports["period"].astype(str), reports["sub_period"].astype(int), strict=True)
            )
            if got != {(period, sub)}:
                shown = ", ".join(f"period {p} sub-period {s}" for p, s in sorted(got))
                raise ReportError(
                    f"reports are for {shown}",
                    where="reports",
                    expected=f"the next sub-period only: period {period}, sub-period {sub}",
                    fix="file the sub-periods in order, one batch per sub-period",
                )
        t = self.targets
        p_index = t.periods.index(period)
        shares = t.shares()
        planned = t.planned[:, p_index] * shares[sub - 1]
        actual = np.full(len(t.products), np.nan)
        if len(reports):
            actual[self._index.get_indexer(reports["product"].astype(str))] = reports[
                "output"
            ].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(planned > 0, actual / planned, np.nan)
        if sub == 1:
            self._actual[:] = 0.0
            self._seen = 0
            self._open_shortfall[:] = False
        self._actual += np.nan_to_num(actual)
        self._seen += 1

        self._filter_state, step = self.filter.update(self._filter_state, ratio)
        self._detector_state, verdict = self.detector.update(self._detector_state, ratio)

        remaining = shares[sub:]
        horizon = np.arange(1, remaining.size + 1)
        planned_total = t.planned[:, p_index]
        level = np.where(np.isfinite(step.level), step.level, 1.0)
        future = (planned_total[:, None] * remaining) * (
            level[:, None] + step.slope[:, None] * horizon
        )
        total_forecast = self._actual + future.sum(axis=1)
        # The total is short only if even the level's upper bound (95 %) leaves it short.
        spread = (
            _Z95 * np.sqrt(self._filter_state.level_variance()) * (planned_total * remaining.sum())
        )
        total_upper = total_forecast + np.nan_to_num(spread)
        change = verdict.alarm & ~self._open_change
        short = (
            (self._seen >= self.rule.min_observations)
            & (total_upper < (1 - self.rule.shortfall_margin) * planned_total)
            & (planned_total > 0)
            & ~self._open_shortfall
        )
        self._open_change |= change
        self._open_shortfall |= short
        alarm = np.where(change, "change", np.where(short, "shortfall", ""))
        probabilities = step.probabilities
        table = pd.DataFrame(
            {
                "planned": planned,
                "actual": actual,
                "ratio": ratio,
                "p_steady": probabilities[:, 0],
                "p_step": probabilities[:, STEP],
                "p_slope": probabilities[:, SLOPE],
                "p_outlier": probabilities[:, OUTLIER],
                "level": step.level,
                "slope": step.slope,
                "forecast": step.forecast,
                "lower": step.lower,
                "upper": step.upper,
                "change_probability": verdict.probability,
                "direction": verdict.direction,
                "outlier_before": np.nan_to_num(step.retrospective[:, OUTLIER])
                >= self.rule.outlier_probability,
                "total_forecast": total_forecast,
                "total_upper": total_upper,
                "total_plan": planned_total,
                "alarm": alarm,
            },
            index=self._index,
        )
        self.position += 1
        return MonitorStep(period, sub, table)

    def acknowledge(self, products: list[str], *, accept_level: bool = False) -> None:
        """Close the open alarms of ``products`` and start their evidence afresh.

        ``accept_level``: measure from now on against the level the series has reached (the
        council has accepted a new normal, for example a re-plan) rather than against the plan.
        """
        which = self._index.get_indexer(products)
        if (which < 0).any():
            unknown = [p for p, w in zip(products, which, strict=True) if w < 0]
            raise ReportError(f"unknown product {unknown[0]!r}", where="acknowledge")
        level = self._filter_state.level()[which] if accept_level else None
        self._detector_state = self.detector.reset(self._detector_state, which, level)
        self._open_change[which] = False
        self._open_shortfall[which] = False

    # -- persistence ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The whole monitor (targets, settings, state) as bytes (a NumPy ``.npz`` archive)."""
        t = self.targets
        header = {
            "format": _FORMAT,
            "products": list(t.products),
            "periods": list(t.periods),
            "sub_periods": t.sub_periods,
            "unit": t.unit,
            "profile": list(t.profile) if t.profile is not None else None,
            "priors": asdict(self.filter.priors),
            "detector": asdict(self.detector.settings),
            "rule": asdict(self.rule),
            "position": self.position,
            "seen": self._seen,
        }
        arrays = {f"filter_{k}": v for k, v in vars(self._filter_state).items()}
        arrays |= {f"detector_{k}": v for k, v in vars(self._detector_state).items()}
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            planned=t.planned,
            actual=self._actual,
            open_change=self._open_change,
            open_shortfall=self._open_shortfall,
            **arrays,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Monitor:
        """The monitor :meth:`to_bytes` wrote."""
        try:
            archive = np.load(io.BytesIO(data), allow_pickle=False)
            header = json.loads(archive["header"].tobytes().decode())
        except (ValueError, OSError, KeyError, UnicodeDecodeError) as error:
            raise ReportError(
                f"not a saved monitor ({type(error).__name__})", where="monitor state"
            ) from None
        if header.get("format") != _FORMAT:
            raise ReportError("not a saved monitor of this version", where="monitor state")
        targets = PlanTargets(
            tuple(header["products"]),
            tuple(header["periods"]),
            archive["planned"],
            header["sub_periods"],
            header["unit"],
            tuple(header["profile"]) if header["profile"] is not None else None,
        )
        priors = {k: tuple(v) if isinstance(v, list) else v for k, v in header["priors"].items()}
        detector = {
            k: tuple(v) if isinstance(v, list) else v for k, v in header["detector"].items()
        }
        monitor = cls(
            targets,
            priors=FilterPriors(**priors),
            detector=DetectorSettings(**detector),
            rule=AlarmRule(**header["rule"]),
        )
        monitor._filter_state = FilterState(
            **{k: archive[f"filter_{k}"] for k in vars(monitor._filter_state)}
        )
        monitor._detector_state = DetectorState(
            **{k: archive[f"detector_{k}"] for k in vars(monitor._detector_state)}
        )
        monitor.position = int(header["position"])
        monitor._seen = int(header["seen"])
        monitor._actual = archive["actual"]
        monitor._open_change = archive["open_change"]
        monitor._open_shortfall = archive["open_shortfall"]
        return monitor


def monitor_reports(
    reports: pd.DataFrame, targets: PlanTargets, monitor: Monitor | None = None
) -> tuple[Monitor, list[MonitorStep]]:
    """Run a monitor over validated reports of one or more consecutive sub-periods, in order."""
    monitor = monitor or Monitor(targets)
    order = {p: i for i, p in enumerate(targets.periods)}
    keys = sorted(
        {(p, int(s)) for p, s in zip(reports["period"], reports["sub_period"], strict=True)},
        key=lambda k: (order[k[0]], k[1]),
    )
    steps = []
    for period, sub in keys:
        batch = reports[(reports["period"] == period) & (reports["sub_period"] == sub)]
        steps.append(monitor.observe(batch))
    return monitor, steps


__all__ = ["Monitor", "MonitorStep", "monitor_reports"]
