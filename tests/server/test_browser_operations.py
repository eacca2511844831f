"""The operations page in a real browser (Debian's Chromium, driven by Playwright) against a
real server process, on a desktop and a phone-sized screen: the wall of series drawn by the
local Plotly, the open alarm at the council's level, the re-plan's capacity to add (and, on the desktop, a facilitator opening a round from it), a refused report upload that comes back
as typed, an acknowledgement through the form, and the wall refreshing itself (HTMX) when
reports arrive, without a reload."""

from __future__ import annotations

import shutil

import pytest
from loadgen import ServerProcess, free_port
from playwright.sync_api import Page, expect, sync_playwright

from commonplan.services import monitoring
from commonplan.store.database import open_database
from monitoring_world import MANUFACTURING, PASSWORD, publish_world, report_frame

CHROMIUM = "/usr/bin/chromium"
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
MONTHS = 12

pytestmark = pytest.mark.browser


def _file(world, months):
    for k in months:
        factors = {MANUFACTURING: 0.7} if k >= 5 else None
        frame = report_frame(world, k, sub_periods=MONTHS, factors=factors, noise=0.02)
        monitoring.file_reports(world.db, world["fac"], world.plan_id, frame)


@pytest.fixture(params=list(SCREENS))
def served(request, tmp_path):
    """A published, monitored plan with seven months filed (one alarm), served on a free port."""
    url = f"sqlite:///{tmp_path / 'operations.sqlite3'}"
    db = open_database(url, migrate=True)
    world = publish_world(db)
    monitoring.start_monitoring(db, world["fac"], world.plan_id, sub_periods=MONTHS)
    _file(world, range(1, 8))
    server = ServerProcess(url, free_port()).start()
    try:
        yield world, f"http://127.0.0.1:{server.port}", request.param
    finally:
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


def _sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"


def test_operations_page(served, chromium, artifacts_dir):
    world, base, screen = served
    phone = screen == "phone"
    context = chromium.new_context(
        viewport=SCREENS[screen], device_scale_factor=2 if phone else 1, is_mobile=phone
    )
    page = context.new_page()
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
    _sign_in(page, base, "ana")
    page.goto(f"{base}/operations?plan={world.plan_id}")

    # the wall: the alarmed series first, drawn by the Plotly served here
    page.wait_for_selector("#series-0 .main-svg")
    assert page.get_attribute("#series-0", "data-product") == MANUFACTURING
    assert page.locator("#wall .chart").count() == 12
    assert page.inner_text("#monitor-position") == "1.7"
    alarm = page.locator("#level-council .alarm")
    assert alarm.count() == 1 and MANUFACTURING in alarm.inner_text()
    # the re-plan: the short product's activity is capped, the capacity to add is listed
    expect(page.locator("#replan")).to_contain_text("targets fall")
    assert MANUFACTURING in page.inner_text("#replan-capacity")
    assert page.locator("#replan-prices tbody tr").count() >= 1
    assert page.locator("#replan-round-form").count() == 0  # a member, not a facilitator
    _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts_dir / f"server-operations-{screen}.png"), full_page=True)

    # a refused upload comes back with the reason and the rows as typed
    typed = f"product,period,sub_period,output,unit\n{MANUFACTURING},1,8,-5,\n"
    page.fill("#report-csv", typed)
    page.click("#report-form button[type=submit]")
    expect(page.locator(".notice.error")).to_contain_text("negative")
    assert page.input_value("#report-csv") == typed

    # acknowledge through the form: the alarm leaves the open list
    page.fill("#level-council .alarm input[name=note]", "Parts from the US stopped")
    page.fill("#level-council .alarm input[name=action]", "Second shift on the old line")
    page.click("#level-council .alarm button[type=submit]")
    expect(page.locator("#acknowledged")).to_contain_text("Second shift on the old line")
    assert page.locator("#level-council .alarm").count() == 0
    page.fill("#acknowledged .close-form input[name=note]", "Old line back at full output")
    page.click("#acknowledged .close-form button[type=submit]")
    expect(page.locator("#n-closed")).to_have_text("Closed alarms: 1.")

    # reports arrive elsewhere: the page refreshes itself without a reload
    page.evaluate("window.notReloaded = true")
    _file(world, [8])
    expect(page.locator("#monitor-position")).to_have_text("1.8", timeout=40_000)
    assert page.evaluate("window.notReloaded") is True
    page.wait_for_selector("#series-0 .main-svg")
    _no_horizontal_scroll(page)
    assert elsewhere == [], f"the page fetched from elsewhere: {elsewhere}"
    context.close()
    if not phone:  # once: a facilitator opens a new round from the re-plan
        _open_round_from_replan(chromium, world, base)


def _open_round_from_replan(chromium, world, base: str) -> None:
    context = chromium.new_context(viewport=SCREENS["desktop"])
    page = context.new_page()
    _sign_in(page, base, "fac")
    page.goto(f"{base}/operations?plan={world.plan_id}")
    page.click("#replan-round-form button[type=submit]")
    expect(page.locator(".notice.ok")).to_contain_text("is open for ballots")
    assert "Re-plan of Plan 2026 from 1.8" in page.inner_text(".notice.ok")
    context.close()
