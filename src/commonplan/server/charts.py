"""Plotly figures for the web pages, as plain JSON-able dicts.

The pages embed each figure as JSON and ``static/app.js`` draws it with the Plotly.js
bundle served by this server; no chart code runs in Python beyond building these dicts.
Every text that reaches a figure (names, titles, labels) passes through
:func:`~commonplan.server.formatting.plot_text`, so markup typed into a name is shown,
never rendered (Plotly turns ``<a href>`` in labels into live links).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from commonplan.server.formatting import LOW_FULFILMENT, format_percent, plot_text

_CLASS_COLOURS = {
    "key": "#b3261e",
    "backward-oriented": "#1f5fa8",
    "forward-oriented": "#1d7a46",
    "weak": "#9aa3af",
}


def weights_figure(weights: Mapping[str, float], title: str = "Target weights") -> dict[str, Any]:
    """Bar chart of the aggregated target weights (shares summing to 1, shown in %)."""
    groups = list(weights)
    values = [round(100 * float(weights[g]), 2) for g in groups]
    return {
        "data": [
            {
                "type": "bar",
                "x": [plot_text(g) for g in groups],
                "y": values,
                "text": [format_percent(v / 100) for v in values],
                "textposition": "auto",
                "marker": {"color": "#1f5fa8"},
                "hovertemplate": "%{x}: %{y:.2f} %<extra></extra>",
            }
        ],
        "layout": {"title": {"text": plot_text(title)}, "yaxis": {"title": {"text": "weight (%)"}}},
    }


def alternatives_figure(
    alternatives: Sequence[Any], groups: Sequence[str] | None = None
) -> dict[str, Any]:
    """Grouped bars comparing the alternatives side by side, one bar group per target group.

    ``groups`` are the round's target groups in the order to show (e.g. highest weight
    first); every one of them gets its bar group, also when a plan delivers 0 % of it
    (the bar is labelled "0 %") or does not measure it (labelled "not measured": a group
    without sectors). When any alternative reports ``fulfilment_by_group`` (computed
    alternatives: deliveries over targets per group), the bars show that fulfilment in
    % (a hand-made alternative among computed ones shows "not measured"); otherwise each
    alternative's priority weight per group in %.
    """
    fulfilment = any(
        isinstance(a.figures.get("fulfilment_by_group"), Mapping) for a in alternatives
    )
    values = [
        (a.figures.get("fulfilment_by_group") or {}) if fulfilment else a.weights
        for a in alternatives
    ]
    shown: list[str] = list(groups or ())
    for shares in values:
        shown.extend(g for g in shares if g not in shown)
    data = []
    for alt, shares in zip(alternatives, values, strict=True):
        y = [None if shares.get(g) is None else round(100 * float(shares[g]), 2) for g in shown]
        data.append(
            {
                "type": "bar",
                "name": plot_text(f"{alt.label}: {alt.title}"),
                "x": [plot_text(g) for g in shown],
                "y": [0 if v is None else v for v in y],
                "text": ["not measured" if v is None else format_percent(v / 100) for v in y],
                "textposition": "outside",
                "cliponaxis": False,
                "hovertemplate": "%{x}: %{text}<extra>%{fullData.name}</extra>",
            }
        )
    title = (
        "Target fulfilment by group" if fulfilment else "Priority weights behind each alternative"
    )
    axis = "deliveries / targets (%)" if fulfilment else "weight (%)"
    layout: dict[str, Any] = {
        "barmode": "group",
        "title": {"text": title},
        "yaxis": {"title": {"text": axis}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.3},
    }
    if fulfilment:
        layout["shapes"] = [
            _horizontal_line(100),
            _horizontal_line(100 * LOW_FULFILMENT, "#b3261e"),
        ]
    return {"data": data, "layout": layout}


def _horizontal_line(y: float, colour: str = "#888") -> dict[str, Any]:
    return {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"dash": "dot", "color": colour, "width": 1},
    }


def plain_label(label: Any) -> str:
    """A product label as text: ``("USA", "31G")`` → ``"USA / 31G"``."""
    return " / ".join(str(p) for p in label) if isinstance(label, tuple) else str(label)


def linkages_figure(
    table: pd.DataFrame, label_of: Callable[[Any], str] = plain_label
) -> dict[str, Any]:
    """Scatter of the normalised backward (x) and forward (y) linkage indices, coloured by class.

    Both axes are logarithmic: the indices are positive ratios to the mean (1 = average),
    and one product far above the rest (a forward index of 6, say) would otherwise
    squeeze every other point into a corner. Dotted lines mark 1 on each axis.
    """
    data = []
    labels = [plot_text(label_of(idx)) for idx in table.index]
    backward = table["power_of_dispersion"].to_numpy(dtype=float)
    forward = table["sensitivity_of_dispersion"].to_numpy(dtype=float)
    classes = table["classification"].astype(str).to_numpy()
    for name, colour in _CLASS_COLOURS.items():
        mask = classes == name
        if not mask.any():
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": np.round(backward[mask], 4).tolist(),
                "y": np.round(forward[mask], 4).tolist(),
                "text": [labels[k] for k in np.flatnonzero(mask)],
                "marker": {"color": colour, "size": 8},
                "hovertemplate": "%{text}<br>backward %{x:.3f}, forward %{y:.3f}<extra></extra>",
            }
        )
    positive = np.concatenate([backward[backward > 0], forward[forward > 0], [1.0]])
    low, high = float(positive.min()) / 1.15, float(positive.max()) * 1.15
    for axis in ("x", "y"):  # the reference lines at 1, drawn as data so log axes place them right
        line = [1.0, 1.0], [low, high]
        x, y = line if axis == "x" else line[::-1]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": y,
                "line": {"dash": "dot", "color": "#888", "width": 1},
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    return {
        "data": data,
        "layout": {
            "xaxis": {"title": {"text": "backward index (log scale)"}, "type": "log"},
            "yaxis": {"title": {"text": "forward index (log scale)"}, "type": "log"},
            "margin": {"t": 40, "b": 50},
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        },
    }


def bar_figure(
    series: pd.Series,
    title: str,
    axis_title: str,
    top: int = 20,
    label_of: Callable[[Any], str] = plain_label,
) -> dict[str, Any]:
    """Horizontal bars of the ``top`` largest values of a labelled series."""
    largest = series.sort_values(ascending=False).head(top)[::-1]
    labels = [plot_text(label_of(idx)) for idx in largest.index]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": np.round(largest.to_numpy(dtype=float), 6).tolist(),
                "y": labels,
                "marker": {"color": "#1d7a46"},
                "hovertemplate": "%{y}: %{x:.4g}<extra></extra>",
            }
        ],
        "layout": {
            "title": {"text": plot_text(title)},
            "xaxis": {"title": {"text": plot_text(axis_title)}},
            "yaxis": {"automargin": True},
            "height": max(320, 22 * len(labels) + 120),
        },
    }


def stacked_origin_figure(table: pd.DataFrame, title: str, axis_title: str) -> dict[str, Any]:
    """Stacked bars: origin regions (rows) of what each destination region's final demand embodies."""
    shares = table / table.sum(axis=0).replace(0, np.nan)
    data = [
        {
            "type": "bar",
            "name": plot_text(origin),
            "x": [plot_text(c) for c in shares.columns],
            "y": np.round(100 * shares.loc[origin].fillna(0).to_numpy(dtype=float), 3).tolist(),
        }
        for origin in shares.index
    ]
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "title": {"text": plot_text(title)},
            "yaxis": {"title": {"text": plot_text(axis_title)}},
            "legend": {"orientation": "h", "y": -0.25},
        },
    }


