"""Watching a published plan as it is carried out: file production reports, run the monitor,
raise alarms, escalate them when nobody acts, acknowledge them with a note and an action.

The numbers come from the core (:mod:`commonplan.monitoring`): the published plan's blob
frame becomes :class:`~commonplan.monitoring.reports.PlanTargets`, reports are checked by
:func:`~commonplan.monitoring.reports.validate_reports`, the Bayesian monitor
(:class:`~commonplan.monitoring.watch.Monitor`) observes one sub-period at a time and its
state is stored as a blob after each, and :func:`~commonplan.monitoring.alarms.escalation_level`
says where an unanswered alarm stands. This module adds what needs a database and people:

* **Monitoring a plan** starts with :func:`start_monitoring` (a facilitator of the plan's
  assembly): how many sub-periods each plan period has (e.g. 12 months) and how many hours
  the council, then the facilitators, have to act on an alarm.
* **Filing** (:func:`file_reports`) is one transaction: every row is validated first, and one
  bad row refuses the whole file with a :class:`~commonplan.errors.ReportError` naming it;
  nothing stored changes. The reports, then the monitor's steps and the alarms they raise,
  are written together and recorded in the audit chain.
* **The monitor advances over complete sub-periods only**, in order: a sub-period is observed
  once every product of the plan has its report for it (councils file their own products, so
  a sub-period waits for the last council). Several complete sub-periods filed at once are
  observed one after the other.
* **Who is responsible** for a product ``REGION/SECTOR``: the workers' or peasants' councils of
  the assembly whose ``sector`` is the product's sector and whose ``region`` is empty or the
  product's region (the alarm names the first of them, by id). A product no council covers is
  the responsibility of the assembly's councils as a whole (``council_id`` None): any member
  of the assembly may act on it.
* **Who may do what**: members of a responsible council file reports for its products and
  acknowledge its alarms (members of any council of the assembly once an alarm has escalated
  to the whole assembly); facilitators of the assembly and administrators do everything;
  observers read.
* **Escalation** (:func:`escalate_due`) moves each open alarm to the level the core's rule
  gives for ``now`` (council → facilitators → assembly); running it twice changes nothing.
  An acknowledged alarm escalates no further.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commonplan.errors import (
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
)
from commonplan.services._common import audit, get_or_404
from commonplan.services.roles import Actor, require
from commonplan.store.blobs import frame_from_parquet, frame_to_parquet, get_blob, put_blob
from commonplan.store.database import Database
from commonplan.store.models import (
    Alarm,
    AlarmEvent,
    AlarmLevel,
    AlarmStatus,
    AssemblyFacilitator,
    Council,
    CouncilKind,
    Membership,
    MonitorStep,
    PlanMonitor,
    PlanningRound,
    ProductionReport,
    PublishedPlan,
    Role,
    utcnow,
)
from commonplan.store.records import read_record, read_records

LEVEL_ORDER: tuple[str, ...] = tuple(level.value for level in AlarmLevel)
"""Alarm levels from the lowest (the responsible council) to the highest (the whole assembly)."""

DEFAULT_SUB_PERIODS = 12
DEFAULT_COUNCIL_HOURS = 48.0
DEFAULT_FACILITATOR_HOURS = 72.0
MAX_NOTE = 2000

REPORT_COLUMNS = ("product", "period", "sub_period", "output", "labour", "stock")


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitorInfo:
    """The monitoring of one published plan: ``period``/``sub_period`` is the latest observed
    (None before the first); ``unit`` the plan's unit of output."""

    plan_id: int
    round_id: int
    assembly_id: int
    sub_periods: int
    unit: str
    council_hours: float
    facilitator_hours: float
    period: str | None
    sub_period: int | None
    n_reports: int
    products: tuple[str, ...]


@dataclass(frozen=True)
class AlarmInfo:
    """One alarm as the services return it (times timezone-aware UTC)."""

    id: int
    plan_id: int
    product: str
    kind: str
    period: str
    sub_period: int
    council_id: int | None
    council: str | None
    level: str
    status: str
    raised_at: datetime
    acknowledged_at: datetime | None
    details: dict[str, Any]
    events: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FiledReports:
    """What :func:`file_reports` stored: the number of report rows, the sub-periods the monitor
    observed as a result (``(period, sub_period)``, in order) and the alarms raised."""

    plan_id: int
    n_reports: int
    observed: tuple[tuple[str, int], ...]
    alarms: tuple[AlarmInfo, ...]


# --- reading the plan and the monitor -----------------------------------------------------


