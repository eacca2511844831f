"""Bots for live participatory rounds over HTTP (imported by the tests and the benchmark).

:func:`seed_live_round` gives an assembly the councils of a participatory economy, ``n_bots``
bot accounts (each with an API token and the membership of a slice of the councils) and an
open live round, through the services as the local administrator. :func:`iteration_calls`
is what the bots send in one iteration: each council's own proposal at the announced prices
(:func:`commonplan.participation.live.bot_proposals`, the simulation's closed forms), one
council per request or ``batch`` councils per request, on each bot's own connection.
:func:`run_live_round` runs iterations until the round is over.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from loadgen import Call, run_clients

from commonplan.participation.live import bot_proposals
from commonplan.participation.model import ParticipatoryEconomy
from commonplan.participation.procedure import Councils


@dataclass(frozen=True)
class LiveWorld:
    """A seeded live round: its id, the facilitator's token and, per bot, its token and its
    councils as ``(council id, kind, position)``."""

    round_id: int
    facilitator_token: str
    tokens: tuple[str, ...]
    councils: tuple[tuple[tuple[int, str, int], ...], ...]


def seed_live_round(
    database: Any,
    economy: ParticipatoryEconomy,
    *,
    n_bots: int = 8,
    title: str = "Live round",
    iteration_seconds: int | None = None,
    prefix: str = "bot",
) -> LiveWorld:
    from commonplan.services import accounts, assemblies
    from commonplan.services import participation as P
    from commonplan.services.roles import Actor

    system = Actor.system()
    password = "live-bots-password"
    assembly = assemblies.create_assembly(database, system, f"{prefix} assembly")
    facilitator = accounts.create_user(
        database, system, f"{prefix}-facilitator", password, "facilitator"
    )
    accounts.add_facilitator(database, system, assembly.id, facilitator.id)
    councils = P.provision_councils(database, system, assembly.id, economy)
    tokens, slices = [], []
    for k in range(n_bots):
        user = accounts.create_user(database, system, f"{prefix}{k}", password, "member")
        mine = councils[k::n_bots]
        P.add_members(database, system, user.id, [c.council_id for c in mine])
        tokens.append(accounts.create_token(database, user.actor(), name="bot").token)
        slices.append(tuple((c.council_id, c.kind, c.position) for c in mine))
    opened = P.open_live_round(
        database,
        facilitator.actor(),
        assembly.id,
        economy,
        title=title,
        iteration_seconds=iteration_seconds,
    )
    token = accounts.create_token(database, facilitator.actor(), name="board").token
    return LiveWorld(opened.id, token, tuple(tokens), tuple(slices))


def iteration_calls(
    world: LiveWorld, councils: Councils, price: Sequence[float], iteration: int, *, batch: int = 1
) -> list[list[Call]]:
    """Per bot, its requests for one iteration: every one of its councils' own optimum at
    ``price``, ``batch`` councils per request."""
    price = np.asarray(price, dtype=np.float64)
    per_bot = []
    for token, mine in zip(world.tokens, world.councils, strict=True):
        items = []
        for kind in ("worker", "consumer"):
            chosen = [(c, p) for c, k, p in mine if k == kind]
            for (council, _), proposal in zip(
                chosen, bot_proposals(councils, price, kind, [p for _, p in chosen]), strict=True
            ):
                items.append(dict(proposal, council=council))
        headers = (("Authorization", f"Bearer {token}"),)
        per_bot.append(
            [
                Call(
                    "POST",
                    f"/api/v1/live/{world.round_id}/proposals",
                    {"iteration": iteration, "proposals": items[s : s + batch]},
                    headers,
                )
                for s in range(0, len(items), batch)
            ]
        )
    return per_bot


def get_json(port: int, path: str, token: str | None = None) -> Any:
    """``GET path`` on 127.0.0.1:``port``, parsed (raises on a status other than 200)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:500]!r}")
        return json.loads(body)
    finally:
        connection.close()


@dataclass(frozen=True)
class IterationTiming:
    """One iteration over HTTP: its number, the seconds from the first proposal sent to the
    next prices stored, and the statuses of the answers."""

    iteration: int
    seconds: float
    statuses: dict[int | None, int]


def run_iteration(
    port: int, world: LiveWorld, councils: Councils, *, batch: int = 1
) -> IterationTiming | None:
    """Send every bot's proposals for the open iteration; None once the round is over."""
    info = get_json(port, f"/api/v1/live/{world.round_id}")
    if info["status"] != "open":
        return None
    calls = iteration_calls(world, councils, info["price"], info["iteration"], batch=batch)
    start = time.perf_counter()
    run = asyncio.run(run_clients("127.0.0.1", port, calls, timeout_s=600.0))
    seconds = time.perf_counter() - start
    statuses: dict[int | None, int] = {}
    for outcome in run.outcomes:
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
    return IterationTiming(info["iteration"], seconds, statuses)


def run_live_round(
    port: int, world: LiveWorld, councils: Councils, *, batch: int = 1, max_iterations: int = 250
) -> list[IterationTiming]:
    """Run iterations until the round is over (bounded by ``max_iterations``)."""
    timings = []
    for _ in range(max_iterations):
        timing = run_iteration(port, world, councils, batch=batch)
        if timing is None:
            break
        timings.append(timing)
    return timings
