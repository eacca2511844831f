"""What every request can reach: the database, the settings, and who is asking.

Who is asking is decided in one place. Programs send ``Authorization: Bearer <token>``
(a token from ``POST /api/v1/tokens``); people in a browser carry a session cookie
(HttpOnly, SameSite=Lax). The cookie is signed and holds one thing: a random session id
(256 bits). Everything else lives on the server: who is signed in (a
:class:`~commonplan.store.models.WebSession` row keyed by the id's hash, from sign-in to
sign-out), and the page notices (:func:`~commonplan.services.sessions.put_notice`). The
anti-forgery token is not stored at all: it is an HMAC of the session id under the
server's secret key (:func:`csrf_token`), so it is bound to that id — a fresh id at
sign-in and at sign-out means a fresh token — and no visitor's page view writes a row.
Signing out, disabling the account or resetting its password ends the session in the
database, and a copy of the cookie saved earlier is refused from then on. Anonymous
visitors get an id too (for the sign-in form's token); they are observers: they may read
public pages and endpoints, and every write refuses them.

Service calls are synchronous (SQLAlchemy); they run in worker threads. Writes go
through a capacity limiter: one at a time on SQLite — which allows one writer anyway,
and whose busy-wait back-off would otherwise add tens of milliseconds under load — and
four at a time on PostgreSQL. On SQLite the *short* writes of the hot path (a ballot,
a ranking: one small transaction, about a millisecond) run directly on the event
loop's thread instead: they are serialised anyway, and skipping the hand-off to a
worker thread and the GIL contention that comes with it raised sustained ballot
throughput by about 60 % in ``benchmarks/bench_ballots.py``. Long calls (computing
alternatives: seconds of planning, then one short transaction) run in a worker thread
outside the limiter (:func:`run_long_write`), so they never hold up ballots.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
from fastapi import Request, Response

from commonplan.errors import AuthenticationError
from commonplan.server.limits import DeviceCookies, Network, SignInThrottle, client_address
from commonplan.server.problems import CsrfError
from commonplan.server.settings import Settings
from commonplan.services import accounts, sessions
from commonplan.services.roles import Actor
from commonplan.store.database import Database

T = TypeVar("T")

SESSION_ID = "sid"
"""The one key of the signed session cookie."""


@dataclass
class ServerState:
    """The objects one running app shares between requests."""

    settings: Settings
    database: Database
    throttle: SignInThrottle
    devices: DeviceCookies
    trusted_proxies: tuple[Network, ...]
    write_limiter: anyio.CapacityLimiter
    read_limiter: anyio.CapacityLimiter
    token_cache: TokenCache
    clock: Callable[[], datetime]
    inline_short_writes: bool = False
    proposals: Any = None
    """The :class:`~commonplan.server.batching.GroupCommit` of live proposals (made by the app)."""
    ballots: Any = None
    """The :class:`~commonplan.server.batching.GroupCommit` of priority ballots (made by the app)."""


def state_of(request: Request) -> ServerState:
    """The :class:`ServerState` of the app serving ``request``."""
    return request.app.state.commonplan


async def run_write(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a writing service call in a worker thread, within the write limiter."""
    state = state_of(request)
    return await anyio.to_thread.run_sync(
        lambda: func(state.database, *args, **kwargs), limiter=state.write_limiter
    )


