"""Ballot submissions per second through the services layer (no HTTP), SQLite and PostgreSQL.

The issue's target (≥ 500 ballots/s, p99 < 100 ms with 50 concurrent clients) is for the
HTTP server (``bench_ballots``); this measures the ceiling the store and services set
under it: 50 threads, each a council member, submit ballots with fresh request ids
(each one transaction: member lock, idempotency check, phase and membership checks,
supersede the previous ballot, insert, audit-chain append). Figures are printed with
their ratio to the 500 ballots/s target.

    .venv/bin/python benchmarks/bench_services_ballots.py [--per-client 40] [--clients 50]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import psycopg

os.environ.setdefault("COMMONPLAN_ARGON2_PROFILE", "test")  # account creation only; not measured

from commonplan import services as S  # noqa: E402
from commonplan.services import Actor  # noqa: E402
from commonplan.store import Database, upgrade  # noqa: E402

TARGET = 500.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def setup(url: str, clients: int) -> tuple[Database, list[Actor], int]:
    upgrade(url)
    db = Database(url)
    system = Actor.system()
    assembly = S.create_assembly(db, system, "Bench assembly")
    council = S.create_council(db, system, assembly.id, "Bench council", "consumers", region="X")
    members = []
    for k in range(clients):
        user = S.create_user(db, system, f"m{k}", "bench password", "member")
        S.add_membership(db, system, council.id, user.id)
        members.append(user.actor())
    facilitator = S.create_user(db, system, "fac", "bench password", "facilitator").actor()
    S.add_facilitator(db, system, assembly.id, facilitator.user_id)
    opened = S.open_round(
        db, facilitator, assembly.id, "Bench", ["food", "housing", "health", "energy"]
    )
    return db, members, opened.id


def run(url: str, clients: int, per_client: int) -> dict[str, float]:
    db, members, round_id = setup(url, clients)

    def client(actor: Actor) -> list[float]:
        latencies = []
        for n in range(per_client):
            points = {"food": n % 50, "housing": 50 - n % 50, "health": 25, "energy": 25}
            start = time.perf_counter()
            S.submit_ballot(db, actor, round_id, points, request_id=uuid.uuid4().hex)
            latencies.append(time.perf_counter() - start)
        return latencies

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(client, members))
    seconds = time.perf_counter() - start
    latencies = np.concatenate(results) * 1000
    total = clients * per_client
    assert S.turnout(db, round_id).n_ballots == clients
    assert S.verify_audit_log(db).ok
    db.dispose()
    return {
        "ballots": total,
        "seconds": seconds,
        "rate": total / seconds,
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--per-client", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        backends = {"sqlite": f"sqlite:///{folder}/bench.sqlite3"}
        name = f"cp_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        backends["postgresql"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            print(
                f"{args.clients} concurrent clients × {args.per_client} ballots, services layer (no HTTP)"
            )
            for backend, url in backends.items():
                r = run(url, args.clients, args.per_client)
                print(
                    f"{backend:10s} {r['ballots']:6.0f} ballots in {r['seconds']:6.2f} s: {r['rate']:7.1f} ballots/s "
                    f"(ratio to the 500/s target: {r['rate'] / TARGET:5.2f}), p50 {r['p50_ms']:6.1f} ms, "
                    f"p99 {r['p99_ms']:6.1f} ms"
                )
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
