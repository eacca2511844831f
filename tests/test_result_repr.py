"""Short ``repr`` and a notebook ``_repr_html_`` for the four main results (issue 11)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from test_results_protocol import BUILDERS

SHOWN = {
    "AnalysisResults": "AnalysisResults",
    "Plan": "Plan",
    "ScenarioResult (cut-off)": "ScenarioResult",
    "ScenarioResult (federation)": "ScenarioResult",
    "ParticipationResult": "ParticipationResult",
}


@pytest.fixture(scope="module", params=list(SHOWN))
def named(request, shared_data):
    return request.param, BUILDERS[request.param](shared_data)


class _Cells(HTMLParser):
    """Collects the tags and the text of an HTML fragment; fails on unbalanced tags."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        self.tags.append(tag)

    def handle_endtag(self, tag):
        assert self.open.pop() == tag

    def handle_data(self, data):
        self.text.append(data)


def test_repr_is_one_short_line_without_table_dumps(named):
    name, result = named
    text = repr(result)
    assert text.startswith(f"<{SHOWN[name]} ") and text.endswith(">")
    assert "\n" not in text and len(text) < 300
    assert "DataFrame" not in text and "dtype" not in text


def test_repr_html_is_a_small_balanced_table(named):
    name, result = named
    fragment = result._repr_html_()
    parser = _Cells()
    parser.feed(fragment)
    assert parser.open == [] and parser.tags[0] == "table"
    assert parser.tags.count("tr") <= 40
    assert len(fragment) < 20_000


def test_repr_html_escapes_labels():
    from commonplan.results import summary_html

    fragment = summary_html("<b>x</b>", [("a<script>", "1 & 2")])
    assert "<script>" not in fragment and "&lt;script&gt;" in fragment and "1 &amp; 2" in fragment