def _monitor_row(session: Session, plan_id: int, *, lock: bool = False) -> PlanMonitor:
    query = select(PlanMonitor).where(PlanMonitor.plan_id == plan_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        get_or_404(session, PublishedPlan, plan_id, "published plan")
        raise NotFoundError(
            f"published plan {plan_id} is not monitored",
            where=f"plan {plan_id}",
            expected="a plan whose monitoring a facilitator has started",
            fix="ask a facilitator of the assembly to start monitoring the plan",
        )
    return row


def _assembly_of_plan(session: Session, plan: PublishedPlan) -> int:
    return session.get(PlanningRound, plan.round_id).assembly_id


def _targets(session: Session, plan: PublishedPlan, monitor: PlanMonitor) -> Any:
    """The core's :class:`PlanTargets` of the published plan (its blob frame's ``output``)."""
    from commonplan.monitoring.reports import PlanTargets

    if plan.plan_sha256 is None:
        raise ConflictError(
            f"published plan {plan.id} has no plan table to monitor",
            where=f"plan {plan.id}",
            fix="publish a computed alternative (one with a plan table)",
        )
    frame = frame_from_parquet(get_blob(session, plan.plan_sha256))
    return PlanTargets.from_frame(frame, monitor.sub_periods, unit=monitor.unit)


def _filed_frame(session: Session, plan_id: int) -> pd.DataFrame:
    """The reports already filed for the plan, in the canonical columns."""
    rows = session.execute(
        select(
            ProductionReport.product,
            ProductionReport.period,
            ProductionReport.sub_period,
            ProductionReport.output,
            ProductionReport.labour,
            ProductionReport.stock,
        ).where(ProductionReport.plan_id == plan_id)
    ).all()
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def _sequence(targets: Any) -> list[tuple[str, int]]:
    """Every ``(period, sub_period)`` of the plan, in time order (sub-periods count from 1)."""
    return [(str(p), s) for p in targets.periods for s in range(1, targets.sub_periods + 1)]


# --- who is responsible ------------------------------------------------------------------


def _split(product: str) -> tuple[str, str]:
    region, _, sector = product.partition("/")
    return region, sector


def responsible_councils(councils: Sequence[Council], product: str) -> list[int]:
    """Ids of the councils responsible for ``product`` (``REGION/SECTOR``), lowest first:
    workers' and peasants' councils of that sector, of that region or of none."""
    region, sector = _split(product)
    return sorted(
        c.id
        for c in councils
        if c.kind in (CouncilKind.WORKERS.value, CouncilKind.PEASANTS.value)
        and c.sector == sector
        and (c.region in (None, "") or c.region == region)
    )


def _councils(session: Session, assembly_id: int) -> list[Council]:
    return list(
        session.execute(select(Council).where(Council.assembly_id == assembly_id)).scalars()
    )


def _member_councils(session: Session, user_id: int | None, assembly_id: int) -> set[int]:
    if user_id is None:
        return set()
    query = (
        select(Membership.council_id)
        .join(Council, Council.id == Membership.council_id)
        .where(Membership.user_id == user_id, Council.assembly_id == assembly_id)
    )
    return set(session.execute(query).scalars())


def _facilitates(session: Session, actor: Actor, assembly_id: int) -> bool:
    """Administrators, and facilitators charged with the assembly."""
    role = Role(actor.role)
    if role is Role.ADMINISTRATOR:
        return True
    if role is not Role.FACILITATOR:
        return False
    return (
        session.execute(
            select(AssemblyFacilitator.id).where(
                AssemblyFacilitator.assembly_id == assembly_id,
                AssemblyFacilitator.user_id == actor.user_id,
            )
        ).first()
        is not None
    )


def _require_facilitator(session: Session, actor: Actor, assembly_id: int, what: str) -> None:
    if not _facilitates(session, actor, assembly_id):
        raise PermissionDeniedError(
            f"{actor.username!r} does not facilitate assembly {assembly_id}",
            where=f"assembly {assembly_id}",
            expected=f"a facilitator of this assembly, or an administrator, to {what}",
            fix="ask an administrator to make the account a facilitator of this assembly",
        )


def _may_act_on(
    session: Session, actor: Actor, assembly_id: int, products: Sequence[str], what: str
) -> None:
    """Facilitators of the assembly act on every product; members on their councils' products
    (and on products no council covers, as members of the assembly)."""
    if _facilitates(session, actor, assembly_id):
        return
    if Role(actor.role) is Role.FACILITATOR:
        _require_facilitator(session, actor, assembly_id, what)
    mine = _member_councils(session, actor.user_id, assembly_id)
    councils = _councils(session, assembly_id)
    for product in products:
        responsible = responsible_councils(councils, product)
        if (responsible and not mine.intersection(responsible)) or (not responsible and not mine):
            names = [c.name for c in councils if c.id in responsible] or ["the assembly"]
            raise PermissionDeniedError(
                f"{actor.username!r} may not {what} for product {product!r}",
                where=f"product {product}",
                expected="a member of " + " or ".join(names) + ", or a facilitator",
                fix="file only your own council's products, or ask a facilitator",
            )


# --- start --------------------------------------------------------------------------------


def start_monitoring(
    db: Database,
    actor: Actor,
    plan_id: int,
    *,
    sub_periods: int = DEFAULT_SUB_PERIODS,
    council_hours: float = DEFAULT_COUNCIL_HOURS,
    facilitator_hours: float = DEFAULT_FACILITATOR_HOURS,
) -> MonitorInfo:
    """Start monitoring published plan ``plan_id`` (facilitators of its assembly).

    ``sub_periods``: reports per plan period (e.g. 12 monthly reports in a yearly plan);
    ``council_hours``: hours the responsible council has to acknowledge an alarm before it
    goes to the facilitators; ``facilitator_hours``: hours after that before it goes to the
    whole assembly.
    """
    require(actor, "start_monitoring")
    if not (isinstance(sub_periods, int) and 1 <= sub_periods <= 366):
        raise ParticipationInputError(
            f"sub_periods must be a whole number from 1 to 366, not {sub_periods!r}",
            where="sub_periods",
            fix="give the number of reports per plan period, e.g. 12 for months",
        )
    for name, hours in (("council_hours", council_hours), ("facilitator_hours", facilitator_hours)):
        if not (np.isfinite(hours) and 0 < hours <= 24 * 366):
            raise ParticipationInputError(
                f"{name} must be a positive number of hours up to a year, not {hours!r}",
                where=name,
                fix="give the hours allowed before an alarm escalates, e.g. 48",
            )
    with db.transaction() as session:
        plan = get_or_404(session, PublishedPlan, plan_id, "published plan")
        assembly_id = _assembly_of_plan(session, plan)
        _require_facilitator(session, actor, assembly_id, "start monitoring")
        if session.execute(select(PlanMonitor.id).where(PlanMonitor.plan_id == plan_id)).first():
            raise ConflictError(
                f"published plan {plan_id} is already monitored",
                where=f"plan {plan_id}",
                fix="file reports against it",
            )
        row = PlanMonitor(
            plan_id=plan_id,
            sub_periods=sub_periods,
            unit=str(plan.figures.get("units", "")),
            council_hours=float(council_hours),
            facilitator_hours=float(facilitator_hours),
            started_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        targets = _targets(session, plan, row)  # refuses a plan without a table
        row.state_sha256 = put_blob(session, _new_monitor(targets).to_bytes(), kind="monitor")
        session.flush()
        audit(
            session,
            actor,
            "monitor.start",
            f"plan {plan_id}",
            {
                "sub_periods": sub_periods,
                "council_hours": council_hours,
                "facilitator_hours": facilitator_hours,
                "records": [read_record(session, "plan_monitors", row.id)],
            },
        )
        return _monitor_info(session, row, plan, targets)


def _new_monitor(targets: Any) -> Any:
    from commonplan.monitoring.watch import Monitor

    return Monitor(targets)


def _monitor_info(
    session: Session, row: PlanMonitor, plan: PublishedPlan, targets: Any
) -> MonitorInfo:
    n_reports = len(_filed_frame(session, row.plan_id))
    return MonitorInfo(
        plan_id=row.plan_id,
        round_id=plan.round_id,
        assembly_id=_assembly_of_plan(session, plan),
        sub_periods=row.sub_periods,
        unit=row.unit,
        council_hours=row.council_hours,
        facilitator_hours=row.facilitator_hours,
        period=row.period,
        sub_period=row.sub_period,
        n_reports=n_reports,
        products=tuple(str(p) for p in targets.products),
    )


def monitor_info(db: Database, plan_id: int) -> MonitorInfo:
    """The monitoring of published plan ``plan_id`` (public)."""
    with db.read() as session:
        row = _monitor_row(session, plan_id)
        plan = session.get(PublishedPlan, plan_id)
        return _monitor_info(session, row, plan, _targets(session, plan, row))


def plan_targets(db: Database, plan_id: int) -> Any:
    """The core's :class:`~commonplan.monitoring.reports.PlanTargets` of monitored plan
    ``plan_id``: planned output per product, in the plan's unit, over its sub-periods."""
    with db.read() as session:
        row = _monitor_row(session, plan_id)
        return _targets(session, session.get(PublishedPlan, plan_id), row)


def plan_id_of_round(db: Database, round_id: int) -> int | None:
    """The id of round ``round_id``'s published plan (None before publication)."""
    with db.read() as session:
        return session.execute(
            select(PublishedPlan.id).where(PublishedPlan.round_id == round_id)
        ).scalar_one_or_none()


def monitored_plans(db: Database, assembly_id: int) -> list[int]:
    """Ids of the assembly's monitored published plans, newest first."""
    with db.read() as session:
        query = (
            select(PlanMonitor.plan_id)
            .join(PublishedPlan, PublishedPlan.id == PlanMonitor.plan_id)
            .join(PlanningRound, PlanningRound.id == PublishedPlan.round_id)
            .where(PlanningRound.assembly_id == assembly_id)
            .order_by(PlanMonitor.plan_id.desc())
        )
        return list(session.execute(query).scalars())


# --- filing reports -------------------------------------------------------------------------


def read_report_file(data: bytes, filename: str = "") -> pd.DataFrame:
    """A report upload as a DataFrame: Parquet (by its magic bytes) or CSV (UTF-8)."""
    from commonplan.errors import ReportError

    if data[:4] == b"PAR1":
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as error:  # pyarrow raises several kinds for a damaged file
            raise ReportError(
                f"the Parquet file {filename!r} cannot be read: {error}",
                where=filename or "upload",
                fix="export the reports again as Parquet or as CSV",
            ) from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReportError(
            f"the file {filename!r} is neither Parquet nor UTF-8 CSV",
            where=filename or "upload",
            fix="save the reports as CSV (UTF-8) with a header row, or as Parquet",
        ) from error
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise ReportError(
            f"the CSV file {filename!r} cannot be read: {error}",
            where=filename or "upload",
            fix="give one header row (product, period, sub_period, output, unit) and one row per report",
        ) from error


def file_reports(
    db: Database,
    actor: Actor,
    plan_id: int,
    frame: pd.DataFrame,
    *,
    now: datetime | None = None,
) -> FiledReports:
    """File production reports against published plan ``plan_id`` in one transaction.

    ``frame`` has one row per report: ``product`` (``REGION/SECTOR``), ``period``,
    ``sub_period``, ``output`` (in the plan's unit), optionally ``labour``, ``stock`` and
    ``unit``. Any bad row (unknown product or period, a duplicate of a filed report, a
    negative or non-finite quantity, another unit) refuses the whole file with a
    :class:`~commonplan.errors.ReportError` naming it, and nothing stored changes. Then the
    monitor observes every sub-period that became complete, and alarms are raised to the
    responsible councils. ``now`` (timezone-aware; default the current time) is when the
    alarms are raised.
    """
    require(actor, "file_reports")
    from commonplan.monitoring.reports import validate_reports

    moment = _moment(now)
    frame = _blank_units(frame)
    with db.read() as session:
        monitor = _monitor_row(session, plan_id)
        plan = session.get(PublishedPlan, plan_id)
        assembly_id = _assembly_of_plan(session, plan)
        targets = _targets(session, plan, monitor)
        canonical = validate_reports(frame, targets, filed=_filed_frame(session, plan_id))
        _may_act_on(session, actor, assembly_id, sorted(set(canonical["product"])), "file reports")
    try:
        with db.transaction() as session:
            monitor = _monitor_row(session, plan_id, lock=True)
            plan = session.get(PublishedPlan, plan_id)
            # a report filed meanwhile is a duplicate: check again under the lock
            validate_reports(frame, targets, filed=_filed_frame(session, plan_id))
            report_records = _insert_reports(session, actor, plan_id, canonical, monitor.unit)
            audit(
                session,
                actor,
                "reports.file",
                f"plan {plan_id}",
                {"n_reports": len(report_records), "records": report_records},
            )
            observed, raised = _advance_monitor(session, actor, monitor, targets, moment)
            return FiledReports(
                plan_id,
                len(report_records),
                tuple(observed),
                tuple(_alarm_info(session, a) for a in raised),
            )
    except IntegrityError as error:  # a concurrent filing of the same report
        raise ConflictError(
            "a report in this file was filed at the same time by someone else",
            where=f"plan {plan_id}",
            fix="reload the reports filed so far and file the rest",
        ) from error


def _blank_units(frame: pd.DataFrame) -> pd.DataFrame:
    """A missing unit (NaN or None: the row gave none) is a blank one: the plan's unit."""
    if isinstance(frame, pd.DataFrame) and "unit" in frame.columns:
        unit = frame["unit"].astype(object)
        return frame.assign(unit=unit.where(unit.notna(), ""))
    return frame


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ParticipationInputError(
            "the time has no time zone", where="now", fix="give a timezone-aware time (UTC)"
        )
    return now


def _optional(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _insert_reports(
    session: Session, actor: Actor, plan_id: int, canonical: pd.DataFrame, unit: str
) -> list[dict[str, Any]]:
    rows = []
    for item in canonical.to_dict("records"):
        row = ProductionReport(
            plan_id=plan_id,
            product=str(item["product"]),
            period=str(item["period"]),
            sub_period=int(item["sub_period"]),
            output=float(item["output"]),
            labour=_optional(item.get("labour")),
            stock=_optional(item.get("stock")),
            unit=unit,
            filed_by=actor.user_id,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return read_records(session, "production_reports", [r.id for r in rows])


def _complete(session: Session, plan_id: int, n_products: int) -> set[tuple[str, int]]:
    """The sub-periods for which every product has its report."""
    filed = _filed_frame(session, plan_id)
    counts = filed.groupby(["period", "sub_period"]).size()
    return {(str(p), int(s)) for (p, s), n in counts.items() if n == n_products}


def _advance_monitor(
    session: Session, actor: Actor, monitor: PlanMonitor, targets: Any, moment: datetime
) -> tuple[list[tuple[int, int]], list[Alarm]]:
    """Observe every complete sub-period after the latest observed one, in order; stop at the
    first incomplete one. Store each step, the new state and the alarms raised."""
    from commonplan.monitoring.watch import Monitor

    sequence = _sequence(targets)
    latest = (monitor.period, monitor.sub_period)
    start = sequence.index(latest) + 1 if latest in sequence else 0
    complete = _complete(session, monitor.plan_id, len(targets.products))
    state = Monitor.from_bytes(get_blob(session, monitor.state_sha256))
    observed: list[tuple[str, int]] = []
    raised: list[Alarm] = []
    filed = None
    for key in sequence[start:]:
        if key not in complete:
            break
        if filed is None:
            filed = _filed_frame(session, monitor.plan_id)
        reports = filed[(filed["period"] == key[0]) & (filed["sub_period"] == key[1])]
        step = state.observe(reports.reset_index(drop=True))
        table = _step_table(step)
        raised.extend(_raise_alarms(session, actor, monitor, key, table, moment))
        _store_step(session, actor, monitor, key, table)
        observed.append(key)
    if observed:
        monitor.state_sha256 = put_blob(session, state.to_bytes(), kind="monitor")
        monitor.period, monitor.sub_period = observed[-1]
        monitor.updated_at = moment
        session.flush()
        audit(
            session,
            actor,
            "monitor.update",
            f"plan {monitor.plan_id}",
            {
                "period": monitor.period,
                "sub_period": monitor.sub_period,
                "records": [read_record(session, "plan_monitors", monitor.id)],
            },
        )
    return observed, raised


def _step_table(step: Any) -> pd.DataFrame:
    """The step's table indexed by product, ``alarm`` None where none was raised."""
    table = step.table.copy()
    table.index = table.index.astype(str)
    table.index.name = "product"
    alarm = table["alarm"].astype(object)
    table["alarm"] = alarm.where(alarm.notna() & (alarm != ""), None)
    return table


def _store_step(
    session: Session,
    actor: Actor,
    monitor: PlanMonitor,
    key: tuple[str, int],
    table: pd.DataFrame,
) -> None:
    stored = table
    digest = put_blob(session, frame_to_parquet(stored), kind="monitor-step")
    row = MonitorStep(
        plan_id=monitor.plan_id,
        period=key[0],
        sub_period=key[1],
        table_sha256=digest,
        n_alarms=int(stored["alarm"].notna().sum()),
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor,
        "monitor.step",
        f"plan {monitor.plan_id}",
        {
            "period": key[0],
            "sub_period": key[1],
            "n_alarms": row.n_alarms,
            "records": [read_record(session, "monitor_steps", row.id)],
        },
    )


_DETAIL_COLUMNS = (
    "planned",
    "actual",
    "ratio",
    "p_steady",
    "p_step",
    "p_slope",
    "p_outlier",
    "forecast",
    "lower",
    "upper",
    "change_probability",
    "total_forecast",
    "total_plan",
)


def _details(row: pd.Series) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for column in _DETAIL_COLUMNS:
        if column in row.index:
            value = float(row[column])
            out[column] = value if np.isfinite(value) else None
    return out


def _raise_alarms(
    session: Session,
    actor: Actor,
    monitor: PlanMonitor,
    key: tuple[str, int],
    table: pd.DataFrame,
    moment: datetime,
) -> list[Alarm]:
    """One alarm per product the step flags (the monitor flags a change once, until it is
    acknowledged), unless one of the same kind is still open for it."""
    flagged = table[table["alarm"].notna()]
    if flagged.empty:
        return []
    plan = session.get(PublishedPlan, monitor.plan_id)
    councils = _councils(session, _assembly_of_plan(session, plan))
    active = set(
        session.execute(
            select(Alarm.product, Alarm.kind).where(
                Alarm.plan_id == monitor.plan_id, Alarm.status == AlarmStatus.OPEN.value
            )
        ).all()
    )
    raised = []
    for product, row in flagged.iterrows():
        kind = str(row["alarm"])
        if (product, kind) in active:
            continue
        responsible = responsible_councils(councils, str(product))
        alarm = Alarm(
            plan_id=monitor.plan_id,
            product=str(product),
            kind=kind,
            period=key[0],
            sub_period=key[1],
            council_id=responsible[0] if responsible else None,
            level=AlarmLevel.COUNCIL.value,
            status=AlarmStatus.OPEN.value,
            details=_details(row),
            raised_at=moment,
        )
        session.add(alarm)
        session.flush()
        event = _event(session, alarm, "raise", actor_id=actor.user_id, at=moment)
        audit(
            session,
            actor,
            "alarm.raise",
            f"alarm {alarm.id}",
            {
                "plan_id": monitor.plan_id,
                "product": alarm.product,
                "kind": kind,
                "records": [
                    read_record(session, "alarms", alarm.id),
                    read_record(session, "alarm_events", event.id),
                ],
            },
        )
        raised.append(alarm)
    return raised


def _event(
    session: Session,
    alarm: Alarm,
    kind: str,
    *,
    actor_id: int | None,
    at: datetime,
    note: str = "",
    action: str = "",
) -> AlarmEvent:
    event = AlarmEvent(
        alarm_id=alarm.id,
        kind=kind,
        level=alarm.level,
        note=note,
        action=action,
        actor_id=actor_id,
        at=at,
    )
    session.add(event)
    session.flush()
    return event


# --- alarms -------------------------------------------------------------------------------


def _alarm_info(session: Session, row: Alarm, *, events: bool = False) -> AlarmInfo:
    council = session.get(Council, row.council_id) if row.council_id is not None else None
    history: tuple[dict[str, Any], ...] = ()
    if events:
        history = tuple(
            {
                "kind": e.kind,
                "level": e.level,
                "note": e.note,
                "action": e.action,
                "actor_id": e.actor_id,
                "at": e.at,
            }
            for e in session.execute(
                select(AlarmEvent).where(AlarmEvent.alarm_id == row.id).order_by(AlarmEvent.id)
            ).scalars()
        )
    return AlarmInfo(
        id=row.id,
        plan_id=row.plan_id,
        product=row.product,
        kind=row.kind,
        period=row.period,
        sub_period=row.sub_period,
        council_id=row.council_id,
        council=council.name if council is not None else None,
        level=row.level,
        status=row.status,
        raised_at=row.raised_at,
        acknowledged_at=row.acknowledged_at,
        details=dict(row.details or {}),
        events=history,
    )


def list_alarms(db: Database, plan_id: int, *, status: str | None = None) -> list[AlarmInfo]:
    """The plan's alarms, highest level first, then newest first; ``status`` filters
    (``open``, ``acknowledged``, ``closed``; None: all). Public."""
    if status is not None and status not in {s.value for s in AlarmStatus}:
        raise ParticipationInputError(
            f"unknown alarm status {status!r}",
            where="status",
            expected="open, acknowledged or closed",
        )
    with db.read() as session:
        _monitor_row(session, plan_id)
        query = select(Alarm).where(Alarm.plan_id == plan_id)
        if status is not None:
            query = query.where(Alarm.status == status)
        rows = list(session.execute(query).scalars())
        rows.sort(key=lambda a: (-LEVEL_ORDER.index(a.level), -a.id))
        return [_alarm_info(session, a, events=True) for a in rows]


def open_alarms_by_level(db: Database, plan_id: int) -> dict[str, list[AlarmInfo]]:
    """The plan's open alarms grouped by level, highest level first (every level present)."""
    alarms = list_alarms(db, plan_id, status=AlarmStatus.OPEN.value)
    return {level: [a for a in alarms if a.level == level] for level in reversed(LEVEL_ORDER)}


def acknowledge_alarm(
    db: Database,
    actor: Actor,
    alarm_id: int,
    note: str,
    action: str,
    *,
    now: datetime | None = None,
) -> AlarmInfo:
    """Acknowledge an open alarm with a note and the action taken (members of the responsible
    council, any member of the assembly once it is at the assembly's level, facilitators).
    The alarm escalates no further."""
    require(actor, "acknowledge_alarm")
    note, action = (note or "").strip(), (action or "").strip()
    for name, text in (("note", note), ("action", action)):
        if not text or len(text) > MAX_NOTE:
            raise ParticipationInputError(
                f"the acknowledgement's {name} is empty or longer than {MAX_NOTE} characters",
                where=name,
                expected=f"1–{MAX_NOTE} characters",
                fix="say what was found (note) and what is being done about it (action)",
            )
    moment = _moment(now)
    with db.transaction() as session:
        query = select(Alarm).where(Alarm.id == alarm_id).with_for_update()
        row = session.execute(query).scalar_one_or_none()
        if row is None:
            raise NotFoundError(
                f"no alarm with id {alarm_id}", where="alarm id", fix="check the alarm's id"
            )
        plan = session.get(PublishedPlan, row.plan_id)
        assembly_id = _assembly_of_plan(session, plan)
        _may_acknowledge(session, actor, assembly_id, row)
        if row.status != AlarmStatus.OPEN.value:
            raise ConflictError(
                f"alarm {alarm_id} is already {row.status}",
                where=f"alarm {alarm_id}",
                fix="nothing to do: its acknowledgement is recorded",
            )
        _reset_evidence(session, row)
        row.status = AlarmStatus.ACKNOWLEDGED.value
        row.acknowledged_at = moment
        row.acknowledged_by = actor.user_id
        session.flush()
        event = _event(
            session, row, "acknowledge", actor_id=actor.user_id, at=moment, note=note, action=action
        )
        audit(
            session,
            actor,
            "alarm.acknowledge",
            f"alarm {alarm_id}",
            {
                "note": note,
                "action": action,
                "records": [
                    read_record(session, "alarms", row.id),
                    read_record(session, "alarm_events", event.id),
                    read_record(session, "plan_monitors", _monitor_row(session, row.plan_id).id),
                ],
            },
        )
        return _alarm_info(session, row, events=True)


def _reset_evidence(session: Session, alarm: Alarm) -> None:
    """Tell the monitor the alarm is dealt with: it starts the product's evidence afresh and may
    raise a new alarm if the deviation goes on (:meth:`Monitor.acknowledge`)."""
    from commonplan.monitoring.watch import Monitor

    monitor = _monitor_row(session, alarm.plan_id, lock=True)
    state = Monitor.from_bytes(get_blob(session, monitor.state_sha256))
    state.acknowledge([alarm.product])
    monitor.state_sha256 = put_blob(session, state.to_bytes(), kind="monitor")
    session.flush()


def close_alarm(
    db: Database, actor: Actor, alarm_id: int, note: str, *, now: datetime | None = None
) -> AlarmInfo:
    """Close an acknowledged alarm once the deviation is dealt with, with a note (those who may
    acknowledge it). An open alarm must be acknowledged first, with the action taken."""
    require(actor, "close_alarm")
    note = (note or "").strip()
    if not note or len(note) > MAX_NOTE:
        raise ParticipationInputError(
            f"the closing note is empty or longer than {MAX_NOTE} characters",
            where="note",
            expected=f"1–{MAX_NOTE} characters",
            fix="say how the deviation was dealt with",
        )
    moment = _moment(now)
    with db.transaction() as session:
        row = session.execute(
            select(Alarm).where(Alarm.id == alarm_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFoundError(
                f"no alarm with id {alarm_id}", where="alarm id", fix="check the alarm's id"
            )
        plan = session.get(PublishedPlan, row.plan_id)
        _may_acknowledge(session, actor, _assembly_of_plan(session, plan), row)
        if row.status != AlarmStatus.ACKNOWLEDGED.value:
            raise ConflictError(
                f"alarm {alarm_id} is {row.status}, not acknowledged",
                where=f"alarm {alarm_id}",
                expected="an acknowledged alarm",
                fix="acknowledge it first with the action taken"
                if row.status == AlarmStatus.OPEN.value
                else "nothing to do: it is closed",
            )
        row.status = AlarmStatus.CLOSED.value
        session.flush()
        event = _event(session, row, "close", actor_id=actor.user_id, at=moment, note=note)
        audit(
            session,
            actor,
            "alarm.close",
            f"alarm {alarm_id}",
            {
                "note": note,
                "records": [
                    read_record(session, "alarms", row.id),
                    read_record(session, "alarm_events", event.id),
                ],
            },
        )
        return _alarm_info(session, row, events=True)


def _may_acknowledge(session: Session, actor: Actor, assembly_id: int, alarm: Alarm) -> None:
    if _facilitates(session, actor, assembly_id):
        return
    if Role(actor.role) is Role.FACILITATOR:
        _require_facilitator(session, actor, assembly_id, "acknowledge alarms")
    mine = _member_councils(session, actor.user_id, assembly_id)
    if alarm.level == AlarmLevel.ASSEMBLY.value and mine:
        return
    _may_act_on(session, actor, assembly_id, [alarm.product], "acknowledge alarms")


def escalate_due(
    db: Database, actor: Actor, now: datetime | None = None, *, plan_id: int | None = None
) -> list[AlarmInfo]:
    """Move every open alarm to the level the escalation rule gives at ``now`` (facilitators
    of the plans' assemblies; the server's background tick runs it as the system actor).
    Returns the alarms that moved; a second run at the same time moves none."""
    require(actor, "escalate_alarms")
    from commonplan.monitoring.alarms import EscalationPolicy, escalation_level

    moment = _moment(now)
    with db.transaction() as session:
        query = (
            select(Alarm, PlanMonitor, PlanningRound.assembly_id)
            .join(PlanMonitor, PlanMonitor.plan_id == Alarm.plan_id)
            .join(PublishedPlan, PublishedPlan.id == Alarm.plan_id)
            .join(PlanningRound, PlanningRound.id == PublishedPlan.round_id)
            .where(Alarm.status == AlarmStatus.OPEN.value)
            .order_by(Alarm.id)
            .with_for_update(of=Alarm)
        )
        if plan_id is not None:
            plan = get_or_404(session, PublishedPlan, plan_id, "published plan")
            _require_facilitator(
                session, actor, _assembly_of_plan(session, plan), "escalate alarms"
            )
            query = query.where(Alarm.plan_id == plan_id)
        moved = []
        for alarm, monitor, assembly_id in session.execute(query).all():
            if plan_id is None and not _facilitates(session, actor, assembly_id):
                continue
            policy = EscalationPolicy(monitor.council_hours, monitor.facilitator_hours)
            level = str(escalation_level(alarm.raised_at, moment, None, policy))
            if LEVEL_ORDER.index(level) <= LEVEL_ORDER.index(alarm.level):
                continue
            alarm.level = level
            session.flush()
            event = _event(session, alarm, "escalate", actor_id=actor.user_id, at=moment)
            audit(
                session,
                actor,
                "alarm.escalate",
                f"alarm {alarm.id}",
                {
                    "level": level,
                    "records": [
                        read_record(session, "alarms", alarm.id),
                        read_record(session, "alarm_events", event.id),
                    ],
                },
            )
            moved.append(_alarm_info(session, alarm))
        return moved


# --- series for the operations page -------------------------------------------------------


def series(db: Database, plan_id: int) -> pd.DataFrame:
    """Every observed sub-period of the plan, one row per product and sub-period: the
    monitor's table (planned, actual, ratio, state probabilities, forecast band, alarm) with
    ``product``, ``period``, ``sub_period`` columns, in time order. Empty before the first
    observed sub-period. Public."""
    with db.read() as session:
        _monitor_row(session, plan_id)
        steps = session.execute(
            select(MonitorStep)
            .where(MonitorStep.plan_id == plan_id)
            .order_by(MonitorStep.period, MonitorStep.sub_period)
        ).scalars()
        frames = []
        for step in steps:
            table = frame_from_parquet(get_blob(session, step.table_sha256)).reset_index()
            table.insert(1, "period", step.period)
            table.insert(2, "sub_period", step.sub_period)
            frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["product", "period", "sub_period"])
    return pd.concat(frames, ignore_index=True)


def reports(db: Database, plan_id: int) -> pd.DataFrame:
    """The reports filed for the plan, in the canonical columns (public)."""
    with db.read() as session:
        _monitor_row(session, plan_id)
        return _filed_frame(session, plan_id).sort_values(
            ["period", "sub_period", "product"], ignore_index=True
        )
