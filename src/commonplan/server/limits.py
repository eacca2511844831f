"""Protections against abuse: a request body size limit and a sign-in rate limit.

Both are plain, dependency-free pieces: the body limit is a pure ASGI middleware (it
refuses by ``Content-Length`` before reading, and reads a chunked body up to the limit
before the application sees it), and the rate limiter is a sliding-window counter kept in process memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimitMiddleware:
    """Answer HTTP 413 with a JSON explanation to any request whose body exceeds ``max_bytes``.

    A declared ``Content-Length`` is checked before anything is read (the HTTP server
    delivers no more than it declares). A body without one (``Transfer-Encoding:
    chunked``) is read here first, at most ``max_bytes`` of it, and handed on whole: a
    limit raised from inside the application's own body reading would surface as the
    framework's "could not parse the body" (400) instead of 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(send, declared)
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
            if received > self.max_bytes:
                await self._refuse(send, received)
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

    async def _refuse(self, send: Send, size: int) -> None:
        body = json.dumps(
            {
                "error": "RequestTooLarge",
                "message": f"the request body has at least {size} bytes, more than the "
                f"{self.max_bytes} bytes this server accepts",
                "where": "request body",
                "expected": f"at most {self.max_bytes} bytes",
                "fix": "send a smaller request (or raise COMMONPLAN_MAX_BODY_BYTES on the server)",
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


class LoginRateLimiter:
    """Allow at most ``attempts`` failed sign-ins per key within ``window_s`` seconds.

    The key is ``(client address, user name)``, so one attacker cannot lock out a user from
    elsewhere and cannot try many passwords for one user. Successful sign-ins clear the key.
    """

    def __init__(
        self, attempts: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, key: tuple[str, str]) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        with self._lock:
            failures = self._prune(key)
            if len(failures) < self.attempts:
                return 0.0
            return max(0.0, failures[0] + self.window_s - self._clock())

    def record_failure(self, key: tuple[str, str]) -> None:
        """Count one failed sign-in for ``key``."""
        with self._lock:
            self._prune(key).append(self._clock())

    def reset(self, key: tuple[str, str]) -> None:
        """Forget the failures of ``key`` (after a successful sign-in)."""
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        horizon = self._clock() - self.window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        if len(self._failures) > 100_000:  # bound memory under a flood of distinct keys
            for stale in [k for k, v in self._failures.items() if not v][:50_000]:
                del self._failures[stale]
        return failures
