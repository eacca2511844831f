"""The result of a participatory planning run: rounds, trajectory, final plan, run configuration.

A :class:`ParticipationResult` holds one :class:`~commonplan.participation.procedure.YearRun`
per year and labels it: round counts to each threshold, whether each year converged or
diverged, the price and imbalance trajectory as DataFrames indexed by round with
``(quantity, class, good)`` columns, and the final plan (every council's proposal) as
labelled Series and DataFrames. It is a :class:`~commonplan.results.Result`: ``report``
says how the run was made (:class:`ParticipationReport`), ``summary()`` is a short text,
``tables()`` every table and :meth:`ParticipationResult.write` stores them (Parquet by
default) with ``run_configuration.json`` next to them (inputs' content hash, parameters,
versions), so that a run can be identified and repeated.

Units: prices in credits per unit; quantities in units of each good; imbalances as
fractions (the program prints percent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commonplan.errors import DivergenceError
from commonplan.participation.model import GoodClass, ParticipatoryEconomy
from commonplan.participation.procedure import (
    REPORTED_THRESHOLDS,
    Councils,
    Proposals,
    YearRun,
    colour_of,
)
from commonplan.results import WritesTables, summary_html

TRAJECTORY_QUANTITIES = ("price", "step", "multiplier", "supply", "demand", "surplus", "imbalance")
"""Per-commodity quantities recorded each round (see :class:`~commonplan.participation.procedure.YearRun`)."""


@dataclass(frozen=True)
class YearPlan:
    """The final plan of one year: every council's proposal at the last round's prices.

    * ``price``: prices the proposals were made at, ``p^(T−1)`` (credits per unit, by commodity);
    * ``worker_output`` and ``worker_effort``: Series by worker council (units of its good; effort);
    * ``worker_inputs``: long DataFrame ``worker_council, class, good, quantity`` (units);
    * ``consumer_private``: DataFrame consumer council × private good (units);
    * ``consumer_public``: DataFrame consumer council × public good, the quantity each
      council states at its per-council price ``p/N_C`` (units; the board uses their mean);
    * ``supply``, ``demand``: totals by commodity (units).
    """

    price: pd.Series
    worker_output: pd.Series
    worker_effort: pd.Series
    worker_inputs: pd.DataFrame
    consumer_private: pd.DataFrame
    consumer_public: pd.DataFrame
    supply: pd.Series
    demand: pd.Series

    @property
    def labour_used(self) -> float:
        """Total labour the plan's worker councils ask for, all labour types together (units)."""
        inputs = self.worker_inputs
        return float(inputs.loc[inputs["class"] == GoodClass.LABOUR.label, "quantity"].sum())


@dataclass(frozen=True)
class ParticipationReport:
    """How a participatory planning run was made: the procedure, its parameters and rounds.

    ``rounds`` has one entry per year run (fewer than ``years`` if a year diverged);
    ``stop_threshold`` is the worst imbalance (fraction) that ends a year, ``max_rounds``
    the round cap per year, ``initial_price`` year one's starting price (credits per unit).
    """

    procedure: str
    rule: str
    years: int
    seed: int | None
    stop_threshold: float | None
    max_rounds: int | None
    initial_price: float | None
    rounds: tuple[int, ...]
    status: str


PROCEDURE = "Hahnel-Szczepanczyk participatory annual planning (pequod-cljs csvgen)"


