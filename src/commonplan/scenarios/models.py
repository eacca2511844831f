"""The scenario models behind one interface: ``run(economy, shock, assumptions) -> ScenarioOutcome``.

Each model is a function with that signature, registered in :data:`MODELS` by name with
its assumptions dataclass, what it measures and its source; :func:`run` looks one up.
``assumptions`` may be the model's dataclass, a mapping of its fields, or ``None`` (the
defaults). Every outcome reports the shocked region's sectors; see ``docs/scenarios.md``
for each model's equations and assumptions.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import SpecError
from commonplan.planning.problem import ResourceLimit
from commonplan.planning.scenarios import TradeAssumptions, trade_model
from commonplan.planning.solve import solve
from commonplan.scenarios._common import (
    Setting,
    as_dict,
    assumptions_of,
    base_model_output,
    direct_caps,
    mixed_output,
    normalised,
)
from commonplan.scenarios.ario import ARIOAssumptions, run_ario
from commonplan.scenarios.outcome import Measure, OutcomeReport, ScenarioOutcome, loss_table
from commonplan.scenarios.shock import Shock

# --- the plan LP ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LPAssumptions:
    """The plan LP's assumptions (see :mod:`commonplan.planning.scenarios`); periods come from the shock."""

    resource: str | None = None
    resource_growth: float = 0.0
    import_flexibility: float = 1.0
    capital_output_ratio: float = 1.0
    depreciation: float = 0.0
    headroom: float = 0.0
    method: str = "auto"

    def trade(self, periods: int) -> TradeAssumptions:
        fields = {k: v for k, v in dataclasses.asdict(self).items() if k != "method"}
        return TradeAssumptions(periods=periods, **fields)


def _cut_problem(setting: Setting, shock: Shock, a: LPAssumptions):
    """The region's trade problem with the partners' import capacities and accounts cut."""
    economy = setting.economy
    model = trade_model(economy, [shock.region], (), a.trade(shock.periods))
    problem, imports = model.problem, model.imports
    labels = pd.MultiIndex.from_arrays(
        [economy.products.get_level_values(i).astype(str) for i in (0, 1)]
    )
    wanted = pd.MultiIndex.from_arrays([imports.partner.astype(str), imports.sector.astype(str)])
    keep = 1.0 - pd.DataFrame(setting.cut, index=labels).reindex(wanted).to_numpy()
    capacity = problem.capacity.copy()
    capacity[imports.columns] = a.import_flexibility * imports.flow[:, None] * keep
    resources = []
    for limit in problem.resources:
        partner = limit.account.removeprefix("imports:")
        if limit.account.startswith("imports:") and partner in shock.partners:
            mine = imports.partner == partner
            limit = ResourceLimit(limit.account, capacity[imports.columns[mine]].sum(axis=0))
        resources.append(limit)
    return dataclasses.replace(
        problem,
        capacity=capacity,
        resources=tuple(resources),
        name=f"{shock.region} without {'+'.join(shock.partners)}",
    )


