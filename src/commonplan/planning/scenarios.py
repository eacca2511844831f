"""Trade scenarios on multi-regional tables: a partner cut-off, and a federation planning together.

:func:`cutoff_scenario` asks, for a region of a multi-regional table (say Colombia in the
OECD ICIO), *what is the largest uniform share of base-year final demand it can keep in
each of T periods if imports from a partner (say the USA) stop, which capacities must be
built, and what each lost input is worth*. :func:`federation_scenario` asks the same of
several member regions planning together.

How the table becomes a planning problem (:func:`trade_model`, which also returns the index
arrays of the import and shipping activities; :func:`trade_problem` just the problem), with
its assumptions:

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

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
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
from commonplan.planning.tolerances import NEGLIGIBLE
from commonplan.results import WritesTables, summary_html


@dataclass(frozen=True)
class TradeAssumptions:
    """Parameters of :func:`trade_model` (see the module documentation for their meaning)."""

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
    pooling: Literal["uniform", "harmony"] = "uniform"

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
        if self.pooling not in ("uniform", "harmony"):
            raise SpecError(
                f"pooling = {self.pooling!r}",
                where="scenario.pooling",
                expected="'uniform' (one share for every member) or 'harmony' (a weighted total)",
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


@dataclass(frozen=True)
class _Members:
    """The member regions' products within the multi-regional table (region-major, as in the table)."""

    names: list[str]
    region_of: np.ndarray
    """Region of each product of the table."""
    sector_of: np.ndarray
    """Sector of each product of the table."""
    is_member: np.ndarray
    """Whether each product of the table is a member's."""
    index: np.ndarray
    """Table positions of the member products."""
    labels: pd.MultiIndex
    """The member products, (region, sector): the planning economy's products."""

    @classmethod
    def of(cls, economy: Economy, names: list[str]) -> _Members:
        region_of = economy.products.get_level_values(0).to_numpy()
        is_member = np.isin(region_of, names)
        index = np.flatnonzero(is_member)
        return cls(
            names=names,
            region_of=region_of,
            sector_of=economy.products.get_level_values(1).to_numpy(),
            is_member=is_member,
            index=index,
            labels=economy.products[index],
        )

    @property
    def n(self) -> int:
        return int(self.index.size)

    @property
    def region(self) -> np.ndarray:
        """Region of each member product."""
        return self.region_of[self.index]

    def locate(self, regions: Sequence[str], sectors: Sequence[str]) -> np.ndarray:
        """Positions among the member products of ``(region, sector)`` pairs (NaN where absent)."""
        position = pd.Series(np.arange(self.n), index=self.labels)
        return position.reindex(pd.MultiIndex.from_arrays([regions, sectors])).to_numpy()


@dataclass(frozen=True)
class ImportActivities:
    """The import activities of a trade problem, one per (member, partner, sector) with a base-year flow.

    Import ``k`` is activity ``columns[k]`` of the planning economy: it makes one unit of the
    member product ``products[k]`` (``(member[k], sector[k])``) and counts one unit on the
    account ``imports:partner[k]``. Sorted by member, partner and sector.
    """

    member: np.ndarray
    """Importing member region."""
    partner: np.ndarray
    """Supplying region (not a member)."""
    sector: np.ndarray
    """Sector of the input."""
    flow: np.ndarray
    """Base-year flow (money units of the table)."""
    products: np.ndarray
    """Position of ``(member, sector)`` among the planning economy's products."""
    columns: np.ndarray
    """Activity column in the planning economy."""

    def __len__(self) -> int:
        return int(self.columns.size)


@dataclass(frozen=True)
class Shipments:
    """Shipping activities between members (free trade), one per (origin, destination, sector).

    Shipment ``k`` is activity ``columns[k]``: it delivers one unit of member product
    ``to_products[k]`` (``(destination[k], sector[k])``) for ``1 + trade_cost`` units of
    member product ``from_products[k]`` (``(origin[k], sector[k])``).
    """

    origin: np.ndarray
    destination: np.ndarray
    sector: np.ndarray
    from_products: np.ndarray
    to_products: np.ndarray
    columns: np.ndarray

    def __len__(self) -> int:
        return int(self.columns.size)


