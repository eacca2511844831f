"""Secret, verifiable ballots: no content in the audit log, receipts, and a public recount."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from services_world import build_world
from sqlalchemy import update

from commonplan import services as S
from commonplan.councils.ballots import aggregate, target_weights
from commonplan.councils.voting import schulze
from commonplan.errors import PhaseError
from commonplan.services.publication import check_receipt, publication, recount
from commonplan.services.receipts import commitment_of, tracker_of
from commonplan.store.models import Ballot, RoundResult

BALLOTS = [
    {"food": 40, "housing": 40, "health": 20},
    {"food": 10, "energy": 90},
    {"health": 100},
    {"food": 33.33, "housing": 33.33, "health": 33.34},
    {"housing": 55.5, "energy": 44.5},
]
RANKINGS = [["B", "A", "C"], ["C", "B", "A"], ["A", "B"], ["B"], ["C", "A", "B"]]


def _tallied_round(db):
    w = build_world(db, n_extra_members=3)
    voters = [w.member, w.member2, *w.extras]
    receipts = [S.submit_ballot(db, v, w.round_id, p) for v, p in zip(voters, BALLOTS, strict=True)]
    S.advance_phase(db, w.facilitator, w.round_id)
    for title in ("Now", "Later", "Never"):
        S.add_alternative(db, w.facilitator, w.round_id, title)
    S.advance_phase(db, w.facilitator, w.round_id)
    ranked = [S.submit_ranking(db, v, w.round_id, r) for v, r in zip(voters, RANKINGS, strict=True)]
    S.tally_round(db, w.facilitator, w.round_id)
    return w, receipts, ranked


def test_the_audit_log_holds_commitments_never_ballot_content(db):
    w, receipts, ranked = _tallied_round(db)
    entries = {e.seq: e for e in S.audit_log(db, limit=1000)}
    cast = [json.loads(e.payload) for e in entries.values() if e.action.endswith(".submit")]
    assert len(cast) == len(BALLOTS) + len(RANKINGS)
    for payload in cast:
        assert set(payload) <= {"ballot_id", "ranking_id", "commitment", "replaces", "records"}
    commitments = {p["commitment"] for p in cast}
    for receipt, points in zip(receipts, BALLOTS, strict=True):
        complete = {g: float(points.get(g, 0)) for g in ("food", "housing", "health", "energy")}
        assert commitment_of(receipt.receipt, "ballot", w.round_id, complete) in commitments
    for receipt, order in zip(ranked, RANKINGS, strict=True):
        full = list(receipt.order)
        assert full[: len(order)] == order
        assert commitment_of(receipt.receipt, "ranking", w.round_id, full) in commitments
    # a tracker never appears in the log: the named entries cannot be matched to published ballots
    text = " ".join(e.payload for e in entries.values())
    assert not any(r.tracker in text for r in [*receipts, *ranked])


def test_a_replayed_ballot_does_not_show_the_receipt_again(db):
    w = build_world(db)
    first = S.submit_ballot(db, w.member, w.round_id, {"food": 100}, request_id="r-1")
    again = S.submit_ballot(db, w.member, w.round_id, {"food": 100}, request_id="r-1")
    assert first.receipt and tracker_of(first.receipt) == first.tracker
    assert again.replayed and again.receipt is None and again.tracker == first.tracker


def test_ballots_are_published_without_voters_only_after_their_phase(db):
    w = build_world(db)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    with pytest.raises(PhaseError, match="secret until its ballot phase is over"):
        publication(db, w.round_id)
    S.advance_phase(db, w.facilitator, w.round_id)
    published = publication(db, w.round_id)
    fields = {f.name for f in dataclasses.fields(published.ballots[0])}
    assert fields == {"tracker", "councils", "points"}
    assert published.ballots[0].councils == ("Consumers: capital region", "Workers: food industry")
    assert published.rankings == ()  # rankings only after the tally


def test_anyone_can_recount_the_weights_and_the_winner_from_the_publication(db):
    w, _, _ = _tallied_round(db)
    published = publication(db, w.round_id)
    assert [b.tracker for b in published.ballots] == sorted(b.tracker for b in published.ballots)
    stored = S.get_round_info(db, w.round_id).weights
    result = S.get_result(db, w.round_id)
    counted = recount(published)
    assert counted.weights == pytest.approx(stored, rel=1e-12)
    assert (counted.winner, counted.order) == (result.winner, result.order)
    # independently, with the pure rules on the publication
    matrix = pd.DataFrame([b.points for b in published.ballots]).fillna(0.0)
    pairs = pd.DataFrame(
        [(c, k) for k, b in enumerate(published.ballots) for c in b.councils],
        columns=["council", "member"],
    )
    _, allocation = aggregate(matrix, pairs, published.membership, rule="mean")
    assert target_weights(allocation).to_dict() == pytest.approx(stored, rel=1e-12)
    oracle = schulze([list(r.order) for r in published.rankings], ["A", "B", "C"])
    assert oracle.winner == result.winner


def test_a_receipt_shows_its_voter_that_their_ballot_was_counted_as_cast(db):
    w = build_world(db)
    replaced = S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    current = S.submit_ballot(db, w.member, w.round_id, {"food": 25, "energy": 75})
    other = S.submit_ballot(db, w.member2, w.round_id, {"health": 100})
    S.advance_phase(db, w.facilitator, w.round_id)
    check = check_receipt(db, w.round_id, current.receipt)
    assert check.counted and check.kind == "ballot"
    assert check.content == {"food": 25.0, "housing": 0.0, "health": 0.0, "energy": 75.0}
    assert check.committed_in_seq is not None
    assert not check_receipt(db, w.round_id, replaced.receipt).counted  # superseded: not counted
    assert not check_receipt(db, w.round_id, "a guessed receipt").counted
    # content changed in the database after the vote: the receipt no longer finds its commitment
    with db.engine.begin() as connection:
        connection.execute(
            update(Ballot).where(Ballot.tracker == other.tracker).values(points={"food": 100.0})
        )
    changed = check_receipt(db, w.round_id, other.receipt)
    assert changed.content == {"food": 100.0} and not changed.counted


def test_audit_tally_recounts_a_round_on_the_command_line(db):
    from typer.testing import CliRunner

    from commonplan.cli.main import app_typer

    w, _, _ = _tallied_round(db)
    result = CliRunner().invoke(
        app_typer, ["audit", "tally", str(w.round_id), "--database-url", db.url]
    )
    assert result.exit_code == 0, result.output
    assert "5 ballots, 5 rankings" in result.output
    assert result.output.count("(as stored)") == 2
    with db.engine.begin() as connection:  # a stored winner that the ballots do not give
        connection.execute(update(RoundResult).values(winner_label="A", order=["A", "B", "C"]))
    changed = CliRunner().invoke(
        app_typer, ["audit", "tally", str(w.round_id), "--database-url", db.url]
    )
    assert changed.exit_code == 1 and "DIFFERENT" in changed.output


def test_the_recount_uses_the_councils_as_they_were_aggregated(db):
    w, _, _ = _tallied_round(db)
    S.remove_membership(db, w.admin, w.councils[0], w.member.user_id)  # after the aggregation
    counted = recount(publication(db, w.round_id))
    assert counted.weights == pytest.approx(S.get_round_info(db, w.round_id).weights, rel=1e-12)
