"""The pages of live participatory rounds through the test client: opening a round from the
form, the round page and its fragment, a member proposing from the council page, refused
proposals that come back as typed (nothing stored), who may see a council, and CSRF."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from server_helpers import audit_head, csrf_of, sign_in

from commonplan.services import accounts, assemblies, participation
from commonplan.services.roles import Actor

GENERATED = {"workers": "6", "consumers": "6", "goods": "2", "seed": "3"}


@pytest.fixture(scope="module")
def backend() -> str:
    return "sqlite"


@pytest.fixture()
def browser(app):
    with TestClient(app) as test_client:
        yield test_client


def _open_form(client: TestClient, title: str, assembly: int | None = None, **fields: str):
    page = client.get("/live" + (f"?assembly={assembly}" if assembly else ""))
    assert page.status_code == 200
    match = re.search(r'action="(/live/\d+/open)"', page.text)
    assert match, "no opening form"
    data = {
        "csrf_token": csrf_of(page.text),
        "title": title,
        "source": "generate",
        **GENERATED,
        "threshold": "3",
        "max_iterations": "200",
        "minutes": "",
        **fields,
    }
    return client.post(match.group(1), data=data, follow_redirects=False)


@pytest.fixture(scope="module")
def live_round(world, app):
    """A round opened from the page by an administrator, which provisions the councils."""
    with TestClient(app) as client:
        sign_in(client, "admin")
        response = _open_form(client, "Provisioning round", world.assembly_id)
        assert response.status_code == 303, response.text
    rounds = participation.list_live_rounds(world.database, world.assembly_id)
    first = rounds[0]
    councils = participation.round_councils(world.database, Actor.system(), first.id)
    assert councils == []  # the system actor is a member of none
    return first


def _council_ids(world, round_id: int) -> dict[str, int]:
    names = {c.name: c.id for c in assemblies.list_councils(world.database, world.assembly_id)}
    return {n: i for n, i in names.items() if n.startswith(("WC ", "CC "))}


def test_facilitator_without_councils_is_told_so(browser, world):
    system = Actor.system()
    bare = assemblies.create_assembly(world.database, system, "Bare assembly")
    accounts.add_facilitator(world.database, system, bare.id, world.users["fac"])
    sign_in(browser, "fac")
    before = audit_head(world)
    response = _open_form(browser, "No councils yet", bare.id)
    assert f'action="/live/{bare.id}/open"' in response.text
    assert response.status_code == 404
    assert "the assembly has no council" in response.text
    assert 'value="No councils yet"' in response.text  # the form as typed
    assert audit_head(world) == before


def test_facilitator_opens_a_round_and_everyone_sees_it(browser, world, live_round):
    sign_in(browser, "fac")
    response = _open_form(browser, "Spring round", world.assembly_id, minutes="30")
    assert response.status_code == 303, response.text
    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "Spring round" in page.text and "is open: iteration 1" in page.text
    assert 'id="close-form"' in page.text  # the board
    assert "closes at" in page.text and "UTC" in page.text
    assert "private-1" in page.text and "700" in page.text  # the initial prices
    listing = browser.get("/live")
    assert "Spring round" in listing.text
    # anonymous visitors see the round and its fragment, not the board's button
    anonymous = TestClient(browser.app)
    public = anonymous.get(response.headers["location"])
    assert public.status_code == 200 and 'id="close-form"' not in public.text
    round_id = int(response.headers["location"].rsplit("/", 1)[1])
    fragment = anonymous.get(f"/fragments/live/{round_id}")
    assert fragment.status_code == 200 and 'id="live-part"' in fragment.text
    assert "<html" not in fragment.text
    assert anonymous.get("/live/999999", headers={"accept": "text/html"}).status_code == 404


def test_invalid_opening_form_is_refused_as_typed(browser, world, live_round):
    sign_in(browser, "fac")
    before = audit_head(world)
    response = _open_form(browser, "Bad settings", world.assembly_id, threshold="lots")
    assert response.status_code == 422
    assert "stopping threshold" in response.text and 'value="lots"' in response.text
    response = _open_form(browser, "Too few workers", world.assembly_id, workers="2")
    assert response.status_code == 422 and "cannot generate" in response.text
    response = _open_form(browser, "Bad file", world.assembly_id, source="file")
    assert response.status_code == 422 and "no economy file chosen" in response.text
    assert audit_head(world) == before
    observer = TestClient(browser.app)
    sign_in(observer, "m1")
    assert 'id="open-form"' not in observer.get("/live").text


def test_uploaded_economy_file(browser, world, live_round, tmp_path):
    from commonplan.participation.experiments import write_experiment
    from commonplan.participation.generator import GeneratorSpec, generate_economy

    spec = GeneratorSpec(intermediate_inputs=(1, 2), nature_inputs=(1, 2), labour_inputs=(1, 2))
    path = write_experiment(generate_economy(6, 6, 2, seed=3, spec=spec), tmp_path / "e.clj")
    sign_in(browser, "fac")
    page = browser.get(f"/live?assembly={world.assembly_id}")
    action = re.search(r'action="(/live/\d+/open)"', page.text).group(1)
    data = {
        "csrf_token": csrf_of(page.text),
        "title": "From a file",
        "source": "file",
        "threshold": "3",
        "max_iterations": "50",
        "minutes": "",
    }
    bad = browser.post(
        action, data=data, files={"file": ("broken.clj", b"(def ccs [")}, follow_redirects=False
    )
    assert bad.status_code == 422 and "broken.clj" in bad.text
    good = browser.post(
        action,
        data=data,
        files={"file": ("e.clj", path.read_bytes())},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text


def test_member_proposes_and_bad_proposals_are_refused_as_typed(browser, world, live_round):
    ids = _council_ids(world, live_round.id)
    wc1 = ids["WC 1"]
    assemblies.add_membership(world.database, Actor.system(), wc1, world.users["m3"])
    sign_in(browser, "m3")
    round_page = browser.get(f"/live/{live_round.id}")
    assert f"/live/{live_round.id}/councils/{wc1}" in round_page.text
    assert 'id="close-form"' not in round_page.text
    page = browser.get(f"/live/{live_round.id}/councils/{wc1}")
    assert page.status_code == 200
    assert "the council&#39;s optimum at these prices" in page.text or (
        "the council's optimum at these prices" in page.text
    )
    fields = dict(re.findall(r'<input name="((?:output|q:[^"]+))" value="([^"]*)"', page.text))
    assert "output" in fields and any(k.startswith("q:") for k in fields)
    token = csrf_of(page.text)
    now = str(participation.live_round_info(world.database, live_round.id).iteration)
    action = f"/live/{live_round.id}/councils/{wc1}/propose"
    before = audit_head(world)
    good = next(k for k in fields if k.startswith("q:"))
    for bad_value, message in (("-5", "finite number ≥ 0"), ("lots", "is not a number")):
        typed = dict(fields, **{good: bad_value})
        refused = browser.post(
            action, data={"csrf_token": token, "iteration": now, **typed}, follow_redirects=False
        )
        assert refused.status_code == 422, refused.text
        assert message in refused.text
        assert f'value="{bad_value}"' in refused.text  # as typed
        assert f'value="{fields["output"]}"' in refused.text
    assert audit_head(world) == before
    # no anti-forgery token: refused, nothing stored
    forged = browser.post(action, data={"iteration": now, **fields}, follow_redirects=False)
    assert forged.status_code == 403 and audit_head(world) == before
    # a wrong iteration: refused with the reason
    stale = browser.post(
        action, data={"csrf_token": token, "iteration": "7", **fields}, follow_redirects=False
    )
    assert stale.status_code == 409 and "is not open" in stale.text
    typed = dict(fields, output="12.5")
    stored = browser.post(
        action, data={"csrf_token": token, "iteration": now, **typed}, follow_redirects=False
    )
    assert stored.status_code == 303, stored.text
    after = browser.get(stored.headers["location"])
    assert "is stored" in after.text and 'value="12.5"' in after.text
    view = participation.council_view(world.database, world.actor("m3"), live_round.id, wc1)
    assert view.proposed_now and view.last_proposal["output"] == 12.5


def test_only_members_and_the_board_see_a_council(browser, world, live_round):
    ids = _council_ids(world, live_round.id)
    cc1 = ids["CC 1"]
    sign_in(browser, "outsider")
    page = browser.get(f"/live/{live_round.id}/councils/{cc1}", headers={"accept": "text/html"})
    assert page.status_code == 403 and "only the council" in page.text
    refused = browser.post(
        f"/live/{live_round.id}/councils/{cc1}/propose",
        data={"csrf_token": csrf_of(page.text), "iteration": "1", "q:private-1": "1"},
        headers={"accept": "text/html"},
    )
    assert refused.status_code == 403
    anonymous = TestClient(browser.app)
    assert (
        anonymous.get(
            f"/live/{live_round.id}/councils/{cc1}", headers={"accept": "text/html"}
        ).status_code
        == 403
    )
    board = TestClient(browser.app)
    sign_in(board, "fac")
    page = board.get(f"/live/{live_round.id}/councils/{cc1}")
    assert page.status_code == 200 and "CC 1" in page.text
    assert 'name="q:public-1"' in page.text and 'name="output"' not in page.text


def test_board_closes_an_iteration(browser, world, live_round):
    sign_in(browser, "m1")
    page = browser.get(f"/live/{live_round.id}")
    refused = browser.post(
        f"/live/{live_round.id}/close",
        data={"csrf_token": csrf_of(page.text)},
        headers={"accept": "text/html"},
    )
    assert refused.status_code == 403
    sign_in(browser, "fac")
    page = browser.get(f"/live/{live_round.id}")
    before = participation.live_round_info(world.database, live_round.id).iteration
    assert browser.post(f"/live/{live_round.id}/close", data={}).status_code == 403  # no CSRF
    closed = browser.post(
        f"/live/{live_round.id}/close",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    page = browser.get(closed.headers["location"])
    assert f"Iteration {before} is closed" in page.text
    assert 'id="trajectory-table"' in page.text and 'data-chart="live-trajectory-data"' in page.text
    assert participation.live_round_info(world.database, live_round.id).iteration == before + 1


@pytest.fixture(scope="module")
def finished_round(app, world, live_round) -> int:
    """A round capped at one iteration, which a bot account closed by proposing for all."""
    import numpy as np

    from commonplan.participation.live import bot_proposals
    from commonplan.participation.procedure import Councils

    browser = TestClient(app)
    sign_in(browser, "fac")
    opened = _open_form(browser, "One iteration", world.assembly_id, max_iterations="1")
    assert opened.status_code == 303
    round_id = int(opened.headers["location"].rsplit("/", 1)[1])
    bot = accounts.create_user(
        world.database, Actor.system(), "live-bot", "a-long-bot-password", "member"
    )
    councils = participation.provision_councils(
        world.database,
        Actor.system(),
        world.assembly_id,
        _economy_of_round(world, round_id),
    )
    participation.add_members(
        world.database, Actor.system(), bot.id, [c.council_id for c in councils]
    )
    economy = _economy_of_round(world, round_id)
    info = participation.live_round_info(world.database, round_id)
    items = []
    for kind in ("worker", "consumer"):
        mine = [c for c in councils if c.kind == kind]
        proposals = bot_proposals(
            Councils(economy), np.asarray(info.price), kind, [c.position for c in mine]
        )
        items += [{"council": c.council_id, **p} for c, p in zip(mine, proposals, strict=True)]
    bot_actor = accounts.get_actor(world.database, bot.id)
    done = participation.submit_proposals(world.database, bot_actor, round_id, 1, items)
    assert done.closed
    return round_id


def test_finished_round_shows_its_plan_to_the_board(browser, world, finished_round):
    round_id = finished_round
    sign_in(browser, "fac")
    page = browser.get(f"/live/{round_id}")
    assert page.status_code == 200
    assert 'id="plan-table"' in page.text and "capped" in page.text
    assert 'id="close-form"' not in page.text and "hx-trigger" not in page.text
    member = TestClient(browser.app)
    sign_in(member, "m1")
    assert 'id="plan-table"' not in member.get(f"/live/{round_id}").text


def _economy_of_round(world, round_id: int):
    with world.database.read() as session:
        return participation._economy(session, participation._round(session, round_id))


def test_board_adds_the_plan_as_an_alternative(browser, world, finished_round):
    from commonplan.services import ballots, queries, rounds

    planning = world.open_round("Live plan vote")
    points = {"food": 50, "housing": 30, "health": 20}
    ballots.submit_ballot(world.database, world.actor("m1"), planning, points)
    rounds.advance_phase(world.database, world.actor("fac"), planning)
    sign_in(browser, "fac")
    page = browser.get(f"/live/{finished_round}")
    assert 'id="alternative-form"' in page.text
    added = browser.post(
        f"/live/{finished_round}/alternative",
        data={"csrf_token": csrf_of(page.text), "planning_round_id": str(planning)},
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    titles = [a.title for a in queries.list_alternatives(world.database, planning)]
    assert "Participatory plan: One iteration" in titles
    again = browser.post(
        f"/live/{finished_round}/alternative",
        data={"planning_round_id": str(planning)},
        headers={"accept": "text/html"},
    )
    assert again.status_code == 403  # no anti-forgery token
