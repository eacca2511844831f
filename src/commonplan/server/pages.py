"""Web pages for people: server-rendered Jinja2 templates with HTMX, usable on a phone.

Pages read through :mod:`commonplan.services.queries` and write through the same service
functions as the JSON API, so roles and phases are checked in one place. Forms carry the
session's anti-forgery token; a refused action re-renders its page with the reason and
a 4xx status, and stores nothing. Successful posts redirect (post/redirect/get), so a
reload never resubmits. Each ballot and ranking form carries a fresh ``request_id``: a
double click stores one ballot, not two.

The assembly shown is ``?assembly=<id>`` (default: the first), its current round the
latest one.
"""

from __future__ import annotations

import uuid
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from commonplan.councils.ballots import GROUP_KINDS, RULES
from commonplan.errors import (
    AuthenticationError,
    BallotError,
    CommonplanError,
    ParticipationInputError,
)
from commonplan.server import charts, explorer, forms, views
from commonplan.server.context import (
    check_csrf,
    csrf_token,
    end_session,
    page_actor,
    put_notice,
    remember_device,
    run_long_write,
    run_read,
    run_short_write,
    run_write,
    sign_in,
    start_session,
    take_notices,
)
from commonplan.server.formatting import (
    figure_rows,
    format_local_time,
    format_number,
    product_name,
)
from commonplan.server.problems import (
    RateLimited,
    http_error_response,
    problem_body,
    problem_response,
    status_for,
)
from commonplan.services import accounts, assemblies, ballots, queries, rounds, votes
from commonplan.services.explorer import explore_economy
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import CouncilKind, Phase, Role

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)


# --- shared context ----------------------------------------------------------------------


def _stored_message(what: str, stored: Any) -> str:
    """The notice after a ballot or ranking is stored, with its receipt the one time it exists."""
    receipt = getattr(stored, "receipt", None)
    if not receipt:  # a replayed request: the receipt was shown the first time
        return f"Your {what} is stored."
    return (
        f"Your {what} is stored. Your receipt: {receipt} — keep it: it is shown only now, and "
        f"with it you alone can check that your {what} was counted as cast."
    )


async def _flash(request: Request, kind: str, text: str) -> None:
    """Show ``text`` once on the browser's next page (kept server-side, never in the cookie)."""
    await put_notice(request, kind, text)


async def _render(
    request: Request,
    template: str,
    actor: Actor | None,
    context: dict[str, Any],
    *,
    status: int = 200,
    error: CommonplanError | None = None,
) -> HTMLResponse:
    notices = await take_notices(request)
    if error is not None:
        notices.append(("error", str(error)))
    assembly = request.query_params.get("assembly", "")
    base = {
        "request": request,
        "assembly_query": f"?{urlencode({'assembly': assembly})}" if assembly.isdigit() else "",
        "user": actor,
        "csrf_token": csrf_token(request),
        "notices": notices,
        "charts": {},
        "title": None,
    }
    base.update(context)
    return TEMPLATES.TemplateResponse(request, template, base, status_code=status)


def _selection(db: Database, assembly_param: str | None) -> queries.Dashboard | None:
    """The dashboard data of the chosen (or first) assembly, or None when there is none."""
    chosen: int | None = None
    if assembly_param and assembly_param.isdigit() and len(assembly_param) < 10:
        chosen = int(assembly_param)
    if chosen is None:
        listed = assemblies.list_assemblies(db)
        if not listed:
            return None
        chosen = listed[0].id
    return queries.dashboard(db, chosen)


async def _dashboard_of(request: Request) -> queries.Dashboard | None:
    return await run_read(request, _selection, request.query_params.get("assembly"))


def _economy_names(db: Database, economy_id: int | None) -> assemblies.EconomyNames:
    if economy_id is None:
        return assemblies.EconomyNames((), ())
    return assemblies.economy_names(db, economy_id)


def _sector_names(db: Database, economy_id: int | None) -> dict[str, str]:
    return {s.code: s.name for s in _economy_names(db, economy_id).sectors}


def _round_warnings(db: Database, board: Any) -> list[str]:
    """What voters should know about the board's current round (:func:`rounds.round_warnings`)."""
    found = _warnings(board)
    if board.current_round is not None:
        found += [w for w in rounds.round_warnings(db, board.current_round.id) if w not in found]
    return found


def _warnings(*results: Any) -> list[str]:
    """The ``warnings`` the services attach to their results (rendered, never computed, here)."""
    found: list[str] = []
    for result in results:
        for warning in getattr(result, "warnings", None) or ():
            text = str(getattr(warning, "message", warning))
            if text not in found:
                found.append(text)
    return found


def _facilitates(actor: Actor | None) -> bool:
    """Whether to show a facilitator's forms (the services check the role again on submit)."""
    return actor is not None and actor.role in (Role.ADMINISTRATOR, Role.FACILITATOR)


