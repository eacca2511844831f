"""The server's tick closes a live iteration whose deadline has passed (the late councils' last
proposals stand) without anyone calling the close endpoint."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient

from commonplan.participation import generate_economy
from commonplan.server.app import create_app
from commonplan.server.settings import Settings
from commonplan.services import accounts, assemblies
from commonplan.services import participation as P
from commonplan.services.roles import Actor
from commonplan.store.database import open_database
from commonplan.store.models import utcnow


def test_the_tick_closes_an_overdue_iteration(tmp_path):
    db = open_database(f"sqlite:///{tmp_path / 'tick.sqlite3'}", migrate=True)
    system = Actor.system()
    economy = generate_economy(12, 4, 4, seed=2)
    assembly = assemblies.create_assembly(db, system, "Tick assembly")
    facilitator = accounts.create_user(db, system, "fac", "long enough pw", "facilitator")
    accounts.add_facilitator(db, system, assembly.id, facilitator.id)
    P.provision_councils(db, system, assembly.id, economy)
    opened = P.open_live_round(
        db, facilitator.actor(), assembly.id, economy, title="Ticking", iteration_seconds=60
    )
    later = utcnow() + timedelta(seconds=61)
    app = create_app(
        Settings(secret_key="tick", escalation_tick_s=0.05), database=db, clock=lambda: later
    )
    with TestClient(app):
        deadline = time.monotonic() + 600  # a bound against a hang, not a speed test
        while P.live_round_info(db, opened.id).iteration == 1:
            assert time.monotonic() < deadline, "the tick never closed the iteration"
            time.sleep(0.05)
    first = P.iteration_history(db, opened.id)[0]
    assert first.closed_by == "deadline" and first.n_missing == 16
    db.dispose()
