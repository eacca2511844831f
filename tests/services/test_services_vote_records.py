"""Vote records in the audit chain: verify finds every direct SQL change to a decision's rows."""

from __future__ import annotations

import threading

from services_world import build_world
from sqlalchemy import delete, insert, select, text, update

from commonplan import services as S
from commonplan.store.audit import GENESIS, snapshot, verify_audit
from commonplan.store.models import (
    Alternative,
    AuditHead,
    Ballot,
    PlanningRound,
    PublishedPlan,
    Ranking,
    RoundResult,
)


def _published_round(db):
    """A round run to publication: two ballots (one resubmitted), two alternatives, two rankings."""
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 70, "housing": 30})
    S.submit_ballot(db, w.member, w.round_id, {"food": 60, "housing": 40})
    S.submit_ballot(db, w.member2, w.round_id, {"health": 50, "energy": 50})
    S.advance_phase(db, w.facilitator, w.round_id)
    S.add_alternative(db, w.facilitator, w.round_id, "Consumption now", figures={"x": 1.5})
    S.add_alternative(db, w.facilitator, w.round_id, "Investment first", figures={"x": 2.5})
    S.advance_phase(db, w.facilitator, w.round_id)
    S.submit_ranking(db, w.member, w.round_id, ["B", "A"])
    S.submit_ranking(db, w.member2, w.round_id, ["B", "A"])
    S.tally_round(db, w.facilitator, w.round_id)
    S.publish_plan(db, w.facilitator, w.round_id)
    assert S.verify_audit_log(db).ok
    return w


def _tamper(db, *statements):
    """Change rows as someone with direct database access would (Core statements, no services)."""
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def _problems(db):
    report = S.verify_audit_log(db)
    assert not report.ok
    return [(p.kind, p.message) for p in report.problems]


def _sealed_ballot_id(db, points) -> int:
    """The id of the sealed ballot holding ``points`` (the rows name no voter any more)."""
    with db.read() as session:
        rows = session.execute(select(Ballot.id, Ballot.points)).all()
    return next(i for i, p in rows if {g: v for g, v in p.items() if v} == points)


def test_a_ballots_changed_points_are_detected(db):
    _published_round(db)
    target = _sealed_ballot_id(db, {"health": 50.0, "energy": 50.0})
    _tamper(
        db,
        update(Ballot)
        .where(Ballot.id == target)
        .values(points={"food": 100.0, "housing": 0.0, "health": 0.0, "energy": 0.0}),
    )
    [(kind, message)] = _problems(db)
    assert kind == "edited" and message.startswith(f"ballots row {target} was changed")


def test_a_deleted_ballot_is_detected(db):
    _published_round(db)
    target = _sealed_ballot_id(db, {"health": 50.0, "energy": 50.0})
    _tamper(db, delete(Ballot).where(Ballot.id == target))
    [(kind, message)] = _problems(db)
    assert kind == "deleted" and message.startswith(
        f"ballots row {target}, recorded by audit entry"
    )


def test_a_ballot_inserted_around_the_services_is_detected(db):
    w = _published_round(db)
    _tamper(
        db,
        insert(Ballot).values(
            round_id=w.round_id,
            points={"food": 100.0},
            request_id="forged",
            is_current=True,
        ),
    )
    [(kind, message)] = _problems(db)
    assert kind == "inserted" and message.startswith("ballots row 6 is in no audit entry")


def test_a_ballot_of_the_phase_restored_after_the_seal_is_detected(db):
    """The rows of the ballot phase are retired by the close: one put back is caught."""
    w = build_world(db)
    first = S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    S.advance_phase(db, w.facilitator, w.round_id)
    _tamper(
        db,
        insert(Ballot).values(
            id=first.id,
            round_id=w.round_id,
            points={"food": 100.0},
            request_id=first.request_id,
            is_current=False,
        ),
    )
    [(kind, message)] = _problems(db)
    assert kind == "inserted" and message.startswith(f"ballots row {first.id} is in no")


