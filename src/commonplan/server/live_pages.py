"""The pages of live participatory rounds (see :mod:`commonplan.services.participation`).

* ``/live``: the live rounds, and for facilitators and administrators a form to open one on an
  economy read from a pequod ``.clj``/``.clj.gz`` file or generated from a seed;
* ``/live/{round}``: the round as everyone sees it — status, iteration, deadline, prices, how
  many councils have proposed and the worst imbalance per good class over the iterations (a
  fragment, ``/fragments/live/{round}``, refreshed every :data:`REFRESH_S` seconds with HTMX);
  the board (administrators and the assembly's facilitators) closes an iteration early and,
  once the round is over, sees the plan and adds it as an alternative of a planning round;
* ``/live/{round}/councils/{council}``: a council's proposal form (its members and the board).

Writes go through the services, which check roles and phases; a refused form comes back with
the reason and the values as typed, and nothing is stored.
"""

from __future__ import annotations

import inspect
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from commonplan.errors import (
    CommonplanError,
    ConflictError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
)
from commonplan.participation.experiments import read_experiment
from commonplan.participation.generator import GeneratorSpec, generate_economy
from commonplan.participation.model import GoodClass, ParticipatoryEconomy
from commonplan.server import pages
from commonplan.server.context import (
    check_csrf,
    csrf_token,
    page_actor,
    run_read,
    run_write,
    state_of,
)
from commonplan.server.formatting import (
    format_local_time,
    format_number,
    format_percent,
    plot_text,
)
from commonplan.server.pages import TEMPLATES
from commonplan.server.problems import status_for
from commonplan.services import accounts, assemblies, participation, queries
from commonplan.services.roles import Actor
from commonplan.store.database import Database
from commonplan.store.models import Phase, Role

router = APIRouter(tags=["pages"], include_in_schema=False)

REFRESH_S = 3
"""Seconds between refreshes of a round's live part."""
MAX_UPLOAD = 8 * 1024 * 1024
"""Largest economy file accepted from the form (the app's body limit on ``/live/{id}/open``)."""
SHOWN_COUNCILS = 50
"""A member's councils listed on a round's page (a bot account may have thousands)."""
MAX_GENERATED = 100_000
"""Most worker (and consumer) councils of a generated economy."""
MAX_GOODS = 500
"""Most goods per class of a generated economy."""
CLASS_COLOURS = {
    "private": "#1f5fa8",
    "intermediate": "#1d7a46",
    "nature": "#8a6d1f",
    "labour": "#b3261e",
    "public": "#6b3fa0",
}


# ---- helpers ---------------------------------------------------------------------------


async def _maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _render(request: Request, *args: Any, **kwargs: Any) -> HTMLResponse:
    return await _maybe(pages._render(request, *args, **kwargs))


async def _flash(request: Request, kind: str, text: str) -> None:
    await _maybe(pages._flash(request, kind, text))


def _signed_in(actor: Actor | None, what: str) -> Actor:
    if actor is None:
        raise PermissionDeniedError(
            f"signing in is required to {what}", where="live rounds", fix="sign in first"
        )
    return actor


def _facilitated(db: Database, actor: Actor | None) -> list[assemblies.AssemblyInfo]:
    """The assemblies whose live rounds the actor runs (all for administrators)."""
    if actor is None:
        return []
    role = Role(actor.role)
    every = assemblies.list_assemblies(db)
    if role is Role.ADMINISTRATOR:
        return every
    if role is not Role.FACILITATOR or actor.user_id is None:
        return []
    mine = set(accounts.facilitated_assemblies(db, actor.user_id))
    return [a for a in every if a.id in mine]


def _is_board(db: Database, actor: Actor | None, assembly_id: int) -> bool:
    return any(a.id == assembly_id for a in _facilitated(db, actor))


