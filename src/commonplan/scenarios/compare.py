"""Several models on one shock, side by side: :func:`compare` and :class:`ModelComparison`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from commonplan.economy import Economy
from commonplan.errors import SpecError
from commonplan.results import WritesTables
from commonplan.scenarios.models import MODELS, model
from commonplan.scenarios.outcome import ScenarioOutcome
from commonplan.scenarios.shock import Shock


@dataclass(frozen=True)
class ComparisonReport:
    """Which models ran and how long each took (seconds)."""

    models: tuple[str, ...]
    seconds: Mapping[str, float]


@dataclass(frozen=True)
class ModelComparison(WritesTables):
    """Outcomes of several models on one shock (a :class:`~commonplan.results.Result`).

    :meth:`side_by_side` has one row per period and sector, one column of loss share per
    model, and the spread (max − min, min and max) over the models that measure output
    lost; :meth:`totals` the same for the whole region per period.
    """

    shock: Shock
    outcomes: Mapping[str, ScenarioOutcome]

    workbook = "model_comparison"

    @property
    def report(self) -> ComparisonReport:
        return ComparisonReport(
            tuple(self.outcomes), {n: o.report.seconds for n, o in self.outcomes.items()}
        )

    @property
    def output_models(self) -> list[str]:
        """The models whose measure is output lost (the spread is taken over these)."""
        return [n for n, o in self.outcomes.items() if o.measure == "output"]

    def long(self) -> pd.DataFrame:
        """Every outcome's losses stacked, with a ``model`` column."""
        return pd.concat(
            [o.losses.assign(model=n) for n, o in self.outcomes.items()], ignore_index=True
        )[["model", "period", "sector", "base_output", "loss", "loss_share"]]

    @staticmethod
    def _spread(wide: pd.DataFrame, models: list[str]) -> pd.DataFrame:
        if models:
            wide["min"] = wide[models].min(axis=1)
            wide["max"] = wide[models].max(axis=1)
            wide["spread"] = wide["max"] - wide["min"]
        return wide

    def side_by_side(self, column: str = "loss_share") -> pd.DataFrame:
        """(period, sector) × model of ``column``, then min, max and spread over the output models."""
        wide = self.long().pivot_table(
            index=["period", "sector"], columns="model", values=column, sort=False
        )
        wide = wide[list(self.outcomes)]
        wide.columns.name = None
        return self._spread(wide, self.output_models)

    def totals(self) -> pd.DataFrame:
        """period × model: share of the region's base output lost, then min, max and spread."""
        wide = pd.DataFrame({n: o.total()["loss_share"] for n, o in self.outcomes.items()})
        return self._spread(wide, self.output_models)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``side_by_side`` and ``totals`` (flat), ``losses`` (long), and each outcome's tables."""
        tables = {
            "side_by_side": self.side_by_side().reset_index(),
            "totals": self.totals().rename_axis("period").reset_index(),
            "losses": self.long(),
        }
        for name, outcome in self.outcomes.items():
            for key, table in outcome.tables().items():
                if key != "losses":
                    tables[f"{name}_{key}".replace("-", "_")] = table
        return tables

    def summary(self) -> str:
        lines = [self.shock.describe()]
        totals = self.totals()
        for name, outcome in self.outcomes.items():
            what = "output lost" if outcome.measure == "output" else "price rise"
            lines.append(
                f"{name:>15}: {what} " + ", ".join(f"p{p} {v:.2%}" for p, v in totals[name].items())
            )
        if "spread" in totals:
            lines.append(
                f"{'spread':>15}: "
                + ", ".join(f"p{p} {v:.2%}" for p, v in totals["spread"].items())
                + f" (over {', '.join(self.output_models)})"
            )
        return "\n".join(lines)


def compare(
    economy: Economy,
    shock: Shock,
    models: str | Sequence[str] = "all",
    assumptions: Mapping[str, Any] | None = None,
) -> ModelComparison:
    """Run each model of ``models`` (names of :data:`MODELS`, or ``"all"``) on ``shock``.

    ``assumptions`` maps a model name to its assumptions (dataclass or mapping).
    """
    names = (
        list(MODELS) if models == "all" else [models] if isinstance(models, str) else list(models)
    )
    if not names:
        raise SpecError("no model", where="compare.models", expected=f"names among {list(MODELS)}")
    assumptions = dict(assumptions or {})
    for name in assumptions:
        if name not in names:
            raise SpecError(
                f"assumptions for {name!r}, which is not compared",
                where=f"compare.assumptions[{name!r}]",
                expected=f"one of {names}",
            )
    shock.check(economy)
    outcomes = {n: model(n).run(economy, shock, assumptions.get(n)) for n in names}
    return ModelComparison(shock, outcomes)
