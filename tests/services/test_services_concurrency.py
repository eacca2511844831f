"""Ballots under concurrency and crashes: every acknowledged ballot is stored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services_world import build_world
from sqlalchemy import func, select

from commonplan import services as S
from commonplan.store.models import Ballot


def _check_exactly_once(db, acknowledged: dict[str, int]):
    with db.read() as session:
        rows = session.execute(
            select(Ballot.request_id, Ballot.id, Ballot.voter_key, Ballot.is_current)
        ).all()
    stored = {r.request_id: r.id for r in rows}
    assert len(stored) == len(rows), "a request id was stored twice"
    for request_id, ballot_id in acknowledged.items():
        assert stored.get(request_id) == ballot_id, (
            f"acknowledged ballot {request_id} not stored as acknowledged"
        )
    current = {}
    for r in rows:
        if r.is_current:
            assert r.voter_key not in current, "two current ballots for one member"
            current[r.voter_key] = r.id
    # each member's current ballot is their latest stored one (a member is their voter key
    # while the phase is open: the rows name no user)
    latest = {}
    for r in rows:
        latest[r.voter_key] = max(latest.get(r.voter_key, 0), r.id)
    assert current == latest
    return rows


def test_concurrent_submissions_and_retries(db):
    w = build_world(db, n_extra_members=14)
    voters = [w.member, w.member2, *w.extras]
    jobs = []
    for k, voter in enumerate(voters):
        for n in range(4):
            points = {"food": (k * 7 + n * 13) % 101}
            points["housing"] = 100 - points["food"]
            request_id = f"u{voter.user_id}-n{n}"
            jobs += [(voter, points, request_id)] * 2  # every request is also retried

    def submit(job):
        voter, points, request_id = job
        return S.submit_ballot(db, voter, w.round_id, points, request_id=request_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(submit, jobs))
    acknowledged = {}
    for receipt in receipts:
        assert acknowledged.setdefault(receipt.request_id, receipt.id) == receipt.id
    assert sum(not r.replayed for r in receipts) == len(acknowledged) == len(voters) * 4
    rows = _check_exactly_once(db, acknowledged)
    assert len(rows) == len(voters) * 4
    report = S.verify_audit_log(db)
    assert report.ok
    assert [r.action for r in S.audit_log(db, limit=1000)].count("ballot.submit") == len(rows)


WORKER = """
import sys
from commonplan.services import authenticate, submit_ballot
from commonplan.store import Database
db = Database(sys.argv[1])
actor = authenticate(db, sys.argv[2], sys.argv[3])
for n in range(100000):
    receipt = submit_ballot(db, actor, int(sys.argv[4]), {"food": n % 101, "health": 100 - n % 101},
                            request_id=f"kill-{n}")
    print(receipt.request_id, receipt.id, flush=True)