def _number(text: Any, name: str, kind: type, *, blank: Any = ...) -> Any:
    raw = str(text if text is not None else "").strip()
    if not raw and blank is not ...:
        return blank
    try:
        value = kind(raw)
    except ValueError:
        raise ParticipationInputError(
            f"{name} {raw!r} is not {'a whole number' if kind is int else 'a number'}",
            where=name,
            fix="type a number",
        ) from None
    if kind is float and not np.isfinite(value):
        raise ParticipationInputError(f"{name} is {raw!r}", where=name, expected="a finite number")
    return value


def _time(moment: Any, zone: str) -> str | None:
    try:
        return format_local_time(moment, zone)
    except Exception:  # an unknown zone name: UTC, labelled
        return format_local_time(moment, "UTC")


def _quantity_text(value: Any) -> str:
    """A quantity as a form value: six significant digits, no thousands separators."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:.6g}" if np.isfinite(number) else str(value)


# ---- the list and the opening form --------------------------------------------------------


def _list_context(
    db: Database, actor: Actor | None, assembly_param: str | None, typed: dict[str, Any]
) -> dict[str, Any]:
    rounds = participation.list_live_rounds(db)
    names = {a.id: a.name for a in assemblies.list_assemblies(db)}
    mine = _facilitated(db, actor)
    chosen = None
    if mine:
        wanted = int(assembly_param) if (assembly_param or "").isdigit() else None
        chosen = next((a for a in mine if a.id == wanted), mine[0])
    return {
        "title": "Live participatory rounds",
        "rounds": [
            {
                "id": r.id,
                "title": r.title,
                "assembly": names.get(r.assembly_id, str(r.assembly_id)),
                "status": r.status,
                "iteration": r.iteration,
                "councils": f"{r.n_proposed} / {r.n_councils}" if r.is_open else str(r.n_councils),
                "goods": len(r.goods),
            }
            for r in rounds
        ],
        "assemblies": mine,
        "chosen": chosen,
        "provisions": actor is not None and Role(actor.role) is Role.ADMINISTRATOR,
        "typed": {
            "title": "",
            "source": "generate",
            "workers": "30",
            "consumers": "30",
            "goods": "2",
            "seed": "1",
            "threshold": "3",
            "max_iterations": "200",
            "minutes": "",
            **typed,
        },
    }


@router.get("/live", name="page_live", response_class=HTMLResponse)
async def live_list(request: Request) -> HTMLResponse:
    """The live rounds, and the form to open one (facilitators, administrators)."""
    actor = await page_actor(request)
    context = await run_read(
        request, _list_context, actor, request.query_params.get("assembly"), {}
    )
    return await _render(request, "live_list.html", actor, context)


async def _economy_of(form: Any) -> ParticipatoryEconomy:
    """The economy of the opening form: the uploaded file, or one generated from the fields."""
    source = str(form.get("source") or "generate")
    if source == "file":
        upload = form.get("file")
        if upload is None or not getattr(upload, "filename", ""):
            raise ParticipationInputError(
                "no economy file chosen",
                where="economy file",
                expected="a pequod experiment, .clj or .clj.gz",
                fix="choose a file, or generate an economy",
            )
        filename = Path(str(upload.filename)).name
        suffix = ".clj.gz" if filename.endswith(".clj.gz") else Path(filename).suffix
        if suffix not in (".clj", ".clj.gz"):
            raise ParticipationInputError(
                f"{filename!r} is not a .clj or .clj.gz file",
                where="economy file",
                expected="a pequod experiment, .clj or .clj.gz",
            )
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise ParticipationInputError(
                "the economy file is larger than 8 MiB", where=filename, fix="compress it (.gz)"
            )

        def read() -> ParticipatoryEconomy:
            with tempfile.TemporaryDirectory() as folder:
                path = (
                    Path(folder)
                    / f"{Path(filename).name.removesuffix(suffix) or 'economy'}{suffix}"
                )
                path.write_bytes(data)
                try:
                    return read_experiment(path)
                except ParticipationInputError as error:
                    raise ParticipationInputError(
                        str(error.args[0] if error.args else error).replace(str(path), filename),
                        where=filename,
                        expected=getattr(error, "expected", None),
                        fix=getattr(error, "fix", None),
                    ) from None
                except (OSError, EOFError, ValueError, UnicodeDecodeError) as error:
                    raise ParticipationInputError(
                        f"{filename!r} cannot be read: {error}",
                        where=filename,
                        expected="a pequod experiment, .clj or .clj.gz",
                    ) from None

        return await anyio.to_thread.run_sync(read)
    workers = _number(form.get("workers"), "worker councils", int)
    consumers = _number(form.get("consumers"), "consumer councils", int)
    goods = _number(form.get("goods"), "goods per class", int)
    seed = _number(form.get("seed"), "seed", int, blank=0)
    if not (0 < workers <= MAX_GENERATED and 0 < consumers <= MAX_GENERATED):
        raise ParticipationInputError(
            f"{workers} worker and {consumers} consumer councils",
            where="generated economy",
            expected=f"1 to {MAX_GENERATED:,} councils of each kind",
        )
    if not 0 < goods <= MAX_GOODS:
        raise ParticipationInputError(
            f"{goods} goods per class", where="goods per class", expected=f"1 to {MAX_GOODS}"
        )
    if seed < 0:
        raise ParticipationInputError(f"the seed is {seed}", where="seed", expected="≥ 0")
    base = GeneratorSpec()
    spec = replace(
        base,  # the shipped ranges of inputs per class, cut to the goods there are
        intermediate_inputs=_cut(base.intermediate_inputs, goods),
        nature_inputs=_cut(base.nature_inputs, goods),
        labour_inputs=_cut(base.labour_inputs, goods),
    )
    return await anyio.to_thread.run_sync(
        lambda: generate_economy(workers, consumers, goods, seed=seed, spec=spec)
    )


def _cut(bounds: tuple[int, int], goods: int) -> tuple[int, int]:
    return (min(bounds[0], goods), min(bounds[1], goods))


def _typed(form: Any) -> dict[str, str]:
    fields = ("title", "source", "workers", "consumers", "goods", "seed")
    typed = {k: str(form.get(k) or "") for k in fields}
    typed.update({k: str(form.get(k) or "") for k in ("threshold", "max_iterations", "minutes")})
    return typed


@router.post("/live/{assembly_id}/open", name="page_live_open", response_class=HTMLResponse)
async def live_open(request: Request, assembly_id: int) -> Response:
    """Open a live round on an assembly from the form (its facilitators, administrators)."""
    form = await request.form()
    actor = await page_actor(request)
    typed = _typed(form)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        who = _signed_in(actor, "open a live round")
        threshold = _number(form.get("threshold"), "stopping threshold", float)
        max_iterations = _number(form.get("max_iterations"), "iteration cap", int)
        minutes = _number(form.get("minutes"), "iteration minutes", float, blank=None)
        seconds = None
        if minutes is not None:
            if minutes <= 0:
                raise ParticipationInputError(
                    f"an iteration of {minutes:g} minutes",
                    where="iteration minutes",
                    expected="minutes > 0, or blank for no deadline",
                )
            seconds = max(1, round(60 * minutes))
        economy = await _economy_of(form)
        if Role(who.role) is Role.ADMINISTRATOR:
            await run_write(request, participation.provision_councils, who, assembly_id, economy)
        opened = await run_write(
            request,
            participation.open_live_round,
            who,
            assembly_id,
            economy,
            title=typed["title"],
            stop_threshold=threshold / 100,
            max_iterations=max_iterations,
            iteration_seconds=seconds,
            now=state_of(request).clock(),
        )
    except CommonplanError as error:
        context = await run_read(request, _list_context, actor, str(assembly_id), typed)
        return await _render(
            request, "live_list.html", actor, context, status=status_for(error), error=error
        )
    await _flash(
        request,
        "ok",
        f"Live round {opened.title!r} is open: iteration 1, {opened.n_councils:,} councils, "
        f"{len(opened.goods)} goods.",
    )
    return RedirectResponse(
        request.url_for("page_live_round", round_id=opened.id).path, status_code=303
    )


# ---- a round --------------------------------------------------------------------------------


def _trajectory_figure(frame: Any) -> dict[str, Any]:
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plot_text(column),
            "x": [int(i) for i in frame.index],
            "y": [round(100 * float(v), 4) for v in frame[column]],
            "line": {"color": CLASS_COLOURS.get(column, "#444")},
            "hovertemplate": f"{plot_text(column)}, iteration %{{x}}: %{{y:.3g}} %<extra></extra>",
        }
        for column in frame.columns
    ]
    return {
        "data": data,
        "layout": {
            "title": {"text": "Worst imbalance per good class"},
            "height": 360,
            "xaxis": {"title": {"text": "iteration"}, "tickformat": "d"}
            | ({"dtick": 1} if len(frame) <= 20 else {}),
            "yaxis": {"title": {"text": "imbalance (%, log scale)"}, "type": "log"},
            "legend": {"orientation": "h", "y": -0.25},
        },
    }


def _live_part(db: Database, round_id: int) -> dict[str, Any]:
    """What the page refreshes: where the round stands, prices, the trajectory."""
    info = participation.live_round_info(db, round_id)
    zone = assemblies.get_assembly(db, info.assembly_id).time_zone
    history = participation.iteration_history(db, round_id)
    frame = participation.trajectory(db, round_id)
    closed = [it for it in history if it.closed_at is not None]
    last = closed[-1] if closed else None
    goods = []
    for k, good in enumerate(info.goods):
        goods.append(
            {
                "name": good,
                "price": format_number(float(info.price[k])),
                "supply": format_number(float(last.supply[k])) if last and last.supply else "—",
                "demand": format_number(float(last.demand[k])) if last and last.demand else "—",
                "imbalance": (
                    format_percent(float(last.imbalance[k])) if last and last.imbalance else "—"
                ),
            }
        )
    table = [
        {
            "iteration": int(number),
            "values": [format_percent(float(row[c])) for c in frame.columns],
            "worst": format_percent(float(max(row))) if len(row) else "—",
        }
        for number, row in frame.iterrows()
    ]
    charts = {"live-trajectory": _trajectory_figure(frame)} if len(frame) else {}
    return {
        "info": info,
        "zone": zone,
        "deadline": _time(info.deadline, zone) if info.deadline else None,
        "finished": _time(info.finished_at, zone) if info.finished_at else None,
        "threshold": format_percent(info.stop_threshold),
        "goods": goods,
        "classes": list(frame.columns) or [c.label for c in GoodClass],
        "trajectory": table,
        "n_closed": len(closed),
        "last_worst": (
            format_percent(last.worst_imbalance)
            if last and last.worst_imbalance is not None
            else "—"
        ),
        "charts": charts,
        "refresh_s": REFRESH_S,
    }


def _round_context(db: Database, actor: Actor | None, round_id: int) -> dict[str, Any]:
    part = _live_part(db, round_id)
    info = part["info"]
    board = _is_board(db, actor, info.assembly_id)
    context: dict[str, Any] = {
        "title": f"Live round: {info.title}",
        "live": part,
        "info": info,
        "assembly": assemblies.get_assembly(db, info.assembly_id),
        "board": board,
        "needs_plotly": True,
        "councils": [],
        "n_councils_mine": 0,
        "plan": None,
        "plan_error": None,
        "planning_rounds": [],
    }
    if actor is not None:
        mine = participation.round_councils(db, actor, round_id)
        context["councils"] = mine[:SHOWN_COUNCILS]
        context["n_councils_mine"] = len(mine)
    if board and not info.is_open:
        try:
            plan = participation.final_plan(db, round_id)
        except (ConflictError, PhaseError) as error:
            context["plan_error"] = str(error)
        else:
            context["plan"] = [
                {
                    "good": good,
                    "price": format_number(float(row["price"])),
                    "supply": format_number(float(row["supply"])),
                    "demand": format_number(float(row["demand"])),
                    "surplus": format_number(float(row["surplus"])),
                    "imbalance": format_percent(float(row["imbalance"])),
                }
                for good, row in plan.iterrows()
            ]
            context["planning_rounds"] = [
                r
                for r in queries.list_rounds(db, info.assembly_id)
                if Phase(r.phase) is Phase.ALTERNATIVES
            ]
    return context


async def _round_page(
    request: Request,
    actor: Actor | None,
    round_id: int,
    *,
    error: CommonplanError | None = None,
) -> HTMLResponse:
    context = await run_read(request, _round_context, actor, round_id)
    return await _render(
        request,
        "live_round.html",
        actor,
        context,
        status=status_for(error) if error else 200,
        error=error,
    )


@router.get("/live/{round_id}", name="page_live_round", response_class=HTMLResponse)
async def live_round(request: Request, round_id: int) -> HTMLResponse:
    """A live round's page."""
    return await _round_page(request, await page_actor(request), round_id)


