"""Plan alternatives: from the councils' aggregated weights and stated trade-offs to 3–5 plans.

**The base problem** (one period, :mod:`commonplan.planning`):

* targets: the base year's final demand, per product, raised by an ambition
  ``a`` (default 10 %): ``y_i = (1 + a)·(c_i + v_i)``, where ``c_i`` is the product's
  final demand in consumption and other final uses and ``v_i`` in investment categories
  (:func:`investment_columns`; negative cells, such as inventory draw-downs, count 0);
* one binding resource (``resource``, default labour, hours, value added or compensation of employees,
  whichever the economy has first) limited to its base-year use,
  ``Σ_j r_j x̄_j``, times ``resource_share`` (default 1): the plan cannot meet every raised
  target, so the weights decide who gets what;
* objective: Cockshott's harmony, maximise ``Σ_i w_i·H(d_i / y_i)`` (see
  :func:`commonplan.planning.harmony`), solved exactly by HiGHS.

**From group weights to product weights.** With ``W_g`` the round's weight of target
group ``g`` (summing to 1), a product's consumption part is weighted by the weight of
the product group(s) its sector belongs to (the mean if several; sectors in no group
get the mean weight of the product groups), and its investment part by the weight of
the group of kind ``investment`` (the same mean if there is none):
``w_i = (W_c(i)·c_i + W_inv·v_i) / Σ_k y_k``. So one unit of deliveries of group ``g``
is worth ``W_g`` at full fulfilment (``H'(1) = 1``), and the optimum equalises
``W_g·H'(f_i)`` per unit of resource: higher-weight groups get higher fulfilment.

**Trade-offs** (:class:`TradeOff`), each one alternative:

* *As voted* — the weights as aggregated;
* *More consumption now* — the investment weight halved (×0.5), weights renormalised;
* *More investment* — the investment weight ×1.5, renormalised;
* *Import independence* (only if the economy has an account whose name contains
  "import") — imports limited to 90 % of their base-year use;
* *Consumption over import independence* (same condition) — imports may rise 10 %,
  and the import-independence weight is halved.

Each alternative's **key figures** (money in the economy's unit, resource in its
account unit): total final deliveries, consumption and investment delivered (a
product's deliveries are split between the two in proportion to its targets),
resource and imports used, the worst fulfilment ratio and each group's fulfilment
(deliveries over targets of its products).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from commonplan.checks import check_nonnegative
from commonplan.councils.ballots import TargetGroup
from commonplan.economy import Economy, roles
from commonplan.errors import ParticipationInputError

RESOURCE_ROLES = (roles.LABOUR, roles.VALUE_ADDED, roles.COMPENSATION)
"""The account that limits the plans when the base problem names none: labour if the
economy records it, else value added, else compensation of employees."""
_INVESTMENT_NAME = re.compile(
    r"invest|capital formation|gfcf|fbkf|^F02|^F(06|07|10)[ENS]$", re.IGNORECASE
)


@dataclass(frozen=True)
class TradeOff:
    """One alternative's stance on the stated trade-offs.

    ``investment_factor`` multiplies the investment group's weight (then all weights are
    renormalised to sum to 1); ``import_factor`` multiplies base-year imports to give an
    import limit (None: imports unlimited); ``import_weight_factor`` multiplies the
    import-independence group's weight.
    """

    title: str
    description: str
    investment_factor: float = 1.0
    import_factor: float | None = None
    import_weight_factor: float = 1.0
    needs_imports: bool = False


DEFAULT_TRADE_OFFS: tuple[TradeOff, ...] = (
    TradeOff("As voted", "The councils' aggregated priorities as they are."),
    TradeOff(
        "More consumption now",
        "Half the weight on investment; more for today's needs.",
        investment_factor=0.5,
    ),
    TradeOff(
        "More investment",
        "Half as much again on investment; less consumption now.",
        investment_factor=1.5,
    ),
    TradeOff(
        "Import independence",
        "Imports limited to 90% of the base year's; production shifts to less import-intensive goods.",
        import_factor=0.9,
        needs_imports=True,
    ),
    TradeOff(
        "Consumption over import independence",
        "Imports may rise 10%; half the weight on import independence.",
        import_factor=1.1,
        import_weight_factor=0.5,
        needs_imports=True,
    ),
)


@dataclass(frozen=True)
class ComputedAlternative:
    """One computed alternative: its weights, key figures, per-product plan table and the :class:`Plan`."""

    title: str
    description: str
    weights: dict[str, float]
    figures: dict[str, Any]
    plan_frame: pd.DataFrame
    plan: Any = field(repr=False, default=None)


def investment_columns(economy: Economy) -> list[bool]:
    """Which final-demand categories are investment: names with "invest", "capital formation",
    "GFCF", "FBKF", or the BEA codes F02* (private fixed investment) and F06/F07/F10 E, N, S
    (government equipment, intellectual property, structures)."""
    columns = economy.final_demand_columns
    names = columns.get_level_values(-1) if isinstance(columns, pd.MultiIndex) else columns
    return [bool(_INVESTMENT_NAME.search(str(name))) for name in names]


def _resource_account(economy: Economy, given: str | None) -> str | None:
    """The account named in the base problem, else the first of :data:`RESOURCE_ROLES` the
    economy has (:meth:`Economy.account_for`), else its first account."""
    names = list(economy.account_names)
    if given is not None:
        if given not in names:
            raise ParticipationInputError(
                f"unknown account {given!r}",
                where="base problem, resource",
                expected="one of " + ", ".join(names),
            )
        return given
    found = (economy.account_for(role) for role in RESOURCE_ROLES)
    return next((name for name in found if name is not None), names[0] if names else None)


def imports_account(economy: Economy) -> str | None:
    """The economy's imports account (:meth:`Economy.account_for` ``"imports"``), or None."""
    return economy.account_for(roles.IMPORTS)


