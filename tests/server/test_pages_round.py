"""A whole round from the pages: opening it, alternatives, accounts and councils; refused
forms come back exactly as typed, with the reason next to the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from server_helpers import audit_head, bearer, csrf_of, sign_in

from commonplan.services import accounts, assemblies, queries
from commonplan.services.roles import Actor


@pytest.fixture(scope="module")
def backend() -> str:
    """SQLite only: the services underneath are run on PostgreSQL by test_api_round."""
    return "sqlite"


@pytest.fixture()
def browser(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def economy_assembly(world) -> int:
    """An assembly on the 15-sector BEA table, in Karachi's time zone (UTC+05:00, no summer
    time), with one council of the three members."""
    from commonplan.datasets import load_dataset

    system = Actor.system()
    stored = assemblies.store_economy(world.database, system, load_dataset("bea2021_15"))
    assembly = assemblies.create_assembly(
        world.database,
        system,
        "Round pages assembly",
        economy_id=stored.id,
        time_zone="Asia/Karachi",
    )
    council = assemblies.create_council(
        world.database, system, assembly.id, "Consumers: all", "consumers", region="USA"
    )
    for name in ("m1", "m2", "m3"):
        assemblies.add_membership(world.database, system, council.id, world.users[name])
    accounts.add_facilitator(world.database, system, assembly.id, world.users["fac"])
    return assembly.id


def _value(html: str, name: str) -> str | None:
    match = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', html, re.S)
    return match.group(1) if match else None


def test_refused_ballot_comes_back_exactly_as_typed(browser, world):
    round_id = world.open_round("Typed ballot")
    sign_in(browser, "m1")
    token = csrf_of(browser.get("/ballot").text)
    before = audit_head(world)
    typed = {"points:food": "50", "points:housing": "40", "points:health": ""}
    refused = browser.post(
        "/ballot", data={**typed, "csrf_token": token, "round_id": str(round_id)}
    )
    assert refused.status_code == 422
    for name, value in typed.items():
        assert _value(refused.text, name) == value, name
    assert 'id="error-total"' in refused.text and "sum to 90" in refused.text
    assert audit_head(world) == before
    # a refusal naming one group puts the reason next to that group's field
    wrong = browser.post(
        "/ballot",
        data={"points:food": "-5", "points:housing": "105", "csrf_token": token},
    )
    assert wrong.status_code == 422 and 'id="error-food"' in wrong.text
    assert re.search(r'name="points:food"[^>]*aria-invalid="true"', wrong.text)
    assert _value(wrong.text, "points:food") == "-5"


def test_ranking_form_preselects_one_rank_per_alternative(browser, world):
    round_id = world.open_round("Rank preselection")
    fac = bearer(world, "fac")
    url = f"/api/v1/rounds/{round_id}"
    browser.post(f"{url}/ballots", json={"points": {"food": 100}}, headers=bearer(world, "m3"))
    browser.post(f"{url}/advance", headers=fac)
    for title in ("One", "Two", "Three"):
        browser.post(f"{url}/alternatives", headers=fac, json={"title": title})
    browser.post(f"{url}/advance", headers=fac)
    sign_in(browser, "m2")
    page = browser.get("/alternatives").text
    selected = dict(re.findall(r'name="rank:(\w)".*?<option value="(\d)" selected>', page, re.S))
    assert selected == {"A": "1", "B": "2", "C": "3"}
    # submitted as shown, it is accepted
    token = csrf_of(page)
    refused = browser.post(
        "/ranking",
        data={"rank:A": "2", "rank:B": "2", "rank:C": "1", "csrf_token": token},
    )
    assert refused.status_code == 422
    again = dict(
        re.findall(r'name="rank:(\w)".*?<option value="(\d)" selected>', refused.text, re.S)
    )
    assert again == {"A": "2", "B": "2", "C": "1"}  # as typed, not reset
    shown = browser.post(
        "/ranking",
        data={"rank:A": "1", "rank:B": "2", "rank:C": "3", "csrf_token": token},
        follow_redirects=False,
    )
    assert shown.status_code == 303
    mine = browser.get(f"{url}/rankings/me", headers=bearer(world, "m2")).json()
    assert mine["order"] == ["A", "B", "C"]


def _round_form(**fields: str | list[str]) -> dict:
    return {
        "title": "Autumn round",
        "group-0-name": "food",
        "group-0-description": "eat well",
        "group-0-sectors": ["11", "31G"],
        "group-1-name": "homes",
        "group-1-sectors": ["23"],
        "group-2-name": "investment",
        "group-2-kind": "investment",
        "ballot_deadline": "2031-05-01T06:31",
        "vote_deadline": "2031-05-08T18:00",
        "aggregation_rule": "median",
        **fields,
    }


def test_facilitator_opens_a_round_with_sectors_and_local_deadlines(
    browser, world, economy_assembly
):
    sign_in(browser, "fac")
    page = browser.get(f"/round/new?assembly={economy_assembly}")
    assert page.status_code == 200
    assert '<option value="31G">Manufacturing (31G)</option>' in page.text
    assert 'name="time_zone"' not in page.text  # the assembly's zone, not asked each time
    assert "<strong>Asia/Karachi</strong>" in page.text
    response = browser.post(
        f"/round/new?assembly={economy_assembly}",
        data={**_round_form(), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    info = queries.list_rounds(world.database, economy_assembly)[0]
    assert info.title == "Autumn round" and info.aggregation_rule == "median"
    assert [(g.name, g.sectors, g.kind) for g in info.target_groups] == [
        ("food", ("11", "31G"), "products"),
        ("homes", ("23",), "products"),
        ("investment", (), "investment"),
    ]
    # 06:31 in Karachi (UTC+05:00) is 01:31 UTC
    assert info.ballot_deadline == datetime(2031, 5, 1, 1, 31, tzinfo=UTC)
    assert info.vote_deadline == datetime(2031, 5, 8, 13, 0, tzinfo=UTC)
    dashboard = browser.get(f"/?assembly={economy_assembly}").text
    assert "2031-05-01 06:31 Asia/Karachi (UTC+05:00)" in dashboard  # shown as typed
    assert "2031-05-08 18:00 Asia/Karachi (UTC+05:00)" in dashboard
    assert "Agriculture, forestry, fishing, and hunting, Manufacturing" in dashboard


def test_refused_round_form_comes_back_as_typed(browser, world, economy_assembly):
    sign_in(browser, "fac")
    token = csrf_of(browser.get(f"/round/new?assembly={economy_assembly}").text)
    before = audit_head(world)
    typed = _round_form(vote_deadline="2031-04-01T09:00", title="Too late a vote")
    refused = browser.post(
        f"/round/new?assembly={economy_assembly}", data={**typed, "csrf_token": token}
    )
    assert refused.status_code == 422
    assert (
        'id="error-vote_deadline"' in refused.text and "after the ballot deadline" in refused.text
    )
    for name in (
        "title",
        "group-0-name",
        "group-0-description",
        "ballot_deadline",
        "vote_deadline",
    ):
        assert _value(refused.text, name) == typed[name], name
    assert '<option value="31G" selected>' in refused.text
    assert '<option value="23" selected>' in refused.text
    assert '<option value="median" selected>' in refused.text
    one_group = browser.post(
        f"/round/new?assembly={economy_assembly}",
        data={"title": "One group", "group-0-name": "food", "csrf_token": token},
    )
    assert one_group.status_code == 422 and 'id="error-groups"' in one_group.text
    assert audit_head(world) == before


def test_only_facilitators_open_rounds(browser, world, economy_assembly):
    sign_in(browser, "m1")
    page = browser.get(f"/round/new?assembly={economy_assembly}")
    assert "Only facilitators and administrators open rounds" in page.text
    before = audit_head(world)
    refused = browser.post(
        f"/round/new?assembly={economy_assembly}",
        data={**_round_form(), "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403
    forged = TestClient(browser.app)
    assert forged.post("/round/new", data=_round_form()).status_code in (401, 403)
    assert audit_head(world) == before


def test_compute_and_add_alternatives_then_vote_from_the_pages(browser, world, economy_assembly):
    from commonplan.services import ballots, rounds

    fac = world.actor("fac")
    opened = rounds.open_round(
        world.database,
        fac,
        economy_assembly,
        "Compute from the page",
        [
            {"name": "food", "sectors": ["11", "31G"]},
            {"name": "homes", "sectors": ["23", "FIRE"]},
        ],
    )
    for name, points in (("m1", {"food": 70, "homes": 30}), ("m2", {"food": 20, "homes": 80})):
        ballots.submit_ballot(world.database, world.actor(name), opened.id, points)
    sign_in(browser, "fac")
    dashboard = browser.get(f"/?assembly={economy_assembly}")
    advanced = browser.post(
        f"/round/advance?assembly={economy_assembly}",
        data={
            "csrf_token": csrf_of(dashboard.text),
            "round_id": str(opened.id),
            "expected": "ballot",
        },
        follow_redirects=False,
    )
    assert advanced.status_code == 303
    dashboard = browser.get(f"/?assembly={economy_assembly}").text
    assert 'id="advance-blocked"' in dashboard  # fewer than two alternatives: no dead-end button
    page = browser.get(f"/alternatives?assembly={economy_assembly}")
    assert 'id="compute-form"' in page.text
    token = csrf_of(page.text)
    computed = browser.post(
        f"/round/compute?assembly={economy_assembly}",
        data={"csrf_token": token, "round_id": str(opened.id)},
        follow_redirects=False,
    )
    assert computed.status_code == 303, computed.text
    n = len(queries.list_alternatives(world.database, opened.id))
    assert n >= 3
    before = audit_head(world)
    refused = browser.post(
        f"/round/alternative?assembly={economy_assembly}",
        data={
            "csrf_token": token,
            "round_id": str(opened.id),
            "title": "  ",
            "description": "kept <as> typed",
        },
    )
    assert refused.status_code == 422 and 'id="error-title"' in refused.text
    assert "kept &lt;as&gt; typed</textarea>" in refused.text
    assert audit_head(world) == before
    added = browser.post(
        f"/round/alternative?assembly={economy_assembly}",
        data={"csrf_token": token, "round_id": str(opened.id), "title": "Hand-made"},
        follow_redirects=False,
    )
    assert added.status_code == 303
    shown = browser.get(f"/alternatives?assembly={economy_assembly}").text
    assert "Hand-made" in shown and "Fulfilment: food" in shown
    assert "fulfilment_by_group" not in shown and "e+0" not in shown
    assert "USD million" in shown
    # a member cannot compute or add
    sign_in(browser, "m1")
    before = audit_head(world)
    member_page = browser.get(f"/alternatives?assembly={economy_assembly}").text
    assert 'id="add-alternative-form"' not in member_page
    forbidden = browser.post(
        f"/round/alternative?assembly={economy_assembly}",
        data={"csrf_token": csrf_of(member_page), "round_id": str(opened.id), "title": "Mine"},
    )
    assert forbidden.status_code == 403 and audit_head(world) == before


def test_administrator_manages_accounts_councils_and_memberships(browser, world, economy_assembly):
    sign_in(browser, "admin")
    page = browser.get(f"/admin?assembly={economy_assembly}")
    assert page.status_code == 200 and 'id="new-council"' in page.text
    token = csrf_of(page.text)
    url = f"/admin/{{}}?assembly={economy_assembly}"
    before = audit_head(world)
    short = browser.post(
        url.format("user"),
        data={
            "csrf_token": token,
            "username": "newbie",
            "display_name": "New Bie",
            "password": "short",
            "role": "member",
        },
    )
    assert short.status_code == 422 and 'id="error-password"' in short.text
    assert _value(short.text, "username") == "newbie"
    assert _value(short.text, "display_name") == "New Bie"
    assert _value(short.text, "password") is None  # never echoed
    assert audit_head(world) == before
    created = browser.post(
        url.format("user"),
        data={
            "csrf_token": token,
            "username": "newbie",
            "display_name": "New Bie",
            "password": "long-enough-pass",
            "role": "member",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    user = next(u for u in accounts.list_users(world.database) if u.username == "newbie")
    council = browser.post(
        url.format("council"),
        data={"csrf_token": token, "name": "Workers: building", "kind": "workers", "sector": "23"},
        follow_redirects=False,
    )
    assert council.status_code == 303
    info = next(
        c
        for c in assemblies.list_councils(world.database, economy_assembly)
        if c.name == "Workers: building"
    )
    assert info.sector == "23"
    joined = browser.post(
        url.format("membership"),
        data={"csrf_token": token, "council_id": str(info.id), "user_id": str(user.id)},
        follow_redirects=False,
    )
    assert joined.status_code == 303
    listed = browser.get(f"/admin?assembly={economy_assembly}").text
    assert "Construction" in listed and "New Bie (newbie)" in listed
    twice = browser.post(
        url.format("membership"),
        data={"csrf_token": token, "council_id": str(info.id), "user_id": str(user.id)},
    )
    assert twice.status_code == 409
    assert f'<option value="{info.id}" selected>' in twice.text
    left = browser.post(
        url.format("membership"),
        data={
            "csrf_token": token,
            "council_id": str(info.id),
            "user_id": str(user.id),
            "remove": "1",
        },
        follow_redirects=False,
    )
    assert left.status_code == 303
    assert assemblies.council_members(world.database, info.id) == []
    disabled = browser.post(
        url.format("active"),
        data={"csrf_token": token, "user_id": str(user.id), "active": "0"},
        follow_redirects=False,
    )
    assert disabled.status_code == 303
    assert not next(u for u in accounts.list_users(world.database) if u.id == user.id).active


def test_administrator_creates_an_assembly_with_its_time_zone(browser, world, economy_assembly):
    sign_in(browser, "admin")
    page = browser.get("/admin")
    assert 'id="new-assembly"' in page.text and '<option value="Europe/Madrid">' in page.text
    token = csrf_of(page.text)
    economy_id = assemblies.get_assembly(world.database, economy_assembly).economy_id
    typed = {
        "name": "Assembly of the south",
        "description": "kept as typed",
        "economy_id": str(economy_id),
        "time_zone": "Mars/Olympus",
    }
    before = audit_head(world)
    refused = browser.post("/admin/assembly", data={**typed, "csrf_token": token})
    assert refused.status_code == 422 and 'id="error-time_zone"' in refused.text
    assert "unknown time zone &#39;Mars/Olympus&#39;" in refused.text
    assert _value(refused.text, "name") == typed["name"]
    assert _value(refused.text, "description") == typed["description"]
    assert f'<option value="{economy_id}" selected>' in refused.text
    assert audit_head(world) == before
    created = browser.post(
        "/admin/assembly",
        data={**typed, "time_zone": "America/Bogota", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303
    info = next(a for a in assemblies.list_assemblies(world.database) if a.name == typed["name"])
    assert (info.time_zone, info.economy_id) == ("America/Bogota", economy_id)
    assert created.headers["location"].endswith(f"/admin?assembly={info.id}")


def test_only_administrators_manage_accounts(browser, world):
    sign_in(browser, "fac")
    page = browser.get("/admin")
    assert "Only administrators" in page.text and 'id="new-user"' not in page.text
    before = audit_head(world)
    refused = browser.post(
        "/admin/user",
        data={
            "csrf_token": csrf_of(page.text),
            "username": "sneaky",
            "password": "long-enough-pass",
            "role": "administrator",
        },
    )
    assert refused.status_code == 403
    no_csrf = browser.post(
        "/admin/user",
        data={"username": "sneaky", "password": "long-enough-pass", "role": "member"},
    )
    assert no_csrf.status_code in (400, 403)
    assert audit_head(world) == before


def test_api_reference_works_offline(browser, world):
    page = browser.get("/api/docs")
    assert page.status_code == 200
    assert "/api/v1/rounds/{round_id}/ballots" in page.text and 'href="/openapi.json"' in page.text
    hosts = set(re.findall(r'(?:src|href)="((?:https?:)?//[^/"]+)', page.text))
    assert hosts <= {"http://testserver"}, hosts  # nothing from elsewhere
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert browser.get("/openapi.json").status_code == 200


def test_service_warnings_are_rendered_not_computed():
    from commonplan.server.pages import _warnings

    round_info = SimpleNamespace(warnings=("group 'food' has no sectors",))
    alternative = SimpleNamespace(warnings=[SimpleNamespace(message="A and B are identical")])
    assert _warnings(round_info, alternative, round_info, object()) == [
        "group 'food' has no sectors",
        "A and B are identical",
    ]
