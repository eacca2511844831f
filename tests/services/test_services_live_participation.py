"""Live participatory rounds through the services, on SQLite and PostgreSQL.

The oracle is the simulation: bots that send each council's own optimum
(:func:`commonplan.participation.live.bot_proposals`) must reproduce
:func:`commonplan.participation.procedure.run_year` round for round.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, text

from commonplan import services as S
from commonplan.errors import (
    NotFoundError,
    ParticipationInputError,
    PermissionDeniedError,
    PhaseError,
)
from commonplan.participation import generate_economy
from commonplan.participation.live import bot_proposals
from commonplan.participation.procedure import (
    Councils,
    hahnel_szczepanczyk_rule,
    run_year,
)
from commonplan.services import Actor
from commonplan.services import participation as P
from commonplan.store.audit import verify_audit
from commonplan.store.models import AuditHead, Base, LiveProposal, utcnow

PASSWORD = "correct horse battery"


def _world(db, economy, *, iteration_seconds=None, people=1):
    system = Actor.system()
    admin = S.create_user(db, system, "admin", PASSWORD, "administrator").actor()
    facilitator = S.create_user(db, system, "facil", PASSWORD, "facilitator").actor()
    bot = S.create_user(db, system, "bot", PASSWORD, "member").actor()
    observer = S.create_user(db, system, "observer", PASSWORD, "observer").actor()
    assembly = S.create_assembly(db, admin, "Live assembly")
    S.add_facilitator(db, admin, assembly.id, facilitator.user_id)
    councils = P.provision_councils(db, admin, assembly.id, economy)
    humans = []
    for k in range(people):  # person k is the only member of council k
        person = S.create_user(db, system, f"person{k}", PASSWORD, "member").actor()
        S.add_membership(db, admin, councils[k].council_id, person.user_id)
        humans.append(person)
    P.add_members(db, admin, bot.user_id, [c.council_id for c in councils[people:]])
    opened = P.open_live_round(
        db, facilitator, assembly.id, economy, title="Year 1", iteration_seconds=iteration_seconds
    )
    return {
        "admin": admin,
        "facilitator": facilitator,
        "bot": bot,
        "observer": observer,
        "people": humans,
        "councils": councils,
        "round": opened.id,
        "assembly": assembly.id,
    }


def _proposals(economy, councils, price, chosen):
    """Each chosen council's own optimum at ``price``, as the API takes it."""
    engine = Councils(economy)
    items = []
    for kind in ("worker", "consumer"):
        subset = [c for c in chosen if c.kind == kind]
        for council, proposal in zip(
            subset, bot_proposals(engine, price, kind, [c.position for c in subset]), strict=True
        ):
            items.append(dict(proposal, council=council.council_id))
    return items


def _iterate(db, world, economy, *, skip=()):
    """Every council proposes its optimum at the open prices (but those in ``skip``)."""
    info = P.live_round_info(db, world["round"])
    chosen = [c for c in world["councils"] if c.council_id not in skip]
    items = _proposals(economy, world["councils"], np.array(info.price), chosen)
    people = {c.council_id: p for c, p in zip(world["councils"], world["people"], strict=False)}
    for item in items:
        if item["council"] in people:
            P.submit_proposals(db, people[item["council"]], world["round"], info.iteration, [item])
    bot_items = [i for i in items if i["council"] not in people]
    for start in range(0, len(bot_items), 97):
        P.submit_proposals(
            db, world["bot"], world["round"], info.iteration, bot_items[start : start + 97]
        )
    return info


def _state(db):
    """Row counts of every table and the audit head: what a refused call must not change."""
    with db.read() as session:
        counts = {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }
        head = session.execute(select(AuditHead.seq)).scalar_one_or_none()
        proposals = session.execute(
            select(LiveProposal.id, LiveProposal.output, LiveProposal.quantities).order_by(
                LiveProposal.id
            )
        ).all()
    return counts, head, [tuple(map(str, p)) for p in proposals]


@pytest.fixture
def economy():
    return generate_economy(60, 40, 4, seed=3)