def product_weights(
    economy: Economy,
    groups: Sequence[TargetGroup],
    weights: Mapping[str, float],
    consumption: np.ndarray,
    investment: np.ndarray,
) -> np.ndarray:
    """``w_i = (W_c(i)·c_i + W_inv·v_i) / Σ_k (c_k + v_k)`` (see module doc)."""
    product_groups = [g for g in groups if g.kind == "products"]
    mean_weight = (
        float(np.mean([weights.get(g.name, 0.0) for g in product_groups]))
        if product_groups
        else 0.0
    )
    sector = economy.products.get_level_values("sector").astype(str)
    membership = np.array(
        [[s in set(g.sectors) for g in product_groups] for s in sector], dtype=float
    ).reshape(len(sector), len(product_groups))
    group_w = np.array([weights.get(g.name, 0.0) for g in product_groups])
    counts = membership.sum(axis=1)
    w_consumption = np.where(counts > 0, membership @ group_w / np.maximum(counts, 1), mean_weight)
    invest_groups = [g for g in groups if g.kind == "investment"]
    w_invest = (
        float(np.mean([weights.get(g.name, 0.0) for g in invest_groups]))
        if invest_groups
        else mean_weight
    )
    total = float((consumption + investment).sum())
    return (w_consumption * consumption + w_invest * investment) / (total if total > 0 else 1.0)


def adjust_weights(
    groups: Sequence[TargetGroup], weights: Mapping[str, float], trade_off: TradeOff
) -> dict[str, float]:
    """Apply a trade-off's factors to the group weights and renormalise them to sum to 1."""
    adjusted = {}
    for g in groups:
        factor = 1.0
        if g.kind == "investment":
            factor = trade_off.investment_factor
        elif g.kind == "import_independence":
            factor = trade_off.import_weight_factor
        adjusted[g.name] = float(weights.get(g.name, 0.0)) * factor
    total = sum(adjusted.values())
    if total <= 0:
        raise ParticipationInputError(
            "all target weights are zero", where="weights", expected="some positive weight"
        )
    return {name: value / total for name, value in adjusted.items()}


