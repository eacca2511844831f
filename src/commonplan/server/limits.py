"""Protections against abuse: a request body size limit and sign-in throttling.

The body limit is a pure ASGI middleware (it refuses by ``Content-Length`` before
reading, and reads a chunked body up to the limit before the application sees it).

**Sign-in throttling** (:class:`SignInThrottle`) counts failed sign-ins against keys
and makes a key wait once it has failed too often, with exponential back-off: after
``free`` failures the next attempt waits ``first_delay_s``, and each further failure
doubles the wait, up to ``max_delay_s``; a key that has not failed for
``forget_after_s`` (and is not waiting) starts afresh. The keys of an attempt are

* ``account:<user name>`` — guessing one account's password from anywhere;
* ``address:<client address>`` — one address trying passwords across many user names
  (password spraying), with a larger allowance, since many people may share it;
* ``device:<cookie>`` *instead of both* when the client shows a device cookie that
  this server gave it at an earlier successful sign-in to the same account (OWASP's
  "device cookie" scheme). Other people's failures on the same account or from the
  same address — behind a proxy everyone shares one address — therefore never lock
  the account's owner out of a browser they have used before.

An attempt is counted *before* the password hash is checked, in one database
transaction that locks the keys' rows, so concurrent attempts for one account are
counted one after another: 40 simultaneous wrong passwords get at most ``free``
hash checks, the rest an HTTP 429 with ``Retry-After``. A successful sign-in clears
the account's (or device's) failures and takes back its count from the address. The
counters are rows of ``sign_in_throttle`` in the database, so every server process
(``--workers N``) sees the same ones.

The client address is the peer's, unless the peer is one of the trusted proxies
(``COMMONPLAN_TRUSTED_PROXIES``): then it is the right-most address of
``X-Forwarded-For`` that is not itself a trusted proxy (:func:`client_address`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from commonplan.server.problems import RateLimited
from commonplan.store.database import Database
from commonplan.store.models import SignInThrottle as ThrottleRow
from commonplan.store.models import utcnow


class BodySizeLimitMiddleware:
    """Answer HTTP 413 with a JSON explanation to any request whose body exceeds ``max_bytes``.

    A declared ``Content-Length`` is checked before anything is read (the HTTP server
    delivers no more than it declares). A body without one (``Transfer-Encoding:
    chunked``) is read here first, at most ``max_bytes`` of it, and handed on whole: a
    limit raised from inside the application's own body reading would surface as the
    framework's "could not parse the body" (400) instead of 413.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    def limit_for(self, path: str) -> int:
        """The limit of a request to ``path``: the first of ``larger`` whose pattern matches
        it (production report uploads), else ``max_bytes``."""
        for pattern, limit in self.larger:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                await self._refuse(send, declared, limit)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(send, received, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, size: int, limit: int) -> None:
        body = json.dumps(
            {
                "error": "RequestTooLarge",
                "message": f"the request body has at least {size} bytes, more than the "
                f"{limit} bytes this server accepts",
                "where": "request body",
                "expected": f"at most {limit} bytes",
                "fix": "send a smaller request (or raise COMMONPLAN_MAX_BODY_BYTES, for "
                "production reports COMMONPLAN_MAX_REPORT_BYTES, on the server)",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True)
class BackOff:
    """How long a key waits after failures: none for the first ``free`` failures, then
    ``first_delay_s`` doubling per further failure up to ``max_delay_s`` (seconds)."""

    free: int
    first_delay_s: float
    max_delay_s: float
    forget_after_s: float

    def delay_after(self, failures: int) -> float:
        """Seconds a key must wait after its ``failures``-th counted attempt."""
        if failures < self.free:
            return 0.0
        return min(self.max_delay_s, self.first_delay_s * 2.0 ** (failures - self.free))


@dataclass(frozen=True)
class Attempt:
    """The keys one sign-in attempt was counted against."""

    keys: tuple[str, ...]
    address_key: str | None


class SignInThrottle:
    """Failed sign-ins per account, per client address and per device, kept in the database."""

    def __init__(
        self,
        database: Database,
        *,
        account: BackOff,
        address: BackOff,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.account = account
        self.address = address
        self.clock = clock

    def _policy(self, key: str) -> BackOff:
        return self.address if key.startswith("address:") else self.account

    def admit(self, username: str, address: str, device: str | None) -> Attempt:
        """Count an attempt before its password is checked, or raise :class:`RateLimited`.

        ``device`` is the key of a valid device cookie for this account (see
        :class:`DeviceCookies`), or None.
        """
        if device is not None:
            attempt = Attempt((f"device:{device}",), None)
        else:
            address_key = f"address:{address}"
            attempt = Attempt(
                tuple(sorted((f"account:{username.lower()}", address_key))), address_key
            )
        now = self.clock()
        with self.database.transaction() as session:
            if secrets.randbelow(64) == 0:
                self._forget_stale(session, now)
            rows = self._locked_rows(session, attempt.keys, now)
            wait = 0.0
            for row in rows:
                policy = self._policy(row.key)
                if _stale(row, policy, now):
                    row.failures, row.blocked_until = 0, None
                if row.blocked_until is not None:
                    wait = max(wait, (row.blocked_until - now).total_seconds())
            if wait > 0:
                raise RateLimited(
                    "too many failed sign-ins for this account or from this address",
                    retry_after_s=wait,
                    where="sign-in",
                    fix=f"wait {max(1, round(wait))} seconds and try again",
                )
            for row in rows:
                row.failures += 1
                row.last_failure_at = now
                delay = self._policy(row.key).delay_after(row.failures)
                row.blocked_until = now + timedelta(seconds=delay) if delay > 0 else None
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt's password was right: forget the account's (or device's) failures and
        take the attempt back from the address's count."""
        now = self.clock()
        with self.database.transaction() as session:
            personal = [k for k in attempt.keys if k != attempt.address_key]
            session.execute(delete(ThrottleRow).where(ThrottleRow.key.in_(personal)))
            if attempt.address_key is None:
                return
            row = session.execute(
                select(ThrottleRow).where(ThrottleRow.key == attempt.address_key).with_for_update()
            ).scalar_one_or_none()
            if row is not None:
                row.failures = max(0, row.failures - 1)
                delay = self.address.delay_after(row.failures)
                blocked = now + timedelta(seconds=delay) if delay > 0 else None
                if row.blocked_until is not None and blocked is not None:
                    blocked = min(blocked, row.blocked_until)
                row.blocked_until = blocked

    def _forget_stale(self, session: Session, now: datetime) -> None:
        """Delete the rows no key needs any more (one attempt in 64 does it, so that a flood
        of distinct user names or addresses cannot grow the table without bound)."""
        quiet = max(self.account.forget_after_s, self.address.forget_after_s)
        session.execute(
            delete(ThrottleRow).where(
                ThrottleRow.last_failure_at < now - timedelta(seconds=quiet),
                (ThrottleRow.blocked_until.is_(None)) | (ThrottleRow.blocked_until < now),
            )
        )

    def _locked_rows(
        self, session: Session, keys: Sequence[str], now: datetime
    ) -> list[ThrottleRow]:
        """The keys' rows, created when missing, locked for the transaction (in key order,
        so that two attempts never wait for each other's locks)."""
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        for key in keys:
            session.execute(
                insert(ThrottleRow)
                .values(key=key, failures=0, last_failure_at=now, blocked_until=None)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        query = (
            select(ThrottleRow)
            .where(ThrottleRow.key.in_(keys))
            .order_by(ThrottleRow.key)
            .with_for_update()
        )
        return list(session.execute(query).scalars())


def _stale(row: ThrottleRow, policy: BackOff, now: datetime) -> bool:
    quiet = now - row.last_failure_at >= timedelta(seconds=policy.forget_after_s)
    return quiet and (row.blocked_until is None or row.blocked_until <= now)


class DeviceCookies:
    """Device cookies: proof that a browser or program signed in to an account before.

    A cookie is ``<nonce>.<mac>``, the MAC an HMAC-SHA256 under the server's secret key of
    the account's user name and the nonce, so it cannot be forged or moved to another
    account. Its key for the throttle is the SHA-256 of the cookie.
    """

    NAME = "commonplan_device"
    MAX_AGE_S = 365 * 24 * 3600

    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"commonplan device cookie|" + secret_key.encode()).digest()

    def _mac(self, username: str, nonce: str) -> str:
        message = f"{username.lower()}|{nonce}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def issue(self, username: str) -> str:
        """A new device cookie for ``username``."""
        nonce = secrets.token_urlsafe(16)
        return f"{nonce}.{self._mac(username, nonce)}"

    def key(self, cookie: str | None, username: str) -> str | None:
        """The throttle key of ``cookie`` when it is a valid device cookie for ``username``."""
        nonce, _, mac = (cookie or "").partition(".")
        if not nonce or not mac or not hmac.compare_digest(mac, self._mac(username, nonce)):
            return None
        return hashlib.sha256(cookie.encode()).hexdigest()[:40]  # type: ignore[union-attr]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.1``, ``10.0.0.0/8``, ``::1``); ValueError names a bad one."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address of the client behind the trusted proxies.

    ``forwarded_for`` are the values of the request's ``X-Forwarded-For`` headers. They
    are believed only as far as the chain of trusted proxies reaches: from the peer
    leftwards, the first address that is not a trusted proxy is the client. A peer that
    is not trusted is the client itself, whatever the header says.
    """
    if not _within(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a garbled header: fall back to the proxy's own address
    return hops[0] if hops else peer
