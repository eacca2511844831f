"""Production reports against the plan, the monitor's loop, and the escalation rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from commonplan.errors import FileFormatError, ReportError
from commonplan.monitoring import (
    EscalationPolicy,
    Monitor,
    PlanTargets,
    escalation_level,
    monitor_reports,
    read_reports,
    validate_reports,
)
from commonplan.monitoring.alarms import next_escalation
from commonplan.monitoring.simulate import Change, execution_reports, simulate_ratios

PRODUCTS = tuple(f"COL/S{i:02d}" for i in range(30))


@pytest.fixture
def targets() -> PlanTargets:
    planned = np.linspace(50.0, 200.0, len(PRODUCTS))[:, None] * np.array([[1.0, 1.1]])
    return PlanTargets(PRODUCTS, ("2026", "2027"), planned, 12, "USD million")


def _rows(**columns):
    base = {
        "product": ["COL/S00", "COL/S01"],
        "period": ["2026", "2026"],
        "sub_period": [1, 1],
        "output": [4.0, 5.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_valid_reports_come_back_in_canonical_order(targets):
    frame = pd.DataFrame(
        {
            "Product": ["COL/S01", "COL/S00"],
            "Period": ["2026", "2026"],
            "Sub_period": ["1", "1"],
            "Output": ["5", "4.5"],
            "unit": ["USD million", ""],
        }
    )
    out = validate_reports(frame, targets)
    assert out["product"].tolist() == ["COL/S00", "COL/S01"]
    assert out["output"].tolist() == [4.5, 5.0]
    assert out["sub_period"].dtype == np.int64


@pytest.mark.parametrize(
    ("columns", "message", "row"),
    [
        ({"product": ["COL/S00", "COL/XX"]}, "unknown product 'COL/XX'", 2),
        ({"period": ["2026", "1999"]}, "unknown period '1999'", 2),
        ({"sub_period": [1, 13]}, "sub_period 13 is not one of 1…12", 2),
        ({"output": [-1.0, 5.0]}, "output is negative", 1),
        ({"output": [4.0, np.inf]}, "output is infinite", 2),
        ({"output": ["4", "1,0,0"]}, "is not a number", 2),
        ({"output": [4.0, np.nan]}, "is not a number", 2),
        ({"product": ["COL/S00", "COL/S00"]}, "a second report for COL/S00", 2),
        ({"unit": ["USD million", "tonnes"]}, "unit 'tonnes' differs", 2),
    ],
)
def test_each_bad_report_names_its_row_and_the_fix(targets, columns, message, row):
    with pytest.raises(ReportError, match=message) as error:
        validate_reports(_rows(**columns), targets, source="reports.csv")
    assert f"reports.csv, row {row}" in str(error.value)


def test_a_report_filed_before_is_refused_and_missing_columns_are_named(targets):
    filed = validate_reports(_rows(), targets)
    with pytest.raises(ReportError, match="was reported already"):
        validate_reports(_rows(), targets, filed=filed)
    with pytest.raises(ReportError, match="missing column"):
        validate_reports(pd.DataFrame({"product": ["COL/S00"]}), targets)


def test_report_files_are_read_or_refused_in_one_line(tmp_path, targets):
    path = tmp_path / "r.csv"
    _rows().to_csv(path, index=False)
    assert len(validate_reports(read_reports(path), targets)) == 2
    binary = tmp_path / "r.parquet"
    binary.write_bytes(b"\x00\x01not parquet")
    with pytest.raises(FileFormatError, match="cannot be read"):
        read_reports(binary)
    with pytest.raises(FileFormatError, match="no such report file"):
        read_reports(tmp_path / "missing.csv")


def test_monitor_catches_a_shortfall_marks_an_outlier_and_raises_no_false_alarm(targets):
    noise = np.full(len(PRODUCTS), 0.03)
    changes = (
        Change(np.arange(5), 16, step=-8.0),  # 24 % short from month 5 of 2027
        Change(np.array([20]), 7, outlier=10.0),  # one wild month
    )
    ratios = simulate_ratios(noise, 24, changes, seed=3)
    reports = validate_reports(execution_reports(targets, ratios), targets)
    monitor, steps = monitor_reports(reports, targets)
    alarms = pd.concat([s.alarms.assign(step=k) for k, s in enumerate(steps)])
    short = alarms[alarms.index.isin(PRODUCTS[:5])]
    assert set(short.index) == set(PRODUCTS[:5])
    assert short.groupby(level=0)["step"].min().max() <= 16 + 3
    assert len(set(alarms.index) - set(PRODUCTS[:5])) <= 2  # false alarms among 25 products
    assert PRODUCTS[20] not in set(alarms.index)
    assert steps[8].table.loc[PRODUCTS[20], "outlier_before"]
    assert monitor.next_period is None
    with pytest.raises(ReportError, match="already reported"):
        monitor.observe(reports.iloc[:0])


def test_saved_monitor_continues_exactly_as_the_running_one(targets):
    ratios = simulate_ratios(np.full(len(PRODUCTS), 0.05), 24, seed=9)
    reports = validate_reports(execution_reports(targets, ratios), targets)
    first, second = reports[reports["period"] == "2026"], reports[reports["period"] == "2027"]
    running, _ = monitor_reports(first, targets)
    restored = Monitor.from_bytes(running.to_bytes())
    _, a = monitor_reports(second, targets, running)
    _, b = monitor_reports(second, targets, restored)
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x.table, y.table)
    with pytest.raises(ReportError, match="not a saved monitor"):
        Monitor.from_bytes(b"garbage")


def test_reports_must_come_one_sub_period_at_a_time_in_order(targets):
    ratios = simulate_ratios(np.full(len(PRODUCTS), 0.05), 3, seed=1)
    reports = validate_reports(execution_reports(targets, ratios), targets)
    monitor = Monitor(targets)
    with pytest.raises(ReportError, match="the next sub-period only: period 2026, sub-period 1"):
        monitor.observe(reports[reports["sub_period"] == 2])
    monitor.observe(reports[reports["sub_period"] == 1])
    assert monitor.next_period == ("2026", 2)


def test_acknowledging_closes_an_alarm_and_can_accept_the_new_level(targets):
    ratios = simulate_ratios(
        np.full(len(PRODUCTS), 0.03), 24, (Change(np.arange(3), 10, step=-6.0),), seed=4
    )
    reports = validate_reports(execution_reports(targets, ratios), targets)
    monitor = Monitor(targets)
    for k, (_, batch) in enumerate(reports.groupby(["period", "sub_period"], sort=False)):
        step = monitor.observe(batch)
        if k == 15:
            break
    assert monitor.open_alarms().loc[list(PRODUCTS[:3])].any(axis=1).all()
    monitor.acknowledge(list(PRODUCTS[:3]), accept_level=True)
    assert not monitor.open_alarms().loc[list(PRODUCTS[:3])].any(axis=1).any()
    assert step.table.loc[PRODUCTS[0], "level"] < 0.9
    with pytest.raises(ReportError, match="unknown product"):
        monitor.acknowledge(["XX/1"])


def test_escalation_rises_with_time_and_stops_at_acknowledgement():
    raised = datetime(2026, 12, 1, 8, tzinfo=UTC)
    policy = EscalationPolicy(council_hours=24, facilitator_hours=12)
    assert (
        escalation_level(raised, raised + timedelta(hours=23, minutes=59), policy=policy)
        == "council"
    )
    assert escalation_level(raised, raised + timedelta(hours=24), policy=policy) == "facilitators"
    assert (
        escalation_level(raised, raised + timedelta(hours=35, minutes=59), policy=policy)
        == "facilitators"
    )
    assert escalation_level(raised, raised + timedelta(hours=36), policy=policy) == "assembly"
    acknowledged = raised + timedelta(hours=2)
    assert escalation_level(raised, raised + timedelta(days=9), acknowledged, policy) == "council"
    assert next_escalation(raised, policy) == raised + timedelta(hours=24)
    assert next_escalation(raised, policy, "facilitators") == raised + timedelta(hours=36)
    assert next_escalation(raised, policy, "assembly") is None