def _check_weights(groups: Sequence[TargetGroup], weights: Mapping[str, float]) -> None:
    names = {g.name for g in groups}
    unknown = set(weights) - names
    if unknown:
        raise ParticipationInputError(
            f"weight for unknown group {sorted(unknown)[0]!r}", where="weights"
        )
    ordered = sorted(names)
    values = np.array([float(weights.get(n, 0.0)) for n in ordered])
    check_nonnegative(
        values,
        what="target weight",
        where=lambda at: f"weights, group {ordered[at[0]]!r}",
        error=ParticipationInputError,
        fix="give every group a finite weight ≥ 0",
    )
    if values.sum() <= 0:
        raise ParticipationInputError(
            "target weights must be finite, non-negative and not all zero",
            where="weights",
            expected="the round's aggregated weights (summing to 1)",
        )


def compute_alternatives(
    economy: Economy,
    groups: Sequence[TargetGroup | Mapping[str, Any] | str],
    weights: Mapping[str, float],
    *,
    base_problem: Mapping[str, Any] | None = None,
    trade_offs: Sequence[TradeOff] | None = None,
) -> list[ComputedAlternative]:
    """Compute one plan per trade-off (3–5 by default; see the module doc for the method).

    ``base_problem`` may set ``ambition`` (default 0.1), ``resource`` (an account name),
    ``resource_share`` (default 1.0), ``objective`` (``"harmony"``, default, or
    ``"max_min_fulfilment"``) and ``capacity`` (activity label ``"REGION/SECTOR"`` → the most
    it can run, in activity units: e.g. what a re-plan found it can carry out). Trade-offs needing an imports account are skipped when
    the economy has none.
    """
    from commonplan.planning import Objective, PlanProblem, ResourceLimit, Targets, solve

    groups = [TargetGroup.from_value(g) for g in groups]
    _check_weights(groups, weights)
    params = dict(base_problem or {})
    ambition = float(params.get("ambition", 0.1))
    share = float(params.get("resource_share", 1.0))
    objective = str(params.get("objective", "harmony"))
    if not (np.isfinite(ambition) and ambition >= 0 and np.isfinite(share) and share > 0):
        raise ParticipationInputError(
            "ambition must be ≥ 0 and resource_share > 0",
            where="base problem",
            expected="e.g. {'ambition': 0.1, 'resource_share': 1.0}",
        )
    if economy.activity_levels is None:
        raise ParticipationInputError(
            "the economy has no observed activity levels, so base-year resource use is unknown",
            where="economy",
            fix="use an economy with gross output",
        )
    resource = _resource_account(economy, params.get("resource"))
    if resource is None:
        raise ParticipationInputError(
            "the economy has no accounts to limit",
            where="economy",
            fix="use an economy with labour or value-added accounts",
        )
    imports = imports_account(economy)
    levels = np.asarray(economy.activity_levels)
    capacity = _capacity(economy, params.get("capacity"))

    def base_use(account: str) -> float:
        return float(economy.account_coefficients[economy.account_names.index(account)] @ levels)

    fd = np.clip(economy.final_demand_values, 0.0, None)
    is_investment = np.array(investment_columns(economy), dtype=bool)
    investment = fd[:, is_investment].sum(axis=1)
    consumption = fd[:, ~is_investment].sum(axis=1)
    base_targets = consumption + investment
    targets = pd.Series((1.0 + ambition) * base_targets, index=economy.products)
    if not (targets > 0).any():
        raise ParticipationInputError(
            "the economy has no positive final demand to plan for", where="economy"
        )

    chosen = [
        t for t in (trade_offs or DEFAULT_TRADE_OFFS) if not (t.needs_imports and imports is None)
    ]
    results = []
    for trade_off in chosen:
        adjusted = adjust_weights(groups, weights, trade_off)
        w = product_weights(economy, groups, adjusted, consumption, investment)
        limits = {resource: share * base_use(resource)}
        if trade_off.import_factor is not None and imports is not None:
            limits[imports] = trade_off.import_factor * base_use(imports)
        problem = PlanProblem(
            economy=economy,
            periods=pd.Index([1]),
            targets=Targets(targets.to_numpy()[:, None], w[:, None]),
            objective=Objective(kind=objective),
            resources=tuple(
                ResourceLimit(account, np.array([limit])) for account, limit in limits.items()
            ),
            capacity=capacity,
            name=trade_off.title,
        )
        plan = solve(problem)
        results.append(
            _alternative(
                economy,
                groups,
                trade_off,
                adjusted,
                plan,
                targets,
                consumption,
                investment,
                resource,
                imports,
            )
        )
    return results