@dataclass(frozen=True)
class TradeModel:
    """A trade scenario's planning problem, with the index arrays of its trade activities."""

    problem: PlanProblem
    imports: ImportActivities
    shipments: Shipments


def _check_scenario(
    economy: Economy, members: Sequence[str], cut_partners: Sequence[str]
) -> list[str]:
    """The distinct members, once the regions and the table are checked."""
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
    return members


def _member_use(use: sp.csc_array, members: _Members, member_trade: str) -> sp.csr_array:
    """Member activities' inputs regrouped onto member products (coefficients per unit of activity).

    An input from a non-member region is pooled with the using member's product of its sector;
    with ``member_trade = "free"`` so is an input from another member.
    """
    sub = sp.coo_array(use[:, members.index])
    rows, cols, vals = sub.row, sub.col, sub.data
    user_region = members.region[cols]
    own = members.is_member[rows] & (
        (member_trade == "table") | (members.region_of[rows] == user_region)
    )
    pooled_region = np.where(own, members.region_of[rows], user_region)
    targets_pos = members.locate(pooled_region, members.sector_of[rows])
    missing = np.isnan(targets_pos)
    if missing.any():
        k = int(np.flatnonzero(missing)[0])
        raise SpecError(
            f"member {user_region[k]!r} has no sector {members.sector_of[rows][k]!r} to replace imports of it",
            where="scenario.members",
            expected="members with the same sectors as their partners",
        )
    n = members.n
    return sp.csr_array((vals, (targets_pos.astype(int), cols)), shape=(n, n))


def _import_activities(
    use: sp.csc_array, levels: np.ndarray, members: _Members
) -> ImportActivities:
    """One import activity per (member, partner, sector) with a base-year flow, after the member activities."""
    flows = sp.coo_array(use[:, members.index] @ sp.diags_array(levels[members.index]))
    keep = ~members.is_member[flows.row] & (flows.data > 0)
    imp = pd.DataFrame(
        {
            "partner": members.region_of[flows.row[keep]],
            "sector": members.sector_of[flows.row[keep]],
            "member": members.region[flows.col[keep]],
            "flow": flows.data[keep],
        }
    )
    imp = imp.groupby(["member", "partner", "sector"], as_index=False, sort=True)["flow"].sum()
    member, sector = imp["member"].to_numpy(), imp["sector"].to_numpy()
    return ImportActivities(
        member=member,
        partner=imp["partner"].to_numpy(),
        sector=sector,
        flow=imp["flow"].to_numpy(),
        products=members.locate(member, sector).astype(int),
        columns=members.n + np.arange(len(imp)),
    )


def _shipments(members: _Members, a: TradeAssumptions, first_column: int) -> Shipments:
    """With free trade, a shipping activity per ordered pair of members and sector both have."""
    empty = np.zeros(0, dtype=object)
    if a.member_trade != "free" or len(members.names) < 2:
        none = np.zeros(0, int)
        return Shipments(empty, empty, empty, none, none, none)
    pairs = [(o, d) for o in members.names for d in members.names if o != d]
    sectors = pd.Index(members.sector_of[members.index]).unique()
    origin = np.array([o for o, _ in pairs for _ in sectors], dtype=object)
    destination = np.array([d for _, d in pairs for _ in sectors], dtype=object)
    sector = np.array([s for _ in pairs for s in sectors], dtype=object)
    src, dst = members.locate(origin, sector), members.locate(destination, sector)
    good = ~(np.isnan(src) | np.isnan(dst))
    return Shipments(
        origin=origin[good],
        destination=destination[good],
        sector=sector[good],
        from_products=src[good].astype(int),
        to_products=dst[good].astype(int),
        columns=first_column + np.arange(int(good.sum())),
    )


def _unit_columns(rows: np.ndarray, n: int, values: np.ndarray | float = 1.0) -> sp.csr_array:
    """An ``n × rows.size`` matrix whose column ``k`` holds ``values`` in row ``rows[k]``."""
    data = np.broadcast_to(np.asarray(values, dtype=float), rows.shape)
    return sp.csr_array((data, (rows, np.arange(rows.size))), shape=(n, rows.size))