def test_bots_reproduce_the_simulation(db, economy):
    world = _world(db, economy)
    simulated = run_year(
        economy,
        np.full(economy.n_commodities, 700.0),
        hahnel_szczepanczyk_rule.initial_state(economy.n_commodities),
    )
    for _ in range(250):
        info = P.live_round_info(db, world["round"])
        if not info.is_open:
            break
        _iterate(db, world, economy)
    history = P.iteration_history(db, world["round"])
    info = P.live_round_info(db, world["round"])
    assert info.status == "converged" and simulated.converged
    assert len(history) == simulated.rounds
    live = np.array([it.price for it in history[1:]])
    np.testing.assert_allclose(live, simulated.price[:-1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        np.array([it.imbalance for it in history]), simulated.imbalance, rtol=1e-9, atol=1e-15
    )
    assert all(it.n_proposed == len(world["councils"]) and it.n_carried == 0 for it in history)
    trajectory = P.trajectory(db, world["round"])
    assert list(trajectory.index) == list(range(1, simulated.rounds + 1))
    np.testing.assert_allclose(trajectory.max(axis=1), simulated.worst_imbalance, rtol=1e-9)
    plan = P.final_plan(db, world["round"])
    assert plan["imbalance"].max() <= 0.03
    np.testing.assert_allclose(plan["supply"], simulated.supply[-1], rtol=1e-12)
    with db.read() as session:
        assert verify_audit(session).ok


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"output": 1.0, "quantities": {"gold-1": 1.0}}, "unknown good 'gold-1'"),
        ({"output": 1.0, "quantities": {"labour-1": -2.0}}, "quantity is -2.0"),
        ({"output": float("nan"), "quantities": {}}, "quantity is nan"),
        ({"output": "lots", "quantities": {}}, "is not a number"),
        ({"quantities": {"labour-1": 1.0}}, "has no output"),
        ({"output": 1.0, "quantities": {"private-1": 1.0}}, "cannot propose 'private-1'"),
    ],
)
def test_a_bad_worker_proposal_is_refused_and_nothing_changes(db, economy, item, message):
    world = _world(db, economy)
    council = world["councils"][1]  # a worker council of the bot
    assert council.kind == "worker"
    before = _state(db)
    good = _proposals(
        economy, world["councils"], np.full(economy.n_commodities, 700.0), [world["councils"][2]]
    )
    with pytest.raises(ParticipationInputError, match=message):
        P.submit_proposals(
            db, world["bot"], world["round"], 1, [*good, dict(item, council=council.council_id)]
        )
    assert _state(db) == before


def test_a_consumer_council_proposes_no_output_and_no_labour(db, economy):
    world = _world(db, economy)
    consumer = next(c for c in world["councils"] if c.kind == "consumer")
    before = _state(db)
    with pytest.raises(ParticipationInputError, match="proposes no output"):
        P.submit_proposals(
            db, world["bot"], world["round"], 1, [{"council": consumer.council_id, "output": 1.0}]
        )
    with pytest.raises(ParticipationInputError, match="cannot propose 'labour-1'"):
        P.submit_proposals(
            db,
            world["bot"],
            world["round"],
            1,
            [{"council": consumer.council_id, "quantities": {"labour-1": 3.0}}],
        )
    assert _state(db) == before


def test_proposals_outside_the_open_iteration_or_for_others_are_refused(db, economy):
    world = _world(db, economy, people=2)
    person = world["people"][0]
    mine, other = world["councils"][0], world["councils"][1]
    price = np.full(economy.n_commodities, 700.0)
    [own] = _proposals(economy, world["councils"], price, [mine])
    [theirs] = _proposals(economy, world["councils"], price, [other])
    before = _state(db)
    with pytest.raises(PermissionDeniedError, match="not a member of council"):
        P.submit_proposals(db, person, world["round"], 1, [own, theirs])
    with pytest.raises(PhaseError, match="iteration 2 of live round .* is not open"):
        P.submit_proposals(db, person, world["round"], 2, [own])
    with pytest.raises(ParticipationInputError, match="takes no part in this round"):
        P.submit_proposals(db, person, world["round"], 1, [dict(own, council=10**6)])
    with pytest.raises(ParticipationInputError, match="two proposals"):
        P.submit_proposals(db, person, world["round"], 1, [own, own])
    with pytest.raises(NotFoundError):
        P.submit_proposals(db, person, 999, 1, [own])
    with pytest.raises(PermissionDeniedError):  # facilitators do not propose for councils
        P.submit_proposals(db, world["facilitator"], world["round"], 1, [own])
    assert _state(db) == before
    _iterate(db, world, economy)  # iteration 1 closes when everybody has proposed
    assert P.live_round_info(db, world["round"]).iteration == 2
    before = _state(db)
    with pytest.raises(PhaseError, match="iteration 1 of live round .* is not open"):
        P.submit_proposals(db, person, world["round"], 1, [own])
    assert _state(db) == before


