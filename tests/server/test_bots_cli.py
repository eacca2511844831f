"""``commonplan bots``: bot processes propose for their councils through a real server until
the live round ends, and give the simulation's rounds and prices."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from live_bots import get_json, seed_live_round
from loadgen import ServerProcess, free_port

from commonplan.participation import generate_economy, run_procedure, write_experiment
from commonplan.store.database import open_database


def _bots(port, token, round_id, economy_file, *extra):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commonplan.cli.main",
            "bots",
            str(round_id),
            "--economy",
            str(economy_file),
            "--url",
            f"http://127.0.0.1:{port}",
            "--poll",
            "0.05",
            *extra,
        ],
        env=dict(os.environ, COMMONPLAN_TOKEN=token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_bot_processes_run_a_live_round_to_the_simulations_end(tmp_path):
    economy = generate_economy(90, 60, 4, seed=11)
    economy_file = write_experiment(economy, tmp_path / "economy.clj")
    simulated = run_procedure(economy, years=1).years[0]
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    database = open_database(url, migrate=True)
    world = seed_live_round(database, economy, n_bots=2)
    database.dispose()
    server = ServerProcess(url, free_port()).start()
    try:
        bots = [
            _bots(server.port, token, world.round_id, economy_file, "--batch", "40")
            for token in world.tokens
        ]
        outputs = [bot.communicate(timeout=600) for bot in bots]  # a hang bound
        history = get_json(server.port, f"/api/v1/live/{world.round_id}/iterations")
        wrong = _bots(server.port, "cp_1_not-a-token", world.round_id, economy_file)
        _, wrong_err = wrong.communicate(timeout=120)
        other = write_experiment(generate_economy(30, 5, 4, seed=1), tmp_path / "other.clj")
        mismatch = _bots(server.port, world.tokens[0], world.round_id, other)
        _, mismatch_err = mismatch.communicate(timeout=120)
    finally:
        server.stop()
    for bot, (out, err) in zip(bots, outputs, strict=True):
        assert bot.returncode == 0, err
        assert "is converged" in out
    assert len(history) == simulated.rounds
    np.testing.assert_allclose(
        np.array([it["price"] for it in history[1:]]), simulated.price[:-1], rtol=1e-12
    )
    assert wrong.returncode == 2 and "Traceback" not in wrong_err and wrong_err.strip()
    assert mismatch.returncode == 2 and "economy file" in mismatch_err
