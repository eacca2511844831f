"""Re-planning: solve the remaining periods of a published plan from where the economy stands.

The published plan's :class:`~commonplan.planning.problem.PlanProblem` is cut to its
remaining periods, and the current state enters as limits:

* a product reported *below* plan (its monitored level, the ratio actual/plan, is under 1)
  caps the activities that make it at that share of their published levels: what was not
  produced could not be produced, until capacity is added;
* capital stocks start from the stocks reported (or, where none are, those the published
  plan expected at that date).

The result compares the revised plan with the published one: which targets fall, which
capacity limits bind (where capacity must be added to get back to plan), and how the shadow
prices of the limited resources move.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from commonplan.errors import ReportError
from commonplan.monitoring.reports import product_label
from commonplan.planning import solve
from commonplan.planning.plan import Plan, SolveReport
from commonplan.planning.problem import PlanProblem, ResourceLimit, Targets
from commonplan.results import WritesTables

# A product whose level is below plan by less than this share is taken as on plan.
ON_PLAN = 1e-3


@dataclass(frozen=True)
class ExecutionState:
    """Where the economy stands at the start of period ``start`` (a label of the plan's periods).

    ``levels``: the ratio actual/plan per product (labels as :func:`product_label` writes them,
    ``"REGION/SECTOR"``), for example the monitor's filtered ``level``; products not named are
    on plan. ``capital``: the capital stocks per (good, activity) pair at ``start``, in the
    order of the problem's ``CapitalStocks``; ``None`` takes the published plan's.
    """

    start: object
    levels: pd.Series
    capital: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Replan(WritesTables):
    """The revised plan of the remaining periods, beside the published one.

    ``targets``: per product with a target and remaining period, the ``target``, what the
    published and the revised plan deliver, the ``change`` and whether it ``falls``;
    ``capacity``: activities whose capacity limit binds in the revised plan, with the
    ``published`` level, the ``limit`` and the ``gap`` (activity units: the capacity to add to
    carry out the published level); ``prices``: the shadow price of each limited resource
    per period, published and revised.
    """

    published: Plan
    revised: Plan
    targets: pd.DataFrame
    capacity: pd.DataFrame
    prices: pd.DataFrame

    workbook: ClassVar[str] = "replan"

    @property
    def report(self) -> SolveReport:
        """How the revised plan was solved."""
        return self.revised.report

    def summary(self) -> str:
        """A few lines: targets that fall, capacity to add, the revised objective."""
        falls = self.targets[self.targets["falls"]]
        lines = [
            f"Re-plan of {len(self.revised.problem.periods)} remaining period(s): "
            f"{len(falls)} of {len(self.targets)} targets fall "
            f"({self.report.method}, {self.report.status}).",
        ]
        if len(falls):
            worst = falls.nsmallest(5, "change")
            lines += [
                f"  {row.product} in {row.period}: {row.published:,.4g} → {row.revised:,.4g}"
                for row in worst.itertuples()
            ]
        if len(self.capacity):
            lines.append(
                f"Capacity binds for {self.capacity['activity'].nunique()} activities; add:"
            )
            top = self.capacity.nlargest(5, "gap")
            lines += [
                f"  {row.activity} in {row.period}: {row.gap:,.4g}" for row in top.itertuples()
            ]
        return "\n".join(lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``targets``, ``capacity``, ``prices`` and the revised plan's tables (``plan_…``)."""
        out = {"targets": self.targets, "capacity": self.capacity, "prices": self.prices}
        out |= {f"plan_{name}": table for name, table in self.revised.tables().items()}
        return out


def remaining_problem(plan: Plan, state: ExecutionState) -> PlanProblem:
    """The published plan's problem over the periods from ``state.start``, with the state as limits."""
    problem = plan.problem
    periods = problem.periods
    if state.start not in periods:
        raise ReportError(
            f"period {state.start!r} is not one of the plan's",
            where="replan start",
            expected=f"one of {', '.join(map(str, periods))}",
        )
    k = int(periods.get_loc(state.start))
    eco = problem.economy
    labels = pd.Index([product_label(p) for p in eco.products])
    levels = pd.Series(state.levels, dtype=float)
    unknown = ~levels.index.isin(labels)
    if unknown.any():
        raise ReportError(f"unknown product {levels.index[unknown][0]!r}", where="replan levels")
    if not np.all(np.isfinite(levels.to_numpy())) or (levels < 0).any():
        raise ReportError("levels must be finite and non-negative", where="replan levels")
    ratio = levels.reindex(labels).fillna(1.0).to_numpy()

    capacity = (
        problem.capacity[:, k:].copy()
        if problem.capacity is not None
        else np.full((eco.n_activities, len(periods) - k), np.inf)
    )
    short = ratio < 1 - ON_PLAN
    if short.any():
        make = eco.make.tocsc() if hasattr(eco.make, "tocsc") else eco.make
        # Each activity is capped by the lowest level among the products it makes.
        activity_ratio = np.ones(eco.n_activities)
        rows, cols = make.nonzero()
        np.minimum.at(activity_ratio, cols, np.where(short[rows], ratio[rows], 1.0))
        capped = activity_ratio < 1
        published = plan.activity_levels.to_numpy()[:, k:]
        capacity[capped] = np.minimum(
            capacity[capped], activity_ratio[capped, None] * published[capped]
        )

    capital = problem.capital
    if capital is not None:
        if state.capital is not None:
            initial = np.asarray(state.capital, dtype=float)
            if initial.shape != (capital.n_pairs,):
                raise ReportError(
                    f"capital stocks have shape {initial.shape}",
                    where="replan capital",
                    expected=f"one stock per (good, activity) pair: ({capital.n_pairs},)",
                )
        elif plan.capital_stocks is not None:
            initial = plan.capital_stocks.to_numpy()[:, k]
        else:
            initial = capital.initial
        capital = replace(capital, initial=initial)
    balance = problem.balance_of_payments
    if balance is not None and balance.max_deficit.size == len(periods):
        balance = replace(balance, max_deficit=balance.max_deficit[k:])
    return replace(
        problem,
        periods=periods[k:],
        targets=Targets(problem.targets.amounts[:, k:], problem.targets.weights[:, k:]),
        resources=tuple(
            ResourceLimit(r.account, r.limits[k:] if r.limits.size == len(periods) else r.limits)
            for r in problem.resources
        ),
        capacity=capacity,
        capital=capital,
        balance_of_payments=balance,
        name=f"{problem.name} (re-plan from {state.start})",
    )


def replan(
    plan: Plan, state: ExecutionState, *, method: str = "auto", time_limit: float | None = None
) -> Replan:
    """Re-solve the remaining periods of ``plan`` from ``state`` and compare (see the module text)."""
    problem = remaining_problem(plan, state)
    revised = solve(problem, method=method, time_limit=time_limit)
    return Replan(
        published=plan,
        revised=revised,
        targets=_compare_targets(plan, revised),
        capacity=_binding_capacity(plan, revised),
        prices=_compare_prices(plan, revised),
    )


def _compare_targets(plan: Plan, revised: Plan) -> pd.DataFrame:
    periods = revised.problem.periods
    old = plan.fulfilment[plan.fulfilment["period"].isin(periods)].reset_index(drop=True)
    new = revised.fulfilment.reset_index(drop=True)
    key = ["region", "sector", "period"]
    merged = old[key + ["target", "delivered"]].merge(
        new[key + ["delivered"]], on=key, suffixes=("_published", "_revised")
    )
    out = pd.DataFrame(
        {
            "product": merged["region"].astype(str) + "/" + merged["sector"].astype(str),
            "period": merged["period"],
            "target": merged["target"],
            "published": merged["delivered_published"],
            "revised": merged["delivered_revised"],
        }
    )
    out["change"] = out["revised"] - out["published"]
    scale = np.maximum(1.0, out["target"].abs())
    out["falls"] = out["change"] < -1e-6 * scale
    return out


def _binding_capacity(plan: Plan, revised: Plan) -> pd.DataFrame:
    problem = revised.problem
    if problem.capacity is None:
        return pd.DataFrame(columns=["activity", "period", "published", "limit", "level", "gap"])
    level = revised.activity_levels.to_numpy()
    limit = problem.capacity
    published = plan.activity_levels[problem.periods].to_numpy()
    finite = np.isfinite(limit)
    bound = np.where(finite, limit, 0.0)
    scale = np.maximum(1.0, np.abs(bound))
    binding = finite & (level >= bound - 1e-7 * scale) & (published > bound + 1e-9 * scale)
    a, t = np.nonzero(binding)
    labels = [product_label(x) for x in problem.economy.activities[a]]
    return pd.DataFrame(
        {
            "activity": labels,
            "period": problem.periods[t],
            "published": published[a, t],
            "limit": limit[a, t],
            "level": level[a, t],
            "gap": published[a, t] - limit[a, t],
        }
    )


def _compare_prices(plan: Plan, revised: Plan) -> pd.DataFrame:
    key = ["account", "period"]
    old = plan.resources[key + ["shadow_price"]]
    new = revised.resources[key + ["shadow_price", "binding"]]
    return old.merge(new, on=key, suffixes=("_published", "_revised"))


__all__ = ["ExecutionState", "Replan", "remaining_problem", "replan"]