@router.get("/fragments/live/{round_id}", name="fragment_live_round", response_class=HTMLResponse)
async def live_fragment(request: Request, round_id: int) -> HTMLResponse:
    """The round's live part alone; its page refreshes it with HTMX."""
    actor = await page_actor(request)
    part = await run_read(request, _live_part, round_id)
    context = {"request": request, "csrf_token": csrf_token(request), "user": actor, "live": part}
    return TEMPLATES.TemplateResponse(request, "_live_round.html", context)


@router.post("/live/{round_id}/close", name="page_live_close", response_class=HTMLResponse)
async def live_close(request: Request, round_id: int) -> Response:
    """Close the open iteration now (the board)."""
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        closed = await run_write(
            request,
            participation.close_iteration,
            _signed_in(actor, "close an iteration"),
            round_id,
            now=state_of(request).clock(),
        )
    except CommonplanError as error:
        return await _round_page(request, actor, round_id, error=error)
    worst = format_percent(closed.worst_imbalance) if closed.worst_imbalance is not None else "—"
    await _flash(
        request,
        "ok",
        f"Iteration {closed.number} is closed: {closed.n_proposed} councils proposed, "
        f"{closed.n_carried} had their last proposal stand; worst imbalance {worst}.",
    )
    return RedirectResponse(
        request.url_for("page_live_round", round_id=round_id).path, status_code=303
    )


