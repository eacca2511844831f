"""The one shape every result of Commonplan has: :class:`Result`.

An analysis (:class:`~commonplan.analysis.AnalysisResults`), a plan
(:class:`~commonplan.planning.Plan`), a trade scenario
(:class:`~commonplan.planning.ScenarioResult`), a participatory planning run
(:class:`~commonplan.participation.ParticipationResult`) and its labour comparison
(:class:`~commonplan.participation.LabourComparison`) all answer the same four questions:

``result.report``
    How it was computed: a frozen dataclass (method, solver, iterations, times, tolerances).
``result.summary()``
    A short text for a person to read.
``result.tables()``
    Every result table, by name (the names become file and sheet names).
``result.write(directory, formats=("parquet",))``
    Writes :meth:`tables` through the one writer,
    :func:`commonplan.io.writer.write_tables`, and returns the paths written.

:class:`WritesTables` implements ``write`` from ``tables`` once, for every result class.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import pandas as pd

from commonplan.io.writer import write_tables


@runtime_checkable
class Result(Protocol):
    """What every result offers; see the module documentation."""

    @property
    def report(self) -> Any:
        """How the result was computed (a frozen dataclass)."""

    def summary(self) -> str:
        """A short human-readable text."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result table, by name."""

    def write(self, directory: str | Path, formats: Sequence[str] = ("parquet",)) -> list[Path]:
        """Write :meth:`tables` into ``directory`` (``"parquet"``, ``"csv"``, ``"excel"``)."""


class WritesTables:
    """Mixin: ``write`` for a class that has ``tables()``; ``workbook`` names its Excel file."""

    workbook: ClassVar[str] = "results"

    def write(self, directory: str | Path, formats: Sequence[str] = ("parquet",)) -> list[Path]:
        """Write every table of :meth:`tables` into ``directory``; return the paths written.

        ``formats``: any of ``"parquet"`` (``NAME.parquet``), ``"csv"`` (``NAME.csv``) and
        ``"excel"`` (one workbook, one sheet per table); see
        :func:`~commonplan.io.writer.write_tables`.
        """
        return write_tables(self.tables(), directory, formats, workbook=self.workbook)  # type: ignore[attr-defined]


def summary_html(title: str, rows: Sequence[tuple[str, object]]) -> str:
    """A small HTML table for notebooks (``_repr_html_``): ``title``, then one row per
    ``(field, value)``; every text is escaped, so labels from a table cannot inject markup."""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(key))}</th>"
        f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
        for key, value in rows
    )
    return f"<table><caption><b>{html.escape(title)}</b></caption>{body}</table>"


__all__ = ["Result", "WritesTables", "summary_html"]