def run_lp(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """The plan LP of :func:`~commonplan.planning.scenarios.cutoff_scenario`, with a partial cut.

    Technique choice (imports replaced by own output of the same sector), capacity building,
    other partners limited to ``import_flexibility ×`` the base flow. A cut share ``s`` of
    partner sector ``k`` leaves its import activities ``(1 − s) · import_flexibility ×``
    the base flow, and the partner's import account the sum of those. Output lost is the
    base output minus the plan's activity levels (money units per period).
    """
    start = time.perf_counter()
    a = assumptions_of(LPAssumptions, assumptions, "lp")
    setting = Setting.of(economy, shock)
    problem = _cut_problem(setting, shock, a)
    plan = solve(problem, method=a.method)
    n = int(setting.region.sum())
    levels = plan.activity_levels.to_numpy()[:n]
    base = setting.x[setting.region]
    share = plan.worst_fulfilment.rename("share_kept").rename_axis("period").reset_index()
    return ScenarioOutcome(
        model="lp",
        shock=shock,
        assumptions=as_dict(a),
        measure="output",
        losses=loss_table(setting.sectors, shock.periods, base, base[:, None] - levels),
        units=economy.metadata.units or "money units",
        report=OutcomeReport(
            "lp",
            MODELS_SOURCES["lp"],
            time.perf_counter() - start,
            f"solver: {plan.report.method}",
        ),
        extra={"share_kept": share},
    )


# --- Leontief without substitution ----------------------------------------------------------


@dataclass(frozen=True)
class NoAssumptions:
    """The model has no parameters beyond its equations."""


def _static_outcome(
    name: str,
    economy: Economy,
    shock: Shock,
    a: Any,
    weight_of: Callable[[Setting], np.ndarray],
    start: float,
) -> ScenarioOutcome:
    setting = Setting.of(economy, shock)
    weight = weight_of(setting)
    x0 = base_model_output(setting)
    lost = np.column_stack(
        [
            (x0 - mixed_output(setting, direct_caps(setting, t, weight)))[setting.region]
            for t in range(shock.periods)
        ]
    )
    return ScenarioOutcome(
        model=name,
        shock=shock,
        assumptions=as_dict(a),
        measure="output",
        losses=loss_table(setting.sectors, shock.periods, setting.x[setting.region], lost),
        units=economy.metadata.units or "money units",
        report=OutcomeReport(name, MODELS_SOURCES[name], time.perf_counter() - start),
    )


def run_leontief(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """Leontief technology, no substitution: the upper bound on the loss.

    A product of the region that uses a cut input ``k`` keeps at most ``1 − s_k`` of its base
    output (its scarcest input binds); the rest of the economy meets final demand with
    what is left (mixed model). With the whole supply cut this is the complete hypothetical
    extraction of the products that use the partner's inputs.
    """
    start = time.perf_counter()
    a = assumptions_of(NoAssumptions, assumptions, "leontief")
    return _static_outcome(
        "leontief", economy, shock, a, lambda s: np.ones(s.economy.n_products), start
    )


# --- critical inputs (Pichler et al. 2022) --------------------------------------------------

CRITICAL, IMPORTANT, NON_CRITICAL = "critical", "important", "non-critical"
WEIGHTS = {CRITICAL: 1.0, IMPORTANT: 0.5, NON_CRITICAL: 0.0}

DEFAULT_CLASSES: dict[str, str] = {
    # critical: energy, mining and basic materials, chemicals, utilities, transport, telecoms
    **dict.fromkeys(
        ["B05", "B06", "B07", "B08", "B09", "C19", "C20", "C21", "C24A", "C24B", "D", "E"],
        CRITICAL,
    ),
    **dict.fromkeys(["H49", "H50", "H51", "H52", "H53", "J61"], CRITICAL),
    # important: agriculture, the rest of manufacturing, construction, trade, IT, finance
    **dict.fromkeys(["A01", "A02", "A03", "C10T12", "C13T15", "C16", "C17_18"], IMPORTANT),
    **dict.fromkeys(["C22", "C23", "C25", "C26", "C27", "C28", "C29", "C301"], IMPORTANT),
    **dict.fromkeys(["C302T309", "C31T33", "F", "G", "J62_63", "K"], IMPORTANT),
    # non-critical: services a producer can defer or do without for a while
    **dict.fromkeys(["I", "J58T60", "L", "M", "N", "O", "P", "Q", "R", "S", "T"], NON_CRITICAL),
}
"""Default class of each ICIO 2025 input sector (Commonplan's, after Pichler et al. 2022's scheme)."""


@dataclass(frozen=True)
class CriticalInputsAssumptions:
    """``classes``: input sector → ``"critical"``, ``"important"`` or ``"non-critical"``,
    overriding :data:`DEFAULT_CLASSES`; ``default``: the class of a sector named nowhere."""

    classes: Mapping[str, str] | None = None
    default: str = IMPORTANT

    def __post_init__(self) -> None:
        for key, value in [("default", self.default), *(self.classes or {}).items()]:
            if value not in WEIGHTS:
                raise SpecError(
                    f"class {value!r}",
                    where=f"assumptions.classes[{key!r}]"
                    if key != "default"
                    else "assumptions.default",
                    expected=f"one of {list(WEIGHTS)}",
                )

    def class_of(self, sector: str) -> str:
        merged = {**DEFAULT_CLASSES, **(self.classes or {})}
        return merged.get(sector, self.default)


def run_critical_inputs(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """Inputs critical (Leontief), important (half linear) or non-critical (ignored), after Pichler et al. (2022).

    A product of the region keeps at most ``1 − w_k s_k`` of its base output for each cut
    input ``k`` it uses, with ``w = 1`` for a critical input, ``½`` for an important one
    (Pichler et al.'s ``x ≤ S/(2A) + x_cap/2``) and ``0`` for a non-critical one; the rest of
    the economy follows demand (mixed model).
    """
    start = time.perf_counter()
    a = assumptions_of(CriticalInputsAssumptions, assumptions, "critical-inputs")
    if a.classes:
        sectors = {str(s) for s in economy.products.get_level_values(1)}
        unknown = sorted(set(a.classes) - sectors)
        if unknown:
            raise SpecError(
                f"unknown sector {unknown[0]!r}",
                where=f"assumptions.classes[{unknown[0]!r}]",
                expected="sector codes of the table",
            )

    def weights(setting: Setting) -> np.ndarray:
        sectors = setting.economy.products.get_level_values(1).astype(str)
        return np.array([WEIGHTS[a.class_of(s)] for s in sectors])

    return _static_outcome("critical-inputs", economy, shock, a, weights, start)


# --- Ghosh as a price model (Dietzenbacher 1997) --------------------------------------------


@dataclass(frozen=True)
class GhoshPriceAssumptions:
    """``price_rise``: relative rise of a partner input's price per unit share cut (1 = a full cut doubles it)."""

    price_rise: float = 1.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.price_rise) or self.price_rise < 0:
            raise SpecError(
                f"price_rise = {self.price_rise!r}",
                where="assumptions.price_rise",
                expected="a finite number ≥ 0",
            )


def ghosh_cost_push(setting: Setting, t: int, price_rise: float) -> np.ndarray:
    """Relative price rise of every product in period ``t`` by the Ghosh price model.

    The dearer partner inputs are an extra primary cost ``Δv_j = Σ_k π_k z_kj`` of the
    region's industries (``π_k = price_rise · s_k``); the Ghosh inverse ``G = (I − B)⁻¹``,
    ``B = x̂⁻¹ Z``, spreads it: ``Δxᵀ = Δvᵀ G`` and the relative price rise is ``Δx_j / x_j``.
    """
    extra_cost = (price_rise * setting.cut_flows(t)).sum(axis=0) * setting.x
    dx = LeontiefSolver(normalised(setting)).solve_transpose(np.asarray(extra_cost).ravel())
    return np.divide(dx, setting.x, out=np.zeros_like(dx), where=setting.x > 0)


def run_ghosh_price(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """The Ghosh model read as a price model only: cost push of the partner's dearer supplies.

    ``loss_share`` is the relative price rise; ``loss`` the extra cost of base-year output
    (money units). The quantity reading of Ghosh is not offered (see docs/scenarios.md).
    """
    start = time.perf_counter()
    a = assumptions_of(GhoshPriceAssumptions, assumptions, "ghosh-price")
    setting = Setting.of(economy, shock)
    base = setting.x[setting.region]
    rise = np.column_stack(
        [ghosh_cost_push(setting, t, a.price_rise)[setting.region] for t in range(shock.periods)]
    )
    return ScenarioOutcome(
        model="ghosh-price",
        shock=shock,
        assumptions=as_dict(a),
        measure="cost",
        losses=loss_table(setting.sectors, shock.periods, base, rise * base[:, None]),
        units=economy.metadata.units or "money units",
        report=OutcomeReport(
            "ghosh-price", MODELS_SOURCES["ghosh-price"], time.perf_counter() - start
        ),
    )


# --- inoperability input-output model (Haimes et al. 2005) ----------------------------------


@dataclass(frozen=True)
class InoperabilityAssumptions:
    """``resilience``: Haimes' ``k`` per period, in (0, 1], one number or ``{sector: k}``
    (others take ``default_resilience``); the share of the gap to equilibrium closed per period."""

    resilience: float | Mapping[str, float] = 0.5
    default_resilience: float = 0.5

    def __post_init__(self) -> None:
        values = (
            dict(self.resilience) if isinstance(self.resilience, Mapping) else {"": self.resilience}
        )
        values["default"] = self.default_resilience
        for key, k in values.items():
            if not np.isfinite(k) or not 0 < k <= 1:
                raise SpecError(
                    f"resilience = {k!r}",
                    where=f"assumptions.resilience[{key!r}]" if key else "assumptions.resilience",
                    expected="a number in (0, 1]",
                )


def static_inoperability(a_star, c_star: np.ndarray) -> np.ndarray:
    """Static IIM: ``q = (I − A*)⁻¹ c*``."""
    return LeontiefSolver(a_star).solve(c_star)


def dynamic_inoperability(
    a_star, c_star: np.ndarray, k: np.ndarray, q0: np.ndarray | None = None
) -> np.ndarray:
    """Dynamic IIM ``q(t+1) = q(t) + K [A* q(t) + c*(t) − q(t)]``; ``c_star`` is products × periods.

    Returns products × periods: ``q`` at the end of each period, from ``q0`` (0 by default).
    """
    q = np.zeros(c_star.shape[0]) if q0 is None else np.asarray(q0, dtype=float)
    out = np.empty_like(c_star, dtype=float)
    for t in range(c_star.shape[1]):
        q = q + k * (a_star @ q + c_star[:, t] - q)
        out[:, t] = q
    return out


def run_inoperability(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """Dynamic inoperability input-output model with recovery (Haimes et al. 2005).

    The perturbation of a product of the region is the cost share of its cut inputs,
    ``c*_j(t) = Σ_k s_k(t) a_kj``; ``A* = x̂⁻¹ A x̂``; inoperability ``q`` follows the dynamic
    IIM from 0 and recovers after the cut ends. Output lost is ``q_j x_j`` per period.
    """
    start = time.perf_counter()
    a = assumptions_of(InoperabilityAssumptions, assumptions, "inoperability")
    setting = Setting.of(economy, shock)
    sectors = economy.products.get_level_values(1).astype(str)
    if isinstance(a.resilience, Mapping):
        unknown = sorted(set(a.resilience) - set(sectors))
        if unknown:
            raise SpecError(
                f"unknown sector {unknown[0]!r}",
                where=f"assumptions.resilience[{unknown[0]!r}]",
                expected="sector codes of the table",
            )
        k = np.array([a.resilience.get(s, a.default_resilience) for s in sectors])
    else:
        k = np.full(economy.n_products, float(a.resilience))
    c_star = np.column_stack(
        [np.asarray(setting.cut_flows(t).sum(axis=0)).ravel() for t in range(shock.periods)]
    )
    q = dynamic_inoperability(normalised(setting), c_star, k)
    base = setting.x[setting.region]
    mine = q[setting.region]
    return ScenarioOutcome(
        model="inoperability",
        shock=shock,
        assumptions=as_dict(a),
        measure="output",
        losses=loss_table(setting.sectors, shock.periods, base, mine * base[:, None]),
        units=economy.metadata.units or "money units",
        report=OutcomeReport(
            "inoperability", MODELS_SOURCES["inoperability"], time.perf_counter() - start
        ),
    )


# --- the registry ---------------------------------------------------------------------------

MODELS_SOURCES = {
    "lp": "Commonplan's plan LP (Cockshott & Cottrell's max-min fulfilment with capacity building)",
    "leontief": "Leontief technology without substitution; hypothetical extraction (Miller & Blair 2009 §12.2, §13.1)",
    "ghosh-price": "Ghosh (1958) read as a price model (Dietzenbacher 1997); quantity reading rejected (Oosterhaven 1988)",
    "inoperability": "Dynamic inoperability input-output model (Haimes et al. 2005)",
    "critical-inputs": "Critical, important and non-critical inputs (Pichler et al. 2022)",
    "ario": "Adaptive regional input-output model through BoARIO (Hallegatte 2008; Juhel 2023)",
}


@dataclass(frozen=True)
class Model:
    """A registered scenario model: its function, its assumptions dataclass, what it measures."""

    name: str
    run: Callable[[Economy, Shock, Any], ScenarioOutcome]
    assumptions: type
    measure: Measure
    description: str

    @property
    def source(self) -> str:
        return MODELS_SOURCES[self.name]


MODELS: dict[str, Model] = {
    m.name: m
    for m in [
        Model(
            "lp", run_lp, LPAssumptions, "output", "plan LP: technique choice, capacity building"
        ),
        Model("leontief", run_leontief, NoAssumptions, "output", "no substitution: upper bound"),
        Model(
            "ghosh-price",
            run_ghosh_price,
            GhoshPriceAssumptions,
            "cost",
            "cost push of dearer supplies",
        ),
        Model(
            "inoperability",
            run_inoperability,
            InoperabilityAssumptions,
            "output",
            "dynamic IIM with recovery",
        ),
        Model(
            "critical-inputs",
            run_critical_inputs,
            CriticalInputsAssumptions,
            "output",
            "critical / important / non-critical inputs",
        ),
        Model("ario", run_ario, ARIOAssumptions, "output", "dynamic ARIO (BoARIO)"),
    ]
}
"""The scenario models by name."""


def model(name: str) -> Model:
    """The registered model ``name``, or a :class:`SpecError` listing the names."""
    if name not in MODELS:
        raise SpecError(
            f"unknown model {name!r}", where="scenario.model", expected=f"one of {list(MODELS)}"
        )
    return MODELS[name]


def run(
    economy: Economy, shock: Shock, assumptions: Any = None, *, model_name: str = "leontief"
) -> ScenarioOutcome:
    """Run the model ``model_name`` on ``shock``; see :data:`MODELS`."""
    return model(model_name).run(economy, shock, assumptions)
