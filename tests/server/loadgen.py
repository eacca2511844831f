"""A small, bounded HTTP/1.1 load generator for measuring and testing a running server.

Why not httpx? A load generator must cost less CPU than the server it measures, and on
a 2-core machine a full-featured client would itself be the bottleneck. This one keeps
one keep-alive connection per simulated client over plain asyncio streams, sends one
request at a time on it, and records the status, body and latency (in seconds) of each.
It talks to one host and port only and sends a fixed, finite list of requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request to send: method, path, JSON body (or ``None``) and extra headers."""

    method: str
    path: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    tag: Any = None


@dataclass
class Outcome:
    """What happened to one :class:`Call`: HTTP status (``None`` if no answer came) and latency in s."""

    call: Call
    status: int | None
    latency_s: float
    body: bytes = b""
    error: str | None = None

    def json(self) -> Any:
        """The response body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class Run:
    """All outcomes of one load run and its wall-clock duration in seconds."""

    outcomes: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0

    def latencies_s(self, status: int | None = None) -> list[float]:
        """Latencies (s) of the answered calls, or only of those with the given status."""
        return [
            o.latency_s
            for o in self.outcomes
            if o.status is not None and (status is None or o.status == status)
        ]


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, call: Call, timeout_s: float) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = b"" if call.body is None else json.dumps(call.body).encode()
        head = [
            f"{call.method} {call.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(payload)}",
        ]
        if call.body is not None:
            head.append("Content-Type: application/json")
        head.extend(f"{name}: {value}" for name, value in call.headers)
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        return await asyncio.wait_for(self._read_response(), timeout_s)

    async def _read_response(self) -> tuple[int, bytes]:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        chunked = False
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            body = bytearray()
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readline()
            data = bytes(body)
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _client(
    host: str,
    port: int,
    calls: Sequence[Call],
    run: Run,
    timeout_s: float,
    retry_until: float,
    on_outcome: Callable[[Outcome], None] | None,
) -> None:
    connection = _Connection(host, port)
    try:
        for call in calls:
            while True:
                start = time.perf_counter()
                try:
                    status, body = await connection.request(call, timeout_s)
                    outcome = Outcome(call, status, time.perf_counter() - start, body)
                except (
                    TimeoutError,
                    OSError,
                    ConnectionError,
                    ValueError,
                    asyncio.IncompleteReadError,
                ) as error:
                    connection.close()
                    outcome = Outcome(call, None, time.perf_counter() - start, error=repr(error))
                    if time.monotonic() < retry_until:
                        # The server is down (killed, restarting): this attempt is unacknowledged.
                        run.outcomes.append(outcome)
                        if on_outcome is not None:
                            on_outcome(outcome)
                        await asyncio.sleep(0.05)
                        continue
                run.outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
                break
    finally:
        connection.close()


async def run_clients(
    host: str,
    port: int,
    per_client: Sequence[Sequence[Call]],
    *,
    timeout_s: float = 30.0,
    retry_for_s: float = 0.0,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> Run:
    """Run one concurrent client per element of ``per_client``, each sending its calls in order.

    ``retry_for_s`` > 0 makes a client resend a call whose connection failed (server down)
    for up to that many seconds from the start; every failed attempt is still recorded.
    """
    run = Run()
    start = time.perf_counter()
    retry_until = time.monotonic() + retry_for_s
    await asyncio.gather(
        *(
            _client(host, port, calls, run, timeout_s, retry_until, on_outcome)
            for calls in per_client
        )
    )
    run.wall_s = time.perf_counter() - start
    return run


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values`` by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


# --- a real server process and voters to load it with --------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``commonplan serve`` running in a child process on 127.0.0.1 (start, wait, kill).

    ``command`` replaces the ``commonplan serve`` command line (it must serve ``port``).
    """

    database_url: str
    port: int
    secret_key: str = "load-test-secret"
    workers: int = 1
    command: list[str] | None = None
    process: Any = None
    _log: Any = None

    def start(self, timeout_s: float = 60.0) -> ServerProcess:
        """Start the server and wait until ``/healthz`` answers."""
        if self._log is None:
            self._log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env.update(
            COMMONPLAN_DATABASE_URL=self.database_url,
            COMMONPLAN_SECRET_KEY=self.secret_key,
            PYTHONUNBUFFERED="1",
        )
        command = self.command or [
            sys.executable,
            "-m",
            "commonplan.cli.main",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                output = self._log.read().decode(errors="replace")[-4000:]
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{output}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the server did not answer on port {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL the server (no clean shutdown: what a crash or power cut looks like)."""
        if self.process is not None and self.process.poll() is None:
            # the whole process group: with workers, the children die with the parent
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it does not exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass(frozen=True)
class Voters:
    """A planning round in its ballot phase with ``tokens`` (one bearer token per member)."""

    round_id: int
    groups: tuple[str, ...]
    user_ids: tuple[int, ...]
    tokens: tuple[str, ...]


def seed_voters(database: Any, n_voters: int, *, prefix: str = "voter") -> Voters:
    """Create an assembly, a council of ``n_voters`` members with API tokens, and an open round.

    Runs through the services as the local administrator, like ``commonplan admin``.
    """
    from commonplan.services import accounts, assemblies, rounds
    from commonplan.services.roles import Actor

    system = Actor.system()
    password = "load-test-password"
    assembly = assemblies.create_assembly(database, system, f"{prefix} assembly")
    council = assemblies.create_council(
        database, system, assembly.id, f"{prefix} council", "consumers", region="all"
    )
    facilitator = accounts.create_user(
        database, system, f"{prefix}-facilitator", password, "facilitator"
    )
    accounts.add_facilitator(database, system, assembly.id, facilitator.id)
    groups = ("food", "housing", "health", "energy", "investment", "import independence")
    planning_round = rounds.open_round(
        database, facilitator.actor(), assembly.id, f"{prefix} round", list(groups)
    )

    def voter(k: int) -> tuple[int, str]:
        user = accounts.create_user(database, system, f"{prefix}{k}", password, "member")
        assemblies.add_membership(database, system, council.id, user.id)
        return user.id, accounts.create_token(database, user.actor(), name="load").token

    # argon2 hashing dominates and releases the GIL: a few threads seed several times faster
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(voter, range(n_voters)))
    return Voters(planning_round.id, groups, tuple(u for u, _ in made), tuple(t for _, t in made))


def ballot_calls(voters: Voters, per_voter: int, *, seed: int = 0) -> list[list[Call]]:
    """``per_voter`` distinct ballots per voter, each with its own idempotency key.

    Points are random whole numbers summing to exactly 100 (a multinomial draw), so
    every ballot is valid and differs from the voter's previous one.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n_groups = len(voters.groups)
    per_client = []
    for v, token in enumerate(voters.tokens):
        draws = rng.multinomial(100, np.full(n_groups, 1 / n_groups), size=per_voter)
        calls = [
            Call(
                "POST",
                f"/api/v1/rounds/{voters.round_id}/ballots",
                {
                    "points": {g: int(p) for g, p in zip(voters.groups, draw, strict=True)},
                    "request_id": f"v{v}-b{b}",
                },
                (("Authorization", f"Bearer {token}"),),
                tag=(voters.user_ids[v], f"v{v}-b{b}"),
            )
            for b, draw in enumerate(draws)
        ]
        per_client.append(calls)
    return per_client