async def run_short_write(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a short writing service call (a ballot, a ranking): inline on SQLite, else as :func:`run_write`."""
    state = state_of(request)
    if state.inline_short_writes:
        return func(state.database, *args, **kwargs)
    return await run_write(request, func, *args, **kwargs)


async def run_long_write(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a long service call that writes briefly at its end (computing alternatives).

    It runs in a worker thread outside the write limiter, so that the seconds it spends
    planning do not hold up ballots; its own short transaction queues in the database.
    """
    return await run_read(request, func, *args, **kwargs)


async def run_read(request: Request, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a reading service call in a worker thread."""
    state = state_of(request)
    return await anyio.to_thread.run_sync(
        lambda: func(state.database, *args, **kwargs), limiter=state.read_limiter
    )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "the Authorization header is not a bearer token",
            where="Authorization header",
            expected="'Authorization: Bearer cp_…'",
            fix="create a token with POST /api/v1/tokens and send it as a bearer token",
        )
    return token.strip()


class TokenCache:
    """Recently verified bearer tokens → actor, for ``ttl_s`` seconds.

    Verifying a token is one indexed query, but on the ballot hot path it is a third of
    the database work; a short cache removes it. A revoked token or a disabled account
    therefore stops working within ``ttl_s`` seconds (5 by default), not instantly.
    Only the SHA-256 of each token is kept as the key.
    """

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Actor]] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Actor | None:
        if self.ttl_s <= 0:
            return None
        hit = self._entries.get(self._key(token))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, token: str, actor: Actor) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[self._key(token)] = (time.monotonic() + self.ttl_s, actor)

    def clear(self) -> None:
        """Forget every token (after this process revoked a token or disabled an account)."""
        self._entries.clear()


async def api_actor(request: Request) -> Actor | None:
    """The actor of an API request: from its bearer token, else None (anonymous observer)."""
    token = bearer_token(request)
    if token is None:
        return None
    cache = state_of(request).token_cache
    actor = cache.get(token)
    if actor is None:
        actor = await run_read(request, accounts.verify_token, token)
        cache.put(token, actor)
    return actor


async def api_actor_required(request: Request) -> Actor:
    """Like :func:`api_actor`, but a request without credentials is refused with HTTP 401."""
    actor = await api_actor(request)
    if actor is None:
        raise AuthenticationError(
            "this endpoint needs an API token",
            where="Authorization header",
            expected="'Authorization: Bearer cp_…'",
            fix="create a token with POST /api/v1/tokens and send it as a bearer token",
        )
    return actor


async def page_actor(request: Request) -> Actor | None:
    """The signed-in actor of a page request (from its server-side session), or None.

    A cookie whose id names no live session (an anonymous visitor's, or one signed out,
    expired or disabled since) keeps its id, so that its anti-forgery token holds."""
    session_id = request.session.get(SESSION_ID)
    if not session_id:
        return None
    now = state_of(request).clock()
    try:
        return await run_read(request, sessions.session_actor, str(session_id), now=now)
    except AuthenticationError:
        return None


def session_id_of(request: Request, *, create: bool = False) -> str | None:
    """The browser's session id from its cookie; with ``create``, a new one when it has none.

    Anything else a cookie holds (the anti-forgery token and notice that cookies carried
    before schema revision 0004) is dropped, so the next answer rewrites it to the id alone."""
    for stale in [key for key in request.session if key != SESSION_ID]:
        request.session.pop(stale)
    session_id = request.session.get(SESSION_ID)
    if not session_id and create:
        session_id = sessions.new_session_id()
        request.session.clear()
        request.session[SESSION_ID] = session_id
    return str(session_id) if session_id else None


def _csrf_for(request: Request, session_id: str) -> str:
    key = state_of(request).settings.secret_key.encode()
    mac = hmac.new(key, b"commonplan csrf\0" + session_id.encode(), hashlib.sha256)
    return mac.hexdigest()


def csrf_token(request: Request) -> str:
    """The anti-forgery token of the browser's session: HMAC-SHA256 of its id under the
    server's secret key (a session id is created on first use)."""
    return _csrf_for(request, session_id_of(request, create=True) or "")


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form whose anti-forgery token is missing or not the session's."""
    session_id = session_id_of(request)
    candidate = submitted or request.headers.get("x-csrf-token") or ""
    if not session_id or not hmac.compare_digest(_csrf_for(request, session_id), str(candidate)):
        raise CsrfError(
            "the form's anti-forgery token is missing or out of date",
            where="csrf_token",
            expected="the token of the page the form came from",
            fix="reload the page and submit the form again",
        )


async def start_session(request: Request, actor: Actor) -> None:
    """Sign ``actor`` in: a new server-side session and a cookie with its new id (against
    session fixation; the anti-forgery token changes with it)."""
    state = state_of(request)
    lifetime = timedelta(seconds=state.settings.session_max_age_s)
    session_id = await run_write(request, sessions.open_session, actor, lifetime, now=state.clock())
    request.session.clear()
    request.session[SESSION_ID] = session_id


async def end_session(request: Request) -> None:
    """Sign out: end the server-side session and clear the cookie."""
    session_id = request.session.get(SESSION_ID)
    if session_id:
        await run_write(
            request, sessions.end_session, str(session_id), now=state_of(request).clock()
        )
    request.session.clear()


async def put_notice(request: Request, kind: str, text: str) -> None:
    """Show ``text`` once on the browser's next page (stored server-side, sealed)."""
    session_id = session_id_of(request, create=True) or ""
    await run_write(
        request, sessions.put_notice, session_id, kind, text, now=state_of(request).clock()
    )


async def take_notices(request: Request) -> list[tuple[str, str]]:
    """The notices waiting for this browser's session (each shown once). A page without
    any costs one read; only a page that shows one writes (the delete)."""
    session_id = session_id_of(request)
    if not session_id or not await run_read(request, sessions.has_notices, session_id):
        return []
    return await run_write(request, sessions.take_notices, session_id)


def address_of(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.getlist("x-forwarded-for")
    return client_address(peer, forwarded, state_of(request).trusted_proxies)


async def sign_in(request: Request, username: str, password: str) -> Actor:
    """The actor a user name and password belong to, under the sign-in throttle.

    The attempt is counted before the password is checked (see
    :class:`~commonplan.server.limits.SignInThrottle`) and refused with
    :class:`~commonplan.server.problems.RateLimited` while its account, address or device
    must wait. Used by ``POST /api/v1/tokens`` and the sign-in page; the caller then
    gives the client a device cookie with :func:`remember_device`.
    """
    state = state_of(request)
    device = state.devices.key(request.cookies.get(DeviceCookies.NAME), username)
    address = address_of(request)
    attempt = await run_write(request, lambda _db: state.throttle.admit(username, address, device))
    actor = await run_read(request, accounts.authenticate, username, password)
    await run_write(request, lambda _db: state.throttle.succeeded(attempt))
    return actor


def remember_device(request: Request, response: Response, actor: Actor) -> None:
    """Give the client a device cookie for ``actor``'s account (after a successful sign-in)."""
    state = state_of(request)
    if state.devices.key(request.cookies.get(DeviceCookies.NAME), actor.username) is not None:
        return
    response.set_cookie(
        DeviceCookies.NAME,
        state.devices.issue(actor.username),
        max_age=DeviceCookies.MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies,
    )
