"""bench_ballots: sustained priority-ballot submissions per second over HTTP, with latency.

A real ``commonplan serve`` (uvicorn, one process) on 127.0.0.1 receives ballots from 50
concurrent clients (one keep-alive connection and one bearer token each; every ballot is
a fresh valid 100-point distribution with its own idempotency key), on SQLite and on
PostgreSQL (a database with a random name, created and dropped here). Each ballot is a
full service call: token check, role and phase checks, the member's row lock, the
superseding of the previous ballot and the hash-chained audit entry, in one transaction.

Printed per backend: ballots/s, p50/p99 latency (ms), the ratio to the target
(≥ 500 ballots/s with p99 < 100 ms) and to the peer measured side by side in the same run
— the same server answering ``GET /healthz`` with the same client, i.e. the ceiling of the
HTTP stack itself — and the server's peak memory (VmHWM).

    .venv/bin/python benchmarks/bench_ballots.py [--per-voter 200] [--voters 50]
        [--backends sqlite,postgresql] [--workers 1]

Network traffic goes to 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from commonplan.store.database import SQLITE_SYNCHRONOUS, open_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))
from loadgen import (  # noqa: E402  (the tests' load generator)
    Call,
    ServerProcess,
    ballot_calls,
    free_port,
    percentile,
    run_clients,
    seed_voters,
)

TARGET_PER_S = 500.0
TARGET_P99_MS = 100.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its child processes (uvicorn workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(p) for p in children.read_text().split()] if children.exists() else []
    return [pid, *[q for k in kids for q in _process_tree(k)]]


def _measure(port: int, per_client: list[list[Call]]) -> tuple[float, float, float, int]:
    run = asyncio.run(run_clients("127.0.0.1", port, per_client, timeout_s=60))
    ok = [o for o in run.outcomes if o.status in (200, 201)]
    latencies = [o.latency_s for o in ok]
    return (
        len(ok) / run.wall_s,
        1000 * percentile(latencies, 50),
        1000 * percentile(latencies, 99),
        len(run.outcomes) - len(ok),
    )


def bench(backend: str, voters: int, per_voter: int, workers: int = 1) -> dict[str, float]:
    pg_name = None
    folder = tempfile.mkdtemp(prefix="bench-ballots-")
    if backend == "sqlite":
        url = f"sqlite:///{folder}/bench.sqlite3"
    else:
        pg_name = f"commonplan_bench_{secrets.token_hex(6)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{pg_name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{pg_name}"
    database = open_database(url, migrate=True)
    server = None
    try:
        seeded = seed_voters(database, voters)
        server = ServerProcess(url, free_port(), workers=workers).start()
        warm = ballot_calls(seeded, 2, seed=1)
        for client, calls in enumerate(warm):
            warm[client] = [
                Call(
                    c.method,
                    c.path,
                    {**c.body, "request_id": "warm-" + c.body["request_id"]},
                    c.headers,
                    c.tag,
                )
                for c in calls
            ]
        _measure(server.port, warm)
        rate, p50, p99, failed = _measure(server.port, ballot_calls(seeded, per_voter, seed=2))
        peer_calls = [[Call("GET", "/healthz") for _ in range(per_voter)] for _ in range(voters)]
        peer_rate, peer_p50, peer_p99, _ = _measure(server.port, peer_calls)
        memory = sum(_peak_memory_mib(pid) for pid in _process_tree(server.process.pid))
        return {
            "rate": rate,
            "p50": p50,
            "p99": p99,
            "failed": failed,
            "peer_rate": peer_rate,
            "peer_p50": peer_p50,
            "peer_p99": peer_p99,
            "memory_mib": memory,
        }
    finally:
        if server is not None:
            server.stop()
        database.dispose()
        if pg_name is not None:
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=50)
    parser.add_argument("--per-voter", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (commonplan serve --workers)"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(
        f"bench_ballots: {args.voters} concurrent clients × {args.per_voter} ballots each, "
        f"{args.workers} server process(es), {os.cpu_count()} CPUs, load average at start {load:.1f}, "
        f"SQLite synchronous={SQLITE_SYNCHRONOUS}"
    )
    for backend in args.backends.split(","):
        started = time.perf_counter()
        r = bench(backend, args.voters, args.per_voter, args.workers)
        print(
            f"{backend:>10}: {r['rate']:7.1f} ballots/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
            f"  failed {int(r['failed'])}  | target ratio {r['rate'] / TARGET_PER_S:.2f}× rate, "
            f"p99 {r['p99'] / TARGET_P99_MS:.2f}× limit"
            f"  | peer GET /healthz {r['peer_rate']:7.1f} req/s (p99 {r['peer_p99']:.1f} ms), "
            f"ballots at {r['rate'] / r['peer_rate']:.2f}× of it"
            f"  | server peak memory {r['memory_mib']:.0f} MiB  ({time.perf_counter() - started:.0f} s,"
            f" load average {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