"""


def test_killed_process_loses_no_acknowledged_ballot(db, tmp_path: Path):
    from services_world import PASSWORD

    w = build_world(db)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, COMMONPLAN_ARGON2_PROFILE="test")
    process = subprocess.Popen(
        [sys.executable, str(script), db.url, "member", PASSWORD, str(w.round_id)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    acknowledged = {}
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        request_id, ballot_id = line.split()
        acknowledged[request_id] = int(ballot_id)
    process.send_signal(signal.SIGKILL)  # mid-run, possibly inside a transaction
    process.wait()
    for line in process.stdout:  # acknowledged just before the kill
        request_id, ballot_id = line.split()
        acknowledged[request_id] = int(ballot_id)
    assert len(acknowledged) >= 40
    db.dispose()
    _check_exactly_once(db, acknowledged)
    # the client retries everything it sent, acknowledged or not: nothing is stored twice
    with db.read() as session:
        before = session.execute(select(func.count(Ballot.id))).scalar_one()
    last = max(int(r.split("-")[1]) for r in acknowledged)
    for n in range(last + 2):
        S.submit_ballot(
            db,
            w.member,
            w.round_id,
            {"food": n % 101, "health": 100 - n % 101},
            request_id=f"kill-{n}",
        )
    with db.read() as session:
        after = session.execute(select(func.count(Ballot.id))).scalar_one()
    assert before <= after <= last + 2
    _check_exactly_once(db, acknowledged)
    assert S.verify_audit_log(db).ok


def test_closing_the_ballot_phase_counts_every_acknowledged_ballot(db):
    import threading

    from commonplan.errors import PhaseError
    from commonplan.store.models import PlanningRound

    w = build_world(db, n_extra_members=24)
    voters = [w.member, w.member2, *w.extras]
    acknowledged: dict[int, str] = {}
    lock = threading.Lock()
    started = threading.Barrier(len(voters) + 1)

    def vote(voter):
        started.wait()
        for n in range(20):
            try:
                receipt = S.submit_ballot(db, voter, w.round_id, {"food": n, "housing": 100 - n})
            except PhaseError:
                return
            with lock:
                acknowledged[voter.user_id] = receipt.tracker

    threads = [threading.Thread(target=vote, args=(v,)) for v in voters]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.05)
    S.advance_phase(db, w.facilitator, w.round_id)
    for thread in threads:
        thread.join()
    with db.read() as session:
        stored = session.get(PlanningRound, w.round_id).weights
        current = session.execute(
            select(Ballot.tracker).where(Ballot.is_current.is_(True))
        ).scalars()
        current = sorted(current)
    # each member's last acknowledged ballot, and nothing else, was sealed and counted:
    # nothing acknowledged after the close, nothing lost
    assert current == sorted(acknowledged.values())
    assert stored["n_ballots"] == len(acknowledged) > 0


def test_a_ballot_in_flight_when_the_phase_closes_is_counted_or_refused(db):
    """Pause a ballot's transaction right after it has read the round (a real pause on a real
    connection), close the ballot phase meanwhile, and check the ballot is in the aggregation."""
    import threading

    from sqlalchemy import event

    from commonplan.store.models import PlanningRound

    w = build_world(db)
    S.submit_ballot(db, w.member2, w.round_id, {"food": 100})
    paused, resume = threading.Event(), threading.Event()

    def pause_after_round_read(conn, cursor, statement, parameters, context, executemany):
        if (
            threading.current_thread().name == "ballot"
            and "FROM planning_rounds" in statement
            and not paused.is_set()
        ):
            paused.set()
            resume.wait(10)

    event.listen(db.engine, "after_cursor_execute", pause_after_round_read)
    outcome = {}

    def ballot():
        try:
            outcome["receipt"] = S.submit_ballot(db, w.member, w.round_id, {"health": 100})
        except Exception as error:  # noqa: BLE001 - recorded and checked below
            outcome["error"] = error

    thread = threading.Thread(target=ballot, name="ballot")
    thread.start()
    assert paused.wait(10)
    closer = threading.Thread(
        target=lambda: outcome.setdefault("closed", S.advance_phase(db, w.facilitator, w.round_id))
    )
    closer.start()
    closer.join(3)  # the close finishes, or waits for the ballot's lock, while the ballot is paused
    resume.set()
    thread.join()
    closer.join()
    event.remove(db.engine, "after_cursor_execute", pause_after_round_read)
    with db.read() as session:
        stored = session.get(PlanningRound, w.round_id).weights
    if "receipt" in outcome:  # acknowledged: it must be in the aggregation
        assert stored["n_ballots"] == 2 and stored["points"]["health"] > 0
    else:
        assert "phase" in str(outcome["error"]) and stored["n_ballots"] == 1


def test_a_ranking_in_flight_when_the_vote_closes_is_counted_or_refused(db):
    import threading

    from sqlalchemy import event

    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    S.advance_phase(db, w.facilitator, w.round_id)
    S.add_alternative(db, w.facilitator, w.round_id, "one")
    S.add_alternative(db, w.facilitator, w.round_id, "two")
    S.advance_phase(db, w.facilitator, w.round_id)
    S.submit_ranking(db, w.member2, w.round_id, ["A", "B"])
    paused, resume = threading.Event(), threading.Event()

    def pause_after_round_read(conn, cursor, statement, parameters, context, executemany):
        if (
            threading.current_thread().name == "ranking"
            and "FROM planning_rounds" in statement
            and not paused.is_set()
        ):
            paused.set()
            resume.wait(10)

    event.listen(db.engine, "after_cursor_execute", pause_after_round_read)
    outcome = {}

    def rank():
        try:
            outcome["receipt"] = S.submit_ranking(db, w.member, w.round_id, ["B", "A"])
        except Exception as error:  # noqa: BLE001 - recorded and checked below
            outcome["error"] = error

    thread = threading.Thread(target=rank, name="ranking")
    thread.start()
    assert paused.wait(10)
    closer = threading.Thread(target=lambda: S.advance_phase(db, w.facilitator, w.round_id))
    closer.start()
    closer.join(3)  # the tally finishes, or waits for the ranking's lock, while it is paused
    resume.set()
    thread.join()
    closer.join()
    event.remove(db.engine, "after_cursor_execute", pause_after_round_read)
    result = S.get_result(db, w.round_id)
    if "receipt" in outcome:
        assert result.n_rankings == 2
    else:
        assert "phase" in str(outcome["error"]) and result.n_rankings == 1
