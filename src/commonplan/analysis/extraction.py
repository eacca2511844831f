"""Hypothetical extraction: how much output is lost if a sector, or a partner's supply, goes.

Two variants, both measured against the model output ``x = L y`` for the economy's
total final demand ``y`` (equal to observed output in a balanced table); money units.

* **Sector extraction** (complete extraction of rows and columns; Strassert 1968,
  Dietzenbacher, van der Linden & Steenge 1993, Miller & Lahr 2001, Miller & Blair
  2009 §12.2.1): the extracted products ``J`` neither buy nor sell intermediate inputs
  and their output is gone; the others still deliver their own final demand:
  ``x̄_{−J} = (I − A_{−J,−J})⁻¹ y_{−J}``, ``x̄_J = 0``. By the Schur complement the loss
  is ``x − x̄ = L_{·,J} (L_{J,J})⁻¹ x_J`` — only the |J| columns of ``L`` are needed, no
  new factorisation. The total, ``Σ (x − x̄)``, is the extraction's *total linkage*.
* **Partner-supply extraction** of partner ``p`` for region ``r``: the inputs ``p``
  supplies to ``r``'s activities are removed (``A[p, r] = 0``): region ``r`` can no
  longer buy intermediates from ``p`` and does not replace them (Leontief technology,
  no substitution). With ``include_final_demand=True``, ``p``'s deliveries to ``r``'s
  final demand are removed too. ``x̄ = (I − Ā)⁻¹ ȳ`` on the modified system.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import scipy.linalg as la
import scipy.sparse as sp

from commonplan.analysis._inputs import (
    _name,
    check_regions,
    final_demand_by_region,
    get_solver,
    region_mask,
)
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import LabelError


def _table(economy: Economy, x: np.ndarray, after: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame({"output": x, "output_after": after}, index=economy.products)
    table["output_lost"] = x - after
    table.attrs["total_output_lost"] = float(table["output_lost"].sum())
    return table


def _positions(economy: Economy, products: Iterable) -> np.ndarray:
    wanted = list(products)
    if wanted and not isinstance(wanted[0], tuple):
        # plain sector names in a one-region economy
        wanted = (
            [(str(economy.regions[0]), str(s)) for s in wanted]
            if len(economy.regions) == 1
            else wanted
        )
    index = economy.products.get_indexer(
        pd.MultiIndex.from_tuples([tuple(map(str, w)) for w in wanted])
    )
    if (index < 0).any():
        bad = wanted[int(np.flatnonzero(index < 0)[0])]
        raise LabelError(
            f"unknown product {bad!r}",
            where=_name(economy),
            expected="(region, sector) labels of the economy",
            fix="choose products from economy.products",
        )
    if not len(index):
        raise LabelError(
            "no products to extract", where=_name(economy), expected="at least one product"
        )
    return index


def extract_sectors(
    economy: Economy, products: Iterable, *, solver: LeontiefSolver | None = None
) -> pd.DataFrame:
    """Complete hypothetical extraction of ``products`` (jointly): output lost per product.

    Columns ``output`` (x = L y), ``output_after`` (x̄) and ``output_lost`` (x − x̄);
    ``attrs["total_output_lost"]`` is the total linkage. Money units.
    """
    J = _positions(economy, products)
    solver = get_solver(economy, solver)
    x = solver.solve(economy.total_final_demand.to_numpy())
    n = economy.n_products
    unit = np.zeros((n, len(J)))
    unit[J, np.arange(len(J))] = 1.0
    columns = solver.solve(unit)  # L[:, J]
    lost = columns @ la.solve(columns[J], x[J])
    after = x - lost
    after[J] = 0.0
    return _table(economy, x, after)


def extract_partner_supply(
    economy: Economy,
    region: str,
    partner: str,
    *,
    include_final_demand: bool = False,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """Output lost when ``partner`` stops supplying intermediate inputs to ``region``.

    Columns ``output``, ``output_after`` and ``output_lost`` per product (money units);
    ``attrs["total_output_lost"]`` sums the loss. With ``include_final_demand=True`` the
    partner's deliveries to the region's final demand go too (needs final demand by
    destination region).
    """
    check_regions(economy, [region, partner], "region")
    if region == partner:
        raise LabelError(
            f"partner and region are both {region!r}",
            where=_name(economy),
            expected="two different regions",
        )
    A = economy.A
    supplier = region_mask(economy, partner)
    buyer = region_mask(economy, region)
    coo = A.tocoo()
    keep = ~(supplier[coo.row] & buyer[coo.col])
    reduced = sp.csr_array((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=A.shape)
    y = economy.total_final_demand.to_numpy().copy()
    if include_final_demand:
        fd_regions, Yr = final_demand_by_region(economy)
        if region in fd_regions:
            y -= np.where(supplier, Yr[:, fd_regions.get_loc(region)], 0.0)
    solver = get_solver(economy, solver)
    x = solver.solve(economy.total_final_demand.to_numpy())
    after = LeontiefSolver(reduced, method=solver.method, tol=solver.tol).solve(y)
    return _table(economy, x, after)