def _make_and_use(
    member_use: sp.csr_array,
    imports: ImportActivities,
    shipments: Shipments,
    trade_cost: float,
) -> tuple[sp.csr_array, sp.csr_array]:
    """Make and use of the planning economy: member activities, then imports, then shipments."""
    n = member_use.shape[0]
    make = sp.hstack(
        [
            sp.identity(n, format="csr"),
            _unit_columns(imports.products, n),
            _unit_columns(shipments.to_products, n),
        ],
        format="csr",
    )
    use = sp.hstack(
        [
            member_use,
            sp.csr_array((n, len(imports))),
            _unit_columns(shipments.from_products, n, 1.0 + trade_cost),
        ],
        format="csr",
    )
    return make, use


def _activity_labels(
    members: _Members, imports: ImportActivities, shipments: Shipments
) -> pd.MultiIndex:
    """(region, activity) labels, for people to read: no code parses them."""
    return pd.MultiIndex.from_tuples(
        list(members.labels)
        + [
            (r, f"import {p} {s}")
            for r, p, s in zip(imports.member, imports.partner, imports.sector, strict=True)
        ]
        + [
            (d, f"ship {o}->{d} {s}")
            for o, d, s in zip(
                shipments.origin, shipments.destination, shipments.sector, strict=True
            )
        ],
        names=["region", "activity"],
    )


@dataclass(frozen=True)
class _Accounts:
    """Accounts of the planning economy with their per-period limits and units."""

    names: tuple[str, ...]
    coefficients: np.ndarray
    """Accounts × activities."""
    limits: list[np.ndarray]
    units: dict[str, str]


def _accounts(
    economy: Economy,
    members: _Members,
    imports: ImportActivities,
    cut_partners: Sequence[str],
    resource: str,
    n_activities: int,
    a: TradeAssumptions,
) -> _Accounts:
    """Each member's own ``resource:region`` (base-year use, growing), then ``imports:partner``.

    A partner's import limit is its base-year total × ``import_flexibility``, 0 when cut.
    """
    T, n = a.periods, members.n
    levels = economy.activity_levels[members.index]
    base_resource = economy.account_coefficients[economy.account_names.index(resource)][
        members.index
    ]
    rows, names, limits = [], [], []
    for region in members.names:
        row = np.zeros(n_activities)
        mask = members.region == region
        row[:n][mask] = base_resource[mask]
        rows.append(row)
        names.append(f"{resource}:{region}")
        base_use = float(base_resource[mask] @ levels[mask])
        limits.append(base_use * (1.0 + a.resource_growth) ** np.arange(T))
    partners = sorted(pd.unique(imports.partner))
    for partner in partners:
        row = np.zeros(n_activities)
        row[imports.columns[imports.partner == partner]] = 1.0
        rows.append(row)
        names.append(f"imports:{partner}")
        base_total = float(imports.flow[imports.partner == partner].sum())
        cap = 0.0 if partner in cut_partners else base_total * a.import_flexibility
        limits.append(np.full(T, cap))
    unit = economy.account_units.get(resource, "")
    money = economy.metadata.units or "money units"
    units = {
        **{f"{resource}:{r}": unit for r in members.names},
        **{f"imports:{p}": money for p in partners},
    }
    return _Accounts(tuple(names), np.vstack(rows), limits, units)


def _deliveries(economy: Economy, members: _Members) -> np.ndarray:
    """Base-year deliveries of each member product: final demand plus sales to non-member industries."""
    use = sp.csc_array(economy.use)
    levels = economy.activity_levels
    fd = economy.final_demand_values[members.index].sum(axis=1)
    outside = ~members.is_member
    exports = (
        np.asarray(use[members.is_member][:, outside] @ levels[outside]).ravel()
        if outside.any()
        else np.zeros(members.n)
    )
    return np.maximum(fd + exports, 0.0)


def _capacity(
    imports: ImportActivities, n_activities: int, cut_partners: Sequence[str], a: TradeAssumptions
) -> np.ndarray:
    """Activities × periods: imports by flexibility (0 when cut); member activities by capital only."""
    capacity = np.full((n_activities, a.periods), np.inf)
    flex = (
        np.where(np.isin(imports.partner, cut_partners), 0.0, a.import_flexibility) * imports.flow
    )
    capacity[imports.columns] = flex[:, None]
    return capacity