def _capacity(economy: Economy, given: Any) -> np.ndarray | None:
    """The ``capacity`` base-problem parameter as a one-period capacity array (``inf`` where
    none is given), or None when there is none."""
    if not given:
        return None
    if not isinstance(given, Mapping):
        raise ParticipationInputError(
            "the base problem's capacity must map activities to limits",
            where="base problem capacity",
            expected='e.g. {"USA/324": 1200.0}',
        )
    labels = [
        "/".join(str(part) for part in a) if isinstance(a, tuple) else str(a)
        for a in economy.activities
    ]
    index = {label: k for k, label in enumerate(labels)}
    capacity = np.full((len(labels), 1), np.inf)
    for label, limit in given.items():
        if label not in index:
            raise ParticipationInputError(
                f"unknown activity {label!r} in the base problem's capacity",
                where="base problem capacity",
                fix="name activities as REGION/SECTOR of the assembly's economy",
            )
        value = float(limit)
        if not (np.isfinite(value) and value >= 0):
            raise ParticipationInputError(
                f"the capacity of {label!r} must be a finite non-negative number, not {limit!r}",
                where="base problem capacity",
            )
        capacity[index[label], 0] = value
    return capacity


def _alternative(
    economy, groups, trade_off, weights, plan, targets, consumption, investment, resource, imports
):
    delivered = plan.deliveries.iloc[:, 0].to_numpy()
    target = targets.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        fulfilment = np.where(target > 0, delivered / target, np.nan)
        share_investment = np.where(
            consumption + investment > 0, investment / (consumption + investment), 0.0
        )
    sector = economy.products.get_level_values("sector").astype(str)
    by_group = {}
    for g in groups:
        if g.kind == "products":
            mask = np.isin(sector, list(g.sectors)) & (target > 0)
            part = target[mask].sum()
            by_group[g.name] = float(delivered[mask].sum() / part) if part > 0 else None
        elif g.kind == "investment":
            part = (target * share_investment).sum()
            by_group[g.name] = (
                float((delivered * share_investment).sum() / part) if part > 0 else None
            )
    figures: dict[str, Any] = {
        "units": economy.metadata.units,
        "total_deliveries": float(delivered.sum()),
        "total_targets": float(target.sum()),
        "consumption_delivered": float((delivered * (1 - share_investment)).sum()),
        "investment_delivered": float((delivered * share_investment).sum()),
        "resource": resource,
        "resource_unit": economy.account_units.get(resource, ""),
        "resource_used": float(plan.resource_use(resource).iloc[0]),
        "resource_limit": float(plan.problem.limit_of(resource)[0]),
        "worst_fulfilment": float(np.nanmin(fulfilment)),
        "mean_fulfilment": float(delivered[target > 0].sum() / target[target > 0].sum()),
        "fulfilment_by_group": by_group,
        "objective": float(plan.objective),
        "method": plan.report.method,
    }
    if imports is not None:
        figures["imports"] = imports
        figures["imports_used"] = float(plan.resource_use(imports).iloc[0])
        limit = plan.problem.limit_of(imports)
        figures["imports_limit"] = float(limit[0]) if limit is not None else None
    frame = pd.DataFrame(
        {
            "target": target,
            "delivered": delivered,
            "fulfilment": fulfilment,
            "output": plan.outputs.iloc[:, 0].to_numpy(),
        },
        index=economy.products,
    )
    return ComputedAlternative(
        trade_off.title, trade_off.description, weights, figures, frame, plan
    )
