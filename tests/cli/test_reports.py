"""``--report`` on analyze, plan, cutoff, federation and participate: one self-contained report.html.

Each command runs through the real CLI app; Chromium (Debian's, driven by Playwright) then
opens every report from disk, waits until Plotly has drawn its charts, and checks that no
request left the page (the Plotly.js bundle is inlined, nothing comes from a CDN).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commonplan.cli.main import app_typer
from commonplan.report import plotly_js
from commonplan.runrecord import RUN_RECORD

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "planning"
CHROMIUM = "/usr/bin/chromium"


def _commands(shared_data: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Command → (arguments before ``--report -o FOLDER``, section headings the report must have)."""
    icio = str(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    experiment = str(shared_data / "planning" / "pequod_dep1ex_3000" / "dep1ex01.clj.gz")
    return {
        "analyze": (
            ["analyze", icio],
            ["Key sectors", "Output multipliers", "Dependence by partner"],
        ),
        "plan": (
            ["plan", str(EXAMPLES / "bread_and_coal.toml"), "--no-excel"],
            ["Plan fulfilment", "Shadow prices of resources", "Shadow prices of products"],
        ),
        "cutoff": (
            ["cutoff", icio, "--region", "COL", "--partner", "USA", "--periods", "2"],
            ["Scenario COL without USA", "Dependence by partner: inputs lost", "Plan fulfilment"],
        ),
        "federation": (
            ["federation", icio, "--member", "COL", "--member", "PER", "--partner", "USA"]
            + ["--periods", "2", "--no-compare"],
            ["Plan fulfilment", "Shadow prices of resources"],
        ),
        "participate": (
            ["participate", experiment, "--years", "1", "--threshold", "0.05"],
            ["Imbalance trajectory"],
        ),
    }


@pytest.fixture(scope="module")
def reports(shared_data, tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Each command run once with ``--report``: its report.html and the headings it must show."""
    found = {}
    for name, (args, headings) in _commands(shared_data).items():
        folder = tmp_path_factory.mktemp(name)
        result = CliRunner().invoke(app_typer, [*args, "--report", "--output", str(folder)])
        assert result.exit_code == 0, (name, result.output, result.exception)
        found[name] = (folder / "report.html", headings)
    return found


@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_report_is_one_self_contained_file_in_the_run_record(reports, name):
    path, headings = reports[name]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for heading in headings:
        assert f"<h2>{heading}</h2>" in text, heading
    bundle = plotly_js().replace("</script", "<\\/script")
    assert text.count(bundle) == 1  # the installed plotly's own bundle, inlined once
    page = text.replace(bundle, "")
    assert "<script src" not in page and "<link" not in page and "http" not in page
    record = json.loads((path.parent / RUN_RECORD).read_text(encoding="utf-8"))
    assert "report.html" in json.dumps(record["outputs"])


def test_participate_report_without_output_is_one_clear_error(shared_data):
    experiment = shared_data / "planning" / "pequod_dep1ex_3000" / "dep1ex01.clj.gz"
    result = CliRunner().invoke(app_typer, ["participate", str(experiment), "--report"])
    assert result.exit_code != 0
    assert "--report needs a folder" in str(result.exception)


@pytest.fixture(scope="module")
def chromium():
    if not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)):
        pytest.skip("install Debian's chromium to open the reports in a browser")
    from playwright.sync_api import sync_playwright

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


@pytest.mark.browser
@pytest.mark.parametrize("name", list(_commands(Path("."))))
def test_chromium_draws_every_chart_offline(reports, chromium, name):
    path, headings = reports[name]
    page = chromium.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
    charts = page.locator(".plotly-graph-div")
    assert charts.count() >= len(headings) - (1 if name == "cutoff" else 0)
    drawn = page.evaluate(
        "Array.from(document.querySelectorAll('.plotly-graph-div'))"
        ".map(div => div.querySelectorAll('.trace, .point, .bars path').length)"
    )
    assert all(count > 0 for count in drawn), drawn  # every chart has drawn data
    assert page.evaluate("typeof Plotly") == "object"
    assert requests == [path.as_uri()], requests  # the page itself, nothing else
    page.close()


def test_labels_with_markup_are_shown_not_rendered():
    import numpy as np

    from commonplan import Economy
    from commonplan.analysis import analyse
    from commonplan.report import analysis_report, render

    hostile = "<img src=x onerror=alert(1)>"
    Z = np.array([[10.0, 20.0], [15.0, 5.0]])
    x = np.array([100.0, 80.0])
    economy = Economy.from_flows(
        Z,
        (x - Z.sum(axis=1)).reshape(-1, 1),
        x,
        accounts={hostile: 0.3 * x},
        products=[hostile, "b"],
    )
    page = render(hostile, analysis_report(analyse(economy)))
    page = page.replace(plotly_js().replace("</script", "<\\/script"), "")
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the heading and the text, escaped
