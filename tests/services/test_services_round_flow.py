"""The whole process on a real economy: ballots → weights → alternatives → ranking → Schulze → published plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from services_world import build_world
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from commonplan import services as S
from commonplan.councils.voting import schulze
from commonplan.errors import BallotError, ConflictError, PermissionDeniedError, PhaseError
from commonplan.store.models import PublishedPlan


def _to_vote(db, colombia):
    economy = S.store_economy(db, S.Actor.system(), colombia)
    w = build_world(db, economy_id=economy.id, n_extra_members=4)
    voters = [w.member, w.member2, *w.extras]
    for k, voter in enumerate(voters):
        S.submit_ballot(db, voter, w.round_id, {"food": 10 * k, "housing": 100 - 10 * k})
    S.advance_phase(db, w.facilitator, w.round_id)
    plan = pd.DataFrame({"level": colombia.activity_levels}, index=colombia.activities)
    for title, scale in [
        ("Consumption now", 1.0),
        ("Investment first", 1.1),
        ("Import independence", 0.9),
    ]:
        S.add_alternative(
            db, w.facilitator, w.round_id, title, figures={"scale": scale}, plan=plan * scale
        )
    S.advance_phase(db, w.facilitator, w.round_id, expected="alternatives")
    return w, voters


def test_full_process_and_published_plan_is_immutable(db, colombia):
    w, voters = _to_vote(db, colombia)
    rankings = [
        ["B", "A", "C"],
        ["B", "C", "A"],
        ["A", "B", "C"],
        ["C", "B", "A"],
        ["A", "B"],
        ["B"],
    ]
    for voter, ranking in zip(voters, rankings, strict=True):
        S.submit_ranking(db, voter, w.round_id, ranking)
    # a member cannot vote twice, nor for another member
    with pytest.raises(ConflictError, match="already ranked"):
        S.submit_ranking(db, w.member, w.round_id, ["C", "B", "A"])
    with pytest.raises(PermissionDeniedError, match="their own ranking"):
        S.submit_ranking(db, w.member, w.round_id, ["C"], member_id=w.member2.user_id)
    with pytest.raises(BallotError, match="ranked twice"):
        S.submit_ranking(db, w.outsider, w.round_id, ["A", "A"])
    assert S.my_ranking(db, w.member, w.round_id).order == ("B", "A", "C")

    result = S.tally_round(db, w.facilitator, w.round_id)
    oracle = schulze(rankings, ["A", "B", "C"])
    assert result.winner == oracle.winner == "B"
    assert result.order == oracle.order
    pd.testing.assert_frame_equal(result.pairwise, oracle.pairwise, check_dtype=False)
    pd.testing.assert_frame_equal(result.strongest, oracle.strongest, check_dtype=False)
    assert S.get_result(db, w.round_id).pairwise.loc["B", "A"] == oracle.pairwise.loc["B", "A"]
    with pytest.raises(PhaseError):
        S.submit_ranking(
            db, w.extras[3], w.round_id, ["A"]
        )  # after the tally: outside the vote phase

    published = S.publish_plan(db, w.facilitator, w.round_id)
    assert published.label == "B" and published.title == "Investment first"
    frame = S.plan_frame(db, published.plan_sha256)
    np.testing.assert_allclose(frame["level"].to_numpy(), colombia.activity_levels * 1.1)

    # the published plan cannot be changed: by the services …
    with pytest.raises(ConflictError, match="already published"):
        S.publish_plan(db, w.facilitator, w.round_id)
    with pytest.raises(ConflictError, match="cannot be changed"):
        S.advance_phase(db, w.facilitator, w.round_id)
    with pytest.raises(PhaseError):
        S.add_alternative(db, w.facilitator, w.round_id, "late idea")
    # … through the ORM …
    with pytest.raises(ConflictError, match="cannot be changed"), db.transaction() as session:
        row = session.get(PublishedPlan, 1)
        row.figures = {"scale": 99}
    # … nor in SQL
    for statement in (
        update(PublishedPlan).values(figures={"x": 1}),
        text("DELETE FROM published_plans"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(statement)
    assert S.get_published_plan(db, w.round_id).figures == {"scale": 1.1}

    dash = S.dashboard(db, w.assembly_id)
    assert dash.current_round.phase.value == "published"
    assert dash.turnout.n_rankings == 6 and len(dash.alternatives) == 3
    report = S.verify_audit_log(db)
    assert report.ok
    actions = [r.action for r in S.audit_log(db, limit=1000)]
    assert actions.count("ballot.submit") == 6 and actions.count("ranking.submit") == 6
    assert actions[0] == "plan.publish"


def test_vote_needs_two_alternatives_and_rankings(db, colombia):
    economy = S.store_economy(db, S.Actor.system(), colombia)
    w = build_world(db, economy_id=economy.id)
    S.submit_ballot(db, w.member, w.round_id, {"food": 100})
    S.advance_phase(db, w.facilitator, w.round_id)
    S.add_alternative(db, w.facilitator, w.round_id, "only one")
    with pytest.raises(PhaseError, match="at least two"):
        S.advance_phase(db, w.facilitator, w.round_id)
    S.add_alternative(db, w.facilitator, w.round_id, "second")
    with pytest.raises(PhaseError, match="not vote"):
        S.advance_phase(db, w.facilitator, w.round_id, expected="vote")
    S.advance_phase(db, w.facilitator, w.round_id)
    with pytest.raises(PhaseError, match="no rankings"):
        S.tally_round(db, w.facilitator, w.round_id)
    with pytest.raises(PhaseError, match="publish"):
        S.publish_plan(db, w.facilitator, w.round_id)
    with pytest.raises(BallotError, match="unknown alternative 'Z'"):
        S.submit_ranking(db, w.member, w.round_id, ["Z"])


def test_stored_economy_round_trips(db, colombia):
    info = S.store_economy(db, S.Actor.system(), colombia)
    again = S.store_economy(db, S.Actor.system(), colombia)
    assert again.sha256 == info.sha256 and again.id != info.id
    loaded = S.load_economy(db, info.id)
    assert loaded.n_products == 68 and (loaded.use != colombia.use).nnz == 0


def test_compute_alternatives_from_the_rounds_weights(db, colombia):
    seed = S.seed_demo(db, economy=colombia)
    members = [a for a in seed.accounts if a.role.value == "member"]
    for k, account in enumerate(members):
        actor = S.authenticate(db, account.username, account.password)
        S.submit_ballot(
            db, actor, seed.round_id, {"food": 40 - 5 * k, "investment": 30 + 5 * k, "health": 30}
        )
    facilitator = next(a for a in seed.accounts if a.role.value == "facilitator")
    facilitator = S.authenticate(db, facilitator.username, facilitator.password)
    closed = S.advance_phase(db, facilitator, seed.round_id)
    stored = S.compute_alternatives(db, facilitator, seed.round_id)
    assert [a.label for a in stored] == ["A", "B", "C"]  # no imports account in this table
    assert [a.title for a in stored] == ["As voted", "More consumption now", "More investment"]
    assert stored[0].weights == pytest.approx(closed.weights)
    frame = S.plan_frame(db, stored[2].plan_sha256)
    assert len(frame) == 68 and set(frame.columns) >= {"target", "delivered", "fulfilment"}
    assert frame["delivered"].sum() == pytest.approx(stored[2].figures["total_deliveries"])
    with pytest.raises(ConflictError, match="already has 3 alternatives"):
        S.compute_alternatives(db, facilitator, seed.round_id)
    assert S.advance_phase(db, facilitator, seed.round_id).phase.value == "vote"
