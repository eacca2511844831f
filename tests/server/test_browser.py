"""A real browser (Debian's Chromium, driven by Playwright) against a real server process:
sign in, cast a ballot, rank the alternatives, see the result; on a phone-sized screen."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from loadgen import ServerProcess, free_port
from playwright.sync_api import Page, sync_playwright
from server_helpers import PASSWORD

from commonplan.datasets import load_dataset
from commonplan.services import accounts, assemblies, ballots, queries, rounds
from commonplan.services.roles import Actor
from commonplan.store.database import open_database

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A migrated SQLite database with an assembly and an open round, served on a free port."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.sqlite3'}"
    db = open_database(url, migrate=True)
    system = Actor.system()
    ids = {
        name: accounts.create_user(db, system, name, PASSWORD, role).id
        for name, role in (
            ("fac", "facilitator"),
            ("ana", "member"),
            ("ben", "member"),
            ("cai", "member"),
        )
    }
    economy = assemblies.store_economy(db, system, load_dataset("bea2021_15"))
    assembly = assemblies.create_assembly(
        db,
        system,
        "Browser assembly",
        economy_id=economy.id,
        description="Planning body for the browser test",
    )
    council = assemblies.create_council(
        db, system, assembly.id, "Workers: energy", "workers", sector="D35"
    )
    for name in ("ana", "ben", "cai"):
        assemblies.add_membership(db, system, council.id, ids[name])
    accounts.add_facilitator(db, system, assembly.id, ids["fac"])
    fac = accounts.get_actor(db, ids["fac"])
    planning_round = rounds.open_round(
        db, fac, assembly.id, "Spring round", ["food", "housing", "energy"]
    )
    server = ServerProcess(url, free_port()).start()
    try:
        yield {
            "db": db,
            "ids": ids,
            "fac": fac,
            "round_id": planning_round.id,
            "base": f"http://127.0.0.1:{server.port}",
        }
    finally:
        server.stop()
        db.dispose()


@pytest.fixture(scope="module")
def chromium():
    assert shutil.which(CHROMIUM) or shutil.os.path.exists(CHROMIUM), "install Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "Signed in as" in page.inner_text("main")


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the phone screen"


def test_sign_in_ballot_rank_and_result_on_a_phone(served, chromium, artifacts_dir):
    base, db, fac, round_id = served["base"], served["db"], served["fac"], served["round_id"]
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    requests_elsewhere: list[str] = []
    page.on(
        "request", lambda r: None if r.url.startswith(base) else requests_elsewhere.append(r.url)
    )

    # 1. sign in and cast a ballot, watching the live total
    _sign_in(page, base, "ana")
    assert "Spring round" in page.inner_text("main") and "0 / 3" in page.inner_text("#turnout")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "server-dashboard-phone.png"), full_page=True)
    page.goto(f"{base}/ballot")
    page.fill("input[name='points:food']", "50")
    page.fill("input[name='points:housing']", "20")
    page.fill("input[name='points:energy']", "20")
    assert page.inner_text("[data-total]") == "90"
    page.fill("input[name='points:energy']", "30")
    assert page.inner_text("[data-total]") == "100"
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "server-ballot-phone.png"), full_page=True)
    page.click("button:has-text('Submit ballot')")
    page.wait_for_selector("#current-ballot")
    assert ballots.my_ballot(db, accounts.get_actor(db, served["ids"]["ana"]), round_id).points == {
        "food": 50.0,
        "housing": 20.0,
        "energy": 30.0,
    }

    # a malformed ballot is refused on the page, with the reason
    page.fill("input[name='points:food']", "80")
    page.click("button:has-text('Submit ballot')")
    assert "sum to 130" in page.inner_text(".notice.error")

    # 2. the other members vote (through the services); the facilitator moves the round on
    for name, points in (("ben", {"housing": 100}), ("cai", {"energy": 60, "food": 40})):
        ballots.submit_ballot(db, accounts.get_actor(db, served["ids"][name]), round_id, points)
    rounds.advance_phase(db, fac, round_id)
    for title, weights in (
        ("Feed everyone", {"food": 0.6, "housing": 0.2, "energy": 0.2}),
        ("Homes first", {"food": 0.2, "housing": 0.6, "energy": 0.2}),
        ("Power the grid", {"food": 0.2, "housing": 0.2, "energy": 0.6}),
    ):
        rounds.add_alternative(
            db, fac, round_id, title, weights=weights, figures={"labour (million hours)": 12.5}
        )
    rounds.advance_phase(db, fac, round_id)

    # 3. rank the alternatives side by side, with their chart drawn by the local Plotly
    page.goto(f"{base}/alternatives")
    page.wait_for_selector("#fulfilment .main-svg")
    assert page.locator("section.card").count() == 3
    page.select_option("select[name='rank:A']", "2")
    page.select_option("select[name='rank:B']", "3")
    page.select_option("select[name='rank:C']", "1")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "server-alternatives-phone.png"), full_page=True)
    page.click("button:has-text('Submit ranking')")
    page.wait_for_selector("text=You have ranked: C > A > B")

    for name, order in (("ben", ["B", "A", "C"]), ("cai", ["C", "B", "A"])):
        from commonplan.services import votes

        votes.submit_ranking(db, accounts.get_actor(db, served["ids"][name]), round_id, order)
    rounds.tally_round(db, fac, round_id)

    # 4. see the result: C wins (beats A 2:1 and B 2:1), with the pairwise matrix
    page.goto(f"{base}/results")
    assert page.inner_text("#winner") == "C"
    rows = page.locator("#pairwise tbody tr")
    assert rows.count() == 3
    assert rows.nth(2).locator("td").nth(0).inner_text() == "2"  # C over A
    page.wait_for_selector("#weights .main-svg")
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "server-results-phone.png"), full_page=True)

    # 5. the economy explorer draws its key-sector and dependence charts
    page.goto(f"{base}/economy")
    page.wait_for_selector("#linkages .main-svg")
    page.wait_for_selector("#dependence .main-svg")
    assert page.locator("table tbody tr").count() >= 1
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / "server-economy-phone.png"), full_page=True)
    assert requests_elsewhere == [], f"the pages fetched from elsewhere: {requests_elsewhere}"
    context.close()


DESKTOP = {"width": 1280, "height": 900}
HOSTILE_TITLE = '<a href="https://evil.example/">Free lunch</a>'


@pytest.fixture(params=["desktop", "phone"])
def fresh(request, tmp_path):
    """An assembly on the 15-sector BEA table with a facilitator, an administrator and three
    members in one council, and no round yet, served on a free port."""
    url = f"sqlite:///{tmp_path / 'round.sqlite3'}"
    db = open_database(url, migrate=True)
    system = Actor.system()
    ids = {
        name: accounts.create_user(db, system, name, PASSWORD, role).id
        for name, role in (
            ("fac", "facilitator"),
            ("ana", "member"),
            ("ben", "member"),
            ("cai", "member"),
        )
    }
    economy = assemblies.store_economy(db, system, load_dataset("bea2021_15"))
    assembly = assemblies.create_assembly(
        db, system, "Whole-round assembly", economy_id=economy.id, time_zone="Europe/Madrid"
    )
    council = assemblies.create_council(
        db, system, assembly.id, "Consumers: everyone", "consumers", region="USA"
    )
    for name in ("ana", "ben", "cai"):
        assemblies.add_membership(db, system, council.id, ids[name])
    accounts.add_facilitator(db, system, assembly.id, ids["fac"])
    server = ServerProcess(url, free_port()).start()
    try:
        yield {
            "db": db,
            "ids": ids,
            "size": request.param,
            "base": f"http://127.0.0.1:{server.port}",
        }
    finally:
        server.stop()
        db.dispose()


def _person(chromium, size: str, base: str, outside: list[str]) -> Page:
    viewport = PHONE if size == "phone" else DESKTOP
    phone = size == "phone"
    context = chromium.new_context(
        viewport=viewport, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
    )
    page = context.new_page()
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    return page


def _menu_reachable(page: Page) -> None:
    """Every entry of the main menu is visible on the screen, none scrolled out of sight."""
    width = page.evaluate("window.innerWidth")
    for label in ("Dashboard", "Ballot", "Alternatives", "Results", "Plan", "Audit log"):
        link = page.locator("nav.main a", has_text=label).first
        assert link.is_visible(), label
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, label


def _shot(page: Page, artifacts_dir, size: str, name: str) -> None:
    if size == "phone":
        _no_horizontal_scroll(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right"
            " > 391).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getAttribute('name'))"
        )
        assert width <= PHONE["width"] + 1, f"{name}: the page is {width}px wide: {wide}"
    page.screenshot(path=str(artifacts_dir / f"round-{name}-{size}.png"), full_page=True)


def test_a_whole_round_from_the_pages(fresh, chromium, artifacts_dir):
    """A facilitator and three members run a round from opening to publication, in the browser."""
    base, size, db = fresh["base"], fresh["size"], fresh["db"]
    outside: list[str] = []

    # 1. the facilitator opens the round: target groups with sectors picked by name, deadlines
    fac = _person(chromium, size, base, outside)
    _sign_in(fac, base, "fac")
    _menu_reachable(fac)
    fac.click("#open-round")
    fac.fill("input[name=title]", "Whole round")
    fac.fill("input[name='group-0-name']", "food")
    fac.select_option(
        "select[name='group-0-sectors']",
        label=["Agriculture, forestry, fishing, and hunting (11)", "Manufacturing (31G)"],
    )
    fac.fill("input[name='group-1-name']", "homes")
    fac.select_option("select[name='group-1-sectors']", label=["Construction (23)"])
    fac.fill("input[name='group-2-name']", "investment")
    fac.select_option("select[name='group-2-kind']", "investment")
    assert "Europe/Madrid" in fac.inner_text("#deadline-zone")  # the assembly's zone
    fac.fill("input[name=ballot_deadline]", "2031-05-01T18:00")
    fac.fill("input[name=vote_deadline]", "2031-05-08T18:00")
    _shot(fac, artifacts_dir, size, "open")
    fac.click("button:has-text('Open the round')")
    fac.wait_for_selector("text=The round is open for ballots.")
    round_id = next(iter(rounds_of(db)))
    # shown in the assembly's zone; stored as the instant, 16:00 UTC (Madrid is on CEST)
    assert "2031-05-01 18:00 Europe/Madrid (UTC+02:00)" in fac.inner_text("main")
    stored = queries.get_round_info(db, round_id).ballot_deadline
    assert stored == datetime(2031, 5, 1, 16, 0, tzinfo=UTC)

    # 2. three members cast ballots; one is refused first and comes back as typed
    members = {name: _person(chromium, size, base, outside) for name in ("ana", "ben", "cai")}
    for name, page in members.items():
        _sign_in(page, base, name)
    ana = members["ana"]
    ana.goto(f"{base}/ballot")
    for group, points in (("food", "50"), ("homes", "20"), ("investment", "20")):
        ana.fill(f"input[name='points:{group}']", points)
    ana.click("button:has-text('Submit ballot')")
    ana.wait_for_selector("#error-total")
    assert "sum to 90" in ana.inner_text("#error-total")
    assert [
        ana.input_value(f"input[name='points:{g}']") for g in ("food", "homes", "investment")
    ] == [
        "50",
        "20",
        "20",
    ]
    assert ana.inner_text("[data-total]") == "90"
    _shot(ana, artifacts_dir, size, "ballot-refused")
    ana.fill("input[name='points:investment']", "30")
    ana.click("button:has-text('Submit ballot')")
    ana.wait_for_selector("#current-ballot")
    for name, points in (("ben", ("20", "70", "10")), ("cai", ("60", "20", "20"))):
        page = members[name]
        page.goto(f"{base}/ballot")
        for group, value in zip(("food", "homes", "investment"), points, strict=True):
            page.fill(f"input[name='points:{group}']", value)
        page.click("button:has-text('Submit ballot')")
        page.wait_for_selector("#current-ballot")
    stored = ballots.my_ballot(db, accounts.get_actor(db, fresh["ids"]["ana"]), round_id)
    assert stored.points == {"food": 50.0, "homes": 20.0, "investment": 30.0}

    # 3. the facilitator closes the ballots, computes alternatives and adds one by hand
    fac.goto(f"{base}/")
    fac.wait_for_selector("text=3 / 3")
    fac.click("button:has-text('Close ballots and aggregate the weights')")
    fac.wait_for_selector("#advance-blocked")
    fac.goto(f"{base}/alternatives")
    fac.click("button:has-text('Compute alternatives')")
    fac.wait_for_selector("text=alternatives computed")
    fac.fill("input[name=title]", HOSTILE_TITLE)
    fac.click("button:has-text('Add alternative')")
    fac.wait_for_selector("text=added")
    fac.wait_for_selector("#fulfilment .main-svg")
    assert fac.locator("#fulfilment a").count() == 0  # the typed link is text, not a link
    assert HOSTILE_TITLE in fac.inner_text("main")
    n_alternatives = fac.locator("section.alternative").count()
    assert n_alternatives >= 4
    _shot(fac, artifacts_dir, size, "alternatives")
    fac.goto(f"{base}/")
    fac.click("button:has-text('Open the vote on the alternatives')")
    fac.wait_for_selector("text=vote phase")

    # 4. the members rank: ana and cai put B first, ben puts the hand-made one first
    labels = [chr(ord("A") + k) for k in range(n_alternatives)]
    orders = {
        "ana": ["B", "A", *labels[2:]],
        "ben": [labels[-1], "B", *labels[:-1]],
        "cai": ["B", *[x for x in labels if x != "B"]],
    }
    for name, page in members.items():
        page.goto(f"{base}/alternatives")
        order = list(dict.fromkeys(orders[name]))
        for rank, label in enumerate(order, start=1):
            page.select_option(f"select[name='rank:{label}']", str(rank))
        if name == "ana":
            _shot(page, artifacts_dir, size, "ranking")
        page.click("button:has-text('Submit ranking')")
        page.wait_for_selector("text=You have ranked")

    # 5. the facilitator counts the vote and publishes the winner
    fac.goto(f"{base}/")
    fac.wait_for_selector("#turnout-votes:has-text('3 / 3')")
    fac.click("button:has-text('Close the vote and count it (Schulze)')")
    fac.wait_for_selector("text=tallied phase")
    fac.click("button:has-text('Publish the winning plan')")
    fac.wait_for_selector("text=published phase")
    _shot(fac, artifacts_dir, size, "dashboard-published")
    fac.goto(f"{base}/results")
    assert fac.inner_text("#winner") == "B"
    assert "B: More consumption now" in fac.inner_text("#alternative-titles")
    _shot(fac, artifacts_dir, size, "results")
    fac.goto(f"{base}/plan")
    fac.wait_for_selector("#published-plan")
    plan_text = fac.inner_text("main")
    assert "immutable" in plan_text and "Manufacturing" in plan_text and "e+0" not in plan_text
    _menu_reachable(fac)
    _shot(fac, artifacts_dir, size, "plan")
    assert outside == [], f"the pages fetched from elsewhere: {outside}"
    for page in (fac, *members.values()):
        page.context.close()


def rounds_of(db):
    """The ids of the stored rounds, newest first."""
    from commonplan.services import queries

    return [r.id for r in queries.list_rounds(db)]