ALARM_COLOUR = "#b3261e"
_OK_COLOUR = "#1d7a46"


def monitor_series_figure(product: str, rows: pd.DataFrame, title: str = "") -> dict[str, Any]:
    """One monitored series on the operations page, as a share of the plan (%): the plan
    (100 %), the actual output over the planned output per sub-period, the monitor's one-step
    forecast with its interval (a band), and a red marker where an alarm was raised.

    ``rows`` are the series' rows of :func:`commonplan.services.monitoring.series` in time
    order (columns ``period``, ``sub_period``, ``ratio``, ``forecast``, ``lower``, ``upper``,
    ``alarm``); the forecast made after sub-period *t* is drawn at *t + 1*.
    """
    x = [f"{int(p)}.{int(s)}" for p, s in zip(rows["period"], rows["sub_period"], strict=True)]
    nxt = x[1:] + ["next"]

    def pct(column: str) -> list[float | None]:
        values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
        return [None if not np.isfinite(v) else round(100 * float(v), 2) for v in values]

    alarm = rows["alarm"].notna() & (rows["alarm"].astype(str) != "None")
    ratio = pct("ratio")
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": nxt,
            "y": pct("upper"),
            "line": {"width": 0},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": nxt,
            "y": pct("lower"),
            "fill": "tonexty",
            "fillcolor": "rgba(31,95,168,0.18)",
            "line": {"width": 0},
            "name": "forecast interval",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": nxt,
            "y": pct("forecast"),
            "line": {"color": "#1f5fa8", "dash": "dot"},
            "name": "forecast",
            "hovertemplate": "forecast %{x}: %{y:.1f} %<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x + ["next"],
            "y": [100.0] * (len(x) + 1),
            "line": {"color": "#9aa3af"},
            "name": "plan",
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": ratio,
            "line": {"color": "#222"},
            "name": "actual",
            "hovertemplate": "%{x}: %{y:.1f} % of plan<extra></extra>",
        },
    ]
    if alarm.any():
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [v for v, a in zip(x, alarm, strict=True) if a],
                "y": [v for v, a in zip(ratio, alarm, strict=True) if a],
                "marker": {"color": ALARM_COLOUR, "size": 11, "symbol": "x"},
                "name": "alarm",
                "text": [plot_text(str(k)) for k in rows["alarm"][alarm]],
                "hovertemplate": "%{x}: alarm %{text}<extra></extra>",
            }
        )
    colour = ALARM_COLOUR if alarm.iloc[-1:].any() else _OK_COLOUR
    return {
        "data": data,
        "layout": {
            "title": {"text": plot_text(title or product), "font": {"size": 13, "color": colour}},
            "height": 230,
            "margin": {"l": 40, "r": 8, "t": 30, "b": 30},
            "showlegend": False,
            "yaxis": {"title": {"text": "% of plan"}, "ticksuffix": ""},
            "xaxis": {
                "type": "category",
                "categoryorder": "array",
                "categoryarray": x + ["next"],
                "title": {"text": "period.sub-period"},
            },
        },
    }
