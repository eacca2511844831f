"""The operations page: a published plan as it is carried out (Cybersyn's opsroom in a browser).

A wall of the monitored series (actual output as a share of the plan, the monitor's
forecast band, alarms), the open alarms by escalation level, and forms to file reports
(CSV typed or pasted, or a CSV/Parquet file), acknowledge an alarm and escalate overdue
ones. The wall and the alarms refresh every :data:`REFRESH_S` seconds with HTMX (the
fragment ``/fragments/operations``), without reloading the page. Writes go through
:mod:`commonplan.services.monitoring`, which checks who may do what; a refused upload
re-renders the page with the reason and the text as typed, and stores nothing.

The plan shown is ``?plan=<published plan id>``, else the assembly's latest monitored plan.
"""

from __future__ import annotations

import inspect
import io
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from commonplan import errors
from commonplan.errors import AuthenticationError, CommonplanError, NotFoundError
from commonplan.server import charts, pages
from commonplan.server.context import (
    check_csrf,
    csrf_token,
    page_actor,
    run_read,
    run_write,
    state_of,
)
from commonplan.server.formatting import format_number
from commonplan.server.pages import TEMPLATES, _product_namer, _selection
from commonplan.server.problems import problem_body, status_for
from commonplan.services import monitoring, replanning
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import Role

router = APIRouter(include_in_schema=False)

REFRESH_S = 15
"""Seconds between refreshes of the wall and the alarms."""
WALL = 12
"""Series drawn as charts (alarmed first, then by change probability); the table lists all."""
MAX_UPLOAD = 4 * 1024 * 1024
REPLAN_ROWS = 10
"""Rows shown of the re-plan's falling targets and capacity to add (the largest first)."""

LEVEL_NAMES = {
    "assembly": "Whole assembly",
    "facilitators": "Facilitators",
    "council": "Responsible council",
}


async def _render(request: Request, *args: Any, **kwargs: Any) -> HTMLResponse:
    """The pages' renderer (:func:`commonplan.server.pages._render`), awaited if it is a
    coroutine (it becomes one where page notices are kept in the database)."""
    return await _maybe(pages._render(request, *args, **kwargs))


