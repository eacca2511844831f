"""The application factory: one FastAPI app serving the JSON API and the web pages.

``create_app(settings)`` opens the database first — applying migrations when
``settings.apply_migrations`` — so a database that is unreachable or at an older schema
stops the start with a :class:`~commonplan.errors.DatabaseError` saying what to do,
never a traceback from the first request.

Middleware, outermost first: a request body size limit (HTTP 413), security headers
(a Content-Security-Policy that allows scripts and styles from this server only, plus
Plotly's inline styles, and ``Cache-Control: no-store`` on every answer but the static
assets, since pages carry the session's anti-forgery token and the API answers a
caller's own ballots: no shared cache or browser history may keep them), and signed
session cookies (HttpOnly, SameSite=Lax, ``Secure`` when
``COMMONPLAN_SECURE_COOKIES=1``). Pure ASGI middleware throughout: the JSON API's hot
path (ballots) pays for no per-request task switching.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.sessions import Session, SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commonplan import __version__
from commonplan.server import api, live_pages, operations, pages
from commonplan.server.batching import GroupCommit
from commonplan.server.context import ServerState, TokenCache
from commonplan.server.limits import (
    BackOff,
    BodySizeLimitMiddleware,
    DeviceCookies,
    SignInThrottle,
    parse_networks,
)
from commonplan.server.problems import install_handlers
from commonplan.server.settings import Settings
from commonplan.services.ballots import submit_ballots
from commonplan.services.participation import submit_many
from commonplan.store.database import Database, open_database
from commonplan.store.models import utcnow

STATIC = Path(__file__).resolve().parent / "static"
REPORT_PATHS = (
    re.compile(r"/api/v1/plans/\d+/reports(/upload)?"),
    re.compile(r"/operations/reports"),
    re.compile(r"/api/v1/live/\d+/proposals"),
    re.compile(r"/live/\d+/open"),
    re.compile(r"/api/v1/assemblies/\d+/live"),
)
"""Production report uploads, batches of live proposals and uploaded participatory economies:
their bodies may be up to ``Settings.max_report_bytes``."""
_log = logging.getLogger("commonplan.server")


async def _escalation_tick(state: ServerState, interval_s: float) -> None:
    """Every ``interval_s`` seconds, escalate the overdue alarms of every monitored plan at the
    server's time (as the local system actor; idempotent, so several workers may run it)."""
    from commonplan.services.monitoring import escalate_due
    from commonplan.services.roles import Actor

    await _every(
        interval_s,
        lambda: escalate_due(state.database, Actor.system(), state.clock()),
        state,
        "alarm escalation",
    )


LIVE_TICK_S = 5.0
"""Seconds between checks for live iterations whose deadline has passed."""


async def _live_tick(state: ServerState, interval_s: float) -> None:
    """Every ``interval_s`` seconds, close the live iterations whose deadline has passed (at the
    server's time; idempotent, so several workers may run it)."""
    from commonplan.services.participation import close_due_iterations

    await _every(
        interval_s,
        lambda: close_due_iterations(state.database, state.clock()),
        state,
        "closing live iterations",
    )


