"""Monitoring a published plan through the services: reports → monitor → alarm → escalation →
acknowledgement, bad reports refused whole, who may do what, and the audit chain over it all.

The plan is a real one (BEA 2021, 15 sectors, computed with HiGHS and voted on); the
reports are its planned output per month with seeded noise, and manufacturing (USA/31G)
falls to 70 % of plan from month 5. Escalation times are checked against the policy's
hours, which are the oracle: 48 h at the council, then 72 h at the facilitators.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text

from commonplan import services as S
from commonplan.errors import (
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
    ReportError,
)
from commonplan.services import monitoring as M
from commonplan.store.models import Base
from monitoring_world import AGRICULTURE, MANUFACTURING, publish_world, report_frame

MONTHS = 12
T0 = datetime(2026, 1, 31, 18, 0, tzinfo=UTC)


def _month(k: int) -> datetime:
    return T0 + timedelta(days=30 * (k - 1))


def _counts(db):
    with db.read() as session:
        return {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


@pytest.fixture()
def world(db):
    world = publish_world(db)
    M.start_monitoring(
        db, world["fac"], world.plan_id, sub_periods=MONTHS, council_hours=48, facilitator_hours=72
    )
    return world


def _file_months(world, months, **kwargs):
    out = []
    for k in months:
        factors = {MANUFACTURING: 0.7} if k >= 5 else None
        frame = report_frame(world, k, sub_periods=MONTHS, factors=factors, noise=0.02)
        out.append(M.file_reports(world.db, world["fac"], world.plan_id, frame, now=_month(k)))
    return out


def test_the_whole_loop_report_alarm_escalation_acknowledgement(world):
    db = world.db
    filed = _file_months(world, range(1, 9))
    assert [f.observed for f in filed] == [(("1", k),) for k in range(1, 9)]
    raised = [a for f in filed for a in f.alarms]
    # the shortfall is caught, and only there; the month before the drop raised nothing
    assert {a.product for a in raised} == {MANUFACTURING}
    first = raised[0]
    assert first.sub_period in (5, 6) and first.kind in ("change", "shortfall")
    assert first.council == "Workers: manufacturing"
    assert first.council_id == world.councils["manufacturing"]
    assert first.details["ratio"] == pytest.approx(0.7, abs=0.06)

    # the series: one row per product and month, the actual ratio as filed over planned
    series = M.series(db, world.plan_id)
    assert len(series) == 8 * len(world.planned)
    mine = series[series["product"] == MANUFACTURING]
    planned = world.planned[MANUFACTURING] / MONTHS
    assert np.allclose(mine["planned"], planned)
    reports = M.reports(db, world.plan_id)
    actual = reports[reports["product"] == MANUFACTURING]["output"].to_numpy()
    assert np.allclose(mine["actual"], actual) and np.allclose(mine["ratio"], actual / planned)

    # escalation: exactly at the policy's hours, and idempotent
    raised_at = first.raised_at
    fac = world["fac"]
    assert M.escalate_due(db, fac, raised_at + timedelta(hours=47.9)) == []
    moved = M.escalate_due(db, fac, raised_at + timedelta(hours=48))
    assert [(a.id, a.level) for a in moved] == [(first.id, "facilitators")]
    assert M.escalate_due(db, fac, raised_at + timedelta(hours=48)) == []
    assert M.escalate_due(db, fac, raised_at + timedelta(hours=119.9)) == []
    moved = M.escalate_due(db, fac, raised_at + timedelta(hours=120))
    assert [(a.id, a.level) for a in moved] == [(first.id, "assembly")]
    by_level = M.open_alarms_by_level(db, world.plan_id)
    assert [a.id for a in by_level["assembly"]] == [first.id]
    assert by_level["council"] == [] and by_level["facilitators"] == []

    # at the assembly's level any member of the assembly may answer (dan: consumers' council)
    done = M.acknowledge_alarm(
        db,
        world["dan"],
        first.id,
        "Imports of machine parts stopped",
        "Re-plan requested",
        now=raised_at + timedelta(hours=121),
    )
    assert done.status == "acknowledged" and done.level == "assembly"
    assert [e["kind"] for e in done.events] == ["raise", "escalate", "escalate", "acknowledge"]
    assert M.escalate_due(db, fac, raised_at + timedelta(days=30)) == []
    with pytest.raises(ConflictError, match="already acknowledged"):
        M.acknowledge_alarm(db, fac, first.id, "again", "again")
    closed = M.close_alarm(db, fac, first.id, "Second supplier delivers")
    assert closed.status == "closed" and closed.events[-1]["kind"] == "close"
    with pytest.raises(ConflictError, match="closed"):
        M.close_alarm(db, fac, first.id, "again")
    assert M.list_alarms(db, world.plan_id, status="closed")[0].id == first.id

    report = S.verify_audit_log(db)
    assert report.ok, report.problems
    actions = [e.action for e in S.audit_log(db, limit=1000)]
    for action in ("reports.file", "monitor.step", "alarm.raise", "alarm.escalate", "alarm.close"):
        assert action in actions
    assert actions.count("alarm.acknowledge") == 1


def test_a_sub_period_is_observed_once_every_product_is_reported(world):
    db = world.db
    products = list(world.planned.index)
    mine = [MANUFACTURING]
    rest = [p for p in products if p != MANUFACTURING]
    part = report_frame(world, 1, sub_periods=MONTHS, products=mine)
    filed = M.file_reports(db, world["ana"], world.plan_id, part, now=_month(1))
    assert filed.n_reports == 1 and filed.observed == ()
    assert M.monitor_info(db, world.plan_id).sub_period is None
    # the rest of month 1 and all of month 2 together: both observed, in order
    both = pd.concat(
        [
            report_frame(world, 1, sub_periods=MONTHS, products=rest),
            report_frame(world, 2, sub_periods=MONTHS),
        ]
    )
    filed = M.file_reports(db, world["fac"], world.plan_id, both, now=_month(2))
    assert filed.observed == (("1", 1), ("1", 2))
    info = M.monitor_info(db, world.plan_id)
    assert (info.period, info.sub_period, info.n_reports) == ("1", 2, 2 * len(products))


BAD = [
    ("unknown product", lambda f: f.assign(product=["USA/NOPE"] + list(f["product"][1:])), "row 1"),
    ("unknown period", lambda f: f.assign(period="7"), "row 1"),
    ("negative", lambda f: f.assign(output=[1.0, -5.0] + list(f["output"][2:])), "row 2"),
    ("non-finite", lambda f: f.assign(output=[np.nan] + list(f["output"][1:])), "row 1"),
    ("infinite", lambda f: f.assign(output=[1.0, 2.0, np.inf] + list(f["output"][3:])), "row 3"),
    ("other unit", lambda f: f.assign(unit="tonnes"), "row 1"),
    ("sub-period out of range", lambda f: f.assign(sub_period=13), "row 1"),
]


@pytest.mark.parametrize(("case", "spoil", "where"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_row_refuses_the_whole_file_and_changes_nothing(world, case, spoil, where):
    db = world.db
    _file_months(world, [1])
    before = _counts(db)
    head = S.verify_audit_log(db).head_seq
    frame = spoil(report_frame(world, 2, sub_periods=MONTHS))
    with pytest.raises(ReportError) as error:
        M.file_reports(db, world["fac"], world.plan_id, frame)
    assert where in error.value.where, error.value
    assert error.value.fix or error.value.expected
    assert _counts(db) == before and S.verify_audit_log(db).head_seq == head


def test_a_duplicate_of_a_filed_report_is_refused(world):
    db = world.db
    _file_months(world, [1])
    before = _counts(db)
    again = pd.concat(
        [
            report_frame(world, 2, sub_periods=MONTHS),
            report_frame(world, 1, sub_periods=MONTHS, products=[AGRICULTURE]),
        ],
        ignore_index=True,
    )
    with pytest.raises(ReportError, match="reported already") as error:
        M.file_reports(db, world["fac"], world.plan_id, again)
    assert "row 18" in error.value.where  # the 18th row: 17 products of month 2, then the repeat
    assert _counts(db) == before


def test_who_may_file_and_acknowledge(world):
    db = world.db
    before = _counts(db)
    ours = report_frame(world, 1, sub_periods=MONTHS, products=[MANUFACTURING])
    both = report_frame(world, 1, sub_periods=MONTHS, products=[MANUFACTURING, AGRICULTURE])
    with pytest.raises(PermissionDeniedError, match="USA/11"):
        M.file_reports(db, world["ana"], world.plan_id, both)  # not her council's product
    for outsider in ("dan", "fac2", "obs"):  # consumers only; another assembly; an observer
        with pytest.raises(PermissionDeniedError):
            M.file_reports(db, world[outsider], world.plan_id, ours)
    with pytest.raises(PermissionDeniedError):
        M.start_monitoring(db, world["fac2"], world.plan_id)
    with pytest.raises(PermissionDeniedError):
        M.escalate_due(db, world["fac2"], plan_id=world.plan_id)
    assert _counts(db) == before
    assert M.file_reports(db, world["ana"], world.plan_id, ours).n_reports == 1
    farm = report_frame(world, 1, sub_periods=MONTHS, products=[AGRICULTURE])
    assert M.file_reports(db, world["cai"], world.plan_id, farm).n_reports == 1

    rest = [p for p in world.planned.index if p not in (MANUFACTURING, AGRICULTURE)]
    month1 = report_frame(world, 1, sub_periods=MONTHS, products=rest)
    assert M.file_reports(db, world["fac"], world.plan_id, month1).observed == (("1", 1),)
    _file_months(world, range(2, 8))
    alarm = M.list_alarms(db, world.plan_id, status="open")[0]
    assert alarm.product == MANUFACTURING and alarm.level == "council"
    for other in ("cai", "dan", "fac2", "obs"):
        with pytest.raises(PermissionDeniedError):
            M.acknowledge_alarm(db, world[other], alarm.id, "seen", "acting")
    with pytest.raises(ParticipationInputError, match="action"):
        M.acknowledge_alarm(db, world["ana"], alarm.id, "seen", "  ")
    with pytest.raises(ConflictError, match="acknowledge it first"):
        M.close_alarm(db, world["ben"], alarm.id, "done")
    done = M.acknowledge_alarm(db, world["ben"], alarm.id, "Parts short", "Second shift")
    assert done.status == "acknowledged"
    assert M.escalate_due(db, world["fac"], done.raised_at + timedelta(days=10)) == []


def test_monitoring_needs_a_plan_and_is_started_once(world):
    db = world.db
    with pytest.raises(ConflictError, match="already monitored"):
        M.start_monitoring(db, world["fac"], world.plan_id)
    with pytest.raises(NotFoundError):
        M.file_reports(db, world["fac"], 999, report_frame(world, 1, sub_periods=MONTHS))
    with pytest.raises(ParticipationInputError, match="sub_periods"):
        M.start_monitoring(db, world["admin"], world.plan_id, sub_periods=0)


def test_audit_verify_finds_a_report_changed_behind_the_services(world):
    db = world.db
    _file_months(world, [1, 2])
    assert S.verify_audit_log(db).ok
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(
                text(
                    "ALTER TABLE production_reports DISABLE TRIGGER production_reports_append_only"
                )
            )
        else:
            connection.execute(text("DROP TRIGGER production_reports_no_update"))
        connection.execute(text("UPDATE production_reports SET output = output * 1.5 WHERE id = 3"))
        if db.is_postgresql:
            connection.execute(
                text("ALTER TABLE production_reports ENABLE TRIGGER production_reports_append_only")
            )
    problems = S.verify_audit_log(db).problems
    assert [(p.kind, "production_reports row 3" in p.message) for p in problems] == [
        ("edited", True)
    ]
