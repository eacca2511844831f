"""The economy explorer: key sectors and dependence, computed by :mod:`commonplan.analysis`.

For the assembly's stored economy the page shows

* **key sectors** — :func:`commonplan.analysis.linkages`: Rasmussen (1956) backward
  linkages (column sums of the Leontief inverse) and Ghosh-model forward linkages
  (Miller & Blair 2009, §12.1.3), normalised to power and sensitivity of dispersion and
  classified per Miller & Blair Table 12.1; dimensionless;
* **dependence** — for a multi-region economy, :func:`commonplan.analysis.value_added_origin`:
  the origin of the value added embodied in each region's final demand (shares, %); for
  a one-region economy with an imports account, :func:`commonplan.analysis.account_multipliers`:
  imports embodied per unit of final demand for each product (the account's unit per
  money unit).

Results are cached per stored economy (its content hash), since the analysis is pure.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from commonplan.economy import Economy
from commonplan.errors import CommonplanError
from commonplan.server import charts

_CACHE: dict[str, ExplorerView] = {}
_LOCK = threading.Lock()
_IMPORT_WORDS = ("import",)
_VALUE_ADDED_WORDS = ("value added", "value_added", "va", "gdp", "compensation")


@dataclass(frozen=True)
class ExplorerView:
    """What the economy page shows: charts (Plotly dicts), a table of key sectors, notes."""

    available: bool
    reason: str = ""
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_rows: list[dict[str, Any]] = field(default_factory=list)
    key_note: str = ""
    dependence_note: str = ""


def explore(economy: Economy, cache_key: str | None = None) -> ExplorerView:
    """Compute (or fetch from the cache) the explorer view of ``economy``."""
    if cache_key is not None:
        with _LOCK:
            if cache_key in _CACHE:
                return _CACHE[cache_key]
    view = _compute(economy)
    if cache_key is not None:
        with _LOCK:
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[cache_key] = view
    return view


def _compute(economy: Economy) -> ExplorerView:
    try:
        from commonplan import analysis
    except ImportError:  # pragma: no cover - the analysis module ships with Commonplan
        return ExplorerView(False, "the analysis module is not available")
    try:
        solver = analysis.LeontiefSolver(economy.A)
        table = analysis.linkages(economy, solver=solver)
    except CommonplanError as error:
        return ExplorerView(False, f"key sectors cannot be computed: {error}")
    top = analysis.key_sectors(table, top=15)
    rows = [
        {
            "product": " / ".join(str(p) for p in idx) if isinstance(idx, tuple) else str(idx),
            "backward": float(r["power_of_dispersion"]),
            "forward": float(r["sensitivity_of_dispersion"]),
            "kind": str(r["classification"]),
        }
        for idx, r in top.iterrows()
    ]
    figures: dict[str, dict[str, Any]] = {"linkages-data": charts.linkages_figure(table)}
    note = (
        f"{int((table['classification'] == 'key').sum())} of {len(table)} products are key "
        "sectors (both normalised indices above 1). Backward: Rasmussen (1956) column sums of "
        "the Leontief inverse; forward: Ghosh supply-side model; Miller & Blair (2009) §12.1."
    )
    dependence_note = ""
    try:
        dependence_note = _dependence(economy, solver, figures)
    except CommonplanError as error:
        dependence_note = ""
        figures.pop("dependence-data", None)
        note += f" (Dependence not shown: {error.message}.)"
    return ExplorerView(True, "", figures, rows, note, dependence_note)


def _find_account(economy: Economy, words: tuple[str, ...]) -> str | None:
    for name in economy.account_names:
        lowered = str(name).lower()
        if any(
            w == lowered or w in lowered.split() or (len(w) > 3 and w in lowered) for w in words
        ):
            return str(name)
    return None


def _dependence(economy: Economy, solver: Any, figures: dict[str, dict[str, Any]]) -> str:
    from commonplan import analysis

    regions = [str(r) for r in economy.regions]
    if len(regions) > 1:
        account = _find_account(economy, _VALUE_ADDED_WORDS)
        if account is None:
            return ""
        origin = analysis.value_added_origin(economy, account, solver=solver)
        figures["dependence-data"] = charts.stacked_origin_figure(
            origin, "Origin of value added in each region's final demand", "share (%)"
        )
        return (
            f"Value added ('{account}') embodied in each region's final demand, by region of "
            "origin (multi-regional Leontief model), in % of the column total."
        )
    account = _find_account(economy, _IMPORT_WORDS)
    if account is None:
        return ""
    multipliers = analysis.account_multipliers(economy, account, solver=solver)
    series = multipliers.loc[account] if account in multipliers.index else multipliers.iloc[0]
    units = economy.account_units
    unit = str(units.get(account, "")) if isinstance(units, Mapping) else ""
    axis = f"{account} ({unit}) per money unit" if unit else f"{account} per money unit"
    figures["dependence-data"] = charts.bar_figure(
        series, "Imports embodied per unit of final demand", axis
    )
    return (
        f"Account '{account}' embodied per money unit of final demand for each product "
        "(M = S L, total requirements): the products whose delivery depends most on imports."
    )
