"""A dynamic ARIO model through BoARIO (Juhel 2023, after Hallegatte 2008): the ``ario`` scenario model.

ARIO is not written again here: BoARIO simulates it, day by day, with input inventories,
overproduction, rationing and order redistribution between suppliers. This module turns
a :class:`~commonplan.scenarios.Shock` into a BoARIO event and BoARIO's daily production
into an outcome per period:

* the cut becomes a loss of **production capacity** of the region's industries, their
  direct cap from the cut inputs (``direct_loss``: ``"critical-inputs"`` by default,
  ``"leontief"``, or ``"linear"``: the cost share of the cut inputs, as in the IIM), held
  for the shock's ``duration``; BoARIO propagates it through the whole table;
* one period is ``days_per_period`` of BoARIO's days; the loss share of a period is the
  mean over its days of ``1 − production / production on day 0``, times base output.

BoARIO needs final demand by region. A table without it (the ICIO arrays) gives each
product's final demand to its own region, in one category ``final use``: the model then
cannot tell exports of final goods from domestic use (stated in the outcome's notes).
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from commonplan.economy import Economy
from commonplan.errors import SpecError, UnsupportedOperationError
from commonplan.scenarios._common import Setting, as_dict, assumptions_of, direct_caps
from commonplan.scenarios.outcome import OutcomeReport, ScenarioOutcome, loss_table
from commonplan.scenarios.shock import Shock

DirectLoss = Literal["critical-inputs", "leontief", "linear"]


@dataclass(frozen=True)
class ARIOAssumptions:
    """BoARIO's ``ARIOPsiModel`` parameters (its defaults) and how the cut enters it.

    ``direct_loss`` (see the module documentation), ``days_per_period`` (BoARIO's temporal
    units per period), ``psi`` (inventory constraint threshold), ``order_type``,
    ``alpha_max`` (most overproduction, × capacity) and ``alpha_tau`` (its characteristic
    time, days), ``main_inv_dur`` (days of inputs held in stock), ``inventory_restoration_tau``
    (days), ``monetary_factor`` (money units of the table in currency units, 10⁶ for millions).
    """

    direct_loss: DirectLoss = "critical-inputs"
    days_per_period: int = 365
    psi: float = 0.80
    order_type: str = "alt"
    alpha_max: float = 1.25
    alpha_tau: int = 365
    main_inv_dur: int = 90
    inventory_restoration_tau: int = 60
    monetary_factor: int = 10**6

    def __post_init__(self) -> None:
        if self.direct_loss not in ("critical-inputs", "leontief", "linear"):
            raise SpecError(
                f"direct_loss = {self.direct_loss!r}",
                where="assumptions.direct_loss",
                expected="'critical-inputs', 'leontief' or 'linear'",
            )
        for name in ("days_per_period", "alpha_tau", "main_inv_dur", "inventory_restoration_tau"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise SpecError(
                    f"{name} = {value!r}", where=f"assumptions.{name}", expected="an integer ≥ 1"
                )
        if not 0 < self.psi <= 1 or self.alpha_max < 1:
            raise SpecError(
                f"psi = {self.psi!r}, alpha_max = {self.alpha_max!r}",
                where="assumptions.psi",
                expected="0 < psi ≤ 1 and alpha_max ≥ 1",
            )


def _boario():
    try:
        from boario import event
        from boario.extended_models import ARIOPsiModel
        from boario.simulation import Simulation
    except ImportError as error:  # BoARIO or its dependency progressbar2 missing
        raise UnsupportedOperationError(
            f"the ario model needs BoARIO ({error})",
            where="model 'ario'",
            fix="pip install 'commonplan[ario]' (boario and progressbar2)",
        ) from None
    logging.getLogger("boario").setLevel(logging.WARNING)
    return event, ARIOPsiModel, Simulation


def to_iosystem(economy: Economy):
    """The economy as a pymrio ``IOSystem`` for BoARIO, and whether final demand had to be placed.

    Uses :func:`~commonplan.io.pymrio_bridge.to_pymrio` when the economy has final demand
    by region; otherwise each product's total final demand goes to its own region.
    """
    import pymrio

    from commonplan.io.pymrio_bridge import to_pymrio

    if isinstance(economy.final_demand.columns, pd.MultiIndex) or len(economy.regions) == 1:
        system = to_pymrio(economy)
        placed = False
    else:
        products = economy.products
        x = economy.gross_output.to_numpy(dtype=float)
        Z = pd.DataFrame((economy.A @ np.diag(x)), index=products, columns=products)
        regions = products.get_level_values(0)
        columns = pd.MultiIndex.from_product(
            [pd.unique(regions), ["final use"]], names=["region", "category"]
        )
        Y = pd.DataFrame(0.0, index=products, columns=columns)
        y = economy.total_final_demand.to_numpy(dtype=float)
        for region in pd.unique(regions):
            Y.loc[:, (region, "final use")] = np.where(regions == region, y, 0.0)
        system = pymrio.IOSystem(
            Z=Z,
            Y=Y,
            x=pd.DataFrame({"indout": x}, index=products),
            name=economy.metadata.name or "commonplan",
        )
        placed = True
    system.A = pymrio.calc_A(system.Z, system.x)
    return system, placed


def simulate(
    system,
    impact: pd.Series,
    days: int,
    duration: int,
    a: ARIOAssumptions,
    *,
    recovery_tau: int = 1,
    recovery_function: str = "linear",
) -> pd.DataFrame:
    """BoARIO's daily production (days × industries) with ``impact`` (share of capacity lost per industry).

    The loss starts on day 1 and lasts ``duration`` days (BoARIO's ``EventArbitraryProd``),
    then recovers over ``recovery_tau`` days by ``recovery_function`` (1 day: the partner's
    supplies come back when the cut ends); with no impact the model runs undisturbed.
    """
    event, ARIOPsiModel, Simulation = _boario()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ARIOPsiModel(
            system,
            order_type=a.order_type,
            alpha_max=a.alpha_max,
            alpha_tau=a.alpha_tau,
            main_inv_dur=a.main_inv_dur,
            monetary_factor=a.monetary_factor,
            psi_param=a.psi,
            inventory_restoration_tau=a.inventory_restoration_tau,
        )
        with tempfile.TemporaryDirectory(prefix="commonplan-boario-") as folder:
            sim = Simulation(model, n_temporal_units_to_sim=days, boario_output_dir=folder)
            impact = impact[impact > 0]
            if len(impact):
                sim.add_event(
                    event.from_series(
                        event_type="arbitrary",
                        impact=impact,
                        occurrence=1,
                        duration=min(duration, days - 1),
                        recovery_tau=recovery_tau,
                        recovery_function=recovery_function,
                    )
                )
            sim.loop()
            return sim.production_realised.copy()


def _impact(setting: Setting, a: ARIOAssumptions) -> np.ndarray:
    """Share of capacity each product loses while the cut lasts (period 1's cut)."""
    if a.direct_loss == "linear":
        return np.clip(np.asarray(setting.cut_flows(0).sum(axis=0)).ravel(), 0.0, 1.0)
    if a.direct_loss == "leontief":
        weight = np.ones(setting.economy.n_products)
    else:
        from commonplan.scenarios.models import WEIGHTS, CriticalInputsAssumptions

        classes = CriticalInputsAssumptions()
        sectors = setting.economy.products.get_level_values(1).astype(str)
        weight = np.array([WEIGHTS[classes.class_of(s)] for s in sectors])
    return 1.0 - direct_caps(setting, 0, weight)


def _source() -> str:
    from commonplan.scenarios.models import MODELS_SOURCES

    return MODELS_SOURCES["ario"]


def run_ario(economy: Economy, shock: Shock, assumptions: Any = None) -> ScenarioOutcome:
    """The cut as a capacity loss of the region's industries, propagated by BoARIO's ARIO model."""
    start = time.perf_counter()
    a = assumptions_of(ARIOAssumptions, assumptions, "ario")
    setting = Setting.of(economy, shock)
    system, placed = to_iosystem(economy)
    impact = pd.Series(_impact(setting, a), index=economy.products)
    days = shock.periods * a.days_per_period
    production = simulate(system, impact, days, shock.duration * a.days_per_period, a)
    production = production.reindex(columns=economy.products)
    ratio = (production / production.iloc[0]).to_numpy()
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    lost_share = 1.0 - ratio.reshape(shock.periods, a.days_per_period, -1).mean(axis=1).T
    base = setting.x[setting.region]
    notes = "final demand placed in each product's own region" if placed else ""
    return ScenarioOutcome(
        model="ario",
        shock=shock,
        assumptions=as_dict(a),
        measure="output",
        losses=loss_table(
            setting.sectors, shock.periods, base, lost_share[setting.region] * base[:, None]
        ),
        units=economy.metadata.units or "money units",
        report=OutcomeReport(
            "ario",
            _source(),
            time.perf_counter() - start,
            notes,
        ),
        extra={"capacity_lost": impact[setting.region].rename("share").reset_index()},
    )
