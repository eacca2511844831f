"""Trade scenarios on multi-regional tables: a partner cut-off, and a federation planning together.

:func:`cutoff_scenario` asks, for a region of a multi-regional table (say Colombia in the
OECD ICIO), *what is the largest uniform share of base-year final demand it can keep in
each of T periods if imports from a partner (say the USA) stop, which capacities must be
built, and what each lost input is worth*. :func:`federation_scenario` asks the same of
several member regions planning together.

How the table becomes a planning problem (:func:`trade_problem`), with its assumptions:

* **Products and activities** are the members' own. An input that a member's activity buys
  from a non-member region ``p`` (an import) is pooled with the member's own product of the
  same sector: a planned economy can replace an imported input by its own output of that
  sector (perfect substitution within a sector, the usual assumption of import-substitution
  planning models).
* **Imports** are activities ``import p → r, sector s``: each makes one unit of ``(r, s)``
  and counts one unit on the account ``imports:p`` (money units of the table). Their
  capacity is ``import_flexibility ×`` the base-year flow (1 = no more than in the base year
  from each partner and sector); a cut partner's capacity is 0, and so is its account limit.
* **Primary resource**: each member's own account ``resource:r`` (labour if the table has
  it, else value added), limited to its base-year use × ``(1 + resource_growth)^(t−1)``.
* **Capacity**: each member activity has a capacity, base-year output × ``(1 + headroom)``
  in period 1; investment in period ``t`` adds capacity from ``t + 1`` and uses, per unit of
  capacity, ``capital_output_ratio`` units of the member's investment goods (a mix given
  by ``capital_goods``, sector → share, default the member's base-year final-demand mix).
  Replacement investment is part of base-year final demand, so capacity does not
  depreciate unless ``depreciation`` is set.
* **Targets**: ``z_t ×`` the base-year deliveries of each member product — its final demand
  plus its intermediate sales to non-member industries (exports, which pay for imports).
  The objective is Cockshott–Cottrell's (a): maximise ``Σ_t z_t``. ``z_t`` is the share kept.
* **Trade between members** (federation): ``"table"`` keeps the table's inter-member input
  coefficients; ``"free"`` pools them too and adds shipping activities ``r1 → r2`` that use
  ``1 + trade_cost`` units of ``(r1, s)`` per unit of ``(r2, s)`` delivered.

The shadow price of a lost input (partner, sector) is the plan's shadow price of the
member's product of that sector: the gain in ``Σ_t z_t`` per extra unit (table money unit)
that an import of it would bring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy, Metadata
from commonplan.errors import SpecError
from commonplan.planning.plan import Plan, SolveReport
from commonplan.planning.problem import (
    CapitalStocks,
    Objective,
    PlanProblem,
    ResourceLimit,
    Targets,
)
from commonplan.planning.solve import solve
from commonplan.results import WritesTables


@dataclass(frozen=True)
class TradeAssumptions:
    """Parameters of :func:`trade_problem` (see the module documentation for their meaning)."""

    periods: int = 5
    resource: str | None = None
    resource_growth: float = 0.0
    import_flexibility: float = 1.0
    capital_output_ratio: float = 1.0
    capital_goods: Mapping[str, float] | None = None
    depreciation: float = 0.0
    headroom: float = 0.0
    member_trade: Literal["table", "free"] = "table"
    trade_cost: float = 0.05

    def __post_init__(self) -> None:
        for name in (
            "resource_growth",
            "import_flexibility",
            "capital_output_ratio",
            "depreciation",
            "headroom",
            "trade_cost",
        ):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise SpecError(
                    f"{name} = {value!r}", where=f"scenario.{name}", expected="a finite number ≥ 0"
                )
        if self.periods < 1:
            raise SpecError(
                f"periods = {self.periods}", where="scenario.periods", expected="an integer ≥ 1"
            )
        if self.member_trade not in ("table", "free"):
            raise SpecError(
                f"member_trade = {self.member_trade!r}",
                where="scenario.member_trade",
                expected="'table' or 'free'",
            )


def _choose_resource(economy: Economy, name: str | None) -> str:
    accounts = economy.account_names
    if name is not None:
        if name not in accounts:
            raise SpecError(
                f"unknown account {name!r}",
                where="scenario.resource",
                expected=f"one of {list(accounts)}",
            )
        return name
    for candidate in ("labour", "value_added"):
        if candidate in accounts:
            return candidate
    if not accounts:
        raise SpecError(
            "the economy has no account to limit",
            where="scenario.resource",
            fix="use a table with labour or value added",
        )
    return accounts[0]


def _check_regions(economy: Economy, names: Sequence[str], field: str) -> None:
    known = list(economy.regions)
    for k, name in enumerate(names):
        if name not in known:
            raise SpecError(
                f"unknown region {name!r}",
                where=f"{field}[{k}]",
                expected=f"one of {known}",
                fix="use the table's region codes",
            )


def trade_problem(
    economy: Economy,
    members: Sequence[str],
    cut_partners: Sequence[str] = (),
    assumptions: TradeAssumptions | None = None,
    *,
    name: str | None = None,
) -> PlanProblem:
    """Build the planning problem of ``members`` with imports from ``cut_partners`` stopped."""
    a = assumptions or TradeAssumptions()
    members = list(dict.fromkeys(members))
    if not members:
        raise SpecError(
            "no member region", where="scenario.members", expected="at least one region"
        )
    _check_regions(economy, members, "scenario.members")
    _check_regions(economy, cut_partners, "scenario.partners")
    overlap = set(members) & set(cut_partners)
    if overlap:
        raise SpecError(
            f"{sorted(overlap)} are both members and cut partners",
            where="scenario.partners",
            fix="a member cannot cut itself off",
        )
    if not economy.is_symmetric or economy.activity_levels is None:
        raise SpecError(
            "the scenario needs a symmetric multi-regional table with gross output",
            where="scenario.economy",
        )
    resource = _choose_resource(economy, a.resource)
    T = a.periods
    region_of = economy.products.get_level_values(0).to_numpy()
    sector_of = economy.products.get_level_values(1).to_numpy()
    is_member = np.isin(region_of, members)
    member_idx = np.flatnonzero(is_member)
    n = member_idx.size
    labels = economy.products[member_idx]
    position = pd.Series(np.arange(n), index=labels)
    levels = economy.activity_levels
    use = sp.csc_array(economy.use)

    # member activities: inputs regrouped onto member products (coefficients per unit of activity)
    sub = sp.coo_array(use[:, member_idx])
    rows, cols, vals = sub.row, sub.col, sub.data
    user_region = region_of[member_idx][cols]
    own = is_member[rows] & ((a.member_trade == "table") | (region_of[rows] == user_region))
    pooled_region = np.where(own, region_of[rows], user_region)
    targets_pos = position.reindex(
        pd.MultiIndex.from_arrays([pooled_region, sector_of[rows]])
    ).to_numpy()
    missing = np.isnan(targets_pos)
    if missing.any():
        k = int(np.flatnonzero(missing)[0])
        raise SpecError(
            f"member {user_region[k]!r} has no sector {sector_of[rows][k]!r} to replace imports of it",
            where="scenario.members",
            expected="members with the same sectors as their partners",
        )
    member_use = sp.csr_array((vals, (targets_pos.astype(int), cols)), shape=(n, n))

    # import activities: one per (member, partner, sector) with a base-year flow
    flows = sp.coo_array(use[:, member_idx] @ sp.diags_array(levels[member_idx]))
    keep = ~is_member[flows.row] & (flows.data > 0)
    imp = pd.DataFrame(
        {
            "partner": region_of[flows.row[keep]],
            "sector": sector_of[flows.row[keep]],
            "member": region_of[member_idx][flows.col[keep]],
            "flow": flows.data[keep],
        }
    )
    imp = imp.groupby(["member", "partner", "sector"], as_index=False, sort=True)["flow"].sum()
    n_imp = len(imp)
    imp_product = (
        position.reindex(pd.MultiIndex.from_arrays([imp["member"], imp["sector"]]))
        .to_numpy()
        .astype(int)
    )
    partners = sorted(imp["partner"].unique())

    # shipping activities between members (free trade)
    ship = pd.DataFrame(columns=["origin", "destination", "sector"])
    if a.member_trade == "free" and len(members) > 1:
        pairs = [(o, d) for o in members for d in members if o != d]
        sectors = pd.Index(sector_of[member_idx]).unique()
        ship = pd.DataFrame(
            [(o, d, s) for o, d in pairs for s in sectors],
            columns=["origin", "destination", "sector"],
        )
        src = position.reindex(
            pd.MultiIndex.from_arrays([ship["origin"], ship["sector"]])
        ).to_numpy()
        dst = position.reindex(
            pd.MultiIndex.from_arrays([ship["destination"], ship["sector"]])
        ).to_numpy()
        good = ~(np.isnan(src) | np.isnan(dst))
        ship = ship[good].reset_index(drop=True)
        src, dst = src[good].astype(int), dst[good].astype(int)
    n_ship = len(ship)

    m = n + n_imp + n_ship
    make = sp.hstack(
        [
            sp.identity(n, format="csr"),
            sp.csr_array((np.ones(n_imp), (imp_product, np.arange(n_imp))), shape=(n, n_imp)),
            sp.csr_array((np.ones(n_ship), (dst, np.arange(n_ship))), shape=(n, n_ship))
            if n_ship
            else sp.csr_array((n, 0)),
        ],
        format="csr",
    )
    use_matrix = sp.hstack(
        [
            member_use,
            sp.csr_array((n, n_imp)),
            sp.csr_array(
                (np.full(n_ship, 1.0 + a.trade_cost), (src, np.arange(n_ship))), shape=(n, n_ship)
            )
            if n_ship
            else sp.csr_array((n, 0)),
        ],
        format="csr",
    )
    activities = pd.MultiIndex.from_tuples(
        list(labels)
        + [
            (r, f"import {p} {s}")
            for r, p, s in zip(imp["member"], imp["partner"], imp["sector"], strict=True)
        ]
        + [
            (d, f"ship {o}->{d} {s}")
            for o, d, s in zip(ship["origin"], ship["destination"], ship["sector"], strict=True)
        ],
        names=["region", "activity"],
    )

    # accounts: each member's resource, and imports by partner
    base_resource = economy.account_coefficients[economy.account_names.index(resource)][member_idx]
    member_region = region_of[member_idx]
    account_rows, account_names, limits = [], [], []
    for region in members:
        row = np.zeros(m)
        mask = member_region == region
        row[:n][mask] = base_resource[mask]
        account_rows.append(row)
        account_names.append(f"{resource}:{region}")
        base_use = float(base_resource[mask] @ levels[member_idx][mask])
        limits.append(base_use * (1.0 + a.resource_growth) ** np.arange(T))
    for partner in partners:
        row = np.zeros(m)
        row[n + np.flatnonzero(imp["partner"].to_numpy() == partner)] = 1.0
        account_rows.append(row)
        account_names.append(f"imports:{partner}")
        base_total = float(imp.loc[imp["partner"] == partner, "flow"].sum())
        cap = 0.0 if partner in cut_partners else base_total * a.import_flexibility
        limits.append(np.full(T, cap))
    unit = economy.account_units.get(resource, "")
    money = economy.metadata.units or "money units"
    planning_economy = Economy(
        products=labels,
        activities=activities,
        use=use_matrix,
        make=make,
        account_coefficients=np.vstack(account_rows),
        account_names=tuple(account_names),
        account_units={
            **{f"{resource}:{r}": unit for r in members},
            **{f"imports:{p}": money for p in partners},
        },
        final_demand_values=np.zeros((n, 0)),
        final_demand_columns=pd.Index([]),
        activity_levels=np.concatenate(
            [levels[member_idx], imp["flow"].to_numpy(), np.zeros(n_ship)]
        ),
        metadata=Metadata(
            name=name or f"{'+'.join(members)} without {'+'.join(cut_partners) or 'no one'}",
            units=economy.metadata.units,
            source=economy.metadata.source,
        ),
        check_productive=False,
    )

    # capacities: imports by flexibility (0 when cut), member activities by capital
    capacity = np.full((m, T), np.inf)
    flex = (
        np.where(imp["partner"].isin(cut_partners), 0.0, a.import_flexibility)
        * imp["flow"].to_numpy()
    )
    capacity[n : n + n_imp] = flex[:, None]
    fd = economy.final_demand_values[member_idx].sum(axis=1)
    exports = (
        np.asarray(use[is_member][:, ~is_member] @ levels[~is_member]).ravel()
        if (~is_member).any()
        else np.zeros(n)
    )
    deliveries = np.maximum(fd + exports, 0.0)
    bundle = _investment_bundle(labels, member_region, members, deliveries, a)
    capital = CapitalStocks(
        goods=np.arange(n),
        activities=np.arange(n),
        coefficients=np.ones(n),
        initial=levels[member_idx] * (1.0 + a.headroom),
        depreciation=np.full(n, a.depreciation),
        lag=1,
        bundle=bundle,
    )
    targets = Targets(np.repeat(deliveries[:, None], T, axis=1), np.ones((n, T)))
    return PlanProblem(
        economy=planning_economy,
        periods=pd.Index(range(1, T + 1), name="period"),
        targets=targets,
        objective=Objective(kind="max_min_fulfilment"),
        resources=tuple(
            ResourceLimit(acc, lim) for acc, lim in zip(account_names, limits, strict=True)
        ),
        capacity=capacity,
        capital=capital,
        name=planning_economy.metadata.name,
    )


def _investment_bundle(
    labels: pd.MultiIndex,
    member_region: np.ndarray,
    members: list[str],
    deliveries: np.ndarray,
    a: TradeAssumptions,
) -> sp.csr_array:
    """Goods used per unit of new capacity of each member activity (products × activities)."""
    n = len(labels)
    sectors = labels.get_level_values(1).to_numpy()
    mix = np.zeros(n)
    for region in members:
        mask = member_region == region
        if a.capital_goods is None:
            weights = deliveries * mask
        else:
            unknown = set(a.capital_goods) - set(sectors[mask])
            if unknown:
                raise SpecError(
                    f"unknown capital goods {sorted(unknown)}",
                    where="scenario.capital_goods",
                    expected="sectors of the table",
                )
            weights = np.array([a.capital_goods.get(s, 0.0) for s in sectors]) * mask
        total = weights.sum()
        if total <= 0:
            raise SpecError(
                f"no investment goods for region {region!r}",
                where="scenario.capital_goods",
                fix="give capital_goods = {sector: share}",
            )
        mix += weights / total
    # each activity's investment uses its own region's mix
    goods = np.flatnonzero(mix > 0)
    region_of_good = member_region[goods]
    rows, cols = [], []
    for region in members:
        g = goods[region_of_good == region]
        users = np.flatnonzero(member_region == region)
        rows.append(np.repeat(g, users.size))
        cols.append(np.tile(users, g.size))
    rows_a, cols_a = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_array((a.capital_output_ratio * mix[rows_a], (rows_a, cols_a)), shape=(n, n))


@dataclass(frozen=True)
class ScenarioResult(WritesTables):
    """What a trade scenario found (a :class:`~commonplan.results.Result`).

    ``share`` is the uniform share of base-year deliveries kept per period (``z_t``);
    ``baseline_share`` the same without the cut-off; ``capacity_built`` the new capacity per
    member activity and period (activity units, i.e. base-year money units of output);
    ``lost_inputs`` one row per (member, sector) the cut partner supplied: base-year imports
    and the shadow price per period (gain in ``Σ_t z_t`` per money unit of the input).
    """

    plan: Plan
    share: pd.Series
    baseline_share: pd.Series | None
    capacity_built: pd.DataFrame
    lost_inputs: pd.DataFrame

    workbook = "scenario"

    @property
    def report(self) -> SolveReport:
        """How the scenario's plan was solved (the baseline's solve is not reported)."""
        return self.plan.report

    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan's tables (see :meth:`Plan.tables`), then ``share`` (period, share,
        baseline_share), ``capacity_built`` (flat, one column per period) and
        ``lost_inputs`` when the partner supplied any."""
        tables = self.plan.tables()
        share = pd.DataFrame({"share": self.share})
        if self.baseline_share is not None:
            share["baseline_share"] = self.baseline_share
        tables["share"] = share.rename(index=str).rename_axis("period").reset_index()
        tables["capacity_built"] = self.capacity_built.reset_index().rename(columns=str)
        if len(self.lost_inputs):
            tables["lost_inputs"] = self.lost_inputs
        return tables

    def summary(self) -> str:
        lines = [f"scenario {self.plan.problem.name!r}"]
        lines.append(
            "share of base-year final demand kept: "
            + ", ".join(f"period {p}: {v:.4f}" for p, v in self.share.items())
        )
        if self.baseline_share is not None:
            lines.append(
                "without the cut-off: "
                + ", ".join(f"period {p}: {v:.4f}" for p, v in self.baseline_share.items())
            )
        built = self.capacity_built.sum(axis=1).sort_values(ascending=False).head(5)
        if len(built):
            lines.append(
                "largest capacities to build: "
                + ", ".join(f"{'/'.join(k)}: {v:.6g}" for k, v in built.items())
            )
        if len(self.lost_inputs):
            top = self.lost_inputs.sort_values("base_imports", ascending=False).head(5)
            lines.append(
                "main lost inputs (base imports; shadow price in period 1): "
                + ", ".join(
                    f"{r.member}/{r.sector}: {r.base_imports:.6g}; {r.shadow_price_1:.4g}"
                    for r in top.itertuples()
                )
            )
        return "\n".join(lines)


