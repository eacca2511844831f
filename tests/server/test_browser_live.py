"""A live participatory round in a real browser (Debian's Chromium, driven by Playwright)
against a real server process: three people propose from their council pages, a bot account
proposes for the other councils through the services, the iteration advances once every
council has proposed, the facilitator's page redraws the imbalance trajectory by itself (HTMX)
and a refused proposal comes back with its reason and the value as typed."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from loadgen import ServerProcess, free_port
from playwright.sync_api import Page, expect, sync_playwright
from server_helpers import PASSWORD

from commonplan.participation.generator import GeneratorSpec, generate_economy
from commonplan.participation.live import bot_proposals
from commonplan.participation.procedure import Councils
from commonplan.services import accounts, assemblies, participation
from commonplan.services.roles import Actor
from commonplan.store.database import open_database

CHROMIUM = "/usr/bin/chromium"
ITERATIONS = 3
HANG_MS = 60_000
"""A bound on waiting for a page to change (never a speed requirement)."""

pytestmark = pytest.mark.browser


@pytest.fixture()
def served(tmp_path):
    """Four worker and four consumer councils; people in WC 1, WC 2 and CC 1, a bot in the rest."""
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    db = open_database(url, migrate=True)
    system = Actor.system()
    users = {
        name: accounts.create_user(db, system, name, PASSWORD, role).id
        for name, role in (
            ("fac", "facilitator"),
            ("ana", "member"),
            ("ben", "member"),
            ("cai", "member"),
            ("bot", "member"),
        )
    }
    assembly = assemblies.create_assembly(db, system, "Live assembly")
    accounts.add_facilitator(db, system, assembly.id, users["fac"])
    spec = GeneratorSpec(intermediate_inputs=(1, 1), nature_inputs=(1, 1), labour_inputs=(1, 1))
    economy = generate_economy(4, 4, 1, seed=5, spec=spec)
    councils = participation.provision_councils(db, system, assembly.id, economy)
    people = {"ana": councils[0], "ben": councils[1], "cai": councils[4]}
    for name, council in people.items():
        participation.add_members(db, system, users[name], [council.council_id])
    robot = [c for c in councils if c not in people.values()]
    participation.add_members(db, system, users["bot"], [c.council_id for c in robot])
    opened = participation.open_live_round(
        db,
        accounts.get_actor(db, users["fac"]),
        assembly.id,
        economy,
        title="Live in the browser",
        stop_threshold=1e-9,  # never converges within the test's iterations
        max_iterations=50,
    )
    server = ServerProcess(url, free_port()).start()
    try:
        yield {
            "db": db,
            "base": f"http://127.0.0.1:{server.port}",
            "round": opened.id,
            "economy": economy,
            "people": people,
            "robot": robot,
            "bot": accounts.get_actor(db, users["bot"]),
        }
    finally:
        server._log.seek(0)  # pytest shows it when the test fails
        print(server._log.read().decode(errors="replace")[-6000:])
        server.stop()
        db.dispose()


@pytest.fixture(scope="module")
def chromium():
    assert shutil.os.path.exists(CHROMIUM), "install Debian's chromium"
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


def _signed_in_page(chromium, base: str, username: str) -> Page:
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(HANG_MS)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _bot_proposes(world) -> None:
    info = participation.live_round_info(world["db"], world["round"])
    councils = Councils(world["economy"])
    price = np.asarray(info.price)
    items = []
    for kind in ("worker", "consumer"):
        mine = [c for c in world["robot"] if c.kind == kind]
        proposals = bot_proposals(councils, price, kind, [c.position for c in mine])
        items += [{"council": c.council_id, **p} for c, p in zip(mine, proposals, strict=True)]
    participation.submit_proposals(world["db"], world["bot"], world["round"], info.iteration, items)


def test_live_round_in_the_browser(served, chromium, artifacts_dir):
    world = served
    base, round_id = world["base"], world["round"]
    elsewhere: list[str] = []
    facilitator = _signed_in_page(chromium, base, "fac")
    facilitator.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
    facilitator.goto(f"{base}/live/{round_id}")
    expect(facilitator.locator("#live-iteration")).to_have_text("1")
    expect(facilitator.locator("#no-trajectory")).to_be_visible()
    facilitator.evaluate("window.notReloaded = true")
    people = {name: _signed_in_page(chromium, base, name) for name in world["people"]}

    # a refused proposal comes back with the reason and the value as typed
    ana = people["ana"]
    council = world["people"]["ana"].council_id
    ana.goto(f"{base}/live/{round_id}/councils/{council}")
    expect(ana.locator("#prefilled")).to_contain_text("optimum at these prices")
    ana.fill("input[name=output]", "-3")
    ana.click("#proposal-form button[type=submit]")
    expect(ana.locator(".notice.error")).to_contain_text("finite number ≥ 0")
    assert ana.input_value("input[name=output]") == "-3"
    assert (
        participation.council_view(
            world["db"], world["bot"], round_id, world["robot"][0].council_id
        ).last_proposal
        is None
    )  # the bot has not proposed either: nothing stored anywhere

    for iteration in range(1, ITERATIONS + 1):
        if iteration % 2 == 0:
            _bot_proposes(world)  # the people's last proposal closes the iteration
        for name, page in people.items():
            page.goto(f"{base}/live/{round_id}/councils/{world['people'][name].council_id}")
            expect(page.locator("#council-iteration")).to_have_text(str(iteration))
            if name == "ben" and iteration == 2:
                page.fill("input[name=output]", "9.5")  # an edited value
            page.click("#proposal-form button[type=submit]")
            expect(page.locator(".notice.ok")).to_contain_text(
                f"proposal for iteration {iteration} is stored"
            )
        if iteration % 2 == 1:
            _bot_proposes(world)  # the bot's proposals close the iteration
        info = participation.live_round_info(world["db"], round_id)
        assert info.iteration == iteration + 1 and info.is_open
        # the facilitator's page follows without a reload
        expect(facilitator.locator("#live-iteration")).to_have_text(
            str(iteration + 1), timeout=HANG_MS
        )
        expect(facilitator.locator("#trajectory-table tbody tr")).to_have_count(
            iteration, timeout=HANG_MS
        )
        facilitator.wait_for_selector(".trajectory-chart .main-svg", timeout=HANG_MS)
    assert facilitator.evaluate("window.notReloaded") is True
    rows = facilitator.locator("#trajectory-table tbody tr")
    assert rows.first.locator("td").first.inner_text() == "1"
    view = participation.council_view(
        world["db"], world["bot"], round_id, world["robot"][0].council_id
    )
    assert view.last_iteration == ITERATIONS
    facilitator.screenshot(path=str(artifacts_dir / "server-live-round.png"), full_page=True)

    # the board closes an iteration from its page
    facilitator.click("#close-form button[type=submit]")
    expect(facilitator.locator(".notice.ok")).to_contain_text(
        f"Iteration {ITERATIONS + 1} is closed"
    )
    expect(facilitator.locator("#live-iteration")).to_have_text(str(ITERATIONS + 2))
    assert elsewhere == [], f"the page fetched from elsewhere: {elsewhere}"
