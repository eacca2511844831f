"""The demo assembly: councils, members with known passwords, an open round; seeding twice is harmless."""

from __future__ import annotations

from commonplan import services as S
from commonplan.services import Phase, Role


def test_seed_demo_on_a_real_economy(db, colombia):
    seed = S.seed_demo(db, economy=colombia)
    assert seed.created
    councils = S.list_councils(db, seed.assembly_id)
    kinds = {c.kind.value for c in councils}
    assert kinds == {"workers", "peasants", "consumers"}
    assert any("Agricultura" in (c.sector or "") for c in councils if c.kind.value == "peasants")
    round_ = S.get_round_info(db, seed.round_id)
    assert round_.phase is Phase.BALLOT
    names = round_.group_names
    assert names[:4] == ("food", "housing", "health", "energy") and "investment" in names
    food = round_.target_groups[0]
    assert "01 Agricultura" in food.sectors
    members = [a for a in seed.accounts if a.role is Role.MEMBER]
    assert len(members) == 6
    actor = S.authenticate(db, members[0].username, members[0].password)
    mine = S.user_councils(db, actor.user_id)
    assert len([c for c in mine if c.assembly_id == seed.assembly_id]) == 2
    # and one council of the demo's live participatory round, whose 4th iteration awaits them
    from commonplan.services import participation

    live = participation.live_round_info(db, seed.live_round_id)
    assert (live.status, live.iteration) == ("open", 4)
    assert live.n_proposed == live.n_councils - len(members)
    [council] = participation.round_councils(db, actor, seed.live_round_id)
    view = participation.council_view(db, actor, seed.live_round_id, council.council_id)
    assert view.last_iteration == 3 and not view.proposed_now
    receipt = S.submit_ballot(db, actor, seed.round_id, {"food": 50, "investment": 50})
    assert receipt.points["investment"] == 50
    facilitator = next(a for a in seed.accounts if a.role is Role.FACILITATOR)
    assert S.authenticate(db, facilitator.username, facilitator.password).role is Role.FACILITATOR
    again = S.seed_demo(db, economy=colombia)
    assert not again.created and (again.assembly_id, again.round_id, again.live_round_id) == (
        seed.assembly_id,
        seed.round_id,
        seed.live_round_id,
    )
    assert S.verify_audit_log(db).ok
