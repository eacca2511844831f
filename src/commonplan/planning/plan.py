"""The result of planning: a labelled :class:`Plan` with its :class:`SolveReport`.

:class:`Plan` is a :class:`~commonplan.results.Result`: ``report`` says how it was solved,
``summary()`` is a short text, ``tables()`` every table and ``write(folder, formats)``
writes them (Parquet by default; Excel as one workbook ``plan.xlsx``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from commonplan.planning.problem import PlanProblem
from commonplan.planning.tolerances import BINDING_TOLERANCE
from commonplan.results import WritesTables, summary_html


@dataclass(frozen=True)
class SolveReport:
    """How a plan was computed: method, status, timings (seconds), iterations and achieved accuracy.

    ``relative_gap`` is ``|primal − dual objective| / max(1, |primal|)``; the infeasibilities
    are the largest absolute violations of constraints (primal) and of reduced-cost signs
    (dual), in the units of the rows and columns concerned.
    """

    method: str
    status: str
    build_seconds: float
    solve_seconds: float
    iterations: int
    objective: float
    relative_gap: float
    primal_infeasibility: float
    dual_infeasibility: float
    notes: tuple[str, ...] = ()

    def as_dict(self, *, timings: bool = True) -> dict[str, object]:
        """The report as one record; ``timings=False`` leaves out the seconds (which vary
        from run to run) so that result files depend only on the inputs."""
        seconds = (
            {"build_seconds": self.build_seconds, "solve_seconds": self.solve_seconds}
            if timings
            else {}
        )
        return {
            "method": self.method,
            "status": self.status,
            **seconds,
            "iterations": self.iterations,
            "objective": self.objective,
            "relative_gap": self.relative_gap,
            "primal_infeasibility": self.primal_infeasibility,
            "dual_infeasibility": self.dual_infeasibility,
            "notes": "; ".join(self.notes),
        }


@dataclass(frozen=True)
class Solution:
    """The raw optimum on plain arrays (columns = periods) before labelling."""

    x: np.ndarray
    d: np.ndarray
    product_prices: np.ndarray
    resource_prices: np.ndarray
    """Accounts (in ``problem.resources`` order) × periods: objective gained per unit more of the account."""
    objective: float
    K: np.ndarray | None = None
    I: np.ndarray | None = None  # noqa: E741 - investment, as in the model's notation
    exports: np.ndarray | None = None
    export_products: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


@dataclass(frozen=True, eq=False)
class Plan(WritesTables):
    """A computed plan, labelled with the economy's products, activities, accounts and periods.

    Units: activity levels in activity units (base-year output for a symmetric table);
    outputs and deliveries in product units; resource use in each account's unit; shadow
    prices in objective units per unit of the product or account (for the minimum-labour
    objective: hours of labour saved per unit, i.e. labour values).

    Shadow prices under objective (a) with the lexicographic second stage are those of the
    *first* stage, the Cockshott–Cottrell objective ``Σ_t z_t``: ``resources.shadow_price``
    is the gain in ``Σ_t z_t`` (fulfilment ratio of the worst-met target, summed over
    periods) per extra unit of the account (e.g. per person-year of labour), and
    ``product_prices`` the gain per extra unit of the product. That is the reading "the
    marginal value of labour time". The second stage's duals would instead price the
    weighted fulfilment ``Σ w·d/y`` with ``Σ_t z_t`` held fixed (a tie-breaker among equally
    good plans), which is not a marginal value of anything the planner limits, so they are
    not reported. The plan itself (levels, deliveries, ``binding``) is the second stage's,
    which is also optimal for the first stage, so the prices and the plan satisfy the first
    stage's optimality conditions together (complementary slackness). Where the optimum is
    degenerate a shadow price is one of several valid marginal values (a one-sided
    derivative may differ).
    """

    problem: PlanProblem
    activity_levels: pd.DataFrame
    outputs: pd.DataFrame
    deliveries: pd.DataFrame
    fulfilment: pd.DataFrame
    resources: pd.DataFrame
    product_prices: pd.DataFrame
    objective: float
    report: SolveReport
    investment: pd.DataFrame | None = None
    capital_stocks: pd.DataFrame | None = None
    exports: pd.DataFrame | None = None

    workbook: ClassVar[str] = "plan"

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def from_solution(cls, problem: PlanProblem, solution: Solution, report: SolveReport) -> Plan:
        eco = problem.economy
        periods = problem.periods
        x = np.maximum(solution.x, 0.0)
        activity_levels = pd.DataFrame(x, index=eco.activities, columns=periods)
        outputs = pd.DataFrame(eco.make @ x, index=eco.products, columns=periods)
        deliveries = pd.DataFrame(solution.d, index=eco.products, columns=periods)
        prices = pd.DataFrame(solution.product_prices, index=eco.products, columns=periods)

        y = problem.targets.amounts
        i, t = np.nonzero(y > 0)
        delivered = solution.d[i, t]
        fulfilment = pd.DataFrame(
            {
                "region": eco.products.get_level_values(0)[i],
                "sector": eco.products.get_level_values(1)[i],
                "period": periods[t],
                "target": y[i, t],
                "delivered": delivered,
                "fulfilment": delivered / y[i, t],
                "weight": problem.targets.weights[i, t],
            }
        )

        rows = []
        for k, limit in enumerate(problem.resources):
            used = eco.account_coefficients[eco.account_names.index(limit.account)] @ x
            for t_ in range(problem.n_periods):
                cap = limit.limits[t_]
                slack = cap - used[t_]
                rows.append(
                    {
                        "account": limit.account,
                        "unit": eco.account_units.get(limit.account, ""),
                        "period": periods[t_],
                        "limit": cap,
                        "used": used[t_],
                        "slack": slack,
                        "binding": bool(
                            np.isfinite(cap) and slack <= BINDING_TOLERANCE * max(1.0, abs(cap))
                        ),
                        "shadow_price": solution.resource_prices[k, t_],
                    }
                )
        resources = pd.DataFrame(
            rows,
            columns=[
                "account",
                "unit",
                "period",
                "limit",
                "used",
                "slack",
                "binding",
                "shadow_price",
            ],
        )

        investment = stocks = None
        capital = problem.capital
        if capital is not None and solution.K is not None:
            pairs = pd.MultiIndex.from_arrays(
                [
                    ["capacity"] * capital.n_pairs
                    if capital.bundle is not None
                    else eco.products[capital.goods].map(lambda p: f"{p[0]}/{p[1]}"),
                    eco.activities[capital.activities].map(lambda a: f"{a[0]}/{a[1]}"),
                ],
                names=["capital_good", "activity"],
            )
            investment = pd.DataFrame(solution.I, index=pairs, columns=periods)
            stocks = pd.DataFrame(solution.K, index=pairs, columns=periods)
        exports = None
        if solution.exports is not None and solution.export_products.size:
            exports = pd.DataFrame(
                solution.exports, index=eco.products[solution.export_products], columns=periods
            )
        return cls(
            problem=problem,
            activity_levels=activity_levels,
            outputs=outputs,
            deliveries=deliveries,
            fulfilment=fulfilment,
            resources=resources,
            product_prices=prices,
            objective=float(solution.objective),
            report=report,
            investment=investment,
            capital_stocks=stocks,
            exports=exports,
        )

    # ---- views -------------------------------------------------------------------------

    @property
    def worst_fulfilment(self) -> pd.Series:
        """Per period, the smallest fulfilment ratio among the targets (objective (a)'s ``z_t``)."""
        if self.fulfilment.empty:
            return pd.Series(np.nan, index=self.problem.periods, name="worst_fulfilment")
        worst = self.fulfilment.groupby("period", sort=False)["fulfilment"].min()
        return worst.reindex(self.problem.periods).rename("worst_fulfilment")

    def resource_use(self, account: str) -> pd.Series:
        """Use of ``account`` per period (account units)."""
        eco = self.problem.economy
        coefficients = eco.account_coefficients[eco.account_names.index(account)]
        return pd.Series(
            coefficients @ self.activity_levels.to_numpy(), index=self.problem.periods, name=account
        )

    # ---- the result protocol (commonplan.results) -----------------------------------------

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table of the plan, flat (labels as columns, periods as text), by name.

        ``activity_levels``, ``outputs``, ``deliveries``, ``product_prices`` (one column per
        period), ``fulfilment``, ``resources``, ``report`` (one row: :attr:`report` without
        its timings, so that the files of a run are the same each time; the CLI puts the
        timings in ``run.json``), and ``investment``, ``capital_stocks``, ``exports`` where
        the plan has them.
        """

        def flat(frame: pd.DataFrame) -> pd.DataFrame:
            out = frame.copy()
            out.columns = [str(c) for c in out.columns]
            return out.reset_index()

        tables = {
            "activity_levels": flat(self.activity_levels),
            "outputs": flat(self.outputs),
            "deliveries": flat(self.deliveries),
            "product_prices": flat(self.product_prices),
            "fulfilment": self.fulfilment.assign(period=self.fulfilment["period"].astype(str)),
            "resources": self.resources.assign(period=self.resources["period"].astype(str)),
            "report": pd.DataFrame([self.report.as_dict(timings=False)]),
        }
        if self.investment is not None:
            tables["investment"] = flat(self.investment)
            tables["capital_stocks"] = flat(self.capital_stocks)
        if self.exports is not None:
            tables["exports"] = flat(self.exports)
        return tables

    def summary(self, top: int = 5, *, timings: bool = True) -> str:
        """A short text report: objective, solver, fulfilment per period, binding limits
        (``timings=False``: without the solver's seconds, for a file that must not vary)."""
        r = self.report
        seconds = (
            f"build {r.build_seconds:.3g} s, solve {r.solve_seconds:.3g} s, " if timings else ""
        )
        lines = [
            f"Plan {self.problem.name!r}: objective {self.problem.objective.kind} = {self.objective:.6g}",
            f"solver: {r.method}, status {r.status}, {r.iterations} iterations, {seconds}"
            f"relative gap {r.relative_gap:.2e}",
        ]
        if not self.fulfilment.empty:
            worst = self.worst_fulfilment
            lines.append(
                "worst-met target per period: "
                + ", ".join(f"{p}: {v:.4g}" for p, v in worst.items())
            )
        binding = self.resources[self.resources["binding"]]
        for _, row in binding.head(top).iterrows():
            lines.append(
                f"binding: {row['account']} in period {row['period']}: uses {row['used']:.6g} of {row['limit']:.6g} "
                f"{row['unit']}; shadow price {row['shadow_price']:.4g}"
            )
        mean_prices = self.product_prices.mean(axis=1).sort_values(ascending=False).head(top)
        if len(mean_prices):
            lines.append(
                "highest shadow prices: "
                + ", ".join(f"{'/'.join(map(str, k))}: {v:.4g}" for k, v in mean_prices.items())
            )
        lines.extend(r.notes)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Plan {self.problem.name!r}: {self.problem.objective.kind} = {self.objective:.6g} ({self.report.method}, {self.report.status})>"

    def _repr_html_(self) -> str:
        fulfilment = self.fulfilment["fulfilment"] if len(self.fulfilment) else pd.Series([])
        binding = self.resources[self.resources["binding"]]
        rows = [
            ("plan", self.problem.name),
            ("objective", f"{self.problem.objective.kind} = {self.objective:.6g}"),
            ("solver", f"{self.report.method}, {self.report.status}"),
            ("periods", ", ".join(map(str, self.problem.periods))),
            ("products / activities", f"{len(self.outputs)} / {len(self.activity_levels)}"),
            (
                "fulfilment of targets",
                f"min {fulfilment.min():.4f}, mean {fulfilment.mean():.4f}"
                if len(fulfilment)
                else "no targets",
            ),
            ("binding resources", ", ".join(sorted(set(map(str, binding["account"])))) or "none"),
        ]
        return summary_html("Plan", rows)
