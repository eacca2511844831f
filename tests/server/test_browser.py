"""A real browser (Debian's Chromium, driven by Playwright) against a real server process:
sign in, cast a ballot, rank the alternatives, see the result; on a phone-sized screen."""

from __future__ import annotations

import shutil

import pytest
from loadgen import ServerProcess, free_port
from playwright.sync_api import Page, sync_playwright
from server_helpers import PASSWORD

from commonplan.datasets import load_dataset
from commonplan.services import accounts, assemblies, ballots, rounds
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
