"""CLI command ``commonplan bots``: programs that propose for councils in a live round.

A bot is a council's decision rule run as a program: at the prices the server announces, it
sends the council's own optimum by the simulation's closed forms
(:func:`commonplan.participation.live.bot_proposals`), for every council its account is a
member of, then waits for the next iteration, until the round is over. It needs the
economy's file (the councils' technologies and preferences are theirs, not the server's) and
an API token (``POST /api/v1/tokens``). It talks to the server over HTTP only (the standard
library's client, one keep-alive connection), so it runs on any machine that reaches it.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from commonplan.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
    ServerUnreachableError,
)

_REFUSALS = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: PhaseError,
    413: ParticipationInputError,
    422: ParticipationInputError,
}


@dataclass
class Client:
    """A small JSON client of one Commonplan server (``url`` like ``http://127.0.0.1:8000``)."""

    url: str
    token: str
    timeout_s: float = 120.0
    retry_s: float = 30.0
    _connection: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ParticipationInputError(
                f"{self.url!r} is not a server address",
                where="--url",
                expected="http://HOST:PORT or https://HOST",
            )
        self._parts = parts

    def _connect(self) -> Any:
        kind = (
            http.client.HTTPSConnection
            if self._parts.scheme == "https"
            else http.client.HTTPConnection
        )
        return kind(self._parts.hostname, self._parts.port, timeout=self.timeout_s)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; the parsed answer, or the error the server's refusal names.
        Connection failures and 5xx answers are retried for ``retry_s`` seconds."""
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        deadline = time.monotonic() + self.retry_s
        while True:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                self._connection.request(method, path, body=payload, headers=headers)
                response = self._connection.getresponse()
                status, data = response.status, response.read()
            except (OSError, http.client.HTTPException) as error:
                self.close()
                problem = f"{type(error).__name__}: {error}"
            else:
                if status < 500:
                    return self._answer(status, data, path)
                problem = f"HTTP {status}"
            if time.monotonic() > deadline:
                raise ServerUnreachableError(
                    f"the server did not answer ({problem})",
                    where=f"{self.url}{path}",
                    fix="check that the server runs and the address is right",
                )
            time.sleep(0.5)

    def _answer(self, status: int, data: bytes, path: str) -> Any:
        parsed = json.loads(data) if data else None
        if status < 400:
            return parsed
        problem = parsed if isinstance(parsed, dict) else {}
        kind = _REFUSALS.get(status, ConflictError)
        raise kind(
            str(problem.get("message") or f"HTTP {status}"),
            where=problem.get("where") or path,
            expected=problem.get("expected"),
            fix=problem.get("fix"),
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class BotRun:
    """What the bots did: iterations they proposed in, proposals sent, the round's status."""

    iterations: int
    proposals: int
    status: str


def run_bots(
    client: Client,
    round_id: int,
    economy: Any,
    *,
    batch: int = 500,
    poll_s: float = 1.0,
    max_iterations: int = 10_000,
    echo: Any = None,
) -> BotRun:
    """Propose for every council of the token's account in live round ``round_id`` until the
    round is over: once per iteration, each council's own optimum at that iteration's prices."""
    from commonplan.participation.live import bot_proposals
    from commonplan.participation.procedure import Councils

    if not 1 <= batch <= 5000:
        raise ParticipationInputError(
            f"the batch is {batch}", where="--batch", expected="1–5000 proposals per request"
        )
    info = client.request("GET", f"/api/v1/live/{round_id}")
    if info["n_councils"] != economy.workers.count + economy.consumers.count:
        raise ParticipationInputError(
            f"the round has {info['n_councils']} councils, the economy file "
            f"{economy.workers.count + economy.consumers.count}",
            where="--economy",
            fix="give the economy file the round was opened with",
        )
    mine = client.request("GET", f"/api/v1/live/{round_id}/councils/me")
    if not mine:
        raise PermissionDeniedError(
            "the account is a member of none of the round's councils",
            where=f"live round {round_id}",
            fix="ask an administrator to add the bot account to its councils",
        )
    engine = Councils(economy)
    done, sent = 0, 0
    proposed_in = None
    while info["status"] == "open" and done < max_iterations:
        iteration = info["iteration"]
        if iteration != proposed_in:
            items = []
            price = np.asarray(info["price"], dtype=np.float64)
            for kind in ("worker", "consumer"):
                chosen = [c for c in mine if c["kind"] == kind]
                proposals = bot_proposals(engine, price, kind, [c["position"] for c in chosen])
                items += [
                    dict(p, council=c["council_id"]) for c, p in zip(chosen, proposals, strict=True)
                ]
            for start in range(0, len(items), batch):
                try:
                    client.request(
                        "POST",
                        f"/api/v1/live/{round_id}/proposals",
                        {"iteration": iteration, "proposals": items[start : start + batch]},
                    )
                except PhaseError:  # the iteration closed meanwhile (its deadline passed)
                    break
            sent += len(items)
            done += 1
            proposed_in = iteration
            if echo is not None:
                echo(f"iteration {iteration}: {len(items)} proposals sent")
        else:
            time.sleep(poll_s)
        info = client.request("GET", f"/api/v1/live/{round_id}")
    return BotRun(done, sent, info["status"])


def bots_command(
    round_id: Annotated[int, typer.Argument(help="the live round's id")],
    economy_file: Annotated[
        Path, typer.Option("--economy", help="the round's economy (pequod-cljs .clj or .clj.gz)")
    ],
    url: Annotated[
        str, typer.Option(help="the server, e.g. http://127.0.0.1:8000")
    ] = "http://127.0.0.1:8000",
    token: Annotated[
        str, typer.Option(envvar="COMMONPLAN_TOKEN", help="API token of the bot account")
    ] = "",
    batch: Annotated[int, typer.Option(help="proposals per request (1–5000)")] = 500,
    poll: Annotated[
        float, typer.Option(help="seconds between checks for the next iteration")
    ] = 1.0,
) -> None:
    """Propose for the account's councils in a live round, iteration after iteration, until it ends."""
    from commonplan.participation import read_experiment

    if not token:
        raise AuthenticationError(
            "no API token", where="--token", fix="pass --token or set COMMONPLAN_TOKEN"
        )
    economy = read_experiment(economy_file)
    client = Client(url, token)
    try:
        run = run_bots(client, round_id, economy, batch=batch, poll_s=poll, echo=typer.echo)
    finally:
        client.close()
    typer.echo(
        f"round {round_id} is {run.status}: {run.proposals} proposals in {run.iterations} iterations"
    )


def register(app: typer.Typer) -> None:
    """Add ``bots`` to the ``commonplan`` app."""
    app.command("bots")(bots_command)