def test_rewritten_rankings_are_detected(db):
    w = _published_round(db)
    _tamper(db, update(Ranking).where(Ranking.round_id == w.round_id).values(order=["A", "B"]))
    problems = _problems(db)
    assert [k for k, _ in problems] == ["edited", "edited"]
    assert all(m.startswith("rankings row") for _, m in problems)


def test_a_changed_winner_is_detected(db):
    w = _published_round(db)
    _tamper(
        db, update(RoundResult).where(RoundResult.round_id == w.round_id).values(winner_label="A")
    )
    [(kind, message)] = _problems(db)
    assert kind == "edited" and message.startswith("round_results row 1 was changed")


def test_a_retitled_winning_alternative_is_detected(db):
    w = _published_round(db)
    _tamper(
        db,
        update(Alternative)
        .where(Alternative.round_id == w.round_id, Alternative.label == "B")
        .values(title="Austerity"),
    )
    [(kind, message)] = _problems(db)
    assert kind == "edited" and message.startswith("alternatives row 2 was changed")


def test_a_reopened_published_round_is_detected(db):
    w = _published_round(db)
    _tamper(db, update(PlanningRound).where(PlanningRound.id == w.round_id).values(phase="vote"))
    [(kind, message)] = _problems(db)
    assert kind == "edited" and message.startswith(f"planning_rounds row {w.round_id} was changed")


def test_a_published_plan_edited_with_its_trigger_dropped_is_detected(db):
    w = _published_round(db)
    trigger_off = (
        text("ALTER TABLE published_plans DISABLE TRIGGER published_plans_append_only")
        if db.is_postgresql
        else text("DROP TRIGGER published_plans_no_update")
    )
    _tamper(
        db,
        trigger_off,
        update(PublishedPlan)
        .where(PublishedPlan.round_id == w.round_id)
        .values(figures={"x": 99.0}),
    )
    [(kind, message)] = _problems(db)
    assert kind == "edited" and message.startswith("published_plans row 1 was changed")


def test_an_emptied_audit_log_with_a_reset_head_is_detected(db):
    """TRUNCATE audit_log (row triggers do not fire on it) and a reset head: "intact: 0 entries"
    before; now every stored vote record is reported without its entry. On both databases."""
    _published_round(db)
    emptied = (
        text("TRUNCATE audit_log")
        if db.is_postgresql
        else text("DROP TRIGGER audit_log_no_delete")  # SQLite has no TRUNCATE: DELETE does it
    )
    statements = [emptied] if db.is_postgresql else [emptied, text("DELETE FROM audit_log")]
    _tamper(db, *statements, update(AuditHead).values(seq=0, hash=GENESIS))
    report = S.verify_audit_log(db)
    assert report.n_entries == 0 and report.head_seq == 0
    assert not report.ok
    inserted = [p for p in report.problems if p.kind == "inserted"]
    assert len(inserted) == len(report.problems)
    # every row of a decision: the round, 2 sealed ballots, 2 sealed rankings, 4 turnout
    # rows (2 members × ballot and ranking), 2 alternatives, the result and the plan
    assert len(inserted) == 13


def test_verification_does_not_hold_up_a_ballot(db):
    """A verification holding its snapshot open does not make a ballot wait (PostgreSQL took a
    shared lock on the chain head for the whole verification before)."""
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    cast = threading.Event()
    with snapshot(db) as session:
        before = verify_audit(session)

        def vote():
            S.submit_ballot(db, w.member2, w.round_id, {"housing": 100})
            cast.set()

        voter = threading.Thread(target=vote)
        voter.start()
        stored_while_verifying = cast.wait(timeout=300)  # only a guard against hanging forever
        during = verify_audit(session)
    voter.join()
    assert stored_while_verifying, "the ballot waited for the verification to end"
    assert before.ok and during.ok and during.n_entries == before.n_entries  # one snapshot
    after = S.verify_audit_log(db)
    assert after.ok and after.n_entries == before.n_entries + 1
