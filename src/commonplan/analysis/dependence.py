"""Dependence of a region on a partner region.

Three views, from the most aggregate to the most detailed:

1. **Origin of value added in final demand** (the OECD TiVA indicator "FDVA", Johnson &
   Noguera 2012): value added of origin region ``o`` embodied in the final demand of
   region ``r`` is ``Σ_{i ∈ o} v_i (L Y_r)_i`` where ``v`` is value added per unit of
   output and ``Y_r`` region ``r``'s final demand (all categories, all origins). The
   partner's share of the *foreign* value added is the figure TiVA publishes as the
   partner's share in "foreign value added in final demand". Needs final demand by
   destination region.
2. **Intermediate imports** of region ``r`` from partner ``p``: the flows
   ``Z[i, j] = a_ij x_j`` with ``i`` a product of ``p`` and ``j`` an activity of ``r``,
   summed by supplying sector (``by="supplier"``) or by using sector (``by="user"``), in
   money units.
3. **Direct and total input dependence** of each product on a partner: *direct*
   ``Σ_{i ∈ p} a_ij`` — the partner's inputs per unit of output of ``j``; *total*
   ``Σ_{i ∈ p} L_ij`` — the partner's output needed, directly and indirectly, per unit
   of final demand for ``j`` (the partner's column-sum share of the Leontief inverse);
   and, when a value-added account is given, ``Σ_{i ∈ p} v_i L_ij`` — the share of ``j``'s
   value that is the partner's value added (dimensionless for money accounts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.analysis._inputs import (
    account_rows,
    check_regions,
    final_demand_by_region,
    get_solver,
    observed_output,
    region_codes,
    region_mask,
)
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import InvalidValueError


def value_added_origin(
    economy: Economy, account: str, *, solver: LeontiefSolver | None = None
) -> pd.DataFrame:
    """Value added by origin region (rows) embodied in each region's final demand (columns).

    ``account`` is the value-added account (coefficients per unit of output); units are
    the account's (money) unit. Column sums are the value added embodied in each
    region's final demand; the table sums to total value added when every product's
    final demand is assigned to a destination.
    """
    _, v = account_rows(economy, account)
    fd_regions, Yr = final_demand_by_region(economy)
    X = get_solver(economy, solver).solve(Yr)
    regions, codes = region_codes(economy)
    by_region = sp.csr_array(
        (np.ones(economy.n_products), (codes, np.arange(economy.n_products))),
        shape=(len(regions), economy.n_products),
    )
    table = by_region @ (v[0][:, None] * X)
    return pd.DataFrame(
        table,
        index=pd.Index(regions, name="origin"),
        columns=pd.Index(fd_regions, name="destination"),
    )


def foreign_value_added_shares(
    economy: Economy, region: str, account: str, *, solver: LeontiefSolver | None = None
) -> pd.DataFrame:
    """Each origin's value added in ``region``'s final demand and its shares.

    Columns: ``value_added`` (money units), ``share_of_total`` (of all value added
    embodied in the region's final demand) and ``share_of_foreign`` (of the value added
    from other regions; NaN for the region itself). The frame's ``attrs`` hold
    ``foreign_share`` (foreign value added / all value added in the region's final
    demand).
    """
    check_regions(economy, [region], "region")
    table = value_added_origin(economy, account, solver=solver)
    if region not in table.columns:
        raise InvalidValueError(
            f"region {region!r} has no final-demand column",
            where=f"{economy.metadata.name or 'economy'}, final demand",
            expected="final demand of the region among the (region, category) columns",
        )
    column = table[region]
    total = float(column.sum())
    foreign = float(column.drop(region).sum())
    result = pd.DataFrame({"value_added": column})
    result["share_of_total"] = column / total if total else 0.0
    shares = column / foreign if foreign else column * 0.0
    shares[region] = np.nan
    result["share_of_foreign"] = shares
    result.attrs["foreign_share"] = foreign / total if total else 0.0
    result.attrs["region"] = region
    return result


def intermediate_imports(economy: Economy, region: str, *, by: str = "supplier") -> pd.DataFrame:
    """Intermediate inputs ``region`` buys from each other region, money units.

    ``by="supplier"``: partner × supplying sector (summed over the region's using
    activities). ``by="user"``: partner × the region's using sector (summed over the
    partner's supplying products). Rows are (partner, sector); one column ``imports``.
    """
    check_regions(economy, [region], "region")
    if by not in ("supplier", "user"):
        raise InvalidValueError(
            f"unknown breakdown {by!r}", where="by", expected="'supplier' or 'user'"
        )
    x = observed_output(economy)
    buyer = region_mask(economy, region)
    flows = sp.csr_array(economy.A[:, np.flatnonzero(buyer)] @ sp.diags_array(x[buyer]))
    supplier_region = economy.products.get_level_values("region")
    foreign = np.asarray(supplier_region != region)
    if by == "supplier":
        values = np.asarray(flows.sum(axis=1)).ravel()
        index = economy.products[foreign]
        series = pd.Series(
            values[foreign], index=index.set_names(["partner", "sector"]), name="imports"
        )
        return series.to_frame()
    users = economy.products[buyer].get_level_values("sector")
    regions, codes = region_codes(economy)
    rows = [r for r in range(len(regions)) if regions[r] != region]
    indicator = sp.csr_array(
        (np.ones(economy.n_products), (codes, np.arange(economy.n_products))),
        shape=(len(regions), economy.n_products),
    )
    table = (indicator @ flows)[rows]
    table = np.asarray(table.toarray() if sp.issparse(table) else table)
    index = pd.MultiIndex.from_product([regions[rows], users], names=["partner", "sector"])
    return pd.DataFrame({"imports": table.ravel()}, index=index)


def input_dependence(
    economy: Economy,
    partner: str,
    *,
    region: str | None = None,
    value_added_account: str | None = None,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """Direct and total dependence of each product's output on ``partner``'s inputs.

    Columns: ``direct`` (Σ_{i∈partner} a_ij), ``total`` (Σ_{i∈partner} L_ij) and, with a
    value-added account, ``value_added`` (Σ_{i∈partner} v_i L_ij). All per unit of output
    (direct) or of final demand (total) of product ``j``; restricted to the products of
    ``region`` when given.
    """
    check_regions(economy, [partner], "partner")
    if region is not None:
        check_regions(economy, [region], "region")
    mask = region_mask(economy, partner).astype(float)
    rhs = [mask]
    if value_added_account is not None:
        _, v = account_rows(economy, value_added_account)
        rhs.append(mask * v[0])
    total = get_solver(economy, solver).solve_transpose(np.column_stack(rhs))
    result = pd.DataFrame(
        {"direct": np.asarray(economy.A.T @ mask).ravel(), "total": total[:, 0]},
        index=economy.products,
    )
    if value_added_account is not None:
        result["value_added"] = total[:, 1]
    if region is not None:
        result = result[region_mask(economy, region)]
    return result