@dataclass(frozen=True, eq=False)
class ParticipationResult(WritesTables):
    """Outcome of :func:`~commonplan.participation.procedure.run_procedure`.

    ``economy`` is year one's economy; ``years[i].economy`` the economy of year ``i + 1``
    (exponents perturbed after year one). ``parameters`` records everything else the run
    depended on (years, seed, threshold, round cap, initial price, rule).
    """

    economy: ParticipatoryEconomy
    years: tuple[YearRun, ...]
    parameters: dict[str, Any] = field(default_factory=dict)

    # ---- status -------------------------------------------------------------------------

    def year(self, year: int = 1) -> YearRun:
        """The raw run of ``year`` (1-based)."""
        if not 1 <= year <= len(self.years):
            from commonplan.errors import ParticipationInputError

            raise ParticipationInputError(
                f"year {year} was not run",
                where="result",
                expected=f"a year in 1..{len(self.years)}",
            )
        return self.years[year - 1]

    @property
    def converged(self) -> bool:
        """Every year reached its stopping threshold."""
        return all(y.converged for y in self.years) and len(self.years) == self.parameters.get(
            "years", len(self.years)
        )

    @property
    def diverged(self) -> bool:
        """Some year produced non-finite or non-positive values (a divergence, not a round-cap stop)."""
        return any(y.diverged for y in self.years)

    @property
    def status(self) -> str:
        """One line: converged, diverged (where), or stopped at the round cap."""
        for number, run in enumerate(self.years, start=1):
            if run.diverged:
                return f"diverged in year {number} at round {run.rounds} (non-finite or non-positive values)"
            if not run.converged:
                return (
                    f"not converged: year {number} stopped at the round cap of {run.rounds} rounds"
                )
        return "converged"

    def raise_if_diverged(self) -> None:
        """Raise :class:`~commonplan.errors.DivergenceError` if any year diverged."""
        if self.diverged:
            raise DivergenceError(
                self.status,
                where=self.economy.name or "participatory economy",
                expected="finite, positive supplies, demands and prices",
                fix="try another price rule or smaller steps; check the councils' parameters",
            )

    def rounds_to(self, threshold: float, year: int = 1) -> int | None:
        """First round of ``year`` whose worst imbalance is below ``threshold`` (fraction), or None."""
        return self.year(year).first_round_below(threshold)

    def year_summary(self) -> pd.DataFrame:
        """One row per year: rounds, converged, diverged, first round below 10 %, 5 %, 3 %."""
        rows = []
        for number, run in enumerate(self.years, start=1):
            row: dict[str, Any] = {
                "year": number,
                "rounds": run.rounds,
                "converged": run.converged,
                "diverged": run.diverged,
                "final_worst_imbalance": float(run.worst_imbalance[-1]) if run.rounds else np.nan,
            }
            for threshold in REPORTED_THRESHOLDS:
                row[f"first_round_below_{round(threshold * 100):d}pct"] = run.first_round_below(
                    threshold
                )
            t10, t5 = row["first_round_below_10pct"], row["first_round_below_5pct"]
            row["rounds_from_10pct_to_5pct"] = None if t10 is None or t5 is None else t5 - t10
            rows.append(row)
        frame = pd.DataFrame(rows).set_index("year")
        for column in frame.columns:
            if column.startswith(("first_round", "rounds_from")):
                frame[column] = frame[column].astype("Int64")
        return frame

    def __repr__(self) -> str:
        return (
            f"<ParticipationResult {self.economy.name or 'participatory economy'!r}: "
            f"{len(self.years)} year(s), rounds {tuple(run.rounds for run in self.years)}, {self.status}>"
        )

    def _repr_html_(self) -> str:
        p = self.parameters
        rows: list[tuple[str, object]] = [
            ("economy", self.economy.name or "participatory economy"),
            ("procedure", PROCEDURE),
            ("rule", p.get("rule", "")),
            ("status", self.status),
        ]
        for number, run in enumerate(self.years, start=1):
            worst = f"{float(run.worst_imbalance[-1]):.3%}" if run.rounds else "n/a"
            rows.append((f"year {number}", f"{run.rounds} rounds, final worst imbalance {worst}"))
        return summary_html("Participatory planning", rows)

    @property
    def report(self) -> ParticipationReport:
        """The procedure, its parameters and the rounds each year took."""
        p = self.parameters
        return ParticipationReport(
            procedure=PROCEDURE,
            rule=str(p.get("rule", "")),
            years=int(p.get("years", len(self.years))),
            seed=p.get("seed"),
            stop_threshold=p.get("stop_threshold"),
            max_rounds=p.get("max_rounds"),
            initial_price=p.get("initial_price"),
            rounds=tuple(run.rounds for run in self.years),
            status=self.status,
        )

    def summary(self) -> str:
        """The status, then one line per year: rounds, first rounds below 10/5/3 %, final imbalance."""
        lines = [f"{self.economy.name or 'participatory economy'}: {self.status}"]
        percents = [round(t * 100) for t in REPORTED_THRESHOLDS]
        for year, row in self.year_summary().iterrows():
            firsts = (row[f"first_round_below_{p:d}pct"] for p in percents)
            lines.append(
                f"year {year}: {row['rounds']} rounds; first round below "
                + ", ".join(
                    f"{p} %: {'–' if pd.isna(f) else f}"
                    for p, f in zip(percents, firsts, strict=True)
                )
                + f"; worst imbalance at the end {100 * row['final_worst_imbalance']:.4f} %"
            )
        return "\n".join(lines)

    # ---- trajectory ---------------------------------------------------------------------

    def trajectory(self, year: int = 1) -> pd.DataFrame:
        """Rounds × ``(quantity, class, good)``: every recorded quantity of every round.

        Quantities are those of :data:`TRAJECTORY_QUANTITIES`; ``price`` is the updated price
        of the round (the program's printed price), the others are measured on the round's
        proposals.
        """
        run = self.year(year)
        commodities = self.economy.commodities
        blocks = [pd.DataFrame(getattr(run, q), columns=commodities) for q in TRAJECTORY_QUANTITIES]
        frame = pd.concat(
            blocks, axis=1, keys=list(TRAJECTORY_QUANTITIES), names=["quantity", "class", "good"]
        )
        frame.index = pd.RangeIndex(1, run.rounds + 1, name="round")
        return frame

    def prices(self, year: int = 1) -> pd.DataFrame:
        """Rounds × commodities: the updated prices ``p^(t)`` (credits per unit)."""
        return self.trajectory(year)["price"]

    def imbalances(self, year: int = 1) -> pd.DataFrame:
        """Rounds × commodities: relative imbalances ``v`` (fraction)."""
        return self.trajectory(year)["imbalance"]

    def rounds_table(self, year: int = 1) -> pd.DataFrame:
        """Per round: worst imbalance (fraction), the commodity where it is, and the program's colour."""
        run = self.year(year)
        worst = run.worst_imbalance
        where = np.argmax(run.imbalance, axis=1) if run.rounds else np.zeros(0, dtype=int)
        labels = self.economy.commodities
        return pd.DataFrame(
            {
                "worst_imbalance": worst,
                "worst_class": labels.get_level_values("class")[where],
                "worst_good": labels.get_level_values("good")[where],
                "colour": [colour_of(100.0 * w) for w in worst],
            },
            index=pd.RangeIndex(1, run.rounds + 1, name="round"),
        )

    # ---- final plan ---------------------------------------------------------------------

    def proposals(self, year: int | None = None) -> Proposals:
        """Raw arrays of every council's proposal in the last round of ``year`` (default: last year)."""
        run = self.year(len(self.years) if year is None else year)
        return Councils(run.economy).proposals(run.proposal_price)

    def plan(self, year: int | None = None) -> YearPlan:
        """The final plan of ``year`` (default: the last year run) as labelled arrays."""
        number = len(self.years) if year is None else year
        return self._plans[number]

    @cached_property
    def _plans(self) -> _PlanCache:
        return _PlanCache(self)

    def linearised_economy(self, year: int | None = None):
        """The core :class:`~commonplan.economy.Economy` with the final plan of ``year`` as fixed coefficients."""
        number = len(self.years) if year is None else year
        run = self.year(number)
        raw = self.proposals(number)
        consumer_demand = Councils(run.economy).consumer_budget / run.proposal_price
        return run.economy.linearised_at(raw.worker_output, raw.worker_input_use, consumer_demand)

    # ---- reproducibility and storage ----------------------------------------------------

    def run_configuration(self) -> dict[str, Any]:
        """What determined this run: inputs' content hash, parameters, library versions
        (:func:`commonplan.runrecord.platform_versions`, the same as in every ``run.json``)."""
        from commonplan import __version__
        from commonplan.runrecord import platform_versions

        economy = self.economy
        return {
            "procedure": PROCEDURE,
            "specification": "shared/specs/participatory-procedure.md",
            "input": {
                "name": economy.name,
                "source": economy.source,
                "content_sha256": economy.content_hash(),
                "goods_per_class": economy.goods_per_class,
                "worker_councils": economy.workers.count,
                "consumer_councils": economy.consumers.count,
                **({"metadata": _jsonable(economy.metadata)} if economy.metadata else {}),
            },
            "parameters": _jsonable(self.parameters),
            "outcome": {
                "status": self.status,
                "summary": _jsonable(self.year_summary().reset_index().to_dict("records")),
            },
            "versions": {"commonplan": __version__, **platform_versions()},
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the run, long and flat, all years together.

        ``summary`` (one row per year, :meth:`year_summary`); ``trajectory`` (year, round,
        quantity, class, good, value); ``rounds`` (year, round, worst imbalance, colour);
        ``plan_workers`` (year, worker council, industry, product, output, effort);
        ``plan_worker_inputs`` (year, worker council, class, good, quantity);
        ``plan_consumers`` (year, consumer council, class, good, quantity).
        """
        numbers = range(1, len(self.years) + 1)
        return {
            "summary": self.year_summary().reset_index(),
            "trajectory": _concat(self._long_trajectory(n) for n in numbers),
            "rounds": _concat(self._rounds(n) for n in numbers),
            "plan_workers": _concat(self._plan_workers(n) for n in numbers),
            "plan_worker_inputs": _concat(
                self.plan(n).worker_inputs.assign(year=n) for n in numbers
            ),
            "plan_consumers": _concat(self._plan_consumers(n) for n in numbers),
        }

    def write(self, directory: str | Path, formats: Sequence[str] = ("parquet",)) -> list[Path]:
        """Write :meth:`tables` in ``formats`` and ``run_configuration.json`` into ``directory``.

        Returns the paths written, the run configuration last.
        """
        paths = super().write(directory, formats)
        configuration = Path(directory) / "run_configuration.json"
        configuration.write_text(json.dumps(self.run_configuration(), indent=2, sort_keys=True))
        return [*paths, configuration]

    def _long_trajectory(self, year: int) -> pd.DataFrame:
        long = self.trajectory(year).stack(["quantity", "class", "good"], future_stack=True)
        long = long.rename("value").reset_index()
        long.insert(0, "year", year)
        return long

    def _rounds(self, year: int) -> pd.DataFrame:
        table = self.rounds_table(year).reset_index()
        table.insert(0, "year", year)
        return table

    def _plan_workers(self, year: int) -> pd.DataFrame:
        plan, wc = self.plan(year), self.economy.workers
        return pd.DataFrame(
            {
                "year": year,
                "worker_council": plan.worker_output.index,
                "industry": wc.industry,
                "product": wc.product,
                "output": plan.worker_output.to_numpy(),
                "effort": plan.worker_effort.to_numpy(),
            }
        )

    def _plan_consumers(self, year: int) -> pd.DataFrame:
        plan = self.plan(year)
        frames = []
        for label, frame in (("private", plan.consumer_private), ("public", plan.consumer_public)):
            values = frame.to_numpy()
            frames.append(
                pd.DataFrame(
                    {
                        "year": year,
                        "consumer_council": np.repeat(frame.index.to_numpy(), values.shape[1]),
                        "class": label,
                        "good": np.tile(frame.columns.to_numpy(), values.shape[0]),
                        "quantity": values.ravel(),
                    }
                )
            )
        return _concat(frames)


def _concat(frames) -> pd.DataFrame:
    return pd.concat(list(frames), ignore_index=True)


class _PlanCache:
    """Builds each year's :class:`YearPlan` once, on first access."""

    def __init__(self, result: ParticipationResult) -> None:
        self.result = result
        self.plans: dict[int, YearPlan] = {}

    def __getitem__(self, year: int) -> YearPlan:
        if year not in self.plans:
            self.plans[year] = _build_plan(self.result, year)
        return self.plans[year]


def _build_plan(result: ParticipationResult, year: int) -> YearPlan:
    run = result.year(year)
    economy = run.economy
    raw = Councils(economy).proposals(run.proposal_price)
    g = economy.goods_per_class
    wc = economy.workers
    commodities = economy.commodities
    workers = economy.worker_index
    consumers = economy.consumer_index
    goods = pd.RangeIndex(1, g + 1, name="good")
    input_class = np.array([GoodClass(b).label for b in range(5)])[wc.input_commodity // g]
    return YearPlan(
        price=pd.Series(run.proposal_price, index=commodities, name="price"),
        worker_output=pd.Series(raw.worker_output, index=workers, name="output"),
        worker_effort=pd.Series(raw.worker_effort, index=workers, name="effort"),
        worker_inputs=pd.DataFrame(
            {
                "worker_council": wc.input_owner + 1,
                "class": input_class,
                "good": wc.input_commodity % g + 1,
                "quantity": raw.worker_input_use,
            }
        ),
        consumer_private=pd.DataFrame(raw.consumer_private, index=consumers, columns=goods),
        consumer_public=pd.DataFrame(raw.consumer_public, index=consumers, columns=goods),
        supply=pd.Series(run.supply[-1], index=commodities, name="supply"),
        demand=pd.Series(run.demand[-1], index=commodities, name="demand"),
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON types for a run configuration (numpy scalars, NA and tuples converted)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value
