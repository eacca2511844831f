"""The economy page: renders :func:`commonplan.services.explorer.explore_economy` as charts,
a table of key sectors and notes saying what was computed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from commonplan.server import charts
from commonplan.services.explorer import Dependence, Exploration


@dataclass(frozen=True)
class ExplorerView:
    """What the economy page shows: charts (Plotly dicts), a table of key sectors, notes."""

    available: bool
    reason: str = ""
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_rows: list[dict[str, Any]] = field(default_factory=list)
    key_note: str = ""
    dependence_note: str = ""


def explorer_view(
    exploration: Exploration, label_of: Callable[[Any], str] = charts.plain_label
) -> ExplorerView:
    """The page's view of one exploration; ``label_of`` names a product (e.g. by its sector name)."""
    table = exploration.linkages
    if table is None or exploration.top is None:
        return ExplorerView(False, exploration.problem)
    rows = [
        {
            "name": label_of(idx),
            "product": charts.plain_label(idx),
            "backward": float(r["power_of_dispersion"]),
            "forward": float(r["sensitivity_of_dispersion"]),
            "kind": str(r["classification"]),
        }
        for idx, r in exploration.top.iterrows()
    ]
    figures: dict[str, dict[str, Any]] = {"linkages-data": charts.linkages_figure(table, label_of)}
    note = (
        f"{int((table['classification'] == 'key').sum())} of {len(table)} products are key "
        "sectors (both normalised indices above 1). Backward: Rasmussen (1956) column sums of "
        "the Leontief inverse; forward: Ghosh supply-side model; Miller & Blair (2009) §12.1. "
        "The chart's axes are logarithmic, so one product far above the rest does not hide "
        "the others."
    )
    if exploration.dependence_problem:
        note += f" (Dependence not shown: {exploration.dependence_problem}.)"
    dependence_note = ""
    if exploration.dependence is not None:
        figures["dependence-data"], dependence_note = _dependence(exploration.dependence, label_of)
    return ExplorerView(True, "", figures, rows, note, dependence_note)


def _dependence(
    dependence: Dependence, label_of: Callable[[Any], str]
) -> tuple[dict[str, Any], str]:
    account = dependence.account
    if dependence.kind == "value_added_origin":
        figure = charts.stacked_origin_figure(
            dependence.values, "Origin of value added in each region's final demand", "share (%)"
        )
        return figure, (
            f"Value added ('{account}') embodied in each region's final demand, by region of "
            "origin (multi-regional Leontief model), in % of the column total."
        )
    unit = dependence.unit
    axis = f"{account} ({unit}) per money unit" if unit else f"{account} per money unit"
    figure = charts.bar_figure(
        dependence.values, "Imports embodied per unit of final demand", axis, label_of=label_of
    )
    return figure, (
        f"Account '{account}' embodied per money unit of final demand for each product "
        "(M = S L, total requirements): the products whose delivery depends most on imports."
    )
