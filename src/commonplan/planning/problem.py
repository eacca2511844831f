"""What a plan must achieve and with what: :class:`PlanProblem` and its parts.

A plan covers periods ``1 … T``. In each period ``t`` the plan chooses

* activity levels ``x_t`` (one per activity of the economy; several activities may make the
  same product: these are alternative *techniques*, and joint products are allowed through
  the make matrix), in units of activity (base-year output for a symmetric table);
* final deliveries ``d_t`` per product, in product units (the economy's money unit for a
  monetary table): ``make·x_t − use·x_t − investment_t − exports_t = d_t ≥ 0``;
* capital stocks ``K_t`` and investment ``I_t`` per (capital good, activity) pair.

All parts are immutable dataclasses holding plain arrays aligned to the economy's products,
activities and accounts; :mod:`commonplan.planning.spec` builds them from labelled input.
Constructors validate everything and raise :class:`~commonplan.errors.SpecError` naming the
field and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.checks import check_values
from commonplan.economy import Economy
from commonplan.errors import SpecError

ObjectiveKind = Literal["max_min_fulfilment", "harmony", "min_resource"]
OBJECTIVE_KINDS: tuple[str, ...] = ("max_min_fulfilment", "harmony", "min_resource")

#: Breakpoints (fulfilment ratios) of the piecewise-linear harmony function.
DEFAULT_HARMONY_BREAKPOINTS: tuple[float, ...] = (
    0.0,
    0.25,
    0.5,
    0.75,
    0.9,
    1.0,
    1.1,
    1.25,
    1.5,
    2.0,
    3.0,
    5.0,
)


def harmony(fulfilment: np.ndarray | float) -> np.ndarray:
    """Cockshott's harmony of a target's fulfilment ratio ``f = delivered / target``.

    ``H(f) = s − s²/2`` for ``s = f − 1 < 0`` (shortfalls hurt more and more) and
    ``H(f) = ln f`` for ``f ≥ 1`` (surpluses help less and less); concave, ``H(1) = 0``,
    slope 1 at ``f = 1``. Source: W. P. Cockshott, *Towards a New Socialism* (1993) and
    ``planning/Harmony.java`` in GitHub ``wc22m/5yearplan``.
    """
    f = np.asarray(fulfilment, dtype=float)
    s = f - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s < 0, s - 0.5 * s * s, np.log(np.maximum(f, 1e-300)))


def _fail(
    field_: str, message: str, *, expected: str | None = None, fix: str | None = None
) -> None:
    raise SpecError(message, where=field_, expected=expected, fix=fix)


def _check_array(
    name: str, values: np.ndarray, *, nonnegative: bool = True, allow_inf: bool = False
) -> None:
    """Every value finite (``+inf`` allowed for limits) and, unless told otherwise, ≥ 0."""
    check_values(
        values,
        what="value",
        where=lambda at: f"{name}, position {at}" if values.ndim > 1 else f"{name}[{at[0]}]",
        nonnegative=nonnegative,
        allow_inf=allow_inf,
        error=SpecError,
        fix="use 0 for 'none'; limits and targets cannot be negative or missing",
    )


@dataclass(frozen=True)
class Targets:
    """Final deliveries wanted: ``amounts[i, t]`` of product ``i`` in period ``t`` (product units).

    ``weights[i, t]`` is the target's priority (dimensionless, ≥ 0), used by the weighted and
    harmony objectives. A zero amount means "no target".
    """

    amounts: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        amounts = np.array(self.amounts, dtype=float, ndmin=2)
        weights = np.broadcast_to(np.asarray(self.weights, dtype=float), amounts.shape).copy()
        _check_array("targets.amount", amounts)
        _check_array("targets.weight", weights)
        object.__setattr__(self, "amounts", amounts)
        object.__setattr__(self, "weights", weights)

    @property
    def mask(self) -> np.ndarray:
        """Boolean (products × periods): where a target is set."""
        return self.amounts > 0


@dataclass(frozen=True)
class ResourceLimit:
    """At most ``limits[t]`` of account ``account`` may be used in period ``t`` (account units; ``inf`` = no limit)."""

    account: str
    limits: np.ndarray

    def __post_init__(self) -> None:
        limits = np.atleast_1d(np.asarray(self.limits, dtype=float))
        _check_array(f"limits[{self.account!r}]", limits, allow_inf=True)
        object.__setattr__(self, "limits", limits)


@dataclass(frozen=True)
class CapitalStocks:
    """Capital stocks per (capital good, activity) pair, Cockshott's five-year-plan model.

    Pair ``p`` says: activity ``activities[p]`` needs ``coefficients[p]`` units of product
    ``goods[p]`` in stock per unit of activity level (so ``x_a,t ≤ K_p,t / coefficient``);
    the stock is ``initial[p]`` in period 1, loses ``depreciation[p]`` (a share per period)
    and grows by investment: ``K_p,t+1 ≤ (1 − δ_p) K_p,t + I_p,t+1−lag``; investment ``I_p,t``
    is a use of product ``goods[p]`` in period ``t``.

    A stock may instead be a *bundle* of goods (capacity built from several goods): then
    ``bundle[:, p]`` (products × pairs, sparse) is the goods one unit of investment in stock
    ``p`` uses, and ``goods[p]`` only labels the stock. Where many stocks share one bundle
    (a region's investment mix), ``groups[p]`` names the bundle of stock ``p`` and ``bundle``
    is products × groups: the LP then sums each group's investment once per period before
    it uses the goods, so its size grows with stocks + goods, not stocks × goods.
    """

    goods: np.ndarray
    activities: np.ndarray
    coefficients: np.ndarray
    initial: np.ndarray
    depreciation: np.ndarray
    lag: int = 1
    bundle: sp.sparray | None = None
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        goods = np.asarray(self.goods, dtype=np.int64).ravel()
        activities = np.asarray(self.activities, dtype=np.int64).ravel()
        q = goods.size
        arrays = {}
        for name in ("coefficients", "initial", "depreciation"):
            values = np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (q,)).copy()
            _check_array(f"capital.{name}", values)
            arrays[name] = values
        if activities.size != q:
            _fail(
                "capital.activities",
                f"{activities.size} activities for {q} capital goods",
                expected="one activity per pair",
            )
        if (arrays["depreciation"] > 1).any():
            _fail(
                "capital.depreciation",
                "a depreciation rate exceeds 1",
                expected="a share per period in [0, 1]",
            )
        if int(self.lag) < 1:
            _fail(
                "capital.lag",
                f"investment lag {self.lag} is below 1",
                expected="an integer ≥ 1 (periods before new stock works)",
            )
        if self.bundle is not None:
            bundle = sp.csr_array(self.bundle, dtype=float)
            if self.groups is not None:
                groups = np.asarray(self.groups, dtype=np.int64).ravel()
                if groups.size != q or (groups < 0).any() or (groups >= bundle.shape[1]).any():
                    _fail(
                        "capital.groups",
                        f"{groups.size} groups for {q} stocks, or a group outside the bundle's "
                        f"{bundle.shape[1]} columns",
                        expected="one bundle column per stock",
                    )
                object.__setattr__(self, "groups", groups)
            elif bundle.shape[1] != q:
                _fail(
                    "capital.bundle",
                    f"bundle has {bundle.shape[1]} columns for {q} stocks",
                    expected="products × stocks",
                )
            _check_array("capital.bundle", bundle.data)
            object.__setattr__(self, "bundle", bundle)
        object.__setattr__(self, "goods", goods)
        object.__setattr__(self, "activities", activities)
        object.__setattr__(self, "lag", int(self.lag))
        for name, values in arrays.items():
            object.__setattr__(self, name, values)

    @property
    def n_pairs(self) -> int:
        return int(self.goods.size)

    @property
    def stock_bundle(self) -> sp.csr_array | None:
        """Goods one unit of investment in each stock uses (products × stocks), or ``None`` without a bundle.

        Materialises a shared bundle per stock: for checks on small problems, not for the LP.
        """
        if self.bundle is None or self.groups is None:
            return self.bundle
        return sp.csr_array(sp.csc_array(self.bundle)[:, self.groups])

    @property
    def n_groups(self) -> int:
        """Number of shared investment bundles (0 where each stock has its own column)."""
        return int(self.bundle.shape[1]) if self.groups is not None else 0


@dataclass(frozen=True)
class BalanceOfPayments:
    """Imports paid by exports: per period, ``Σ imports ≤ Σ export_prices·exports + max_deficit[t]``.

    ``import_accounts`` are accounts counting imports (money units per unit of activity);
    exports are extra deliveries of products with a positive ``export_prices`` entry (money
    earned per unit exported). ``max_deficit`` (money units per period) may be 0.
    """

    import_accounts: tuple[str, ...]
    export_prices: np.ndarray
    max_deficit: np.ndarray

    def __post_init__(self) -> None:
        prices = np.asarray(self.export_prices, dtype=float).ravel()
        deficit = np.atleast_1d(np.asarray(self.max_deficit, dtype=float))
        _check_array("balance_of_payments.export_prices", prices)
        _check_array("balance_of_payments.max_deficit", deficit, nonnegative=False)
        object.__setattr__(self, "export_prices", prices)
        object.__setattr__(self, "max_deficit", deficit)
        object.__setattr__(self, "import_accounts", tuple(self.import_accounts))


@dataclass(frozen=True)
class Objective:
    """What "best" means.

    * ``"max_min_fulfilment"`` (a): maximise ``Σ_t z_t`` where ``z_t`` is the worst-met target's
      fulfilment ratio in period ``t`` (Cockshott & Cottrell); then, if ``lexicographic``,
      maximise the weighted fulfilment ``Σ w·d/y`` keeping ``Σ_t z_t`` at its optimum.
    * ``"harmony"`` (b): maximise ``Σ w·H(d/y)`` with ``H`` the concave harmony function,
      interpolated linearly between ``breakpoints`` (fulfilment ratios) and flat beyond the
      last one (fulfilment above it adds nothing).
    * ``"min_resource"`` (c): minimise the total use of account ``resource`` (e.g. labour)
      over all periods, meeting every target in full.
    """

    kind: ObjectiveKind = "max_min_fulfilment"
    resource: str | None = None
    lexicographic: bool = True
    breakpoints: tuple[float, ...] = DEFAULT_HARMONY_BREAKPOINTS

    def __post_init__(self) -> None:
        if self.kind not in OBJECTIVE_KINDS:
            _fail(
                "objective.kind",
                f"unknown objective {self.kind!r}",
                expected=f"one of {list(OBJECTIVE_KINDS)}",
            )
        if self.kind == "min_resource" and not self.resource:
            _fail(
                "objective.resource",
                "the min_resource objective needs a resource",
                expected="an account name such as 'labour'",
            )
        points = tuple(float(b) for b in self.breakpoints)
        if len(points) < 2 or any(b < 0 for b in points) or any(np.diff(points) <= 0):
            _fail(
                "objective.breakpoints",
                f"harmony breakpoints {points} are not increasing",
                expected="at least two increasing ratios ≥ 0",
            )
        object.__setattr__(self, "breakpoints", points)


@dataclass(frozen=True)
class PlanProblem:
    """A complete planning problem: economy, periods, targets, limits, capital, trade, objective.

    Build it directly (arrays aligned to ``economy``) or with :func:`PlanProblem.build`,
    which accepts labelled pandas input. ``capacity[a, t]`` caps activity ``a`` in period
    ``t`` (activity units; ``inf`` = none).
    """

    economy: Economy
    periods: pd.Index
    targets: Targets
    objective: Objective = field(default_factory=Objective)
    resources: tuple[ResourceLimit, ...] = ()
    capacity: np.ndarray | None = None
    capital: CapitalStocks | None = None
    balance_of_payments: BalanceOfPayments | None = None
    name: str = "plan"

    def __post_init__(self) -> None:
        periods = pd.Index(self.periods, name="period")
        if len(periods) == 0:
            _fail(
                "periods",
                "a plan needs at least one period",
                expected="periods = T ≥ 1 or a list of period labels",
            )
        if periods.has_duplicates:
            _fail(
                "periods",
                f"duplicate period labels {list(periods[periods.duplicated()])}",
                expected="distinct labels",
            )
        object.__setattr__(self, "periods", periods)
        T, n, m = len(periods), self.economy.n_products, self.economy.n_activities
        if self.targets.amounts.shape != (n, T):
            _fail(
                "targets",
                f"targets have shape {self.targets.amounts.shape}",
                expected=f"(products, periods) = ({n}, {T})",
                fix="give one amount per product and period (or one for all periods)",
            )
        accounts = set(self.economy.account_names)
        resources = tuple(
            # spread one limit over all periods on a copy: the caller's object stays as it was
            replace(limit, limits=np.repeat(limit.limits, T))
            if limit.limits.size == 1 and T > 1
            else limit
            for limit in self.resources
        )
        seen: set[str] = set()
        for limit in resources:
            if limit.account not in accounts:
                _fail(
                    f"limits[{limit.account!r}]",
                    f"unknown account {limit.account!r}",
                    expected=f"one of {sorted(accounts)}",
                    fix="name an account of the economy",
                )
            if limit.account in seen:
                _fail(
                    f"limits[{limit.account!r}]",
                    "the account is limited twice",
                    fix="give one limit per account",
                )
            seen.add(limit.account)
            if limit.limits.size != T:
                _fail(
                    f"limits[{limit.account!r}]",
                    f"{limit.limits.size} limits for {T} periods",
                    expected="one limit, or one per period",
                )
        object.__setattr__(self, "resources", resources)
        if self.objective.resource is not None and self.objective.resource not in accounts:
            _fail(
                "objective.resource",
                f"unknown account {self.objective.resource!r}",
                expected=f"one of {sorted(accounts)}",
            )
        if self.capacity is not None:
            cap = np.asarray(self.capacity, dtype=float)
            if cap.ndim == 1:
                cap = np.repeat(cap[:, None], T, axis=1)
            if cap.shape != (m, T):
                _fail(
                    "capacity",
                    f"capacity has shape {cap.shape}",
                    expected=f"(activities, periods) = ({m}, {T})",
                )
            _check_array("capacity", cap, allow_inf=True)
            object.__setattr__(self, "capacity", cap)
        if self.capital is not None:
            c = self.capital
            if c.bundle is not None and c.bundle.shape[0] != n:
                _fail(
                    "capital.bundle",
                    f"bundle has {c.bundle.shape[0]} rows for {n} products",
                    expected="products × stocks",
                )
            for name, index, size in (("goods", c.goods, n), ("activities", c.activities, m)):
                if index.size and (index.min() < 0 or index.max() >= size):
                    _fail(
                        f"capital.{name}",
                        "an index is out of range",
                        expected=f"0 ≤ index < {size}",
                    )
        bop = self.balance_of_payments
        if bop is not None:
            for account in bop.import_accounts:
                if account not in accounts:
                    _fail(
                        "balance_of_payments.import_accounts",
                        f"unknown account {account!r}",
                        expected=f"one of {sorted(accounts)}",
                    )
            if bop.export_prices.size != n:
                _fail(
                    "balance_of_payments.export_prices",
                    f"{bop.export_prices.size} prices for {n} products",
                    expected="one per product",
                )
            if bop.max_deficit.size == 1 and T > 1:
                bop = replace(bop, max_deficit=np.repeat(bop.max_deficit, T))
                object.__setattr__(self, "balance_of_payments", bop)
            if bop.max_deficit.size != T:
                _fail(
                    "balance_of_payments.max_deficit",
                    f"{bop.max_deficit.size} values for {T} periods",
                    expected="one, or one per period",
                )

    # ---- sizes -------------------------------------------------------------------------

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    def limit_of(self, account: str) -> np.ndarray | None:
        """The per-period limits of ``account`` (``None`` if unlimited)."""
        for limit in self.resources:
            if limit.account == account:
                return limit.limits
        return None

    # ---- labelled construction -----------------------------------------------------------

    @classmethod
    def build(
        cls,
        economy: Economy,
        *,
        periods: int | Sequence[object] = 1,
        targets: pd.Series | pd.DataFrame | None = None,
        target_share: float | None = None,
        weights: pd.Series | pd.DataFrame | float = 1.0,
        limits: dict[str, float | Sequence[float]] | None = None,
        capacity: pd.Series | pd.DataFrame | None = None,
        capital: CapitalStocks | None = None,
        objective: Objective | str = "max_min_fulfilment",
        resource: str | None = None,
        balance_of_payments: BalanceOfPayments | None = None,
        name: str = "plan",
    ) -> PlanProblem:
        """Build a problem from labelled input.

        ``targets`` is a Series (product → amount, every period) or a DataFrame (products ×
        periods) indexed by the economy's ``(region, sector)`` labels; ``target_share`` instead
        asks for ``s ×`` the economy's base-year final demand (summed over categories) in every
        period. ``limits`` maps account names to one limit or one per period; ``capacity`` is
        indexed by activity labels.
        """
        labels = (
            pd.Index(range(1, periods + 1)) if isinstance(periods, int) else pd.Index(list(periods))
        )
        T = len(labels)
        n = economy.n_products
        if targets is None and target_share is None:
            _fail("targets", "no targets given", fix="pass targets=... or target_share=s")
        if target_share is not None:
            if not np.isfinite(target_share) or target_share < 0:
                _fail(
                    "target_share",
                    f"share {target_share!r} is not a number ≥ 0",
                    expected="s ≥ 0 (1 = base-year final demand)",
                )
            amounts = np.repeat(
                (economy.final_demand_values.sum(axis=1) * target_share)[:, None], T, axis=1
            )
            amounts = np.maximum(amounts, 0.0)
        else:
            amounts = _align_products(targets, economy, T, "targets")
        weight_array = (
            np.full((n, T), float(weights))
            if np.isscalar(weights)
            else _align_products(weights, economy, T, "weights", fill=1.0)
        )
        resources = tuple(
            ResourceLimit(account, np.asarray(value, dtype=float))
            for account, value in (limits or {}).items()
        )
        cap = None
        if capacity is not None:
            cap = _align_activities(capacity, economy, T, "capacity")
        if isinstance(objective, str):
            objective = Objective(kind=objective, resource=resource)  # type: ignore[arg-type]
        return cls(
            economy=economy,
            periods=labels,
            targets=Targets(amounts, weight_array),
            objective=objective,
            resources=resources,
            capacity=cap,
            capital=capital,
            balance_of_payments=balance_of_payments,
            name=name,
        )


def _unknown(labels: pd.Index, known: pd.Index, field_: str, what: str) -> None:
    missing = labels.difference(known)
    if len(missing):
        import difflib

        first = missing[0]
        close = difflib.get_close_matches(str(first), [str(k) for k in known], n=3)
        _fail(
            field_,
            f"unknown {what} {first!r} ({len(missing)} unknown in all)",
            expected=f"a {what} of the economy" + (f", e.g. {close}" if close else ""),
            fix=f"use the economy's (region, sector) labels for {what}s",
        )


def _align(values, index: pd.Index, T: int, field_: str, what: str, fill: float) -> np.ndarray:
    if isinstance(values, pd.Series):
        values = pd.DataFrame({t: values for t in range(T)})
    if not isinstance(values, pd.DataFrame):
        _fail(
            field_,
            f"expected a labelled Series or DataFrame, got {type(values).__name__}",
            fix=f"index the values by {what} labels",
        )
    frame = values.copy()
    if not isinstance(frame.index, pd.MultiIndex):
        if len(index.get_level_values(0).unique()) == 1:
            frame.index = pd.MultiIndex.from_arrays(
                [[index[0][0]] * len(frame), frame.index.astype(str)]
            )
        else:
            _fail(
                field_,
                f"{what} labels are not (region, sector) pairs",
                fix="index by (region, sector) tuples",
            )
    frame.index = pd.MultiIndex.from_arrays(
        [frame.index.get_level_values(0).astype(str), frame.index.get_level_values(1).astype(str)]
    )
    _unknown(frame.index, index, field_, what)
    if frame.shape[1] == 1 and T > 1:
        frame = pd.concat([frame.iloc[:, 0]] * T, axis=1)
    if frame.shape[1] != T:
        _fail(
            field_,
            f"{frame.shape[1]} period columns for {T} periods",
            expected="one column, or one per period",
        )
    array = frame.groupby(level=[0, 1]).sum().reindex(index).to_numpy(dtype=float, copy=True)
    array[np.isnan(array)] = fill
    return array


def _align_products(values, economy: Economy, T: int, field_: str, fill: float = 0.0) -> np.ndarray:
    return _align(values, economy.products, T, field_, "product", fill)


def _align_activities(values, economy: Economy, T: int, field_: str) -> np.ndarray:
    return _align(values, economy.activities, T, field_, "activity", np.inf)
