"""Ballots and rankings name no voter: a voter key during the phase, nothing once it is sealed.

What a reader of the whole database can do is checked with the database itself: after the
close no ballot row, id, salt, time, secret or audit record ties a ballot to its voter,
while resubmission, turnout, receipts and the recount keep working. On both databases.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from services_world import build_world
from sqlalchemy import inspect, select

from commonplan import services as S
from commonplan.services.publication import check_receipt, publication, recount
from commonplan.store.models import AuditEntry, Ballot, RoundSecret, Turnout
from commonplan.store.records import record_hash


def _oracle_key(secret: str, user_id: int) -> str:
    return hmac.new(bytes.fromhex(secret), f"voter {user_id}".encode(), hashlib.sha256).hexdigest()


def _rows(db, model):
    with db.read() as session:
        return list(session.execute(select(model)).scalars())


def _named_records(db) -> list[dict]:
    """The records of the entries that name a voter (their ballots)."""
    with db.read() as session:
        payloads = session.execute(
            select(AuditEntry.payload).where(AuditEntry.action == "ballot.submit")
        ).scalars()
        return [item for p in payloads for item in json.loads(p)["records"]]


def _voting_world(db):
    w = build_world(db, n_extra_members=3)
    voters = [w.member, w.member2, *w.extras]
    receipts = {}
    for k, voter in enumerate(voters):
        S.submit_ballot(db, voter, w.round_id, {"food": 100})  # replaced below
        receipts[voter.user_id] = S.submit_ballot(
            db, voter, w.round_id, {"food": 10 * k, "housing": 100 - 10 * k}
        )
    return w, voters, receipts


def test_during_the_phase_a_ballot_carries_a_voter_key_not_a_user(db):
    assert "user_id" not in {c["name"] for c in inspect(db.engine).get_columns("ballots")}
    w, voters, receipts = _voting_world(db)
    [secret] = _rows(db, RoundSecret)
    keys = {_oracle_key(secret.secret, v.user_id) for v in voters}
    ballots = _rows(db, Ballot)
    assert {b.voter_key for b in ballots} == keys and len(ballots) == 2 * len(voters)
    assert all(b.tracker for b in ballots)
    # one turnout row per member, however often they resubmitted
    turnout = _rows(db, Turnout)
    assert sorted(t.user_id for t in turnout) == sorted(v.user_id for v in voters)
    assert S.turnout(db, w.round_id).n_ballots == len(voters)
    mine = S.my_ballot(db, w.member, w.round_id)
    assert mine.points["housing"] == 100.0 and mine.user_id == w.member.user_id
    assert [b.is_current for b in S.my_ballot_history(db, w.member, w.round_id)] == [False, True]


def test_after_the_close_nothing_stored_links_a_ballot_to_its_voter(db):
    w, voters, receipts = _voting_world(db)
    phase_rows = {b.id for b in _rows(db, Ballot)}
    weights = S.advance_phase(db, w.facilitator, w.round_id).weights
    sealed = _rows(db, Ballot)
    assert len(sealed) == len(voters) and all(b.is_current for b in sealed)
    assert all(b.voter_key is None and b.request_id is None for b in sealed)
    assert _rows(db, RoundSecret) == []  # the key that mapped voters to ballots is gone
    assert len({b.submitted_at for b in sealed}) == 1  # the close, not each voter's time
    assert {b.id for b in sealed}.isdisjoint(phase_rows)  # fresh ids, none an entry names
    named = _named_records(db)
    named_ids = {r["id"] for r in named if r["table"] == "ballots"}
    assert named_ids == phase_rows
    sealed_hashes = {record_hash("ballots", b.__dict__) for b in sealed}
    assert sealed_hashes.isdisjoint({r["hash"] for r in named})  # fresh salts too
    assert {b.tracker for b in sealed} == {r.tracker for r in receipts.values()}
    # what still works: turnout, receipts, the recount, the chain
    assert S.turnout(db, w.round_id).n_ballots == len(voters)
    for receipt in receipts.values():
        assert check_receipt(db, w.round_id, receipt.receipt).counted
    assert S.my_ballot(db, w.member, w.round_id) is None  # the member checks with the receipt
    assert recount(publication(db, w.round_id)).weights == pytest.approx(weights)
    assert S.verify_audit_log(db).ok


@pytest.mark.parametrize("rule", ["mean", "median"])
def test_sealed_ballots_aggregate_as_before_the_seal(db, rule):
    w, _voters, _receipts = _voting_world(db)
    closed = S.advance_phase(db, w.facilitator, w.round_id)  # aggregated, then sealed
    before = S.aggregate_weights(db, w.facilitator, w.round_id, rule=rule)
    again = S.aggregate_weights(db, w.facilitator, w.round_id, rule=rule)
    assert again.weights == pytest.approx(before.weights, rel=1e-12)
    assert again.n_ballots == before.n_ballots == len(_rows(db, Ballot))
    if rule == "mean":
        assert before.weights == pytest.approx(closed.weights, rel=1e-12)


def _to_the_vote(db):
    w, voters, _ = _voting_world(db)
    S.advance_phase(db, w.facilitator, w.round_id)
    for title in ("One", "Two", "Three"):
        S.add_alternative(db, w.facilitator, w.round_id, title)
    S.advance_phase(db, w.facilitator, w.round_id)
    orders = [["A", "B", "C"], ["B", "C", "A"], ["B", "A", "C"], ["C", "A", "B"], ["B", "C", "A"]]
    receipts = {
        v.user_id: S.submit_ranking(db, v, w.round_id, order)
        for v, order in zip(voters, orders, strict=True)
    }
    return w, voters, receipts, orders


def test_rankings_carry_a_voter_key_during_the_vote_and_nothing_after_the_tally(db):
    from commonplan.errors import ConflictError
    from commonplan.store.models import Ranking

    w, voters, receipts, orders = _to_the_vote(db)
    assert "user_id" not in {c["name"] for c in inspect(db.engine).get_columns("rankings")}
    [secret] = [s for s in _rows(db, RoundSecret) if s.kind == "ranking"]
    during = _rows(db, Ranking)
    assert {r.voter_key for r in during} == {_oracle_key(secret.secret, v.user_id) for v in voters}
    with pytest.raises(ConflictError, match="already ranked"):
        S.submit_ranking(db, w.member, w.round_id, ["C", "B", "A"])  # still one per member
    assert S.my_ranking(db, w.member, w.round_id).order == ("A", "B", "C")
    assert S.turnout(db, w.round_id).n_rankings == len(voters)

    result = S.tally_round(db, w.facilitator, w.round_id)
    sealed = _rows(db, Ranking)
    assert all(r.voter_key is None and r.request_id is None for r in sealed)
    assert {r.id for r in sealed}.isdisjoint({r.id for r in during})
    assert sorted(list(r.order) for r in sealed) == sorted(orders)
    assert _rows(db, RoundSecret) == []
    assert S.my_ranking(db, w.member, w.round_id) is None
    assert S.turnout(db, w.round_id).n_rankings == len(voters)
    for receipt in receipts.values():
        assert check_receipt(db, w.round_id, receipt.receipt).counted
    assert recount(publication(db, w.round_id)).winner == result.winner == "B"
    assert S.verify_audit_log(db).ok
