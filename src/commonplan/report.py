"""One self-contained HTML report per result: ``report.html`` with Plotly charts, nothing fetched.

:func:`analysis_report`, :func:`plan_report`, :func:`scenario_report` and
:func:`participation_report` turn a result into a list of :class:`Section` (a heading, a
few lines of text, a Plotly figure); :func:`render` puts them in one HTML page with the
Plotly.js bundle of the installed ``plotly`` package inlined (the same file the web server
serves), so the page opens offline and asks no server for anything; :func:`write_report`
writes it. Every text from a table (product, account, region names) is escaped: in the page
by :func:`html.escape`, in a chart by :func:`chart_text` (Plotly would render tags in labels).

Charts stay small whatever the size of the economy: per-product charts show the largest
:data:`TOP` products and say how many there are.

This module imports the result classes only, never the store, the services or the server.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from commonplan.analysis.results import AnalysisResults
    from commonplan.participation.result import ParticipationResult
    from commonplan.planning.plan import Plan
    from commonplan.planning.scenarios import ScenarioResult

TOP = 30
"""Products shown in a per-product chart (the largest by the chart's measure)."""


@dataclass(frozen=True)
class Section:
    """One part of a report: ``heading``, ``lines`` of plain text, an optional Plotly figure."""

    heading: str
    lines: tuple[str, ...] = ()
    figure: Any = None


def chart_text(value: Any) -> str:
    """A label for a Plotly chart: ``&``, ``<``, ``>`` as entities, so a tag shows as typed."""
    return html.escape(str(value), quote=False)


def _label(key: Any) -> str:
    return chart_text("/".join(map(str, key)) if isinstance(key, tuple) else key)


def _bar(series: pd.Series, title: str, axis: str, *, horizontal: bool = True) -> Any:
    import plotly.graph_objects as go

    labels = [_label(k) for k in series.index]
    values = series.to_numpy(dtype=float)
    bar = (
        go.Bar(x=values[::-1], y=labels[::-1], orientation="h")
        if horizontal
        else go.Bar(x=labels, y=values)
    )
    figure = go.Figure(bar)
    figure.update_layout(
        title=chart_text(title),
        template="plotly_white",
        height=max(320, 22 * len(labels) + 120) if horizontal else 420,
        margin={"l": 160},
    )
    figure.update_xaxes(title=chart_text(axis)) if horizontal else figure.update_yaxes(
        title=chart_text(axis)
    )
    return figure


def _largest(series: pd.Series, top: int = TOP) -> pd.Series:
    return series.sort_values(ascending=False, kind="stable").head(top)


# ---- analysis --------------------------------------------------------------------------


def analysis_report(results: AnalysisResults) -> list[Section]:
    """Overview, key sectors, output and account multipliers, dependence by partner."""
    o = results.overview
    sections = [
        Section(
            "Overview",
            (
                f"{o['name'] or 'economy'} {o['year']}".strip()
                + f": {o['products']} products, {o['regions']} region(s), {o['sectors']} sectors",
                f"accounts: {o['accounts'] or 'none'}",
                *results.notes,
            ),
        )
    ]
    if results.linkages is not None:
        sections.append(_key_sectors(results.linkages))
    multipliers = results.output_multipliers.iloc[:, -1]
    sections.append(
        Section(
            "Output multipliers",
            (
                f"{multipliers.name}: output of the whole economy per unit of final demand for "
                f"each product; the {min(TOP, len(multipliers))} largest of {len(multipliers)}",
            ),
            _bar(_largest(multipliers), f"Output multiplier ({multipliers.name})", "multiplier"),
        )
    )
    for account, table in results.multiplier_tables.items():
        column = table.columns[-1]
        sections.append(
            Section(
                f"Multipliers of {account}",
                (f"{column}: the {min(TOP, len(table))} largest of {len(table)} products",),
                _bar(_largest(table[column]), f"{account}: {column}", str(column)),
            )
        )
    if results.input_dependence is not None:
        sections.append(_dependence(results.input_dependence))
    return sections


def _key_sectors(linkages: pd.DataFrame) -> Section:
    import plotly.graph_objects as go

    strength = linkages["power_of_dispersion"] + linkages["sensitivity_of_dispersion"]
    shown = linkages.loc[_largest(strength, 5 * TOP).index]
    figure = go.Figure()
    for kind, group in shown.groupby("classification", observed=True, sort=False):
        figure.add_trace(
            go.Scatter(
                x=group["power_of_dispersion"],
                y=group["sensitivity_of_dispersion"],
                mode="markers",
                name=chart_text(kind),
                text=[_label(k) for k in group.index],
                hovertemplate="%{text}: backward %{x:.3f}, forward %{y:.3f}<extra></extra>",
            )
        )
    figure.update_layout(
        title="Key sectors: backward (power) and forward (sensitivity) of dispersion",
        template="plotly_white",
        height=520,
        xaxis_title="power of dispersion (backward, 1 = average)",
        yaxis_title="sensitivity of dispersion (forward, 1 = average)",
    )
    counts = linkages["classification"].value_counts()
    return Section(
        "Key sectors",
        (
            "Rasmussen backward and Ghosh forward linkages, normalised by their average; "
            f"the {len(shown)} strongest of {len(linkages)} products shown",
            ", ".join(f"{kind}: {count}" for kind, count in counts.items()),
        ),
        figure,
    )


def _dependence(dependence: pd.DataFrame) -> Section:
    import plotly.graph_objects as go

    total = dependence.xs("total", axis=1, level="measure")
    direct = dependence.xs("direct", axis=1, level="measure")
    figure = go.Figure(
        [
            go.Bar(name="direct", x=[chart_text(p) for p in direct.columns], y=direct.mean()),
            go.Bar(name="total", x=[chart_text(p) for p in total.columns], y=total.mean()),
        ]
    )
    figure.update_layout(
        title="Dependence on each partner: mean share of inputs over all products",
        barmode="group",
        template="plotly_white",
        yaxis_tickformat=".1%",
        height=420,
    )
    return Section(
        "Dependence by partner",
        (
            "direct: share of a product's inputs bought from the partner; total: embodied in all "
            "its inputs (through the Leontief inverse)",
        ),
        figure,
    )


# ---- plans and scenarios ---------------------------------------------------------------


def plan_report(plan: Plan) -> list[Section]:
    """Overview, fulfilment over periods, shadow prices of resources and of products."""
    import plotly.graph_objects as go

    problem = plan.problem
    sections = [
        Section(
            "Overview",
            (
                f"plan {problem.name!r}: {problem.objective.kind} = {plan.objective:.6g}",
                f"solver: {plan.report.method}, {plan.report.status}",
                f"{len(plan.outputs)} products, {len(plan.activity_levels)} activities, "
                f"{problem.n_periods} period(s)",
            ),
        )
    ]
    periods = [chart_text(p) for p in problem.periods]
    if len(plan.fulfilment):
        by_period = plan.fulfilment.groupby("period", sort=False)["fulfilment"]
        figure = go.Figure(
            [
                go.Scatter(
                    x=periods, y=by_period.min().reindex(problem.periods), name="worst-met target"
                ),
                go.Scatter(x=periods, y=by_period.mean().reindex(problem.periods), name="mean"),
                go.Scatter(x=periods, y=by_period.max().reindex(problem.periods), name="best-met"),
            ]
        )
        figure.update_layout(
            title="Plan fulfilment over periods (delivered / target)",
            template="plotly_white",
            height=420,
            xaxis_title="period",
            yaxis_title="fulfilment ratio",
        )
        sections.append(
            Section("Plan fulfilment", ("fulfilment ratio of the targets, per period",), figure)
        )
    if len(plan.resources):
        sections.append(_resource_prices(plan, periods))
    prices = plan.product_prices.mean(axis=1)
    if len(prices):
        sections.append(
            Section(
                "Shadow prices of products",
                (
                    "mean over periods of the gain in the objective per extra unit of the product; "
                    f"the {min(TOP, len(prices))} largest of {len(prices)}",
                ),
                _bar(_largest(prices), "Shadow prices of products (mean over periods)", "price"),
            )
        )
    return sections


def _resource_prices(plan: Plan, periods: Sequence[str]) -> Section:
    import plotly.graph_objects as go

    figure = go.Figure()
    for account, rows in plan.resources.groupby("account", sort=False):
        figure.add_trace(
            go.Bar(
                name=chart_text(account),
                x=[chart_text(p) for p in rows["period"]],
                y=rows["shadow_price"],
            )
        )
    figure.update_layout(
        title="Shadow prices of resources per period",
        barmode="group",
        template="plotly_white",
        height=420,
        xaxis_title="period",
        yaxis_title="gain in the objective per unit",
    )
    binding = plan.resources[plan.resources["binding"]]
    return Section(
        "Shadow prices of resources",
        (f"binding limits: {len(binding)} of {len(plan.resources)} (account, period) pairs",),
        figure,
    )


def scenario_report(result: ScenarioResult) -> list[Section]:
    """The share kept per period (with and without the cut-off), lost inputs, then the plan."""
    import plotly.graph_objects as go

    periods = [chart_text(p) for p in result.share.index]
    traces = [go.Scatter(x=periods, y=result.share, name="with the cut-off")]
    if result.baseline_share is not None:
        traces.append(go.Scatter(x=periods, y=result.baseline_share, name="without"))
    figure = go.Figure(traces)
    figure.update_layout(
        title="Share of base-year final demand kept, per period",
        template="plotly_white",
        height=420,
        yaxis_tickformat=".1%",
        xaxis_title="period",
    )
    sections = [
        Section(
            f"Scenario {result.plan.problem.name}",
            ("uniform share of base-year deliveries kept",),
            figure,
        )
    ]
    if len(result.lost_inputs):
        lost = result.lost_inputs.set_index(["member", "partner", "sector"])["base_imports"]
        sections.append(
            Section(
                "Dependence by partner: inputs lost",
                (
                    f"base-year imports from the cut partner(s); the {min(TOP, len(lost))} largest of {len(lost)}",
                ),
                _bar(_largest(lost), "Base-year imports lost", "base-year imports"),
            )
        )
    return sections + plan_report(result.plan)[1:]


# ---- participation ---------------------------------------------------------------------


def participation_report(result: ParticipationResult) -> list[Section]:
    """The procedure's worst imbalance per round, each year (log scale), and the status."""
    import plotly.graph_objects as go

    figure = go.Figure()
    for number, run in enumerate(result.years, start=1):
        worst = np.asarray(run.worst_imbalance, dtype=float)
        figure.add_trace(
            go.Scatter(x=np.arange(1, len(worst) + 1), y=worst, mode="lines", name=f"year {number}")
        )
    threshold = result.parameters.get("stop_threshold")
    if threshold:
        figure.add_hline(y=float(threshold), line_dash="dot", annotation_text="stop threshold")
    figure.update_layout(
        title="Worst imbalance 2|S − D| / (S + D) over commodities, per round",
        template="plotly_white",
        height=460,
        xaxis_title="round",
        yaxis_title="worst imbalance",
        yaxis_type="log",
        yaxis_tickformat=".0%",
    )
    lines = [f"{result.economy.name or 'participatory economy'}: {result.status}"]
    lines += [f"year {k}: {run.rounds} rounds" for k, run in enumerate(result.years, start=1)]
    return [Section("Imbalance trajectory", tuple(lines), figure)]


# ---- the page --------------------------------------------------------------------------


def plotly_js() -> str:
    """The Plotly.js bundle of the installed ``plotly`` package (``package_data/plotly.min.js``)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render(title: str, sections: Sequence[Section]) -> str:
    """One HTML page: ``title``, each section's heading, text and chart, Plotly.js inlined."""
    import plotly.io as pio

    body = []
    for section in sections:
        body.append(f"<section><h2>{html.escape(section.heading)}</h2>")
        body.extend(f"<p>{html.escape(line)}</p>" for line in section.lines)
        if section.figure is not None:
            body.append(
                pio.to_html(
                    section.figure,
                    include_plotlyjs=False,
                    full_html=False,
                    config={"displaylogo": False, "responsive": True},
                )
            )
        body.append("</section>")
    script = plotly_js().replace("</script", "<\\/script")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "section{margin-bottom:2.5em}</style>"
        f"<script>{script}</script></head><body><h1>{html.escape(title)}</h1>"
        + "".join(body)
        + "</body></html>\n"
    )


def write_report(path: str | Path, title: str, sections: Sequence[Section]) -> Path:
    """Write :func:`render` of ``sections`` to ``path`` (UTF-8); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(title, sections), encoding="utf-8")
    return path


__all__ = [
    "Section",
    "analysis_report",
    "chart_text",
    "participation_report",
    "plan_report",
    "plotly_js",
    "render",
    "scenario_report",
    "write_report",
]
