"""Footprints by region: production-based, consumption-based, imports and exports.

Definitions follow pymrio (``pymrio.tools.iomath.calc_accounts`` and
``Extension.calc_system``, Stadler 2021, *J. Open Research Software* 9(1):8) exactly, so
that results can be compared cell by cell:

With ``S`` the account coefficients (accounts × products), ``L = (I − A)⁻¹``, and
``Y_r`` the final demand of destination region ``r`` summed over its categories:

* ``M = S L`` — multipliers (account per unit of final demand).
* ``x_{r,s} = L (Y_r restricted to products of sector s)`` — output for region ``r``'s
  final demand for sector ``s`` (from any producing region).
* ``D_cba[(r, s)] = S x_{r,s}`` — consumption-based account (footprint) of region ``r``'s
  final demand for sector ``s``; columns (region, sector).
* ``D_pba = S ∘ x_tot``, ``x_tot = Σ x_{r,s} = L y`` — production-based (territorial)
  account per producing product.
* ``D_imp[(r, s)] = S P_{≠r} x_{r,s}`` — the part of the footprint produced outside ``r``
  (``P_{≠r}`` zeroes the rows of region ``r``): embodied in imports.
* ``D_exp = S ∘ x_exp``, ``x_exp_i = Σ_{r ≠ region(i)} (L Y_r)_i`` — production of each
  product for final demand of other regions: embodied in exports.
* Per region (``*_reg``): ``D_cba`` and ``D_imp`` summed over sectors of the consuming
  region, ``D_pba`` and ``D_exp`` summed over products of the producing region; direct
  final-demand stressors ``F_Y`` (e.g. household emissions), summed per final-demand
  region, are added to ``D_cba_reg`` and ``D_pba_reg`` (as pymrio does), not to the
  other accounts. Then ``D_cba_reg = D_pba_reg + D_imp_reg − D_exp_reg`` and
  ``Σ_r D_cba_reg = Σ_r D_pba_reg``.

Numerics: instead of the dense ``L`` and the n × n matrix of ``x_{r,s}`` columns, one
block of transposed solves gives ``W_{k,r} = (S_k restricted to region r) L`` for every
account ``k`` and producing region ``r`` (``M_k = Σ_r W_{k,r}``), and one block of
quantity solves gives ``L Y_r``; every account above is a sum of products of these
vectors with final demand, so the cost is (accounts × regions + regions) sparse solves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from commonplan.analysis._inputs import (
    _name,
    account_rows,
    final_demand_by_region,
    get_solver,
    region_codes,
    sector_indicator,
)
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import InvalidValueError, LabelError, ShapeError


@dataclass(frozen=True)
class Footprints:
    """The footprint accounts of one or several accounts (pymrio's names).

    Sector-level frames are accounts × (region, sector) (``D_cba``, ``D_imp``: consuming
    region and the sector demanded) or accounts × products (``D_pba``, ``D_exp``:
    producing product). Regional frames are accounts × region. Units: each account's
    unit (``units``).
    """

    M: pd.DataFrame
    D_cba: pd.DataFrame
    D_pba: pd.DataFrame
    D_imp: pd.DataFrame
    D_exp: pd.DataFrame
    D_cba_reg: pd.DataFrame
    D_pba_reg: pd.DataFrame
    D_imp_reg: pd.DataFrame
    D_exp_reg: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """All frames by pymrio name."""
        return {
            name: getattr(self, name)
            for name in (
                "M",
                "D_cba",
                "D_pba",
                "D_imp",
                "D_exp",
                "D_cba_reg",
                "D_pba_reg",
                "D_imp_reg",
                "D_exp_reg",
            )
        }

    def balance_gap(self) -> pd.DataFrame:
        """``D_cba_reg − (D_pba_reg + D_imp_reg − D_exp_reg)`` per account and region (≈ 0)."""
        return self.D_cba_reg - (self.D_pba_reg + self.D_imp_reg - self.D_exp_reg)


def footprints(
    economy: Economy,
    accounts: str | Sequence[str] | None = None,
    *,
    final_demand_stressors: pd.DataFrame | None = None,
    solver: LeontiefSolver | None = None,
) -> Footprints:
    """Multipliers and the four footprint accounts of ``accounts`` (all accounts by default).

    ``final_demand_stressors`` (pymrio's ``F_Y``) are account totals caused directly by
    final demand, accounts × final-demand columns (the economy's columns), in the
    account's unit; they enter ``D_cba_reg`` and ``D_pba_reg`` only. By default they are
    the economy's own (:attr:`Economy.final_demand_stressors`, e.g. from pymrio's ``F_Y``).
    Needs final demand by destination region (or a one-region economy).
    """
    names, S = account_rows(economy, accounts)
    fd_regions, Yr = final_demand_by_region(economy)
    solver = get_solver(economy, solver)
    regions, codes = region_codes(economy)
    sectors, by_sector = sector_indicator(economy)
    n, k, R = economy.n_products, len(names), len(regions)

    # W[:, (a, r)] = (S_a restricted to region r) L, for all accounts a and producing regions r.
    rhs = np.zeros((n, k * R))
    for a in range(k):  # loop over accounts (few), not products
        rhs[np.arange(n), a * R + codes] = S[a]
    W = solver.solve_transpose(rhs).reshape(n, k, R)
    M = W.sum(axis=2).T  # k × n
    X = solver.solve(Yr)  # n × R_fd: output for each destination region's final demand
    x_tot = X.sum(axis=1)

    # Producing region of each product, as a position among final-demand regions (-1: none).
    fd_code = fd_regions.get_indexer(regions)[codes]
    own = np.where(fd_code >= 0, X[np.arange(n), np.maximum(fd_code, 0)], 0.0)
    x_exp = x_tot - own

    # Consumption-based, per (destination region, sector): Σ_i M[a,i] Yr[i,r] [sector(i) = s].
    # Domestic part: Σ_i W[i,a,r] Yr[i,r] [sector(i) = s] for the product region r of r.
    product_region_of_fd = regions.get_indexer(
        fd_regions
    )  # position of each FD region among producers
    cba = np.empty((k, len(fd_regions), len(sectors)))
    dom = np.zeros_like(cba)
    for a in range(k):
        cba[a] = (by_sector.T @ (M[a][:, None] * Yr)).T
        present = product_region_of_fd >= 0
        if present.any():
            Wa = W[:, a, product_region_of_fd[present]]
            dom[a, present] = (by_sector.T @ (Wa * Yr[:, present])).T
    imp = cba - dom

    fd_sector_columns = pd.MultiIndex.from_product(
        [fd_regions, sectors], names=["region", "sector"]
    )
    account_index = pd.Index(names, name="account")
    D_cba = pd.DataFrame(cba.reshape(k, -1), index=account_index, columns=fd_sector_columns)
    D_imp = pd.DataFrame(imp.reshape(k, -1), index=account_index, columns=fd_sector_columns)
    D_pba = pd.DataFrame(S * x_tot, index=account_index, columns=economy.products)
    D_exp = pd.DataFrame(S * x_exp, index=account_index, columns=economy.products)

    if final_demand_stressors is None:
        final_demand_stressors = economy.final_demand_stressors
    fy = _final_demand_stressors(economy, names, final_demand_stressors)
    cba_reg = pd.DataFrame(cba.sum(axis=2), index=account_index, columns=fd_regions)
    imp_reg = pd.DataFrame(imp.sum(axis=2), index=account_index, columns=fd_regions)
    pba_reg = D_pba.T.groupby(level="region", sort=False).sum().T.reindex(columns=regions)
    exp_reg = D_exp.T.groupby(level="region", sort=False).sum().T.reindex(columns=regions)
    all_regions = regions.append(fd_regions.difference(regions, sort=False))
    cba_reg, imp_reg, pba_reg, exp_reg = (
        frame.reindex(columns=all_regions, fill_value=0.0).rename_axis(columns="region")
        for frame in (cba_reg, imp_reg, pba_reg, exp_reg)
    )
    if fy is not None:
        fy = fy.reindex(columns=all_regions, fill_value=0.0)
        cba_reg = cba_reg + fy
        pba_reg = pba_reg + fy
    return Footprints(
        M=pd.DataFrame(M, index=account_index, columns=economy.products),
        D_cba=D_cba,
        D_pba=D_pba,
        D_imp=D_imp,
        D_exp=D_exp,
        D_cba_reg=cba_reg,
        D_pba_reg=pba_reg,
        D_imp_reg=imp_reg,
        D_exp_reg=exp_reg,
        units={name: economy.account_units.get(name, "") for name in names},
    )


def _final_demand_stressors(
    economy: Economy, names: list[str], stressors: pd.DataFrame | None
) -> pd.DataFrame | None:
    """F_Y summed per final-demand region, accounts × region (missing accounts count 0)."""
    if stressors is None:
        return None
    if not isinstance(stressors, pd.DataFrame):
        raise ShapeError(
            "final-demand stressors must be a DataFrame",
            where="final_demand_stressors",
            expected="accounts × final-demand columns (pymrio's F_Y)",
        )
    unknown = [c for c in stressors.columns if c not in economy.final_demand_columns]
    if unknown:
        raise LabelError(
            f"final-demand stressors have unknown final-demand columns, e.g. {unknown[0]!r}",
            where=f"{_name(economy)}, final_demand_stressors",
            expected=f"columns among the economy's final-demand columns ({list(economy.final_demand_columns[:3])} …)",
        )
    values = stressors.reindex(index=names, fill_value=0.0).astype(float)
    if not np.isfinite(values.to_numpy()).all():
        raise InvalidValueError(
            "final-demand stressors hold non-finite values",
            where="final_demand_stressors",
            expected="finite numbers",
        )
    if isinstance(values.columns, pd.MultiIndex):
        level = "region" if "region" in values.columns.names else 0
        grouped = values.T.groupby(level=level, sort=False).sum().T
    else:
        grouped = pd.DataFrame({str(economy.regions[0]): values.sum(axis=1)})
    grouped.columns = pd.Index([str(c) for c in grouped.columns], name="region")
    grouped.index = pd.Index(names, name="account")
    return grouped