@router.post(
    "/live/{round_id}/alternative", name="page_live_alternative", response_class=HTMLResponse
)
async def live_alternative(request: Request, round_id: int) -> Response:
    """Add a finished round's plan as an alternative of a planning round (the board)."""
    form = await request.form()
    actor = await page_actor(request)
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        planning = _number(form.get("planning_round_id"), "planning round", int)
        added = await run_write(
            request,
            participation.add_as_alternative,
            _signed_in(actor, "add an alternative"),
            round_id,
            planning,
        )
    except CommonplanError as error:
        return await _round_page(request, actor, round_id, error=error)
    label = getattr(added, "label", "")
    await _flash(
        request, "ok", f"The plan is alternative {label} of planning round {planning}.".strip()
    )
    return RedirectResponse(
        request.url_for("page_live_round", round_id=round_id).path, status_code=303
    )


# ---- a council ------------------------------------------------------------------------------


def _council_context(
    db: Database,
    actor: Actor,
    round_id: int,
    council_id: int,
    typed: dict[str, str] | None,
) -> dict[str, Any]:
    view = participation.council_view(db, actor, round_id, council_id)
    info = view.round
    zone = assemblies.get_assembly(db, info.assembly_id).time_zone
    worker = view.council.kind == "worker"
    suggested = participation.suggested_proposal(
        db, round_id, view.council.kind, view.council.position
    )
    last = view.last_proposal
    source = last if last is not None else suggested
    fields = []
    if worker:
        fields.append(
            {
                "name": "output",
                "label": f"output of {view.makes}",
                "good": view.makes,
                "role": "output",
            }
        )
    fields += [
        {
            "name": f"q:{good}",
            "label": good,
            "good": good,
            "role": "input" if worker else "request",
        }
        for good in view.uses
    ]
    for field in fields:
        good = field["good"]
        if field["role"] == "output":
            initial, optimum = source.get("output"), suggested.get("output")
            mine = last.get("output") if last else None
        else:
            initial = source.get("quantities", {}).get(good, 0.0)
            optimum = suggested.get("quantities", {}).get(good, 0.0)
            mine = last.get("quantities", {}).get(good) if last else None
        field["value"] = (
            typed[field["name"]]
            if typed is not None and field["name"] in typed
            else _quantity_text(initial if initial is not None else 0.0)
        )
        field["optimum"] = format_number(float(optimum)) if optimum is not None else "—"
        field["last"] = format_number(float(mine)) if mine is not None else "—"
        field["price"] = format_number(view.prices.get(good))
        field["imbalance"] = format_percent(view.imbalance[good]) if good in view.imbalance else "—"
        field["surplus"] = format_number(view.surplus[good]) if good in view.surplus else "—"
    return {
        "title": f"{view.council.name} · live round {info.title}",
        "view": view,
        "info": info,
        "worker": worker,
        "fields": fields,
        "prefilled_from": "last" if last is not None else "suggested",
        "deadline": _time(info.deadline, zone) if info.deadline else None,
    }