def _groups_by_weight(info: Any) -> list[str]:
    """The round's target groups, highest aggregated weight first (as listed before the tally)."""
    names = list(info.group_names)
    if info.weights:
        names.sort(key=lambda g: -float(info.weights.get(g, 0.0)))
    return names


def _round_view(board: queries.Dashboard, names: dict[str, str] | None = None) -> dict | None:
    """The board's current round for the templates: deadlines in the assembly's time zone,
    each group's sectors also by name."""
    info = board.current_round
    if info is None:
        return None
    view = views.round_json(info)
    for group in view["target_groups"]:
        group["sector_names"] = [(names or {}).get(s, s) for s in group["sectors"]]
    for key in ("ballot_deadline", "vote_deadline"):
        view[key] = format_local_time(view[key], board.assembly.time_zone)
    return view


def _same_site_path(target: str | None, default: str) -> str:
    """Only local paths may follow a sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _back(request: Request, name: str) -> str:
    url = str(request.url_for(name).path)
    assembly = request.query_params.get("assembly")
    return f"{url}?{urlencode({'assembly': assembly})}" if assembly else url


# --- sign-in -----------------------------------------------------------------------------


@router.get("/login", name="page_login", response_class=HTMLResponse)
async def login_form(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    return await _render(
        request,
        "login.html",
        actor,
        {
            "title": "Sign in",
            "next_url": _same_site_path(request.query_params.get("next"), "/"),
            "username": str(request.query_params.get("username") or "")[:64],
        },
    )


@router.post("/login", name="page_login_submit", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:256]
    next_url = _same_site_path(str(form.get("next") or ""), "/")
    context = {"title": "Sign in", "next_url": next_url, "username": username}
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        actor = await sign_in(request, username, password)
    except CommonplanError as error:
        response = await _render(
            request, "login.html", None, context, status=status_for(error), error=error
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
        return response
    await start_session(request, actor)
    await _flash(request, "ok", f"Signed in as {actor.display_name or actor.username}.")
    response = RedirectResponse(next_url, status_code=303)
    remember_device(request, response, actor)
    return response


_RESET_FIELDS = ["username", "code", "new_password", "confirm_password"]


def _reset_context(username: str = "", code: str = "") -> dict[str, Any]:
    return {"title": "Set a new password", "username": username, "code": code, "errors": {}}


@router.get("/password-reset", name="page_password_reset", response_class=HTMLResponse)
async def password_reset_form(request: Request) -> HTMLResponse:
    """The form on which an account's owner spends a reset code from an administrator."""
    actor = await page_actor(request)
    username = str(request.query_params.get("username") or "")[:64]
    return await _render(request, "password_reset.html", actor, _reset_context(username))


def _reset_field(error: CommonplanError) -> dict[str, str]:
    """The field a refused reset names: the service says ``password`` and ``password reset``."""
    where = str(error.where or "")
    named = {"password": "new_password", "password reset": "code"}.get(where)
    return {named: str(error)} if named else forms.field_errors(error, _RESET_FIELDS)


