"""How the pages write numbers and names, and what reaches the charts."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from commonplan.server import charts
from commonplan.server.formatting import (
    figure_rows,
    format_number,
    format_percent,
    money_unit,
    plot_text,
    product_name,
)


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (24579078.91655639, "", "24,580,000"),
        (24579078.9, "USD million", "24,580,000 USD million"),
        (-0.0, "", "0"),
        (-0.00000001, "", "> -0.000001"),
        (0.000123456, "", "0.0001235"),
        (1234.5678, "", "1,235"),
        (12.5, "", "12.5"),
        (0.0, "", "0"),
        (-0.023004799747219782, "", "-0.023"),
        (float("nan"), "", "—"),
        (float("inf"), "", "—"),
        (None, "", "—"),
        (1234567, "", "1,234,567"),
    ],
)
def test_numbers_are_written_for_people(value, unit, expected):
    assert format_number(value, unit) == expected


def test_no_exponent_and_no_negative_zero_anywhere():
    for v in (2.463e7, -1e-12, -0.0, 1e15, 3.2e-5, -4.5e9):
        text = format_number(v)
        assert "e" not in text.lower() and text not in ("-0", "-0.0"), text


def test_percentages():
    assert format_percent(0.7544780388070785) == "75.4 %"
    assert format_percent(2.1083905029378) == "210.8 %"
    assert format_percent(0.0) == "0 %"
    assert format_percent(-0.0) == "0 %"
    assert format_percent(None) == "—"


def test_money_unit_and_product_names():
    assert money_unit("USD million, current prices (use at purchasers' prices)") == "USD million"
    names = {"31G": "Manufacturing"}
    assert product_name(("USA", "31G"), names, with_region=False) == "Manufacturing"
    assert product_name(("MEX", "31G"), names, with_region=True) == "Manufacturing (MEX)"
    assert product_name(("USA", "99"), names, with_region=False) == "99"


COMPUTED = {
    "units": "USD million, current prices",
    "total_deliveries": 24579078.91655639,
    "resource": "value_added",
    "resource_unit": "USD million",
    "resource_used": 22485858.000004523,
    "worst_fulfilment": 0.0,
    "mean_fulfilment": 0.7544780388070785,
    "fulfilment_by_group": {"food": 2.108, "health": 0.0, "housing": 0.42, "empty": None},
    "objective": -0.023004799747219782,
    "imports": "imports",
    "imports_used": 2098073.6720274384,
    "imports_limit": None,
}


def test_key_figures_have_names_units_and_flags():
    rows = {r.name: r for r in figure_rows(COMPUTED)}
    assert rows["Final deliveries"].value == "24,580,000 USD million"
    assert rows["Value added used"].value == "22,490,000 USD million"
    assert rows["Mean fulfilment (of target)"].value == "75.4 %"
    assert rows["Fulfilment: food"].value == "210.8 %" and not rows["Fulfilment: food"].low
    assert rows["Fulfilment: health"].low and rows["Fulfilment: housing"].low
    assert rows["Fulfilment: empty"].value.startswith("not measured")
    assert not rows["Fulfilment: empty"].low
    assert rows["Imports limit"].value == "none"
    assert not any("_" in name for name in rows), list(rows)


def _alternative(label, title, by_group):
    return SimpleNamespace(
        label=label, title=title, weights={}, figures={"fulfilment_by_group": by_group}
    )


def test_fulfilment_chart_shows_every_group_even_at_zero():
    alternatives = [
        _alternative("A", "As voted", {"food": 2.1, "health": 0.0, "investment": None}),
        _alternative("B", "More now", {"food": 1.9, "health": 0.0, "investment": 0.2}),
    ]
    figure = charts.alternatives_figure(alternatives, ["health", "food", "investment", "imports"])
    first = figure["data"][0]
    assert first["x"] == ["health", "food", "investment", "imports"]  # highest weight first
    assert first["y"][0] == 0 and first["text"][0] == "0 %"  # a 0 % bar is labelled
    assert first["text"][2] == "not measured" and first["text"][3] == "not measured"


def test_names_typed_by_a_facilitator_never_become_links_in_charts():
    hostile = '<a href="https://evil.example/">click</a>'
    figure = charts.alternatives_figure([_alternative("A", hostile, {hostile: 0.5})], [hostile])
    weights = charts.weights_figure({hostile: 1.0}, title=hostile)
    for fig in (figure, weights):
        text = json.dumps(fig)
        assert "<a" not in text and "&lt;a href=" in text
    assert plot_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"


def test_linkage_chart_is_logarithmic_so_an_outlier_does_not_flatten_it():
    table = pd.DataFrame(
        {
            "power_of_dispersion": [0.9, 1.1, 1.0, 0.95],
            "sensitivity_of_dispersion": [0.8, 6.0, 1.05, 0.9],
            "classification": ["weak", "key", "forward-oriented", "weak"],
        },
        index=pd.MultiIndex.from_tuples(
            [("USA", "11"), ("USA", "31G"), ("USA", "<i>x</i>"), ("USA", "22")]
        ),
    )
    figure = charts.linkages_figure(table, lambda label: f"name of {label[1]}")
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["yaxis"]["type"] == "log"
    markers = [t for t in figure["data"] if t["mode"] == "markers"]
    shown = [label for t in markers for label in t["text"]]
    assert "name of 31G" in shown and "name of &lt;i&gt;x&lt;/i&gt;" in shown
    lines = [t for t in figure["data"] if t["mode"] == "lines"]
    assert {tuple(t["x"]) for t in lines} >= {(1.0, 1.0)}
    assert all(min(t["y"]) > 0 and min(t["x"]) > 0 for t in lines)  # drawable on log axes


def test_local_times_are_written_in_the_assembly_zone_with_its_offset():
    from datetime import UTC, datetime

    from commonplan.server.formatting import format_local_time

    moment = datetime(2031, 5, 1, 16, 0, tzinfo=UTC)
    assert (
        format_local_time(moment, "Europe/Madrid") == "2031-05-01 18:00 Europe/Madrid (UTC+02:00)"
    )
    winter = datetime(2031, 1, 15, 16, 0, tzinfo=UTC)  # Madrid is on CET, UTC+01:00, in January
    assert (
        format_local_time(winter, "Europe/Madrid") == "2031-01-15 17:00 Europe/Madrid (UTC+01:00)"
    )
    assert (
        format_local_time(moment, "America/Bogota") == "2031-05-01 11:00 America/Bogota (UTC-05:00)"
    )
    assert format_local_time(moment, "UTC") == "2031-05-01 16:00 UTC"
    assert format_local_time(None, "UTC") is None


def test_monitor_series_figure_shows_ratios_band_one_step_ahead_and_alarms():
    from commonplan.server.charts import ALARM_COLOUR, monitor_series_figure

    rows = pd.DataFrame(
        {
            "period": ["1", "1", "1"],
            "sub_period": [1, 2, 3],
            "ratio": [1.01, 0.7, 0.72],
            "forecast": [1.0, 0.8, 0.72],
            "lower": [0.9, 0.6, 0.62],
            "upper": [1.1, 1.0, 0.82],
            "alarm": [None, "shortfall", None],
        }
    )
    figure = monitor_series_figure("USA/31G", rows, "Manufacturing <b>x</b>")
    traces = {t.get("name"): t for t in figure["data"]}
    assert traces["actual"]["x"] == ["1.1", "1.2", "1.3"]
    assert traces["actual"]["y"] == [101.0, 70.0, 72.0]
    # the forecast made after sub-period t is for t + 1
    assert traces["forecast"]["x"] == ["1.2", "1.3", "next"]
    assert traces["forecast interval"]["y"] == [90.0, 60.0, 62.0]
    assert traces["alarm"]["x"] == ["1.2"] and traces["alarm"]["y"] == [70.0]
    assert figure["layout"]["xaxis"]["categoryarray"] == ["1.1", "1.2", "1.3", "next"]
    assert "<b>" not in figure["layout"]["title"]["text"]  # markup shown, never rendered
    assert figure["layout"]["title"]["font"]["color"] != ALARM_COLOUR  # no alarm at 1.3
