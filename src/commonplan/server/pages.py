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
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from commonplan.errors import AuthenticationError, BallotError, CommonplanError
from commonplan.server import charts, explorer, views
from commonplan.server.context import (
    check_csrf,
    csrf_token,
    end_session,
    page_actor,
    remember_device,
    run_read,
    run_short_write,
    run_write,
    sign_in,
    start_session,
)
from commonplan.server.problems import (
    RateLimited,
    http_error_response,
    problem_body,
    problem_response,
    status_for,
)
from commonplan.services import assemblies, ballots, queries, rounds, votes
from commonplan.services.explorer import explore_economy
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import Phase, Role

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)

_FLASH = "flash"


# --- shared context ----------------------------------------------------------------------


def _flash(request: Request, kind: str, text: str) -> None:
    request.session[_FLASH] = [kind, text]


def _notices(request: Request) -> list[tuple[str, str]]:
    flash = request.session.pop(_FLASH, None) if _FLASH in request.session else None
    return [tuple(flash)] if flash else []  # type: ignore[list-item]


def _render(
    request: Request,
    template: str,
    actor: Actor | None,
    context: dict[str, Any],
    *,
    status: int = 200,
    error: CommonplanError | None = None,
) -> HTMLResponse:
    notices = _notices(request)
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


def _round_view(info: Any) -> dict[str, Any] | None:
    if info is None:
        return None
    view = views.round_json(info)
    for key in ("ballot_deadline", "vote_deadline"):
        moment = view[key]
        view[key] = moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else None
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
    return _render(
        request,
        "login.html",
        actor,
        {"title": "Sign in", "next_url": _same_site_path(request.query_params.get("next"), "/")},
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
        response = _render(
            request, "login.html", None, context, status=status_for(error), error=error
        )
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(max(1, round(error.retry_after_s)))
        return response
    await start_session(request, actor)
    _flash(request, "ok", f"Signed in as {actor.display_name or actor.username}.")
    response = RedirectResponse(next_url, status_code=303)
    remember_device(request, response, actor)
    return response


@router.post("/logout", name="page_logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
    except CommonplanError as error:
        return _render(
            request,
            "error.html",
            actor,
            {"heading": "Not signed out", "problem": problem_body(error)},
            status=status_for(error),
        )
    await end_session(request)
    return RedirectResponse("/login", status_code=303)


# --- reading -----------------------------------------------------------------------------


@router.get("/", name="page_dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    board = await _dashboard_of(request)
    context: dict[str, Any] = {"title": "Dashboard", "assembly": None, "round": None}
    if board is not None:
        context.update(
            assembly=board.assembly,
            round=_round_view(board.current_round),
            councils=[
                {
                    "name": c.name,
                    "kind": c.kind.value,
                    "region": c.region,
                    "sector": c.sector or c.enterprise,
                    "members": c.n_members,
                }
                for c in board.councils
            ],
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
        if (
            current is not None
            and actor is not None
            and actor.role in (Role.ADMINISTRATOR, Role.FACILITATOR)
            and current.phase is not Phase.PUBLISHED
        ):
            context["can_facilitate"] = True
            context["advance_label"] = _ADVANCE_LABELS[current.phase]
        if board.current_round is not None and board.current_round.weights:
            context["charts"] = {
                "weights": charts.weights_figure(
                    board.current_round.weights, "Aggregated target weights"
                )
            }
    return _render(request, "dashboard.html", actor, context)


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
        return _render(
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
    _flash(request, "ok", f"The round is now in the {info.phase.value} phase.")
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
    return exploration.economy_name, explorer.explorer_view(exploration)


@router.get("/economy", name="page_economy", response_class=HTMLResponse)
async def economy_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    name, view = await run_read(request, _explore, request.query_params.get("assembly"))
    return _render(
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
        context["round"] = _round_view(board.current_round)
        if board.result is not None:
            context["result"] = views.result_json(board.result)
        if board.current_round.weights:
            context["charts"] = {"weights": charts.weights_figure(board.current_round.weights)}
    return _render(request, "results.html", actor, context)


PLAN_ROWS = 60


def _plan_rows(db: Database, sha256: str | None) -> tuple[list[str], list[list[str]], int]:
    """The published plan's product table (largest targets first, at most ``PLAN_ROWS``)."""
    if not sha256:
        return [], [], 0
    frame = queries.plan_frame(db, sha256)
    if "target" in frame.columns:
        frame = frame.sort_values("target", ascending=False)
    shown = frame.head(PLAN_ROWS)
    labels = [" / ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in shown.index]
    rows = [
        [label, *(charts.format_value(v) for v in values)]
        for label, values in zip(labels, shown.itertuples(index=False), strict=True)
    ]
    return [str(c) for c in frame.columns], rows, len(frame)


@router.get("/plan", name="page_plan", response_class=HTMLResponse)
async def plan_page(request: Request) -> HTMLResponse:
    actor = await page_actor(request)
    board = await _dashboard_of(request)
    context: dict[str, Any] = {"title": "Published plan", "round": None, "plan": None}
    if board is not None and board.current_round is not None:
        context["round"] = _round_view(board.current_round)
        if board.published is not None:
            p = board.published
            columns, rows, n_products = await run_read(request, _plan_rows, p.plan_sha256)
            context["plan"] = {
                "label": p.label,
                "title": p.title,
                "plan_sha256": p.plan_sha256,
                "published_at": p.published_at.strftime("%Y-%m-%d %H:%M UTC"),
                "figure_rows": charts.figure_rows(p.figures),
                "columns": columns,
                "rows": rows,
                "n_products": n_products,
            }
    return _render(request, "plan.html", actor, context)


def _audit(db: Database, before: int | None, verify: bool) -> tuple[list[Any], Any]:
    entries = queries.audit_log(db, limit=101, before_seq=before)
    report = queries.verify_audit_log(db) if verify else None
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
    return _render(
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
    }
    if board is None or board.current_round is None:
        return context
    current_round = board.current_round
    context["round"] = _round_view(current_round)
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
            f"The ballot phase is over (the round is in the {current_round.phase.value} phase)."
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
    return _render(request, "ballot.html", actor, context)


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
        await run_short_write(
            request,
            ballots.submit_ballot,
            actor,
            _form_round(form, context["round_id"]),
            points,
            request_id=request_id,
        )
    except CommonplanError as error:
        context["request_id"] = uuid.uuid4().hex
        return _render(
            request, "ballot.html", actor, context, status=status_for(error), error=error
        )
    _flash(request, "ok", "Your ballot is stored.")
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
    }
    if board is None or board.current_round is None:
        return context
    current_round = board.current_round
    context["round"] = _round_view(current_round)
    context["round_id"] = current_round.id
    context["alternatives"] = [
        {
            "label": a.label,
            "title": a.title,
            "description": a.description,
            "figure_rows": charts.figure_rows(a.figures),
        }
        for a in board.alternatives
    ]
    context["labels"] = [a.label for a in board.alternatives]
    if board.alternatives:
        context["charts"] = {"fulfilment": charts.alternatives_figure(board.alternatives)}
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
    return _render(request, "alternatives.html", actor, context)


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
        await run_short_write(
            request,
            votes.submit_ranking,
            actor,
            _form_round(form, context["round_id"]),
            order,
            request_id=request_id,
        )
    except CommonplanError as error:
        context["request_id"] = uuid.uuid4().hex
        return _render(
            request, "alternatives.html", actor, context, status=status_for(error), error=error
        )
    _flash(request, "ok", "Your ranking is stored.")
    return RedirectResponse(_back(request, "page_alternatives"), status_code=303)


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
        return _render(
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
        return _render(
            request,
            "error.html",
            await page_actor(request),
            {"title": "Error", "heading": str(exc.detail), "problem": problem},
            status=exc.status_code,
        )

    app.add_exception_handler(StarletteHTTPException, handle_http)