def test_a_revision_replaces_the_proposal_and_does_not_close_the_iteration(db, economy):
    world = _world(db, economy)
    person, council = world["people"][0], world["councils"][0]
    [own] = _proposals(economy, world["councils"], np.full(economy.n_commodities, 700.0), [council])
    first = P.submit_proposals(db, person, world["round"], 1, [own])
    revised = P.submit_proposals(
        db, person, world["round"], 1, [dict(own, output=own["output"] / 2)]
    )
    assert (first.stored, first.replaced, revised.replaced, revised.closed) == (1, 0, 1, False)
    view = P.council_view(db, person, world["round"], council.council_id)
    assert view.last_proposal["output"] == own["output"] / 2 and view.proposed_now
    assert P.live_round_info(db, world["round"]).n_proposed == 1
    with db.read() as session:
        assert verify_audit(session).ok


def test_at_the_deadline_a_late_councils_last_proposal_stands(db, economy):
    world = _world(db, economy, iteration_seconds=600)
    late = world["councils"][0]
    _iterate(db, world, economy)  # iteration 1: everybody
    info = P.live_round_info(db, world["round"])
    assert info.iteration == 2 and info.deadline is not None
    _iterate(db, world, economy, skip={late.council_id})  # iteration 2: one council is late
    assert P.live_round_info(db, world["round"]).iteration == 2
    assert P.close_due_iterations(db, utcnow()) == []  # not due yet
    after = info.deadline + timedelta(seconds=1)
    with pytest.raises(PhaseError, match="closed at"):
        [own] = _proposals(economy, world["councils"], np.array(info.price), [late])
        P.submit_proposals(db, world["people"][0], world["round"], 2, [own], now=after)
    assert P.close_due_iterations(db, after) == [(world["round"], 2)]
    assert P.close_due_iterations(db, after) == []  # idempotent
    closed = P.iteration_history(db, world["round"])[1]
    assert (closed.n_proposed, closed.n_carried, closed.n_missing, closed.closed_by) == (
        len(world["councils"]) - 1,
        1,
        0,
        "deadline",
    )
    table = P.board_proposals(db, world["facilitator"], world["round"], 2)
    carried = table[table["council"] == late.name]
    assert set(carried["carried_from"]) == {1}
    first = P.board_proposals(db, world["facilitator"], world["round"], 1)
    assert carried["units"].tolist() == first[first["council"] == late.name]["units"].tolist()
    with db.read() as session:
        assert verify_audit(session).ok


def test_the_board_closes_an_iteration_and_missing_councils_are_counted(db, economy):
    world = _world(db, economy)
    with pytest.raises(PermissionDeniedError):
        P.close_iteration(db, world["bot"], world["round"])
    closed = P.close_iteration(db, world["facilitator"], world["round"])
    assert (closed.number, closed.n_proposed, closed.n_missing) == (1, 0, len(world["councils"]))
    assert P.live_round_info(db, world["round"]).iteration == 2


def test_disclosure_totals_for_all_proposals_for_the_board_and_the_council(db, economy):
    world = _world(db, economy, people=2)
    _iterate(db, world, economy)
    for outsider in (world["observer"], world["bot"], world["people"][1]):
        with pytest.raises(PermissionDeniedError, match="only the facilitation board"):
            P.board_proposals(db, outsider, world["round"], 1)
    with pytest.raises(PermissionDeniedError, match="only the council's members"):
        P.council_view(db, world["people"][1], world["round"], world["councils"][0].council_id)
    own = P.council_view(db, world["people"][0], world["round"], world["councils"][0].council_id)
    assert own.last_iteration == 1 and set(own.imbalance) == {own.makes, *own.uses}
    board = P.council_view(
        db, world["facilitator"], world["round"], world["councils"][0].council_id
    )
    assert board.last_proposal == own.last_proposal
    table = P.board_proposals(db, world["admin"], world["round"], 1)
    assert table["council"].nunique() == len(world["councils"])
    # the public audit log holds salted hashes of the rows, never the quantities
    with db.read() as session:
        payloads = (
            session.execute(text("SELECT payload FROM audit_log WHERE action = 'live.propose'"))
            .scalars()
            .all()
        )
    quantity = repr(float(own.last_proposal["output"]))
    assert payloads and not any(quantity in p for p in payloads)


