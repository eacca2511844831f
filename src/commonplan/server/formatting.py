"""How the pages write numbers, units and names: for people, not for machines.

* numbers: thousands separators, four significant digits, never ``1e+07`` and never
  ``-0`` (:func:`format_number`); ratios as percentages (:func:`format_percent`);
* alternatives' key figures: a readable name and a unit for each stored key
  (:func:`figure_rows`), money in the economy's unit, the resource in its account's unit;
* products and sectors by the names the economy's reader recorded (:func:`product_name`);
* times in the assembly's time zone, with the zone and its offset (:func:`format_local_time`);
* text that goes into a Plotly chart is entity-escaped (:func:`plot_text`): Plotly renders
  ``<a href>``, ``<b>`` and friends in labels, so a name typed by a facilitator would
  otherwise become a live link on every visitor's page.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

SIGNIFICANT_DIGITS = 4
MAX_DECIMALS = 6
"""Smaller magnitudes than 10⁻⁶ are written as a bound (``< 0.000001``), never in e-notation."""


def format_number(value: Any, unit: str = "") -> str:
    """A number rounded to four significant digits, with thousands separators and its unit.

    ``24578078.9`` → ``"24,580,000"``, ``0.000123`` → ``"0.000123"``, ``-0.0`` → ``"0"``;
    NaN, infinities and ``None`` → ``"—"``. Integers are written in full.
    """
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, int | np.integer):
        text = f"{int(value):,}"
    elif isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return "—"
        text = _significant(v)
    else:
        return str(value)
    return f"{text} {unit}" if unit else text


def _significant(v: float) -> str:
    if v == 0:
        return "0"
    bound = 10.0**-MAX_DECIMALS
    if abs(v) < bound:
        return f"< {bound:.{MAX_DECIMALS}f}" if v > 0 else f"> -{bound:.{MAX_DECIMALS}f}"
    decimals = SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(v)))
    rounded = round(v, decimals)
    if rounded == 0:
        return "0"
    if decimals <= 0:
        return f"{rounded:,.0f}"
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")


def format_local_time(moment: datetime | None, time_zone: str) -> str | None:
    """An instant as wall-clock time in ``time_zone`` (an IANA name), with the zone and offset.

    ``2031-05-01 01:31 UTC`` in ``Asia/Karachi`` → ``"2031-05-01 06:31 Asia/Karachi (UTC+05:00)"``;
    in ``UTC`` → ``"2031-05-01 01:31 UTC"``. ``None`` stays ``None``.
    """
    if moment is None:
        return None
    local = moment.astimezone(ZoneInfo(time_zone))
    text = local.strftime("%Y-%m-%d %H:%M")
    if time_zone == "UTC":
        return f"{text} UTC"
    offset = local.strftime("%z")
    return f"{text} {time_zone} (UTC{offset[:3]}:{offset[3:]})"


def format_percent(ratio: Any) -> str:
    """A ratio (1 = 100 %) as a percentage with up to three significant digits, e.g. ``"42 %"``."""
    if ratio is None or not isinstance(ratio, int | float | np.integer | np.floating):
        return "—"
    v = 100 * float(ratio)
    if not math.isfinite(v):
        return "—"
    text = "0" if round(v, 1) == 0 else f"{v:,.1f}".rstrip("0").rstrip(".")
    return f"{text} %"


def plot_text(value: Any) -> str:
    """Text for a Plotly label, legend or hover: ``&``, ``<`` and ``>`` as entities, so tags show as typed.

    Quotes stay as they are: Plotly decodes ``&lt;``, ``&gt;`` and ``&amp;`` but would show ``&quot;``
    literally, and a quote alone cannot open a tag.
    """
    return html.escape(str(value), quote=False)


def product_name(label: Any, names: Mapping[str, str], *, with_region: bool) -> str:
    """A product label ``(region, sector)`` written with the sector's name.

    ``with_region``: add the region in parentheses (multi-region economies), e.g.
    ``"Manufacturing (MEX)"``; a one-region economy shows the name alone.
    """
    if isinstance(label, tuple) and len(label) == 2:
        region, sector = (str(p) for p in label)
        name = names.get(sector, sector)
        return f"{name} ({region})" if with_region else name
    text = str(label)
    return names.get(text, text)


@dataclass(frozen=True)
class FigureRow:
    """One key figure of an alternative: what it is, its formatted value, and a warning flag."""

    name: str
    value: str
    low: bool = False


LOW_FULFILMENT = 0.5
"""A group a plan meets below this share of its target is flagged on the page."""

_MONEY = {
    "total_deliveries": "Final deliveries",
    "total_targets": "Final-demand targets",
    "consumption_delivered": "Consumption delivered",
    "investment_delivered": "Investment delivered",
}
_RATIO = {"mean_fulfilment": "Mean fulfilment", "worst_fulfilment": "Worst fulfilment"}
_SKIP = {"units", "resource", "resource_unit", "imports", "fulfilment_by_group"}


def money_unit(units: str) -> str:
    """The short money unit of an economy's ``metadata.units`` (``"USD million, current prices …"`` → ``"USD million"``)."""
    return (units or "").split(",")[0].split("(")[0].strip()


def figure_rows(figures: Mapping[str, Any]) -> list[FigureRow]:
    """An alternative's key figures as readable rows, each with its unit.

    Keys written by :func:`commonplan.councils.alternatives.compute_alternatives` get a
    name and a unit (money in the economy's unit, the resource in its account's unit,
    fulfilment in % of target, one row per target group, flagged below 50 %); any other
    key (hand-made alternatives) is shown by its own name with its value.
    """
    money = money_unit(str(figures.get("units", "")))
    resource = str(figures.get("resource", "") or "")
    resource_unit = str(figures.get("resource_unit", "") or money)
    imports = str(figures.get("imports", "") or "")
    rows: list[FigureRow] = []
    by_group = figures.get("fulfilment_by_group")
    if isinstance(by_group, Mapping):
        for group, share in by_group.items():
            low = isinstance(share, int | float) and share < LOW_FULFILMENT
            value = format_percent(share) if share is not None else "not measured (no sectors)"
            rows.append(FigureRow(f"Fulfilment: {group}", value, low))
    for key, value in figures.items():
        if key in _SKIP:
            continue
        if key in _MONEY:
            rows.append(FigureRow(_MONEY[key], format_number(value, money)))
        elif key in _RATIO:
            rows.append(FigureRow(_RATIO[key] + " (of target)", format_percent(value)))
        elif key in ("resource_used", "resource_limit"):
            what = "used" if key == "resource_used" else "limit"
            rows.append(
                FigureRow(
                    f"{_words(resource) or 'Resource'} {what}", format_number(value, resource_unit)
                )
            )
        elif key in ("imports_used", "imports_limit"):
            what = "used" if key == "imports_used" else "limit"
            shown = "none" if value is None else format_number(value, resource_unit)
            rows.append(FigureRow(f"{_words(imports) or 'Imports'} {what}", shown))
        elif key == "objective":
            rows.append(FigureRow("Harmony objective (dimensionless)", format_number(value)))
        elif key == "method":
            rows.append(FigureRow("Solver", str(value)))
        elif isinstance(value, Mapping):
            rows.extend(
                FigureRow(f"{_words(key)}: {sub}", format_number(inner))
                for sub, inner in value.items()
            )
        elif isinstance(value, list | tuple):
            rows.append(FigureRow(_words(key), ", ".join(format_number(v) for v in value)))
        else:
            rows.append(FigureRow(_words(key), format_number(value)))
    return rows


def _words(key: str) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
