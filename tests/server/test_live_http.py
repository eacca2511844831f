"""Live participatory rounds through a real server (``commonplan serve``) and HTTP bots.

The oracle is the simulation (:func:`commonplan.participation.procedure.run_year`): bots that
each send their own council's optimum at the announced prices must give the same round
counts and the same prices. Then a SIGKILL of the server in the middle of an iteration: no
acknowledged proposal is lost and the round goes on after the restart.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from live_bots import get_json, iteration_calls, run_live_round, seed_live_round
from loadgen import ServerProcess, free_port, run_clients
from server_helpers import database_url
from sqlalchemy import func, select

from commonplan.participation import generate_economy, read_experiment
from commonplan.participation.procedure import Councils, run_procedure
from commonplan.store.audit import verify_audit
from commonplan.store.database import open_database
from commonplan.store.models import LiveProposal

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "planning"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _seeded_server(backend, tmp_path, economy, **kwargs):
    url, pg = database_url(backend, tmp_path)
    database = open_database(url, migrate=True)
    world = seed_live_round(database, economy, **kwargs)
    database.dispose()
    return url, pg, world


@pytest.mark.parametrize("backend", BACKENDS)
def test_dep1ex01_over_http_gives_the_simulations_rounds_and_prices(backend, tmp_path):
    economy = read_experiment(DATA / "pequod_dep1ex_3000" / "dep1ex01.clj.gz")
    simulated = run_procedure(economy, years=1).years[0]
    url, pg, world = _seeded_server(backend, tmp_path, economy, n_bots=6)
    server = ServerProcess(url, free_port()).start()
    try:
        timings = run_live_round(server.port, world, Councils(economy), batch=500)
        info = get_json(server.port, f"/api/v1/live/{world.round_id}")
        history = get_json(server.port, f"/api/v1/live/{world.round_id}/iterations")
    finally:
        server.stop()
        if pg is not None:
            pg.drop()
    assert all(set(t.statuses) == {201} for t in timings)
    assert info["status"] == "converged"
    worst = np.array([it["worst_imbalance"] for it in history])
    below = {t: int(np.flatnonzero(worst < t)[0]) + 1 for t in (0.05, 0.03)}
    assert below[0.05] == simulated.first_round_below(0.05)
    assert below[0.03] == simulated.first_round_below(0.03) == simulated.rounds == len(history)
    live = np.array([it["price"] for it in history[1:]])
    np.testing.assert_allclose(live, simulated.price[:-1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_killed_server_loses_no_acknowledged_proposal(backend, tmp_path):
    economy = generate_economy(300, 300, 4, seed=5)
    simulated = run_procedure(economy, years=1).years[0]
    url, pg, world = _seeded_server(backend, tmp_path, economy, n_bots=4)
    councils = Councils(economy)
    server = ServerProcess(url, free_port()).start()
    acknowledged: list[int] = []

    def kill_midway(outcome):
        if outcome.status == 201:
            acknowledged.extend(p["council"] for p in outcome.call.body["proposals"])
            if len(acknowledged) >= 250 and server.process.poll() is None:
                server.kill()

    try:
        info = get_json(server.port, f"/api/v1/live/{world.round_id}")
        calls = iteration_calls(world, councils, info["price"], 1, batch=5)
        asyncio.run(run_clients("127.0.0.1", server.port, calls, on_outcome=kill_midway))
        assert server.process.poll() is not None, "the server was not killed"
        database = open_database(url)
        with database.read() as session:
            stored = set(
                session.execute(
                    select(LiveProposal.council_id).where(LiveProposal.round_id == world.round_id)
                ).scalars()
            )
            assert session.execute(select(func.count(LiveProposal.id))).scalar_one() == len(stored)
        assert set(acknowledged) <= stored, "an acknowledged proposal was lost"
        database.dispose()
        server.start()  # the same port and database: the round continues
        info = get_json(server.port, f"/api/v1/live/{world.round_id}")
        assert (info["status"], info["iteration"], info["n_proposed"]) == ("open", 1, len(stored))
        run_live_round(server.port, world, councils, batch=50)
        history = get_json(server.port, f"/api/v1/live/{world.round_id}/iterations")
    finally:
        server.stop()
    database = open_database(url)
    with database.read() as session:
        assert verify_audit(session).ok
    database.dispose()
    if pg is not None:
        pg.drop()
    assert len(history) == simulated.rounds
    np.testing.assert_allclose(
        np.array([it["price"] for it in history[1:]]), simulated.price[:-1], rtol=1e-12
    )