@router.post("/password-reset", name="page_password_reset_submit", response_class=HTMLResponse)
async def password_reset_submit(request: Request) -> Response:
    """Set a new password with a one-time reset code; refused, the form comes back as typed
    (the passwords excepted)."""
    form = await request.form()
    username = str(form.get("username") or "").strip()[:64]
    code = str(form.get("code") or "").strip()[:100]
    new_password = str(form.get("new_password") or "")[:256]
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        if new_password != str(form.get("confirm_password") or "")[:256]:
            raise ParticipationInputError(
                "the two new passwords differ",
                where="confirm_password",
                fix="type the same new password twice",
            )
        await run_write(request, accounts.redeem_password_reset, username, code, new_password)
    except CommonplanError as error:
        context = _reset_context(username, code)
        context["errors"] = _reset_field(error)
        return await _render(
            request, "password_reset.html", None, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", "Your new password is set: sign in with it.")
    target = f"{request.url_for('page_login').path}?{urlencode({'username': username})}"
    return RedirectResponse(target, status_code=303)


@router.post("/logout", name="page_logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
    except CommonplanError as error:
        return await _render(
            request,
            "error.html",
            actor,
            {"heading": "Not signed out", "problem": problem_body(error)},
            status=status_for(error),
        )
    await end_session(request)
    return RedirectResponse("/login", status_code=303)


# --- reading -----------------------------------------------------------------------------


def _dashboard_context(db: Database, actor: Actor | None, assembly_param: str | None) -> dict:
    board = _selection(db, assembly_param)
    context: dict[str, Any] = {"title": "Dashboard", "assembly": None, "round": None}
    if board is None:
        context["can_open"] = _facilitates(actor)
        return context
    names = _sector_names(db, board.assembly.economy_id)
    context.update(
        assembly=board.assembly,
        round=_round_view(board, names),
        can_open=_facilitates(actor),
        councils=[
            {
                "name": c.name,
                "kind": c.kind.value,
                "region": c.region,
                "sector": names.get(c.sector, c.sector) if c.sector else c.enterprise,
                "members": c.n_members,
            }
            for c in board.councils
        ],
        warnings=_round_warnings(db, board),
    )
    if board.turnout is not None:
        t = board.turnout
        context["turnout"] = {
            "members": t.n_members,
            "ballots": t.n_ballots,
            "rankings": t.n_rankings,
            "ballot_share": t.ballot_share,
            "ranking_share": t.ranking_share,
        }
    current = board.current_round
    if current is not None and _facilitates(actor) and current.phase is not Phase.PUBLISHED:
        context["can_facilitate"] = True
        context["advance_label"] = _ADVANCE_LABELS[current.phase]
        if current.phase is Phase.ALTERNATIVES and len(board.alternatives) < 2:
            context["advance_blocked"] = (
                f"The round has {len(board.alternatives)} alternative(s); a vote needs two or "
                "more. Compute or add them on the Alternatives page first."
            )
    if current is not None and current.weights:
        context["charts"] = {
            "weights": charts.weights_figure(current.weights, "Aggregated target weights")
        }
    return context


@router.get("/", name="page_dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    context = await run_read(
        request, _dashboard_context, actor, request.query_params.get("assembly")
    )
    return await _render(request, "dashboard.html", actor, context)


_ADVANCE_LABELS = {
    Phase.BALLOT: "Close ballots and aggregate the weights",
    Phase.ALTERNATIVES: "Open the vote on the alternatives",
    Phase.VOTE: "Close the vote and count it (Schulze)",
    Phase.TALLIED: "Publish the winning plan",
}


@router.post("/round/advance", name="page_advance", response_class=HTMLResponse)
async def advance_submit(request: Request) -> Response:
    """Facilitators move the round to its next phase from the dashboard."""
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        if actor is None:
            raise AuthenticationError(
                "signing in is required to run a round",
                where="round",
                fix="sign in as a facilitator",
            )
        round_text = str(form.get("round_id") or "")
        if not round_text.isdigit() or len(round_text) > 9:
            raise BallotError("the form names no valid round", where="round_id")
        expected = str(form.get("expected") or "") or None
        if expected is not None and expected not in {p.value for p in Phase}:
            raise BallotError(f"unknown phase {expected!r}", where="expected")
        info = await run_write(
            request, rounds.advance_phase, actor, int(round_text), expected=expected
        )
    except CommonplanError as error:
        return await _render(
            request,
            "error.html",
            actor,
            {
                "title": "Not done",
                "heading": "The round was not changed",
                "problem": problem_body(error),
                "back_url": _back(request, "page_dashboard"),
            },
            status=status_for(error),
        )
    await _flash(request, "ok", f"The round is now in the {info.phase.value} phase.")
    return RedirectResponse(_back(request, "page_dashboard"), status_code=303)


@router.get("/fragments/turnout", name="fragment_turnout", response_class=HTMLResponse)
async def turnout_fragment(request: Request) -> HTMLResponse:
    """The dashboard's turnout figures alone; the dashboard refreshes them with HTMX."""
    text = request.query_params.get("round", "")
    if not text.isdigit() or len(text) > 9:
        raise BallotError("the fragment needs ?round=<id>", where="round")
    t = await run_read(request, queries.turnout, int(text))
    turnout = {
        "members": t.n_members,
        "ballots": t.n_ballots,
        "rankings": t.n_rankings,
        "ballot_share": t.ballot_share,
        "ranking_share": t.ranking_share,
    }
    return TEMPLATES.TemplateResponse(
        request, "_turnout.html", {"turnout": turnout, "round": {"id": t.round_id}}
    )


def _explore(db: Database, assembly_param: str | None) -> tuple[str | None, explorer.ExplorerView]:
    board = _selection(db, assembly_param)
    if board is None or board.assembly.economy_id is None:
        return None, explorer.ExplorerView(False, "This assembly has no stored economy.")
    exploration = explore_economy(db, board.assembly.economy_id)
    return exploration.economy_name, explorer.explorer_view(
        exploration, _product_namer(db, board.assembly.economy_id)
    )


def _product_namer(db: Database, economy_id: int | None) -> Any:
    """A function naming a product label by its sector's name (with the region when there are several)."""
    names = _economy_names(db, economy_id)
    by_code = {s.code: s.name for s in names.sectors}
    with_region = len(names.regions) > 1

    def name(label: Any) -> str:
        return product_name(label, by_code, with_region=with_region)

    return name


@router.get("/economy", name="page_economy", response_class=HTMLResponse)
async def economy_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    name, view = await run_read(request, _explore, request.query_params.get("assembly"))
    return await _render(
        request,
        "economy.html",
        actor,
        {
            "title": "Economy",
            "economy_name": name,
            "available": view.available,
            "unavailable_reason": view.reason,
            "key_rows": view.key_rows,
            "key_sectors_note": view.key_note,
            "dependence_available": "dependence-data" in view.charts,
            "dependence_note": view.dependence_note,
            "charts": {k.removesuffix("-data"): v for k, v in view.charts.items()},
        },
    )


@router.get("/results", name="page_results", response_class=HTMLResponse)
async def results_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    board = await _dashboard_of(request)
    context: dict[str, Any] = {"title": "Results", "round": None, "result": None}
    if board is not None and board.current_round is not None:
        context["round"] = _round_view(board)
        if board.result is not None:
            context["result"] = views.result_json(board.result)
            context["titles"] = {a.label: a.title for a in board.alternatives}
        if board.current_round.weights:
            context["charts"] = {"weights": charts.weights_figure(board.current_round.weights)}
    return await _render(request, "results.html", actor, context)


PLAN_ROWS = 60


def _plan_rows(
    db: Database, sha256: str | None, economy_id: int | None
) -> tuple[list[str], list[list[str]], int]:
    """The published plan's product table (largest targets first, at most ``PLAN_ROWS``).

    Each row: the product's name, its code, then its values (fulfilment in %).
    """
    if not sha256:
        return [], [], 0
    frame = queries.plan_frame(db, sha256)
    if "target" in frame.columns:
        frame = frame.sort_values("target", ascending=False)
    shown = frame.head(PLAN_ROWS)
    name = _product_namer(db, economy_id)
    unit = _money_unit(db, economy_id)
    columns = [str(c) for c in frame.columns]
    rows = [
        [
            name(label),
            charts.plain_label(label),
            *(_plan_cell(c, v) for c, v in zip(columns, values, strict=True)),
        ]
        for label, values in zip(shown.index, shown.itertuples(index=False), strict=True)
    ]
    headers = [_PLAN_COLUMNS.get(c, c).format(unit=unit or "units") for c in columns]
    return headers, rows, len(frame)


_PLAN_COLUMNS = {
    "target": "Target ({unit})",
    "delivered": "Delivered ({unit})",
    "fulfilment": "Fulfilment (%)",
    "output": "Gross output ({unit})",
}


def _plan_cell(column: str, value: Any) -> str:
    return format_number(100 * value if column == "fulfilment" else value)


def _money_unit(db: Database, economy_id: int | None) -> str:
    from commonplan.server.formatting import money_unit

    return money_unit(assemblies.get_economy_info(db, economy_id).units) if economy_id else ""


@router.get("/plan", name="page_plan", response_class=HTMLResponse)
async def plan_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    board = await _dashboard_of(request)
    context: dict[str, Any] = {"title": "Published plan", "round": None, "plan": None}
    if board is not None and board.current_round is not None:
        context["round"] = _round_view(board)
        if board.published is not None:
            p = board.published
            columns, rows, n_products = await run_read(
                request, _plan_rows, p.plan_sha256, board.assembly.economy_id
            )
            context["warnings"] = _warnings(p)
            context["plan"] = {
                "label": p.label,
                "title": p.title,
                "plan_sha256": p.plan_sha256,
                "published_at": p.published_at.strftime("%Y-%m-%d %H:%M UTC"),
                "figure_rows": figure_rows(p.figures),
                "columns": columns,
                "rows": rows,
                "n_products": n_products,
            }
    return await _render(request, "plan.html", actor, context)


def _audit(db: Database, before: int | None, verify: bool) -> tuple[list[Any], Any]:
    entries = queries.audit_log(db, limit=101, before_seq=before)
    report = (
        queries.verify_audit_log(db, max_age_s=queries.PUBLIC_VERIFY_MAX_AGE_S) if verify else None
    )
    return entries, report


@router.get("/audit", name="page_audit", response_class=HTMLResponse)
async def audit_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    before_text = request.query_params.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) < 10 else None
    verify = request.query_params.get("verify") == "1"
    entries, report = await run_read(request, _audit, before, verify)
    problem = ""
    if report is not None and not report.ok:
        problem = "The hash chain is broken: " + "; ".join(p.message for p in report.problems[:5])
    return await _render(
        request,
        "audit.html",
        actor,
        {
            "title": "Audit log",
            "entries": entries[:100],
            "more": len(entries) > 100,
            "verified": None if report is None else report.ok,
            "verify_problem": problem,
            "total": None if report is None else report.n_entries,
        },
    )


# --- ballots -----------------------------------------------------------------------------


def _ballot_context(
    db: Database, actor: Actor | None, assembly_param: str | None
) -> dict[str, Any]:
    board = _selection(db, assembly_param)
    context: dict[str, Any] = {
        "title": "Ballot",
        "round": None,
        "can_vote": False,
        "current": None,
        "default_points": {},
        "typed": None,
        "errors": {},
    }
    if board is None or board.current_round is None:
        return context
    current_round = board.current_round
    context["round"] = _round_view(board)
    context["warnings"] = _warnings(board, current_round)
    groups = current_round.group_names
    share = round(100 / len(groups), 2) if groups else 0
    defaults = {g: share for g in groups}
    if groups:
        defaults[groups[-1]] = round(100 - share * (len(groups) - 1), 2)
    context["default_points"] = defaults
    if actor is None:
        context["why_not"] = "Sign in as a council member to submit a ballot."
    elif actor.role is not Role.MEMBER:
        context["why_not"] = (
            f"Only council members submit ballots; you are signed in as {actor.role.value}."
        )
    elif current_round.phase is not Phase.BALLOT:
        context["why_not"] = (
            f"The ballot phase is over (the round is in the {current_round.phase.value} phase). "
            "The ballots are sealed: nothing stored links yours to you any more; with your "
            "receipt you find it in the round's publication."
        )
    else:
        context["can_vote"] = True
    if actor is not None and actor.role is Role.MEMBER:
        mine = ballots.my_ballot(db, actor, current_round.id)
        if mine is not None:
            context["current"] = {
                "points": mine.points,
                "submitted_at": mine.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            }
    context["round_id"] = current_round.id
    return context


@router.get("/ballot", name="page_ballot", response_class=HTMLResponse)
async def ballot_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    context = await run_read(request, _ballot_context, actor, request.query_params.get("assembly"))
    context["request_id"] = uuid.uuid4().hex
    return await _render(request, "ballot.html", actor, context)


def _form_round(form: Any, default: int) -> int:
    """The round a form was filled in for (its hidden ``round_id``), else the page's current round.

    Submitting for the round the member saw, not whatever round is current by the time the
    form arrives, keeps a late form from landing in a newer round.
    """
    text = str(form.get("round_id") or "").strip()
    if not text:
        return default
    if not text.isdigit() or len(text) > 9:
        raise BallotError(f"the form names no valid round: {text[:20]!r}", where="round_id")
    return int(text)


def _required_round(form: Any) -> int:
    """The round a facilitator's form acts on (its hidden ``round_id``, which must be there)."""
    round_id = _form_round(form, 0)
    if round_id == 0:
        raise BallotError("the form names no round", where="round_id", fix="reload the page")
    return round_id


def _form_points(form: Any) -> dict[str, Any]:
    points: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(key, str) and key.startswith("points:"):
            text = str(value).strip()
            points[key[len("points:") :]] = text if text else 0
    return points


@router.post("/ballot", name="page_ballot_submit", response_class=HTMLResponse)
async def ballot_submit(request: Request) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    context = await run_read(request, _ballot_context, actor, request.query_params.get("assembly"))
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        if actor is None:
            raise AuthenticationError(
                "signing in is required to submit a ballot",
                where="ballot",
                fix="sign in as a council member",
            )
        if context.get("round_id") is None:
            raise BallotError("there is no open planning round", where="ballot")
        points = _form_points(form)
        request_id = str(form.get("request_id") or "") or None
        stored = await run_short_write(
            request,
            ballots.submit_ballot,
            actor,
            _form_round(form, context["round_id"]),
            points,
            request_id=request_id,
        )
    except CommonplanError as error:
        context["request_id"] = uuid.uuid4().hex
        context["typed"] = {
            k[len("points:") :]: v
            for k, v in forms.TypedForm.of(form).values.items()
            if k.startswith("points:")
        }
        context["errors"] = forms.field_errors(error, list(context["typed"]))
        return await _render(
            request, "ballot.html", actor, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", _stored_message("ballot", stored))
    return RedirectResponse(_back(request, "page_ballot"), status_code=303)


# --- alternatives and ranking ------------------------------------------------------------


def _alternatives_context(
    db: Database, actor: Actor | None, assembly_param: str | None
) -> dict[str, Any]:
    board = _selection(db, assembly_param)
    context: dict[str, Any] = {
        "title": "Alternatives",
        "round": None,
        "alternatives": [],
        "can_rank": False,
        "current_ranking": None,
        "why_not": "",
        "typed_ranks": None,
        "alt_typed": None,
        "can_add": False,
        "can_compute": False,
        "errors": {},
    }
    if board is None or board.current_round is None:
        return context
    current_round = board.current_round
    context["round"] = _round_view(board)
    context["round_id"] = current_round.id
    context["alternatives"] = [
        {
            "label": a.label,
            "title": a.title,
            "description": a.description,
            "figure_rows": figure_rows(a.figures),
        }
        for a in board.alternatives
    ]
    context["labels"] = [a.label for a in board.alternatives]
    context["warnings"] = _round_warnings(db, board)
    if board.alternatives:
        context["charts"] = {
            "fulfilment": charts.alternatives_figure(
                board.alternatives, _groups_by_weight(current_round)
            )
        }
    if _facilitates(actor) and current_round.phase is Phase.ALTERNATIVES:
        context["can_add"] = True
        context["can_compute"] = not board.alternatives and board.assembly.economy_id is not None
    if actor is None:
        context["why_not"] = "Sign in as a council member to rank the alternatives."
    elif actor.role is not Role.MEMBER:
        context["why_not"] = (
            f"Only council members rank alternatives; you are signed in as {actor.role.value}."
        )
    elif current_round.phase is not Phase.VOTE:
        context["why_not"] = (
            f"Ranking happens in the vote phase (the round is in the {current_round.phase.value} phase)."
        )
    else:
        context["can_rank"] = True
    if actor is not None and actor.role is Role.MEMBER:
        mine = votes.my_ranking(db, actor, current_round.id)
        if mine is not None:
            context["current_ranking"] = list(mine.order)
    return context


@router.get("/alternatives", name="page_alternatives", response_class=HTMLResponse)
async def alternatives_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    context = await run_read(
        request, _alternatives_context, actor, request.query_params.get("assembly")
    )
    context["request_id"] = uuid.uuid4().hex
    return await _render(request, "alternatives.html", actor, context)


def form_ranking(form: Any) -> list[str]:
    """Turn ``rank:<label> = <n>`` form fields into labels ordered best first.

    Two alternatives with the same rank, or a rank that is not a whole number, are a
    :class:`BallotError`; unknown labels are refused by the ranking rule itself.
    """
    ranks: dict[str, int] = {}
    for key, value in form.multi_items():
        if not (isinstance(key, str) and key.startswith("rank:")):
            continue
        label = key[len("rank:") :]
        text = str(value).strip()
        if not text.isdigit() or len(text) > 3:
            raise BallotError(
                f"the rank of {label!r} is not a whole number: {text!r}",
                where=f"ranking, alternative {label!r}",
                expected="ranks 1, 2, 3, … (1 = first choice)",
                fix="choose a rank for every alternative",
            )
        if label in ranks:
            raise BallotError(f"alternative {label!r} is ranked twice", where="ranking")
        ranks[label] = int(text)
    seen: dict[int, str] = {}
    for label, rank in ranks.items():
        if rank in seen:
            raise BallotError(
                f"alternatives {seen[rank]!r} and {label!r} both have rank {rank}",
                where="ranking",
                expected="each rank used once",
                fix="give every alternative a different rank",
            )
        seen[rank] = label
    return [seen[r] for r in sorted(seen)]


@router.post("/ranking", name="page_ranking_submit", response_class=HTMLResponse)
async def ranking_submit(request: Request) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    context = await run_read(
        request, _alternatives_context, actor, request.query_params.get("assembly")
    )
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        if actor is None:
            raise AuthenticationError(
                "signing in is required to rank the alternatives",
                where="ranking",
                fix="sign in as a council member",
            )
        if context.get("round_id") is None:
            raise BallotError("there is no planning round to vote in", where="ranking")
        order = form_ranking(form)
        request_id = str(form.get("request_id") or "") or None
        stored = await run_short_write(
            request,
            votes.submit_ranking,
            actor,
            _form_round(form, context["round_id"]),
            order,
            request_id=request_id,
        )
    except CommonplanError as error:
        context["request_id"] = uuid.uuid4().hex
        typed = forms.TypedForm.of(form).values
        context["typed_ranks"] = {
            k[len("rank:") :]: v for k, v in typed.items() if k.startswith("rank:")
        }
        context["errors"] = forms.field_errors(error, list(context["typed_ranks"]))
        return await _render(
            request, "alternatives.html", actor, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", _stored_message("ranking", stored))
    return RedirectResponse(_back(request, "page_alternatives"), status_code=303)


# --- running a round (facilitators) -----------------------------------------------------


def _signed_in(actor: Actor | None, what: str) -> Actor:
    if actor is None:
        raise AuthenticationError(
            f"signing in is required to {what}", where="session", fix="sign in first"
        )
    return actor


def _round_form_context(
    db: Database, actor: Actor | None, assembly_param: str | None
) -> dict[str, Any]:
    board = _selection(db, assembly_param)
    names = _economy_names(db, board.assembly.economy_id if board else None)
    return {
        "title": "Open a round",
        "assembly": board.assembly if board else None,
        "can_open": _facilitates(actor) and board is not None,
        "sectors": names.sectors,
        "rules": RULES,
        "kinds": GROUP_KINDS,
        "rows": range(forms.GROUP_ROWS),
        "typed": forms.TypedForm(),
        "errors": {},
    }


@router.get("/round/new", name="page_round_new", response_class=HTMLResponse)
async def round_form(request: Request) -> HTMLResponse:
    """The form a facilitator opens a round with: target groups with sectors, deadlines, rule."""
    actor = await page_actor(request)
    context = await run_read(
        request, _round_form_context, actor, request.query_params.get("assembly")
    )
    return await _render(request, "round_new.html", actor, context)


@router.post("/round/new", name="page_round_new_submit", response_class=HTMLResponse)
async def round_submit(request: Request) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    context = await run_read(
        request, _round_form_context, actor, request.query_params.get("assembly")
    )
    typed = forms.TypedForm.of(form)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        actor = _signed_in(actor, "open a round")
        if context["assembly"] is None:
            raise BallotError("there is no assembly to open a round in", where="assembly")
        zone = context["assembly"].zone
        await run_write(
            request,
            rounds.open_round,
            actor,
            context["assembly"].id,
            typed.get("title"),
            forms.target_groups(typed),
            ballot_deadline=forms.local_deadline(
                typed.get("ballot_deadline"), zone, "ballot_deadline"
            ),
            vote_deadline=forms.local_deadline(typed.get("vote_deadline"), zone, "vote_deadline"),
            aggregation_rule=typed.get("aggregation_rule") or "mean",
        )
    except CommonplanError as error:
        context["typed"] = typed
        context["errors"] = forms.field_errors(
            error, ["title", "ballot_deadline", "vote_deadline", "aggregation_rule"]
        )
        if "target group" in str(error.where):
            context["errors"] = {"groups": str(error)}
        return await _render(
            request, "round_new.html", actor, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", "The round is open for ballots.")
    return RedirectResponse(_back(request, "page_dashboard"), status_code=303)


async def _alternatives_refusal(
    request: Request, actor: Actor | None, error: CommonplanError, typed: forms.TypedForm
) -> HTMLResponse:
    context = await run_read(
        request, _alternatives_context, actor, request.query_params.get("assembly")
    )
    context["request_id"] = uuid.uuid4().hex
    context["alt_typed"] = typed
    context["errors"] = forms.field_errors(error, ["title", "description"])
    return await _render(
        request, "alternatives.html", actor, context, status=status_for(error), error=error
    )


@router.post("/round/compute", name="page_compute", response_class=HTMLResponse)
async def compute_submit(request: Request) -> Response:
    """Facilitators compute the round's alternatives from the aggregated weights."""
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        actor = _signed_in(actor, "compute alternatives")
        computed = await run_long_write(
            request, rounds.compute_alternatives, actor, _required_round(form)
        )
    except CommonplanError as error:
        return await _alternatives_refusal(request, actor, error, forms.TypedForm())
    await _flash(request, "ok", f"{len(computed)} alternatives computed.")
    return RedirectResponse(_back(request, "page_alternatives"), status_code=303)


@router.post("/round/alternative", name="page_add_alternative", response_class=HTMLResponse)
async def alternative_submit(request: Request) -> Response:
    """Facilitators add a hand-made alternative (a title and a description)."""
    form = await request.form()
    actor = await page_actor(request)
    typed = forms.TypedForm.of(form)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        actor = _signed_in(actor, "add an alternative")
        added = await run_write(
            request,
            rounds.add_alternative,
            actor,
            _required_round(form),
            typed.get("title"),
            description=typed.get("description").strip(),
        )
    except CommonplanError as error:
        return await _alternatives_refusal(request, actor, error, typed)
    await _flash(request, "ok", f"Alternative {added.label} added.")
    return RedirectResponse(_back(request, "page_alternatives"), status_code=303)


# --- accounts and councils (administrators) ----------------------------------------------


def _admin_context(db: Database, actor: Actor | None, assembly_param: str | None) -> dict:
    board = _selection(db, assembly_param)
    context: dict[str, Any] = {
        "title": "Accounts and councils",
        "assembly": board.assembly if board else None,
        "is_admin": actor is not None and actor.role is Role.ADMINISTRATOR,
        "roles": [r.value for r in Role],
        "kinds": [k.value for k in CouncilKind],
        "typed": forms.TypedForm(),
        "errors": {},
        "form_name": "",
        "users": [],
        "councils": [],
        "sectors": (),
        "regions": (),
        "economies": [],
        "time_zones": TIME_ZONES,
    }
    if not context["is_admin"]:
        return context
    context["users"] = accounts.list_users(db)
    context["economies"] = assemblies.list_economies(db)
    if board is not None:
        names = _economy_names(db, board.assembly.economy_id)
        context["sectors"] = names.sectors
        context["regions"] = names.regions
        context["councils"] = [
            {
                "info": c,
                "sector": names.sector_name(c.sector) if c.sector else "",
                "members": assemblies.council_members(db, c.id),
            }
            for c in assemblies.list_councils(db, board.assembly.id)
        ]
    return context


@router.get("/admin", name="page_admin", response_class=HTMLResponse)
async def admin_page(request: Request) -> HTMLResponse:
    """Administrators manage accounts, councils and memberships."""
    actor = await page_actor(request)
    context = await run_read(request, _admin_context, actor, request.query_params.get("assembly"))
    return await _render(request, "admin.html", actor, context)


TIME_ZONES = tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))
"""The IANA time zones offered for an assembly (those this machine's tz database knows)."""

_ADMIN_FIELDS = {
    "assembly": ["name", "description", "economy_id", "time_zone"],
    "user": ["username", "display_name", "password", "role"],
    "active": ["user_id"],
    "council": ["name", "kind", "region", "sector", "enterprise"],
    "membership": ["council_id", "user_id"],
}


def _admin_action(
    db: Database, actor: Actor, action: str, typed: forms.TypedForm, assembly_param: str | None
) -> tuple[str, int | None]:
    """Run one administrator form through its service: the flash message on success, and the
    assembly to show next (the new one, after creating an assembly)."""
    board = _selection(db, assembly_param)
    if action == "assembly":
        created = assemblies.create_assembly(
            db,
            actor,
            typed.get("name"),
            economy_id=forms.optional_id(typed.get("economy_id"), "economy_id"),
            description=typed.get("description").strip(),
            time_zone=typed.get("time_zone"),
        )
        return f"Assembly {created.name} created (deadlines in {created.time_zone}).", created.id
    if action == "user":
        info = accounts.create_user(
            db,
            actor,
            typed.get("username").strip(),
            typed.get("password"),
            typed.get("role"),
            display_name=typed.get("display_name").strip(),
        )
        return f"Account {info.username} ({info.role.value}) created.", None
    if action == "active":
        user_id = forms.optional_id(typed.get("user_id"), "user_id")
        info = accounts.set_user_active(db, actor, user_id or 0, typed.get("active") == "1")
        return f"Account {info.username} {'enabled' if info.active else 'disabled'}.", None
    if board is None:
        raise BallotError("there is no assembly to hold councils", where="assembly")
    if action == "council":
        info = assemblies.create_council(
            db,
            actor,
            board.assembly.id,
            typed.get("name"),
            typed.get("kind"),
            region=typed.get("region").strip() or None,
            sector=typed.get("sector").strip() or None,
            enterprise=typed.get("enterprise").strip() or None,
        )
        return f"Council {info.name} created.", None
    council_id = forms.optional_id(typed.get("council_id"), "council_id") or 0
    user_id = forms.optional_id(typed.get("user_id"), "user_id") or 0
    if typed.get("remove") == "1":
        assemblies.remove_membership(db, actor, council_id, user_id)
        return "Membership ended.", None
    assemblies.add_membership(db, actor, council_id, user_id)
    return "Member added.", None


@router.post("/admin/{action}", name="page_admin_submit", response_class=HTMLResponse)
async def admin_submit(request: Request, action: str) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    typed = forms.TypedForm.of(form)
    assembly_param = request.query_params.get("assembly")
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        actor = _signed_in(actor, "manage accounts and councils")
        if action not in _ADMIN_FIELDS:
            raise BallotError(f"unknown form {action[:30]!r}", where="form")
        message, shown = await run_write(
            request, _admin_action, actor, action, typed, assembly_param
        )
    except CommonplanError as error:
        context = await run_read(request, _admin_context, actor, assembly_param)
        context.update(
            typed=typed,
            form_name=action,
            errors=forms.field_errors(error, _ADMIN_FIELDS.get(action, [])),
        )
        return await _render(
            request, "admin.html", actor, context, status=status_for(error), error=error
        )
    await _flash(request, "ok", message)
    if shown is not None:
        target = f"{request.url_for('page_admin').path}?{urlencode({'assembly': shown})}"
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(_back(request, "page_admin"), status_code=303)


# --- the API's reference ----------------------------------------------------------------

_METHODS = ("get", "post", "put", "patch", "delete")


def api_operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of an OpenAPI schema, in path order, for the reference page."""
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or ["other"])[0],
                    "parameters": [
                        (p.get("name", ""), p.get("in", ""), bool(p.get("required")))
                        for p in operation.get("parameters", [])
                    ],
                    "body": body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1],
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return operations


@router.get("/api/docs", name="page_api_docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """The JSON API's reference, rendered here from its OpenAPI schema (works offline).

    Swagger UI loads its scripts from a CDN, which the pages' Content-Security-Policy
    (rightly) blocks; this page needs nothing but the schema at ``/openapi.json``.
    """
    actor = await page_actor(request)
    schema = request.app.openapi()
    return await _render(
        request,
        "api_docs.html",
        actor,
        {
            "title": "API reference",
            "info": schema.get("info", {}),
            "operations": api_operations(schema),
            "schemas": sorted(schema.get("components", {}).get("schemas", {})),
        },
    )


# --- errors on pages ---------------------------------------------------------------------


def install_page_errors(app: Any) -> None:
    """Make errors on page routes render HTML; API routes keep their JSON answers."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CommonplanError)
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
            "accept", ""
        ):
            return problem_response(exc)
        actor = None
        try:
            actor = await page_actor(request)
        except CommonplanError:
            actor = None
        return await _render(
            request,
            "error.html",
            actor,
            {"title": "Error", "heading": "This cannot be done", "problem": problem_body(exc)},
            status=status_for(exc),
        )

    app.add_exception_handler(CommonplanError, handle)

    async def handle_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
            "accept", ""
        ):
            return await http_error_response(request, exc)
        problem = {
            "message": str(exc.detail),
            "where": request.url.path,
            "expected": None,
            "fix": None,
        }
        return await _render(
            request,
            "error.html",
            await page_actor(request),
            {"title": "Error", "heading": str(exc.detail), "problem": problem},
            status=exc.status_code,
        )

    app.add_exception_handler(StarletteHTTPException, handle_http)
