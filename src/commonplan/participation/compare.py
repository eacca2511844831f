"""How much labour the procedure's plan uses against the minimum-labour plan for the same consumption.

The participatory procedure ends with a plan: every worker council's output and inputs. The
question asked here is how far that plan is from the least labour that could deliver the
same final consumption with the techniques the plan itself uses. The comparison:

1. linearises the economy at the plan (:func:`~commonplan.participation.model.linearised_economy`):
   every worker council becomes a fixed-coefficient activity with its plan's input per unit
   of output, natural resources and labour types become accounts;
2. sets a floor on final consumption of every private good (the consumer councils' demand
   in the plan's last round) and every public good (their demand, or the plan's supply,
   see ``public_goods_floor``);
3. solves the linear program::

       minimise    Σ_w ℓ_w y_w                       (ℓ_w: all labour types per unit of output)
       subject to  (make − use) y ≥ floor            (every produced good, units)
                   R y ≤ endowment                   (each natural resource and labour type,
                                                      if ``resource_limits``)
                   y ≥ 0

   as a :class:`~commonplan.planning.PlanProblem` with the ``min_resource`` objective on an
   account ``labour`` (all labour types summed), solved by :func:`commonplan.planning.solve`
   (HiGHS dual simplex); the floor is the problem's targets and the endowments its resource
   limits.

Every assumption is listed in :attr:`LabourComparison.assumptions`; read them before quoting
the ratio. :class:`LabourComparison` is a :class:`~commonplan.results.Result`: ``report`` is
the planning solver's :class:`~commonplan.planning.SolveReport`, ``summary()`` the figures
and assumptions as text, ``tables()`` and ``write()`` its tables. Above all, linearisation turns the councils' decreasing returns
(``B_w + c_w/k_w < 1``) into constant returns, so the LP may scale the most labour-efficient
councils up without penalty: the minimum it finds is a lower bound for what the Cobb-Douglas
economy could achieve, and the ratio an upper bound on the procedure's excess labour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from commonplan.economy import Economy
from commonplan.errors import InfeasiblePlanError
from commonplan.participation.model import GoodClass
from commonplan.participation.procedure import Councils
from commonplan.participation.result import ParticipationResult
from commonplan.planning import Objective, PlanProblem, ResourceLimit, SolveReport, Targets, solve
from commonplan.results import WritesTables

ALL_LABOUR = "labour"
"""The account, added to the linearised economy, of all labour types per unit of output (their sum)."""


@dataclass(frozen=True)
class LabourComparison(WritesTables):
    """Labour of the procedure's plan against the minimum-labour plan (units of labour, all types).

    ``procedure_labour``: labour the plan's worker councils ask for; ``minimum_labour``: the
    LP optimum; ``ratio`` = procedure / minimum. ``activity_levels`` are the LP's outputs per
    worker council (units of its good), ``plan_output`` the procedure's; ``floor`` the final
    consumption floor by commodity; ``shadow_prices`` the LP duals of the goods' balance rows
    (labour units per unit of good: the labour value of each good at the optimum).
    ``report`` says how the LP was solved.
    """

    procedure_labour: float
    minimum_labour: float
    activity_levels: pd.Series
    plan_output: pd.Series
    floor: pd.Series
    shadow_prices: pd.Series
    resource_shadow_prices: pd.Series
    """LP duals of the endowment rows (labour units per unit of resource; empty without ``resource_limits``)."""
    assumptions: tuple[str, ...]
    report: SolveReport

    workbook = "labour_comparison"

    @property
    def ratio(self) -> float:
        return self.procedure_labour / self.minimum_labour

    def summary(self) -> str:
        """A plain-text report: the figures, the solver, then every assumption."""
        r = self.report
        lines = [
            f"labour used by the procedure's plan: {self.procedure_labour:,.1f} units",
            f"minimum labour for the same final consumption: {self.minimum_labour:,.1f} units",
            f"ratio: {self.ratio:.4f}",
            f"solver: {r.method}, status {r.status}, {r.iterations} iterations, "
            f"relative gap {r.relative_gap:.2e}",
            "assumptions:",
        ]
        lines += [f"  - {text}" for text in self.assumptions]
        return "\n".join(lines)

    def tables(self) -> dict[str, pd.DataFrame]:
        """``labour`` (procedure, minimum, ratio), ``activity_levels`` (per worker council: LP
        and plan output), ``goods`` (floor and shadow price per good), ``resources`` (shadow
        price per resource), ``assumptions`` and ``report`` (one row)."""
        return {
            "labour": pd.DataFrame(
                {
                    "procedure_labour": [self.procedure_labour],
                    "minimum_labour": [self.minimum_labour],
                    "ratio": [self.ratio],
                }
            ),
            "activity_levels": pd.concat([self.activity_levels, self.plan_output], axis=1),
            "goods": pd.concat([self.floor, self.shadow_prices], axis=1),
            "resources": self.resource_shadow_prices.rename_axis("resource").to_frame(),
            "assumptions": pd.DataFrame({"assumption": list(self.assumptions)}),
            "report": pd.DataFrame([self.report.as_dict()]),
        }

    def __str__(self) -> str:
        return self.summary()


def compare_with_minimum_labour(
    result: ParticipationResult,
    year: int | None = None,
    *,
    public_goods_floor: Literal["demand", "supply"] = "demand",
    resource_limits: bool = True,
) -> LabourComparison:
    """Compare the final plan of ``year`` (default: the last) with the minimum-labour plan.

    ``public_goods_floor``: ``"demand"`` floors each public good at what the consumer
    councils asked for in the plan's last round (as for private goods); ``"supply"`` at what
    the worker councils produced of it (the convention of demplan's published comparison).
    ``resource_limits`` keeps every natural resource and labour type within its endowment.
    Raises :class:`~commonplan.errors.InfeasiblePlanError` if no plan meets the floor,
    :class:`~commonplan.errors.SolverError` if HiGHS stops without an answer.
    """
    number = len(result.years) if year is None else year
    run = result.year(number)
    economy = run.economy
    g = economy.goods_per_class
    price = run.proposal_price
    proposals = result.proposals(number)
    councils = Councils(economy)
    consumer_demand = councils.consumer_budget / price
    linear = economy.linearised_at(
        proposals.worker_output, proposals.worker_input_use, consumer_demand
    )

    floor = np.asarray(linear.final_demand_values.sum(axis=1), dtype=np.float64)
    if public_goods_floor == "supply":
        supplied = councils.total_output(proposals.worker_output)
        floor[2 * g : 3 * g] = supplied[economy.class_slice(GoodClass.PUBLIC)]
    elif public_goods_floor != "demand":
        raise ValueError(
            f"public_goods_floor must be 'demand' or 'supply', not {public_goods_floor!r}"
        )
    endowments = economy.endowment[2 * g : 4 * g] if resource_limits else None
    problem = _minimum_labour_problem(linear, floor, endowments, f"year {number}")
    where = f"{economy.name or 'participatory economy'}, year {number}"
    try:
        plan = solve(problem, method="simplex")
    except InfeasiblePlanError as error:
        raise InfeasiblePlanError(
            "no plan with the linearised techniques meets the final-consumption floor within the endowments",
            conflicts=error.conflicts,
            where=where,
            fix="compare with resource_limits=False",
        ) from error

    goods_labels = linear.products.get_level_values("sector")
    proposals_labour = proposals.worker_input_use[
        economy.workers.input_commodity // g == GoodClass.LABOUR
    ].sum()
    resources = plan.resources.set_index("account")["shadow_price"]
    assumptions = _assumptions(public_goods_floor, resource_limits)
    return LabourComparison(
        procedure_labour=float(proposals_labour),
        minimum_labour=float(plan.objective),
        activity_levels=pd.Series(
            plan.activity_levels.iloc[:, 0].to_numpy(),
            index=economy.worker_index,
            name="minimum_labour_output",
        ),
        plan_output=pd.Series(
            proposals.worker_output, index=economy.worker_index, name="plan_output"
        ),
        floor=pd.Series(floor, index=goods_labels, name="floor"),
        shadow_prices=pd.Series(
            plan.product_prices.iloc[:, 0].to_numpy(), index=goods_labels, name="labour_per_unit"
        ),
        resource_shadow_prices=pd.Series(
            resources.to_numpy(), index=list(resources.index), name="labour_per_unit"
        ),
        assumptions=assumptions,
        report=plan.report,
    )


def _minimum_labour_problem(
    linear: Economy, floor: np.ndarray, endowments: np.ndarray | None, name: str
) -> PlanProblem:
    """One period: minimise all labour, deliver at least ``floor``, use at most ``endowments``.

    The account :data:`ALL_LABOUR` (the sum of the ``labour-<n>`` accounts per unit of
    output) is added to ``linear`` as the objective; ``endowments`` (nature, then labour
    types, as ``linear``'s accounts) become resource limits.
    """
    g = len(linear.account_names) // 2
    with_total = linear.replace(
        account_coefficients=np.vstack(
            [linear.account_coefficients, linear.account_coefficients[g:].sum(axis=0)]
        ),
        account_names=(*linear.account_names, ALL_LABOUR),
        account_units={**linear.account_units, ALL_LABOUR: "units of labour, all types"},
    )
    limits = ()
    if endowments is not None:
        limits = tuple(
            ResourceLimit(account, np.array([amount]))
            for account, amount in zip(linear.account_names, endowments, strict=True)
        )
    return PlanProblem(
        economy=with_total,
        periods=pd.Index([1]),
        targets=Targets(amounts=floor[:, None], weights=np.ones((floor.size, 1))),
        objective=Objective(kind="min_resource", resource=ALL_LABOUR),
        resources=limits,
        name=f"minimum labour, {name}",
    )


def _assumptions(public_goods_floor: str, resource_limits: bool) -> tuple[str, ...]:
    return (
        "techniques: each worker council's input proportions are frozen at the procedure's plan "
        "(x_{w,i}/Q_w per unit of output); the Cobb-Douglas substitution between inputs is not available",
        "constant returns to scale: an activity may run at any level, although the councils have "
        "decreasing returns (B_w + c_w/k_w < 1), so the minimum is a lower bound and the ratio an upper bound",
        "effort is not counted as labour and not limited; labour is the sum of all labour types, "
        "unweighted, in their physical units",
        "final consumption floor: private goods at the consumer councils' demand in the plan's last round; "
        + (
            "public goods at the consumer councils' (collective) demand"
            if public_goods_floor == "demand"
            else "public goods at the worker councils' output of them"
        )
        + "; intermediate goods carry no floor; output above the floor is free disposal",
        (
            "natural resources and labour types are limited to their endowment (units per year)"
            if resource_limits
            else "natural resources and labour types are unlimited"
        ),
        "closed economy, one year, no stocks or investment; the procedure's plan is compared as proposed, "
        "even where it is out of balance by up to the stopping threshold",
        "the minimum-labour LP is solved by commonplan.planning.solve with HiGHS (dual simplex)",
    )
