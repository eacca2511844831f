"""Load against a real ``commonplan serve`` (uvicorn) on 127.0.0.1: 50 concurrent voters.

The server is SIGKILLed in the middle of the run and restarted; voters resend what was not
acknowledged, with the same idempotency key. Afterwards every acknowledged ballot is
stored exactly once, every submission is stored, the one-current-ballot rule holds,
and the audit chain still verifies — on SQLite and on PostgreSQL.

The default run sends 50 × 10 ballots; the ``slow`` variant sends the issue's 50 × 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from collections import Counter

import pytest
from loadgen import (
    ServerProcess,
    ballot_calls,
    free_port,
    run_clients,
    seed_voters,
)
from server_helpers import database_url
from sqlalchemy import select

from commonplan.services import queries
from commonplan.store.database import open_database
from commonplan.store.models import AuditEntry, Ballot, RoundSecret

N_VOTERS = 50


def _load_run(backend: str, tmp_path, per_voter: int, kill_after: int | None) -> None:
    url, pg = database_url(backend, tmp_path)
    database = open_database(url, migrate=True)
    server = None
    try:
        voters = seed_voters(database, N_VOTERS)
        calls = ballot_calls(voters, per_voter, seed=7)
        server = ServerProcess(url, free_port()).start()
        acknowledged = 0
        restarted = threading.Event()
        state = {"killed": False}

        def kill_and_restart() -> None:
            server.kill()
            server.start()
            restarted.set()

        def on_outcome(outcome) -> None:
            nonlocal acknowledged
            if outcome.status in (200, 201):
                acknowledged += 1
                if kill_after is not None and acknowledged == kill_after and not state["killed"]:
                    state["killed"] = True
                    threading.Thread(target=kill_and_restart, daemon=True).start()

        run = asyncio.run(
            run_clients(
                "127.0.0.1",
                server.port,
                calls,
                timeout_s=60,
                retry_for_s=240,
                on_outcome=on_outcome,
            )
        )
        if kill_after is not None:
            assert state["killed"] and restarted.wait(120), (
                "the server was not killed and restarted"
            )
        statuses = Counter(o.status for o in run.outcomes)
        assert not [s for s in statuses if s is not None and s >= 300 and s != 200], statuses
        answered = [o for o in run.outcomes if o.status in (200, 201)]
        # every call was finally acknowledged (resent until the restarted server answered)
        assert len({o.call.tag for o in answered}) == N_VOTERS * per_voter
        if kill_after is not None:
            assert statuses[None] > 0, "no request was cut off by the kill"
        acked = {}
        for outcome in answered:
            body = outcome.json()
            user_id, request_id = outcome.call.tag
            assert (body["user_id"], body["request_id"]) == (user_id, request_id)
            assert body["points"] == {g: float(p) for g, p in outcome.call.body["points"].items()}
            previous = acked.setdefault((user_id, request_id), body["id"])
            assert previous == body["id"], "a resent ballot was stored twice"

        with database.read() as session:
            rows = session.execute(
                select(Ballot.id, Ballot.voter_key, Ballot.request_id, Ballot.is_current).where(
                    Ballot.round_id == voters.round_id
                )
            ).all()
            secret = session.execute(
                select(RoundSecret.secret).where(RoundSecret.round_id == voters.round_id)
            ).scalar_one()
        # the rows name no voter: map each member to their voter key (HMAC-SHA256 of
        # "voter <id>" under the round secret, computed here, not by the services)
        member_of = {
            hmac.new(bytes.fromhex(secret), f"voter {u}".encode(), hashlib.sha256).hexdigest(): u
            for u in voters.user_ids
        }
        rows = [(i, member_of[k], q, c) for i, k, q, c in rows]
        with database.read() as session:
            n_ballot_audits = session.execute(
                select(AuditEntry.seq).where(AuditEntry.action == "ballot.submit")
            ).all()
        stored = Counter((u, q) for _i, u, q, _c in rows)
        assert max(stored.values()) == 1, "a ballot is stored more than once"
        assert {(u, q): i for i, u, q, _ in rows} == acked  # exactly the acknowledged ballots
        current = Counter(u for _i, u, _q, c in rows if c)
        assert set(current.values()) == {1} and len(current) == N_VOTERS
        assert len(n_ballot_audits) == len(rows)
        report = queries.verify_audit_log(database)
        assert report.ok, report.problems
    finally:
        if server is not None:
            server.stop()
        database.dispose()
        if pg is not None:
            pg.drop()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_voters_with_server_killed_mid_run(backend, tmp_path):
    _load_run(backend, tmp_path, per_voter=10, kill_after=150)


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_50_voters_200_ballots_each_with_server_killed(backend, tmp_path):
    _load_run(backend, tmp_path, per_voter=200, kill_after=4000)