def _capital(
    levels: np.ndarray, members: _Members, deliveries: np.ndarray, a: TradeAssumptions
) -> CapitalStocks:
    """One capital stock per member activity: base-year output × (1 + headroom), built by investment."""
    n = members.n
    bundle, groups = _investment_bundle(
        members.labels, members.region, members.names, deliveries, a
    )
    return CapitalStocks(
        goods=np.arange(n),
        activities=np.arange(n),
        coefficients=np.ones(n),
        initial=levels[members.index] * (1.0 + a.headroom),
        depreciation=np.full(n, a.depreciation),
        lag=1,
        bundle=bundle,
        groups=groups,
    )


@dataclass(frozen=True)
class _Structure:
    """What a trade problem's members determine, whatever is cut and assumed beyond the
    members' trade rule: their products, their inputs regrouped, their import and shipping
    activities and the activities' labels."""

    group: _Members
    member_use: sp.csr_array
    imports: ImportActivities
    shipments: Shipments
    activity_labels: pd.MultiIndex


_STRUCTURES: weakref.WeakKeyDictionary[Economy, dict[tuple, _Structure]] = (
    weakref.WeakKeyDictionary()
)
_STRUCTURES_PER_ECONOMY = 64
"""Member sets remembered per economy (a sweep over members × partners revisits each often)."""
_STRUCTURES_LOCK = threading.Lock()


def _structure(economy: Economy, members: list[str], a: TradeAssumptions) -> _Structure:
    """The members' :class:`_Structure`, built once per economy, member set and trade rule.

    A sweep solves the same members against many partners, shares and flexibilities; the
    regrouping of the table around them is most of the time of building each problem. Its
    arrays are made read-only, since every problem of those members shares them.
    """
    key = (tuple(members), a.member_trade)
    with _STRUCTURES_LOCK:
        known = _STRUCTURES.setdefault(economy, {})
        if key in known:
            return known[key]
    group = _Members.of(economy, members)
    use = sp.csc_array(economy.use)
    imports = _import_activities(use, economy.activity_levels, group)
    shipments = _shipments(group, a, group.n + len(imports))
    structure = _Structure(
        group,
        _member_use(use, group, a.member_trade),
        imports,
        shipments,
        _activity_labels(group, imports, shipments),
    )
    for part in (group, imports, shipments):
        for value in vars(part).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
    with _STRUCTURES_LOCK:
        if len(known) >= _STRUCTURES_PER_ECONOMY:
            known.pop(next(iter(known)))
        known[key] = structure
    return structure


def trade_model(
    economy: Economy,
    members: Sequence[str],
    cut_partners: Sequence[str] = (),
    assumptions: TradeAssumptions | None = None,
    *,
    name: str | None = None,
) -> TradeModel:
    """The planning problem of ``members`` with imports from ``cut_partners`` stopped, and its trade activities."""
    a = assumptions or TradeAssumptions()
    structure = _structure(economy, _check_scenario(economy, members, cut_partners), a)
    group, imports, shipments = structure.group, structure.imports, structure.shipments
    resource = _choose_resource(economy, a.resource)
    T, n = a.periods, group.n
    m = n + len(imports) + len(shipments)
    make, use_matrix = _make_and_use(structure.member_use, imports, shipments, a.trade_cost)
    accounts = _accounts(economy, group, imports, cut_partners, resource, m, a)
    planning_economy = Economy(
        products=group.labels,
        activities=structure.activity_labels,
        use=use_matrix,
        make=make,
        account_coefficients=accounts.coefficients,
        account_names=accounts.names,
        account_units=accounts.units,
        final_demand_values=np.zeros((n, 0)),
        final_demand_columns=pd.Index([]),
        activity_levels=np.concatenate(
            [economy.activity_levels[group.index], imports.flow, np.zeros(len(shipments))]
        ),
        metadata=Metadata(
            name=name or f"{'+'.join(group.names)} without {'+'.join(cut_partners) or 'no one'}",
            units=economy.metadata.units,
            source=economy.metadata.source,
        ),
        check_productive=False,
    )
    deliveries = _deliveries(economy, group)
    problem = PlanProblem(
        economy=planning_economy,
        periods=pd.Index(range(1, T + 1), name="period"),
        targets=Targets(
            np.repeat(deliveries[:, None], T, axis=1), _target_weights(deliveries, T, a)
        ),
        objective=Objective(kind="max_min_fulfilment" if a.pooling == "uniform" else "harmony"),
        resources=tuple(
            ResourceLimit(acc, lim)
            for acc, lim in zip(accounts.names, accounts.limits, strict=True)
        ),
        capacity=_capacity(imports, m, cut_partners, a),
        capital=_capital(economy.activity_levels, group, deliveries, a),
        name=planning_economy.metadata.name,
    )
    return TradeModel(problem, imports, shipments)


