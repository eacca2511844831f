"""Plotly figures for the web pages, as plain JSON-able dicts.

The pages embed each figure as JSON and ``static/app.js`` draws it with the Plotly.js
bundle served by this server; no chart code runs in Python beyond building these dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

_CLASS_COLOURS = {
    "key": "#b3261e",
    "backward-oriented": "#1f5fa8",
    "forward-oriented": "#1d7a46",
    "weak": "#9aa3af",
}


def weights_figure(weights: Mapping[str, float], title: str = "Target weights") -> dict[str, Any]:
    """Bar chart of the aggregated target weights (shares summing to 1, shown in %)."""
    groups = list(weights)
    return {
        "data": [
            {
                "type": "bar",
                "x": groups,
                "y": [round(100 * float(weights[g]), 2) for g in groups],
                "marker": {"color": "#1f5fa8"},
                "hovertemplate": "%{x}: %{y:.2f} %<extra></extra>",
            }
        ],
        "layout": {"title": {"text": title}, "yaxis": {"title": {"text": "weight (%)"}}},
    }


def alternatives_figure(alternatives: Sequence[Any]) -> dict[str, Any]:
    """Grouped bars comparing the alternatives side by side, one bar group per target group.

    When every alternative reports ``fulfilment_by_group`` (computed alternatives: deliveries
    over targets per group), the bars show that fulfilment in %; otherwise each
    alternative's priority weight per group in %.
    """
    fulfilment = all(
        isinstance(a.figures.get("fulfilment_by_group"), Mapping) for a in alternatives
    )
    values = [a.figures["fulfilment_by_group"] if fulfilment else a.weights for a in alternatives]
    groups: list[str] = []
    for shares in values:
        groups.extend(g for g in shares if g not in groups)
    data = [
        {
            "type": "bar",
            "name": f"{alt.label}: {alt.title}",
            "x": groups,
            "y": [
                None if shares.get(g) is None else round(100 * float(shares[g]), 2) for g in groups
            ],
        }
        for alt, shares in zip(alternatives, values, strict=True)
    ]
    title = (
        "Target fulfilment by group" if fulfilment else "Priority weights behind each alternative"
    )
    axis = "deliveries / targets (%)" if fulfilment else "weight (%)"
    return {
        "data": data,
        "layout": {
            "barmode": "group",
            "title": {"text": title},
            "yaxis": {"title": {"text": axis}},
            "legend": {"orientation": "h", "y": -0.3},
        },
    }


def figure_rows(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten an alternative's key figures into ``(name, formatted value)`` rows for a table."""
    rows: list[tuple[str, str]] = []
    for name, value in figures.items():
        if isinstance(value, Mapping):
            for sub, inner in value.items():
                rows.append((f"{name}: {sub}", _format(inner)))
        else:
            rows.append((str(name), _format(value)))
    return rows


def format_value(value: Any) -> str:
    """A number or value formatted for a table cell (thousands separators, 3–4 significant digits)."""
    return _format(value)


def _format(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if v != v:
            return "—"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.4g}"
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.1f}"
    if isinstance(value, list | tuple):
        return ", ".join(_format(v) for v in value)
    return str(value)


def linkages_figure(table: pd.DataFrame) -> dict[str, Any]:
    """Scatter of the normalised backward (x) and forward (y) linkage indices, coloured by class."""
    data = []
    labels = [
        " / ".join(str(p) for p in idx) if isinstance(idx, tuple) else str(idx)
        for idx in table.index
    ]
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
                "x": np.round(table["power_of_dispersion"].to_numpy()[mask], 4).tolist(),
                "y": np.round(table["sensitivity_of_dispersion"].to_numpy()[mask], 4).tolist(),
                "text": [labels[k] for k in np.flatnonzero(mask)],
                "marker": {"color": colour, "size": 8},
                "hovertemplate": "%{text}<br>backward %{x:.3f}, forward %{y:.3f}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": {
            "xaxis": {"title": {"text": "backward index"}},
            "yaxis": {"title": {"text": "forward index"}},
            "margin": {"t": 40, "b": 50},
            "shapes": [
                {
                    "type": "line",
                    "x0": 1,
                    "x1": 1,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dot", "color": "#888"},
                },
                {
                    "type": "line",
                    "y0": 1,
                    "y1": 1,
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "line": {"dash": "dot", "color": "#888"},
                },
            ],
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        },
    }


def bar_figure(series: pd.Series, title: str, axis_title: str, top: int = 20) -> dict[str, Any]:
    """Horizontal bars of the ``top`` largest values of a labelled series."""
    largest = series.sort_values(ascending=False).head(top)[::-1]
    labels = [
        " / ".join(str(p) for p in idx) if isinstance(idx, tuple) else str(idx)
        for idx in largest.index
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": np.round(largest.to_numpy(dtype=float), 6).tolist(),
                "y": labels,
                "marker": {"color": "#1d7a46"},
            }
        ],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": axis_title}},
            "margin": {"l": 180},
            "height": max(320, 22 * len(labels) + 120),
        },
    }


def stacked_origin_figure(table: pd.DataFrame, title: str, axis_title: str) -> dict[str, Any]:
    """Stacked bars: origin regions (rows) of what each destination region's final demand embodies."""
    shares = table / table.sum(axis=0).replace(0, np.nan)
    data = [
        {
            "type": "bar",
            "name": str(origin),
            "x": [str(c) for c in shares.columns],
            "y": np.round(100 * shares.loc[origin].fillna(0).to_numpy(dtype=float), 3).tolist(),
        }
        for origin in shares.index
    ]
    return {
        "data": data,
        "layout": {
            "barmode": "stack",
            "title": {"text": title},
            "yaxis": {"title": {"text": axis_title}},
            "legend": {"orientation": "h", "y": -0.25},
        },
    }