async def _council_page(
    request: Request,
    actor: Actor | None,
    round_id: int,
    council_id: int,
    *,
    typed: dict[str, str] | None = None,
    error: CommonplanError | None = None,
) -> HTMLResponse:
    who = _signed_in(actor, "see a council's proposals")
    context = await run_read(request, _council_context, who, round_id, council_id, typed)
    return await _render(
        request,
        "live_council.html",
        actor,
        context,
        status=status_for(error) if error else 200,
        error=error,
    )


@router.get(
    "/live/{round_id}/councils/{council_id}",
    name="page_live_council",
    response_class=HTMLResponse,
)
async def live_council(request: Request, round_id: int, council_id: int) -> HTMLResponse:
    """A council's proposal page (its members and the board)."""
    return await _council_page(request, await page_actor(request), round_id, council_id)


def _form_value(text: str) -> Any:
    """A typed quantity as a number when it is one; else as typed (the service refuses it)."""
    stripped = text.strip()
    try:
        return float(stripped)
    except ValueError:
        return stripped


@router.post(
    "/live/{round_id}/councils/{council_id}/propose",
    name="page_live_propose",
    response_class=HTMLResponse,
)
async def live_propose(request: Request, round_id: int, council_id: int) -> Response:
    """Store the council's proposal for the iteration the form was rendered for."""
    form = await request.form()
    actor = await page_actor(request)
    typed = {
        str(k): str(v)
        for k, v in form.multi_items()
        if isinstance(v, str) and (k == "output" or str(k).startswith("q:"))
    }
    try:
        check_csrf(request, str(form.get("csrf_token") or ""))
        who = _signed_in(actor, "propose")
        iteration = _number(form.get("iteration"), "iteration", int)
        item: dict[str, Any] = {
            "council": council_id,
            "quantities": {k[2:]: _form_value(v) for k, v in typed.items() if k.startswith("q:")},
        }
        if "output" in typed:
            item["output"] = _form_value(typed["output"])
        stored = await run_write(
            request,
            participation.submit_proposals,
            who,
            round_id,
            iteration,
            [item],
            now=state_of(request).clock(),
        )
    except CommonplanError as error:
        return await _council_page(request, actor, round_id, council_id, typed=typed, error=error)
    text = f"The proposal for iteration {stored.iteration} is stored"
    if stored.replaced:
        text += " (it replaces the council's earlier one)"
    text += "."
    if stored.closed:
        text += " Every council has proposed: the iteration is closed."
    await _flash(request, "ok", text)
    return RedirectResponse(
        request.url_for("page_live_council", round_id=round_id, council_id=council_id).path,
        status_code=303,
    )