def _target_weights(deliveries: np.ndarray, periods: int, a: TradeAssumptions) -> np.ndarray:
    """1 per target; for harmony pooling each target's base-year size (as a share of all), so
    that the objective is a weighted total in which a money unit counts the same everywhere."""
    if a.pooling == "uniform":
        return np.ones((deliveries.size, periods))
    total = deliveries.sum()
    weights = deliveries / total if total > 0 else np.ones(deliveries.size)
    return np.repeat(weights[:, None], periods, axis=1)


def trade_problem(
    economy: Economy,
    members: Sequence[str],
    cut_partners: Sequence[str] = (),
    assumptions: TradeAssumptions | None = None,
    *,
    name: str | None = None,
) -> PlanProblem:
    """Build the planning problem of ``members`` with imports from ``cut_partners`` stopped."""
    return trade_model(economy, members, cut_partners, assumptions, name=name).problem


def _investment_bundle(
    labels: pd.MultiIndex,
    member_region: np.ndarray,
    members: list[str],
    deliveries: np.ndarray,
    a: TradeAssumptions,
) -> tuple[sp.csr_array, np.ndarray]:
    """Each member's investment mix (products × members) and the member of each activity's stock.

    One unit of new capacity of a member activity uses ``capital_output_ratio ×`` its
    region's mix; the stocks of a region share that one bundle (``CapitalStocks.groups``),
    so the LP holds each mix once per period instead of once per activity.
    """
    sectors = labels.get_level_values(1).to_numpy()
    columns = []
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
        columns.append(sp.csr_array(a.capital_output_ratio * weights[:, None] / total))
    groups = pd.Index(members).get_indexer(member_region)
    return sp.csr_array(sp.hstack(columns)), groups