async def _every(interval_s: float, job: Callable[[], Any], state: ServerState, what: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from commonplan.errors import CommonplanError

    while True:
        await anyio.sleep(interval_s)
        try:
            done = await anyio.to_thread.run_sync(job, limiter=state.write_limiter)
        except (CommonplanError, SQLAlchemyError) as error:  # the database was away: next time
            _log.warning("%s skipped: %s", what, error)
            continue
        if done:
            _log.info("%s: %d", what, len(done))


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state: ServerState = app.state.commonplan
    async with anyio.create_task_group() as tasks:
        if state.settings.escalation_tick_s > 0:
            tasks.start_soon(_escalation_tick, state, state.settings.escalation_tick_s)
            tasks.start_soon(_live_tick, state, min(LIVE_TICK_S, state.settings.escalation_tick_s))
        yield
        tasks.cancel_scope.cancel()


_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        b"base-uri 'self'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


_NO_STORE = (b"cache-control", b"no-store")
_INLINE_ITEMS = 64
"""On SQLite, a group commit of at most this many proposals or ballots runs on the event loop."""
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
_CACHEABLE_PREFIXES = ("/static/", "/vendor/")


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response, and ``Cache-Control: no-store`` to
    every response but the static assets (which set their own caching)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        private = not scope["path"].startswith(_CACHEABLE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + _SECURITY_HEADERS
                if private:
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SessionCookieMiddleware(SessionMiddleware):
    """Starlette's signed session cookie, skipped for a request that carries a bearer token
    and no cookie (an API client): it has no session to read, and none is sent back. Any
    other request (a browser's, also one behind a proxy's HTTP Basic sign-in) keeps it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bearer_without_cookie(scope["headers"]):
            scope["session"] = Session()
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _bearer_without_cookie(headers: list[tuple[bytes, bytes]]) -> bool:
    bearer = False
    for name, value in headers:
        if name == b"cookie":
            return False
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            bearer = True
    return bearer


def plotly_js_path() -> Path:
    """Where the installed ``plotly`` package keeps ``plotly.min.js`` (served at /static/plotly.min.js)."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the web application.

    ``settings`` default to :meth:`Settings.from_env`. ``database``, if given, is used as
    is (tests); otherwise it is opened from ``settings.database_url`` — migrated to the
    latest schema when ``settings.apply_migrations`` — and checked. ``clock`` gives the
    current time to the sign-in throttle, the sessions and the alarm escalation (tests move
    it by hand). Every ``settings.escalation_tick_s`` seconds (0: never) the server
    escalates the overdue alarms of monitored plans.
    """
    settings = settings or Settings.from_env()
    if database is None:
        database = open_database(settings.database_url, migrate=settings.apply_migrations)
    is_sqlite = database.is_sqlite
    state = ServerState(
        settings=settings,
        database=database,
        throttle=SignInThrottle(
            database,
            account=BackOff(
                settings.login_attempts,
                settings.login_delay_s,
                settings.login_max_delay_s,
                settings.login_window_s,
            ),
            address=BackOff(
                settings.login_address_attempts,
                settings.login_delay_s,
                settings.login_max_delay_s,
                settings.login_window_s,
            ),
            clock=clock,
        ),
        devices=DeviceCookies(settings.secret_key),
        trusted_proxies=parse_networks(settings.trusted_proxies),
        clock=clock,
        # PostgreSQL: every write also locks the audit chain's head row, so more than a few
        # concurrent writers only queue in the database and contend for the GIL here
        # (bench_ballots: 4 writers ≥ 16 writers in throughput and p99).
        write_limiter=anyio.CapacityLimiter(1 if is_sqlite else 4),
        read_limiter=anyio.CapacityLimiter(32),
        token_cache=TokenCache(settings.token_cache_s),
        inline_short_writes=is_sqlite,
    )
    state.proposals = GroupCommit(
        lambda items: submit_many(database, items),
        state.write_limiter,
        size=lambda submission: len(submission.proposals),
        inline_items=_INLINE_ITEMS if is_sqlite else 0,
    )
    state.ballots = GroupCommit(
        lambda items: submit_ballots(database, items),
        state.write_limiter,
        max_items=200,
        inline_items=_INLINE_ITEMS if is_sqlite else 0,
    )
    app = FastAPI(
        title="Commonplan",
        version=__version__,
        description="Councils decide: priority ballots, plan alternatives, Schulze votes and "
        "published plans. Reads are public; writes need a bearer token "
        "(POST /api/v1/tokens) and the right role.",
        openapi_url="/openapi.json",
        docs_url=None,  # /api/docs is a server-rendered page (pages.api_docs): no CDN
        redoc_url=None,
        lifespan=_lifespan,
        # FastAPI's OpenTelemetry hooks look up the global providers on every request.
        telemetry=None if settings.telemetry else _NO_TELEMETRY,
    )
    app.state.commonplan = state
    install_handlers(app)
    pages.install_page_errors(app)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(operations.router)
    app.include_router(live_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    plotly_js = plotly_js_path()

    @app.get("/vendor/plotly.min.js", name="plotly_js", include_in_schema=False)
    async def plotly_bundle() -> FileResponse:
        return FileResponse(
            plotly_js,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("static", path="favicon.svg")))

    app.add_middleware(
        SessionCookieMiddleware,
        secret_key=settings.secret_key,
        session_cookie="commonplan_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        larger=[(pattern, settings.max_report_bytes) for pattern in REPORT_PATHS],
    )
    return app


GC_THRESHOLD = (10_000, 10, 10)
"""The serving process's garbage-collector thresholds (CPython's default: 700, 10, 10)."""


def tune_garbage_collector() -> None:
    """Set up the serving process's garbage collector once the app is built.

    Every request allocates a few hundred objects; at CPython's default threshold a
    collection runs every few requests and each full one walks the whole heap (the app, its
    routes and schemas, the loaded economies): 15–20 % of the server's time in a live round.
    What exists at start is moved out of the collector's sight (``gc.freeze``), and the
    youngest generation is collected every 10,000 net allocations instead of 700.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def app_from_environment() -> FastAPI:
    """The app built from the environment alone, for uvicorn worker processes.

    The parent process (:func:`commonplan.server.run` with ``workers > 1``) has already
    migrated the database, so workers only check its schema.
    """
    app = create_app(Settings.from_env(apply_migrations=False))
    tune_garbage_collector()
    return app