def test_a_changed_deleted_or_added_proposal_breaks_the_audit(db, economy):
    world = _world(db, economy)
    _iterate(db, world, economy)
    with db.read() as session:
        assert verify_audit(session).ok
    with db.transaction() as session:
        session.execute(text("UPDATE live_proposals SET output = output * 2 WHERE id = 3"))
    with db.read() as session:
        report = verify_audit(session)
    assert not report.ok and any("live_proposals row 3" in p.message for p in report.problems)
    with db.transaction() as session:
        session.execute(text("DELETE FROM live_proposals WHERE id = 5"))
        session.execute(text("UPDATE live_iterations SET price = '[1.0]' WHERE number = 2"))
    with db.read() as session:
        messages = [p.message for p in verify_audit(session).problems]
    assert any("live_proposals row 5" in m and "gone" in m for m in messages)
    assert any("live_iterations row" in m for m in messages)


def test_the_plan_goes_to_a_planning_round_as_an_alternative(db, economy):
    world = _world(db, economy)
    with pytest.raises(PhaseError, match="still open"):
        P.final_plan(db, world["round"])
    for _ in range(250):
        if not P.live_round_info(db, world["round"]).is_open:
            break
        _iterate(db, world, economy)
    planning = S.open_round(
        db, world["facilitator"], world["assembly"], "Vote", ["food", "housing"]
    )
    S.submit_ballot(db, world["people"][0], planning.id, {"food": 60, "housing": 40})
    S.advance_phase(db, world["facilitator"], planning.id)
    alternative = P.add_as_alternative(db, world["facilitator"], world["round"], planning.id)
    assert alternative.figures["status"] == "converged"
    assert alternative.figures["iterations"] == P.live_round_info(db, world["round"]).iteration
    with db.read() as session:
        assert verify_audit(session).ok


def test_opening_needs_the_councils_and_sane_settings(db, economy):
    world = _world(db, economy)
    other = generate_economy(200, 10, 4, seed=1)  # more councils than provisioned
    with pytest.raises(NotFoundError, match="has no council 'WC 61'"):
        P.open_live_round(db, world["facilitator"], world["assembly"], other, title="Too big")
    for settings in ({"stop_threshold": 0}, {"max_iterations": 0}, {"iteration_seconds": 0}):
        with pytest.raises(ParticipationInputError):
            P.open_live_round(
                db, world["facilitator"], world["assembly"], economy, title="Bad", **settings
            )


def test_a_group_commit_checks_each_submission_on_its_own(db, economy):
    world = _world(db, economy, people=2)
    price = np.full(economy.n_commodities, 700.0)
    mine, theirs = world["councils"][0], world["councils"][1]
    [own] = _proposals(economy, world["councils"], price, [mine])
    [other] = _proposals(economy, world["councils"], price, [theirs])
    person, second = world["people"]
    results = P.submit_many(
        db,
        [
            P.Submission(person, world["round"], 1, [own]),
            P.Submission(person, world["round"], 1, [other]),  # not their council
            P.Submission(second, world["round"], 1, [other]),
            P.Submission(person, world["round"], 1, [dict(own, output=1.5)]),  # a revision
        ],
    )
    assert isinstance(results[1], PermissionDeniedError)
    assert [type(r).__name__ for r in results] == [
        "SubmittedProposals",
        "PermissionDeniedError",
        "SubmittedProposals",
        "SubmittedProposals",
    ]
    view = P.council_view(db, person, world["round"], mine.council_id)
    assert view.last_proposal["output"] == 1.5
    assert P.live_round_info(db, world["round"]).n_proposed == 2
    with db.read() as session:
        assert verify_audit(session).ok


def test_concurrent_first_proposals_of_one_council_store_one_row(db, economy):
    from concurrent.futures import ThreadPoolExecutor

    world = _world(db, economy)
    council = world["councils"][0]
    [own] = _proposals(economy, world["councils"], np.full(economy.n_commodities, 700.0), [council])
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda k: P.submit_proposals(
                    db, world["people"][0], world["round"], 1, [dict(own, output=float(k + 1))]
                ),
                range(8),
            )
        )
    assert sum(r.replaced == 0 for r in results) == 1  # one stored it first, the rest revised
    assert P.live_round_info(db, world["round"]).n_proposed == 1
    with db.read() as session:
        assert verify_audit(session).ok