@dataclass(frozen=True)
class ScenarioResult(WritesTables):
    """What a trade scenario found (a :class:`~commonplan.results.Result`).

    ``share`` is the uniform share of base-year deliveries kept per period (``z_t``);
    ``baseline_share`` the same without the cut-off; ``capacity_built`` the new capacity per
    member activity and period (activity units, i.e. base-year money units of output);
    ``lost_inputs`` one row per (member, sector) the cut partner supplied: base-year imports
    and the shadow price per period (gain in ``Σ_t z_t`` per money unit of the input);
    ``members`` one row per member and period: ``share`` (its worst-met target, the share of
    base-year deliveries it is sure to keep) and ``delivered`` (its deliveries over its
    targets, in money units); ``transfers`` (free member trade only) one row per shipment
    from one member to another: ``origin``, ``destination``, ``sector``, ``period``,
    ``amount`` (product units delivered).
    """

    plan: Plan
    share: pd.Series
    baseline_share: pd.Series | None
    capacity_built: pd.DataFrame
    lost_inputs: pd.DataFrame
    members: pd.DataFrame = field(default_factory=pd.DataFrame)
    transfers: pd.DataFrame = field(default_factory=pd.DataFrame)

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
        if len(self.members):
            tables["members"] = self.members.assign(period=self.members["period"].astype(str))
        if len(self.transfers):
            tables["transfers"] = self.transfers.assign(period=self.transfers["period"].astype(str))
        return tables

    def __repr__(self) -> str:
        last = f"{self.share.iloc[-1]:.4f}" if len(self.share) else "n/a"
        return (
            f"<ScenarioResult {self.plan.problem.name!r}: {len(self.share)} periods, "
            f"share kept in the last {last}, {len(self.lost_inputs)} lost inputs>"
        )

    def _repr_html_(self) -> str:
        rows = [("scenario", self.plan.problem.name)]
        rows += [(f"share kept, period {p}", f"{v:.4f}") for p, v in self.share.items()]
        if self.baseline_share is not None:
            rows += [
                (f"without the cut-off, period {p}", f"{v:.4f}")
                for p, v in self.baseline_share.items()
            ]
        rows += [
            ("activities building capacity", len(self.capacity_built)),
            ("lost inputs", len(self.lost_inputs)),
            ("solver", f"{self.report.method}, {self.report.status}"),
        ]
        return summary_html("Trade scenario", rows)

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
        if len(self.members) and self.members["member"].nunique() > 1:
            first = self.members[self.members["period"] == self.members["period"].iloc[0]]
            lines.append(
                "each member in the first period (worst-met target; deliveries / targets): "
                + ", ".join(
                    f"{r.member} {r.share:.4f}; {r.delivered:.4f}" for r in first.itertuples()
                )
            )
        if len(self.transfers):
            flows = self.transfers.groupby(["origin", "destination"])["amount"].sum()
            top = flows.sort_values(ascending=False).head(5)
            lines.append(
                "largest transfers between members (all periods): "
                + ", ".join(f"{o}→{d}: {v:.6g}" for (o, d), v in top.items())
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


def _capacity_built(plan: Plan) -> pd.DataFrame:
    """New capacity per member activity and period, for the activities that build any."""
    problem = plan.problem
    built = plan.investment if plan.investment is not None else pd.DataFrame()
    built = pd.DataFrame(
        built.to_numpy(),
        index=problem.economy.activities[problem.capital.activities],
        columns=problem.periods,
    )
    largest = max(1.0, float(built.to_numpy().max(initial=0.0)))
    return built[(built > NEGLIGIBLE * largest).any(axis=1)]


def _lost_inputs(
    plan: Plan, imports: ImportActivities, cut_partners: Sequence[str]
) -> pd.DataFrame:
    """One row per import from a cut partner: base-year flow and the product's shadow price per period."""
    problem = plan.problem
    rows = []
    for partner in cut_partners:
        for k in np.flatnonzero(imports.partner == partner):
            row = {
                "member": imports.member[k],
                "partner": partner,
                "sector": imports.sector[k],
                "base_imports": float(problem.economy.activity_levels[imports.columns[k]]),
            }
            for t, period in enumerate(problem.periods):
                row[f"shadow_price_{period}"] = float(
                    plan.product_prices.iloc[imports.products[k], t]
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _run(
    model: TradeModel, cut_partners: Sequence[str], method: str, baseline: PlanProblem | None
) -> ScenarioResult:
    plan = solve(model.problem, method=method)
    base_share = None
    if baseline is not None:
        base_share = solve(baseline, method=method).worst_fulfilment.rename("share")
    return ScenarioResult(
        plan=plan,
        share=plan.worst_fulfilment.rename("share"),
        baseline_share=base_share,
        capacity_built=_capacity_built(plan),
        lost_inputs=_lost_inputs(plan, model.imports, cut_partners),
        members=_member_shares(plan),
        transfers=_transfers(plan, model.shipments),
    )


def _member_shares(plan: Plan) -> pd.DataFrame:
    """Per member and period: the worst-met target and deliveries over targets."""
    f = plan.fulfilment
    grouped = f.groupby(["region", "period"], sort=False)
    out = pd.DataFrame(
        {
            "share": grouped["fulfilment"].min(),
            "delivered": grouped["delivered"].sum() / grouped["target"].sum(),
        }
    ).reset_index()
    return out.rename(columns={"region": "member"})


def _transfers(plan: Plan, shipments: Shipments) -> pd.DataFrame:
    """Shipments between members with a positive level, per period."""
    if not len(shipments):
        return pd.DataFrame(columns=["origin", "destination", "sector", "period", "amount"])
    levels = plan.activity_levels.to_numpy()[shipments.columns]
    largest = max(1.0, float(np.abs(levels).max(initial=0.0)))
    k, t = np.nonzero(levels > NEGLIGIBLE * largest)
    return pd.DataFrame(
        {
            "origin": shipments.origin[k],
            "destination": shipments.destination[k],
            "sector": shipments.sector[k],
            "period": plan.problem.periods[t],
            "amount": levels[k, t],
        }
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
    model = trade_model(economy, [region], partners, assumptions)
    baseline = trade_problem(economy, [region], [], assumptions) if compare else None
    return _run(model, partners, method, baseline)


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
    model = trade_model(economy, members, partners, assumptions)
    baseline = trade_problem(economy, members, [], assumptions) if compare else None
    return _run(model, partners, method, baseline)
