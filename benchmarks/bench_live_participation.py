"""bench_live_participation: one iteration of a live participatory round through the HTTP API.

A real ``commonplan serve`` (uvicorn, one process) on 127.0.0.1, its database and the bots
all run on this machine. The bots (``--bots`` concurrent keep-alive connections, one bearer
token each, each a member of a slice of the councils) send every council's own proposal at
the announced prices (:func:`commonplan.participation.live.bot_proposals`); the last one
closes the iteration, the board's price rule runs and the next iteration opens. Measured:
the seconds from the first proposal sent to the next prices stored.

* ``dep1ex01`` (3,000 + 3,000 councils, ``shared/data/planning``), **one council per request**:
  target ≤ 5 s per iteration;
* a generated economy of 30,000 + 30,000 councils (G = 10), **batch endpoint** (``--batch``
  councils per request): target ≤ 60 s per iteration.

The peer, timed side by side: the same iteration computed in one process by the simulation
(:func:`commonplan.participation.procedure.run_year`, one round), which is what the live
round replaces with people and programs. Printed per backend: seconds per iteration
(median of ``--iterations``), proposals per second, the ratio to the target and to the
peer, and whether the prices agree with the simulation.

    .venv/bin/python benchmarks/bench_live_participation.py [--backends sqlite,postgresql]
        [--iterations 3] [--bots 32] [--batch 1000] [--skip-large]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg

from commonplan.participation import generate_economy, read_experiment
from commonplan.participation.procedure import Councils, hahnel_szczepanczyk_rule, run_year
from commonplan.store.database import open_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))
from live_bots import get_json, run_iteration, seed_live_round  # noqa: E402
from loadgen import ServerProcess, free_port  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "planning"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _database(backend: str, folder: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'live.sqlite3'}", None
    name = f"cp_bench_live_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name


def _drop(name: str | None) -> None:
    if name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _peer_seconds(economy, repeats: int = 5) -> float:
    n = economy.n_commodities
    price = np.full(n, 700.0)
    state = hahnel_szczepanczyk_rule.initial_state(n)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_year(economy, price, state, max_rounds=1)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench(
    backend: str,
    economy,
    *,
    label: str,
    bots: int,
    batch: int,
    iterations: int,
    target: float,
    workers: int = 1,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url, pg_name = _database(backend, Path(folder))
        try:
            database = open_database(url, migrate=True)
            start = time.perf_counter()
            world = seed_live_round(database, economy, n_bots=bots)
            seeded = time.perf_counter() - start
            database.dispose()
            port = free_port()
            server = ServerProcess(url, port, workers=workers).start()
            try:
                councils = Councils(economy)
                timings = []
                for _ in range(iterations):
                    timing = run_iteration(port, world, councils, batch=batch)
                    if timing is None:
                        break
                    timings.append(timing)
                history = get_json(port, f"/api/v1/live/{world.round_id}/iterations")
            finally:
                server.stop()
        finally:
            _drop(pg_name)
    simulated = run_year(
        economy,
        np.full(economy.n_commodities, 700.0),
        hahnel_szczepanczyk_rule.initial_state(economy.n_commodities),
        max_rounds=len(timings),
    )
    live = np.array([it["price"] for it in history[1 : len(timings) + 1]])
    agreement = float(np.max(np.abs(live / simulated.price[: len(live)] - 1.0)))
    seconds = statistics.median(t.seconds for t in timings)
    n = economy.workers.count + economy.consumers.count
    peer = _peer_seconds(economy)
    statuses = {}
    for t in timings:
        for status, count in t.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    print(
        f"{label:<27} {backend:<10} {workers} worker(s), per request {batch:>4}: "
        f"{seconds:7.2f} s/iteration (runs {', '.join(f'{t.seconds:.2f}' for t in timings)}), "
        f"{n / seconds:8.0f} proposals/s, target ≤ {target:.0f} s: ratio {seconds / target:.2f} "
        f"({'met' if seconds <= target else 'NOT met'}); simulation in one process "
        f"{peer * 1e3:.1f} ms/round (live/simulation {seconds / peer:.0f}×); "
        f"prices vs simulation max rel. diff {agreement:.1e}; statuses {statuses}; "
        f"seeding {seeded:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--bots", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server processes (uvicorn)")
    args = parser.parse_args()
    small = read_experiment(DATA / "pequod_dep1ex_3000" / "dep1ex01.clj.gz")
    large = None if args.skip_large else generate_economy(30_000, 30_000, 10, seed=1)
    for backend in args.backends.split(","):
        bench(
            backend,
            small,
            label="dep1ex01, 6,000 councils",
            bots=args.bots,
            batch=1,
            iterations=args.iterations,
            target=5.0,
            workers=args.workers,
        )
        if large is not None:
            bench(
                backend,
                large,
                label="generated, 60,000 councils",
                bots=4,
                batch=args.batch,
                iterations=args.iterations,
                target=60.0,
                workers=args.workers,
            )


if __name__ == "__main__":
    main()