def _run(
    problem: PlanProblem, cut_partners: Sequence[str], method: str, baseline: PlanProblem | None
) -> ScenarioResult:
    plan = solve(problem, method=method)
    share = plan.worst_fulfilment.rename("share")
    base_share = None
    if baseline is not None:
        base_share = solve(baseline, method=method).worst_fulfilment.rename("share")
    capital = problem.capital
    eco = problem.economy
    built = plan.investment if plan.investment is not None else pd.DataFrame()
    built = pd.DataFrame(
        built.to_numpy(), index=eco.activities[capital.activities], columns=problem.periods
    )
    built = built[(built > 1e-9 * max(1.0, float(built.to_numpy().max(initial=0.0)))).any(axis=1)]
    rows = []
    activity_names = eco.activities.get_level_values(1)
    for partner in cut_partners:
        mask = activity_names.str.startswith(f"import {partner} ")
        for j in np.flatnonzero(mask):
            member, label = eco.activities[j]
            sector = label.split(" ", 2)[2]
            i = eco.products.get_loc((member, sector))
            row = {
                "member": member,
                "partner": partner,
                "sector": sector,
                "base_imports": float(eco.activity_levels[j]),
            }
            for k, period in enumerate(problem.periods):
                row[f"shadow_price_{period}"] = float(plan.product_prices.iloc[i, k])
            rows.append(row)
    lost = pd.DataFrame(rows)
    return ScenarioResult(
        plan=plan, share=share, baseline_share=base_share, capacity_built=built, lost_inputs=lost
    )


def cutoff_scenario(
    economy: Economy,
    region: str,
    partner: str | Sequence[str],
    assumptions: TradeAssumptions | None = None,
    *,
    compare: bool = True,
    method: str = "auto",
) -> ScenarioResult:
    """Largest uniform share of base-year final demand ``region`` keeps per period without ``partner``.

    With ``compare`` the same problem without the cut-off is solved too (``baseline_share``).
    """
    partners = [partner] if isinstance(partner, str) else list(partner)
    problem = trade_problem(economy, [region], partners, assumptions)
    baseline = trade_problem(economy, [region], [], assumptions) if compare else None
    return _run(problem, partners, method, baseline)


def federation_scenario(
    economy: Economy,
    members: Sequence[str],
    partner: str | Sequence[str] = (),
    assumptions: TradeAssumptions | None = None,
    *,
    compare: bool = True,
    method: str = "auto",
) -> ScenarioResult:
    """The cut-off scenario for several member regions planning together (each with its own resource and capacity)."""
    partners = [partner] if isinstance(partner, str) else list(partner)
    problem = trade_problem(economy, members, partners, assumptions)
    baseline = trade_problem(economy, members, [], assumptions) if compare else None
    return _run(problem, partners, method, baseline)