async def _flash(request: Request, kind: str, text: str) -> None:
    """The pages' one-time notice (:func:`commonplan.server.pages._flash`), likewise."""
    await _maybe(pages._flash(request, kind, text))


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _int_param(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


def _plan_of(
    db: Database, plan_param: str | None, assembly_param: str | None
) -> tuple[Any, int | None]:
    """The dashboard of the chosen assembly and the plan to show (None when none is monitored)."""
    board = _selection(db, assembly_param)
    chosen = _int_param(plan_param)
    if chosen is not None:
        return board, chosen
    if board is None:
        return None, None
    plans = monitoring.monitored_plans(db, board.assembly.id)
    return board, plans[0] if plans else None


def _tuple(product: str) -> tuple[str, str]:
    region, _, sector = product.partition("/")
    return region, sector


def _percent(value: Any) -> str:
    number = pd.to_numeric(value, errors="coerce")
    return "—" if pd.isna(number) else f"{100 * float(number):.1f} %"


def _wall(
    db: Database, plan_id: int, economy_id: int | None, open_alarms: dict[str, str]
) -> dict[str, Any]:
    """Charts for the most urgent series (an open alarm first, then the detector's change
    probability) and a table row per product, from the stored steps. ``open_alarms``:
    product → the kind and level of its open alarm."""
    frame = monitoring.series(db, plan_id)
    if frame.empty:
        return {"charts": {}, "tiles": [], "rows": []}
    name = _product_namer(db, economy_id)
    latest = frame.groupby("product", sort=False).tail(1).set_index("product")
    alarmed = pd.Series(latest.index.isin(list(open_alarms)), index=latest.index)
    change = pd.to_numeric(latest.get("change_probability", 0.0), errors="coerce").fillna(0.0)
    order = pd.DataFrame({"alarm": alarmed, "change": change}).sort_values(
        ["alarm", "change"], ascending=False
    )
    figures: dict[str, Any] = {}
    tiles = []
    for k, product in enumerate(order.index[:WALL]):
        rows = frame[frame["product"] == product]
        chart_id = f"series-{k}"
        title = f"{name(_tuple(product))} · {product}"
        figures[chart_id] = charts.monitor_series_figure(product, rows, title)
        tiles.append({"id": chart_id, "product": product, "alarm": bool(alarmed[product])})
    table = []
    for product in order.index:
        row = latest.loc[product]
        table.append(
            {
                "product": product,
                "name": name(_tuple(product)),
                "ratio": _percent(row.get("ratio")),
                "p_step": _percent(row.get("p_step")),
                "p_slope": _percent(row.get("p_slope")),
                "p_outlier": _percent(row.get("p_outlier")),
                "total": format_number(row.get("total_forecast")),
                "plan": format_number(row.get("total_plan")),
                "alarm": open_alarms.get(product, ""),
            }
        )
    return {"charts": figures, "tiles": tiles, "rows": table}


def _alarm_view(alarm: monitoring.AlarmInfo, name: Any) -> dict[str, Any]:
    return {
        "id": alarm.id,
        "product": alarm.product,
        "name": name(_tuple(alarm.product)),
        "kind": alarm.kind,
        "when": f"{alarm.period}.{alarm.sub_period}",
        "council": alarm.council or "the assembly's councils",
        "level": alarm.level,
        "status": alarm.status,
        "raised_at": alarm.raised_at.strftime("%Y-%m-%d %H:%M UTC"),
        "ratio": _percent(alarm.details.get("ratio")),
        "events": [
            {
                "kind": e["kind"],
                "level": e["level"],
                "note": e["note"],
                "action": e["action"],
                "at": e["at"].strftime("%Y-%m-%d %H:%M UTC"),
            }
            for e in alarm.events
            if e["kind"] in ("acknowledge", "close")
        ],
    }


def _live(db: Database, plan_id: int, economy_id: int | None) -> dict[str, Any]:
    """What the page refreshes: the monitor's position, the wall, the alarms by level."""
    info = monitoring.monitor_info(db, plan_id)
    name = _product_namer(db, economy_id)
    alarms = monitoring.list_alarms(db, plan_id)
    open_by_level = [
        (
            level,
            LEVEL_NAMES[level],
            [_alarm_view(a, name) for a in alarms if a.status == "open" and a.level == level],
        )
        for level in reversed(monitoring.LEVEL_ORDER)
    ]
    acknowledged = [_alarm_view(a, name) for a in alarms if a.status == "acknowledged"]
    closed = [_alarm_view(a, name) for a in alarms if a.status == "closed"]
    open_alarms = {a.product: f"{a.kind} ({a.level})" for a in alarms if a.status == "open"}
    return {
        "monitor": info,
        "wall": _wall(db, plan_id, economy_id, open_alarms),
        "open_by_level": open_by_level,
        "n_open": sum(len(items) for _, _, items in open_by_level),
        "acknowledged": acknowledged,
        "closed": closed,
        "refresh_s": REFRESH_S,
    }


def _price(value: Any) -> str:
    """A shadow price to three significant figures (they are often tiny: objective units per
    unit of the resource)."""
    number = pd.to_numeric(value, errors="coerce")
    return "—" if pd.isna(number) else f"{float(number):.3g}"


def _replan(db: Database, plan_id: int, economy_id: int | None) -> dict[str, Any]:
    """The re-plan comparison (:func:`commonplan.services.replanning.replan_plan`) for the
    page: the targets that fall and the capacity to add (largest first), shadow prices; or
    why there is none."""
    try:
        view = replanning.replan_plan(db, plan_id)
    except CommonplanError as error:
        return {"error": str(error)}
    name = _product_namer(db, economy_id)
    result = view.replan
    targets = result.targets
    falls = targets[targets["falls"]].sort_values("change").head(REPLAN_ROWS)
    capacity = result.capacity.sort_values("gap", ascending=False).head(REPLAN_ROWS)
    return {
        "position": f"{view.period}.{view.sub_period}",
        "n_short": len(view.levels),
        "n_falls": int(targets["falls"].sum()),
        "n_targets": len(targets),
        "n_capacity": int(result.capacity["activity"].nunique()),
        "method": f"{result.report.method}, {result.report.status}",
        "short": [
            {"product": p, "name": name(_tuple(p)), "share": _percent(v)}
            for p, v in view.levels.sort_values().items()
        ],
        "falls": [
            {
                "product": row.product,
                "name": name(_tuple(row.product)),
                "target": format_number(row.target),
                "published": format_number(row.published),
                "revised": format_number(row.revised),
                "change": format_number(row.change),
            }
            for row in falls.itertuples()
        ],
        "capacity": [
            {
                "activity": row.activity,
                "name": name(_tuple(row.activity)),
                "published": format_number(row.published),
                "limit": format_number(row.limit),
                "gap": format_number(row.gap),
            }
            for row in capacity.itertuples()
        ],
        "prices": [
            {
                "account": row.account,
                "period": row.period,
                "published": _price(row.shadow_price_published),
                "revised": _price(row.shadow_price_revised),
                "binding": bool(row.binding),
            }
            for row in result.prices.itertuples()
        ],
    }


def _context(
    db: Database,
    actor: Actor | None,
    plan_param: str | None,
    assembly_param: str | None,
    with_replan: bool = False,
) -> dict[str, Any]:
    board, plan_id = _plan_of(db, plan_param, assembly_param)
    context: dict[str, Any] = {
        "title": "Operations",
        "plan_id": plan_id,
        "live": None,
        "needs_plotly": True,
        "startable": _startable(db, board, actor) if plan_id is None else None,
    }
    if plan_id is None:
        return context
    economy_id = board.assembly.economy_id if board is not None else None
    try:
        live = _live(db, plan_id, economy_id)
    except NotFoundError as error:
        context["missing"] = str(error)
        return context
    context["live"] = live
    context["charts"] = live["wall"]["charts"]
    signed = actor is not None and Role(actor.role) is not Role.OBSERVER
    context["can_file"] = signed
    context["can_escalate"] = actor is not None and Role(actor.role) in (
        Role.ADMINISTRATOR,
        Role.FACILITATOR,
    )
    context["csv_columns"] = "product,period,sub_period,output,unit"
    if with_replan and live["monitor"].period is not None:
        context["replan"] = _replan(db, plan_id, economy_id)
    return context


def _startable(db: Database, board: Any, actor: Actor | None) -> dict[str, Any] | None:
    """The current round's published plan, when a facilitator may start monitoring it here."""
    if board is None or board.published is None or board.current_round is None:
        return None
    if actor is None or Role(actor.role) not in (Role.ADMINISTRATOR, Role.FACILITATOR):
        return None
    plan_id = monitoring.plan_id_of_round(db, board.current_round.id)
    if plan_id is None:
        return None
    return {
        "plan_id": plan_id,
        "round": board.current_round.title,
        "label": board.published.label,
        "title": board.published.title,
        "sub_periods": monitoring.DEFAULT_SUB_PERIODS,
        "council_hours": monitoring.DEFAULT_COUNCIL_HOURS,
        "facilitator_hours": monitoring.DEFAULT_FACILITATOR_HOURS,
    }


def _form_number(form: Any, name: str, kind: type) -> Any:
    text = str(form.get(name) or "").strip()
    try:
        return kind(text)
    except ValueError:
        raise errors.ParticipationInputError(
            f"{name.replace('_', ' ')} {text!r} is not a number",
            where=name,
            fix="give a positive number",
        ) from None


@router.post("/operations/start", name="page_start_monitoring", response_class=HTMLResponse)
async def start_submit(request: Request) -> Response:
    """A facilitator starts monitoring the current round's published plan."""
    form = await request.form()
    actor = await page_actor(request)
    plan_id = _int_param(str(form.get("plan_id") or "")) or 0
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        await run_write(
            request,
            monitoring.start_monitoring,
            _signed_in(actor),
            plan_id,
            sub_periods=_form_number(form, "sub_periods", int),
            council_hours=_form_number(form, "council_hours", float),
            facilitator_hours=_form_number(form, "facilitator_hours", float),
        )
    except CommonplanError as error:
        context = await run_read(request, _context, actor, None, None)
        return await _render(
            request, "operations.html", actor, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", f"Published plan {plan_id} is monitored from now on.")
    return RedirectResponse(_back(request, plan_id), status_code=303)


@router.get("/operations", name="page_operations", response_class=HTMLResponse)
async def operations_page(request: Request) -> HTMLResponse:
    """The operations page of a monitored plan."""
    actor = await page_actor(request)
    context = await run_read(
        request,
        _context,
        actor,
        request.query_params.get("plan"),
        request.query_params.get("assembly"),
        True,
    )
    return await _render(request, "operations.html", actor, context)


@router.get("/fragments/operations", name="fragment_operations", response_class=HTMLResponse)
async def operations_fragment(request: Request) -> HTMLResponse:
    """The wall and the alarms alone; the page refreshes them with HTMX."""
    plan_id = _int_param(request.query_params.get("plan"))
    if plan_id is None:
        raise errors.ReportError("the fragment needs ?plan=<id>", where="plan")
    actor = await page_actor(request)
    context = await run_read(request, _context, actor, str(plan_id), None)
    context.update({"request": request, "csrf_token": csrf_token(request), "user": actor})
    return TEMPLATES.TemplateResponse(request, "_operations_live.html", context)


def _back(request: Request, plan_id: int) -> str:
    return f"{request.url_for('page_operations').path}?plan={plan_id}"


async def _refused(
    request: Request, actor: Actor | None, plan_id: int, error: CommonplanError, typed: str = ""
) -> HTMLResponse:
    context = await run_read(request, _context, actor, str(plan_id), None)
    context["typed_csv"] = typed
    context["problem"] = problem_body(error)
    return await _render(
        request, "operations.html", actor, context, status=status_for(error), error=error
    )


def _signed_in(actor: Actor | None) -> Actor:
    if actor is None:
        raise AuthenticationError(
            "signing in is required to act on a monitored plan",
            where="operations",
            fix="sign in as a council member or facilitator",
        )
    return actor


async def _form_frame(form: Any) -> tuple[pd.DataFrame, str]:
    """The reports of the upload form: the file if one was chosen, else the typed CSV."""
    typed = str(form.get("csv") or "")
    upload = form.get("file")
    if upload is not None and getattr(upload, "filename", ""):
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise errors.ReportError(
                "the uploaded file is larger than 4 MiB",
                where=upload.filename,
                fix="split the reports into several files, or use the API",
            )
        return monitoring.read_report_file(data, upload.filename), typed
    if not typed.strip():
        raise errors.ReportError(
            "no reports given",
            where="reports form",
            fix="choose a CSV or Parquet file, or type CSV rows with a header line",
        )
    return monitoring.read_report_file(typed.encode(), "typed reports"), typed


@router.post("/operations/reports", name="page_file_reports", response_class=HTMLResponse)
async def file_reports_submit(request: Request) -> Response:
    """File reports from the page's form (CSV typed, or a CSV/Parquet file)."""
    form = await request.form()
    actor = await page_actor(request)
    plan_id = _int_param(str(form.get("plan_id") or "")) or 0
    typed = str(form.get("csv") or "")
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        frame, typed = await _form_frame(form)
        filed = await run_write(
            request,
            monitoring.file_reports,
            _signed_in(actor),
            plan_id,
            frame,
            now=state_of(request).clock(),
        )
    except CommonplanError as error:
        return await _refused(request, actor, plan_id, error, typed)
    observed = ", ".join(f"{p}.{s}" for p, s in filed.observed) or "none yet"
    await _flash(
        request,
        "ok",
        f"{filed.n_reports} reports filed; sub-periods observed: {observed}; "
        f"{len(filed.alarms)} new alarms.",
    )
    return RedirectResponse(_back(request, plan_id), status_code=303)


async def _alarm_write(
    request: Request, alarm_id: int, service, fields: tuple[str, ...], done: str
) -> Response:
    """Run an alarm ``service`` with the form's ``fields`` (in order), then come back."""
    form = await request.form()
    actor = await page_actor(request)
    plan_id = _int_param(str(form.get("plan_id") or "")) or 0
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        await run_write(
            request,
            service,
            _signed_in(actor),
            alarm_id,
            *(str(form.get(name) or "") for name in fields),
            now=state_of(request).clock(),
        )
    except CommonplanError as error:
        return await _refused(request, actor, plan_id, error)
    await _flash(request, "ok", done)
    return RedirectResponse(_back(request, plan_id), status_code=303)


@router.post(
    "/operations/alarms/{alarm_id}/acknowledge",
    name="page_acknowledge",
    response_class=HTMLResponse,
)
async def acknowledge_submit(request: Request, alarm_id: int) -> Response:
    """Acknowledge an alarm with a note and an action from the page."""
    return await _alarm_write(
        request,
        alarm_id,
        monitoring.acknowledge_alarm,
        ("note", "action"),
        f"Alarm {alarm_id} is acknowledged; it escalates no further.",
    )


@router.post(
    "/operations/alarms/{alarm_id}/close", name="page_close_alarm", response_class=HTMLResponse
)
async def close_submit(request: Request, alarm_id: int) -> Response:
    """Close an acknowledged alarm with a note from the page."""
    return await _alarm_write(
        request, alarm_id, monitoring.close_alarm, ("note",), f"Alarm {alarm_id} is closed."
    )


@router.post("/operations/escalate", name="page_escalate", response_class=HTMLResponse)
async def escalate_submit(request: Request) -> Response:
    """Escalate the plan's overdue alarms (facilitators)."""
    form = await request.form()
    actor = await page_actor(request)
    plan_id = _int_param(str(form.get("plan_id") or "")) or 0
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        moved = await run_write(
            request,
            monitoring.escalate_due,
            _signed_in(actor),
            state_of(request).clock(),
            plan_id=plan_id,
        )
    except CommonplanError as error:
        return await _refused(request, actor, plan_id, error)
    await _flash(request, "ok", f"{len(moved)} alarms escalated.")
    return RedirectResponse(_back(request, plan_id), status_code=303)


@router.post("/operations/replan-round", name="page_replan_round", response_class=HTMLResponse)
async def replan_round_submit(request: Request) -> Response:
    """Open a new planning round from the re-plan (facilitators of the plan's assembly)."""
    form = await request.form()
    actor = await page_actor(request)
    plan_id = _int_param(str(form.get("plan_id") or "")) or 0
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        opened = await run_write(request, replanning.open_replan_round, _signed_in(actor), plan_id)
    except CommonplanError as error:
        return await _refused(request, actor, plan_id, error)
    await _flash(request, "ok", f"Round {opened.title!r} is open for ballots.")
    path = request.url_for("page_dashboard").path
    return RedirectResponse(f"{path}?assembly={opened.assembly_id}", status_code=303)


def reports_csv(frame: pd.DataFrame) -> str:
    """Reports as CSV text (as the form expects them)."""
    sink = io.StringIO()
    frame.to_csv(sink, index=False)
    return sink.getvalue()
