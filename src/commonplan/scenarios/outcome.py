"""What one scenario model found: :class:`ScenarioOutcome` (a :class:`~commonplan.results.Result`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from commonplan.results import WritesTables
from commonplan.scenarios.shock import Shock

Measure = Literal["output", "cost"]


@dataclass(frozen=True)
class OutcomeReport:
    """How an outcome was computed: the model, its source, the time it took, and notes."""

    model: str
    source: str
    seconds: float
    notes: str = ""


def loss_table(sectors: pd.Index, periods: int, base: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
    """Long table (period, sector, base_output, loss, loss_share) from sectors × periods arrays."""
    base = np.asarray(base, dtype=float)
    loss = np.asarray(loss, dtype=float).reshape(len(sectors), periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(base[:, None] > 0, loss / base[:, None], 0.0)
    return pd.DataFrame(
        {
            "period": np.repeat(np.arange(1, periods + 1), len(sectors)),
            "sector": np.tile(np.asarray(sectors, dtype=object), periods),
            "base_output": np.tile(base, periods),
            "loss": loss.T.ravel(),
            "loss_share": share.T.ravel(),
        }
    )


@dataclass(frozen=True)
class ScenarioOutcome(WritesTables):
    """One model's answer to one :class:`Shock`, stating the assumptions it rests on.

    ``losses`` has one row per period and sector of the shocked region: ``base_output``
    (the table's gross output, money units of the table per period), ``loss`` (output
    lost, same units; negative where the model produces more than in the base year) and
    ``loss_share`` (loss / base output). For a model whose ``measure`` is ``"cost"`` (the
    Ghosh price model) ``loss_share`` is the relative price rise and ``loss`` the extra
    cost of the base-year output at the new prices. ``extra`` holds model-specific tables.
    """

    model: str
    shock: Shock
    assumptions: Mapping[str, Any]
    measure: Measure
    losses: pd.DataFrame
    units: str
    report: OutcomeReport
    extra: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    workbook = "scenario_outcome"

    def loss(self, column: str = "loss") -> pd.DataFrame:
        """``column`` of :attr:`losses` as sectors × periods."""
        return self.losses.pivot(index="sector", columns="period", values=column).reindex(
            pd.unique(self.losses["sector"])
        )

    def total(self) -> pd.DataFrame:
        """Per period: base output, loss and loss share of the whole region."""
        grouped = self.losses.groupby("period")[["base_output", "loss"]].sum()
        grouped["loss_share"] = grouped["loss"] / grouped["base_output"]
        return grouped

    def tables(self) -> dict[str, pd.DataFrame]:
        """``losses`` (long), ``total`` (per period), ``assumptions`` (name, value), then ``extra``."""
        tables = {
            "losses": self.losses,
            "total": self.total().reset_index(),
            "assumptions": pd.DataFrame(
                {
                    "name": ["model", "shock", *self.assumptions],
                    "value": [
                        self.model,
                        self.shock.describe(),
                        *(str(v) for v in self.assumptions.values()),
                    ],
                }
            ),
        }
        tables.update(self.extra)
        return tables

    def summary(self) -> str:
        what = "output lost" if self.measure == "output" else "cost increase"
        lines = [f"model {self.model!r}: {self.shock.describe()}"]
        lines.append(
            "assumptions: " + ", ".join(f"{k} = {v}" for k, v in self.assumptions.items())
            if self.assumptions
            else "assumptions: none beyond the model's"
        )
        total = self.total()
        lines.append(
            f"{what} ({self.units}; share of base output): "
            + ", ".join(
                f"period {p}: {r.loss:.6g} ({r.loss_share:.2%})" for p, r in total.iterrows()
            )
        )
        return "\n".join(lines)
