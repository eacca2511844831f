"""Shared investment bundles (``CapitalStocks.groups``): the LP stays linear in sectors, the plan the same.

A trade scenario gives every member activity its own capital stock, all built from one mix
of the region's goods. Stated per stock, that mix is a dense sectors × sectors block per
region and period; shared, it is stated once per region and period.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.io.icio import read_icio_arrays
from commonplan.planning import CapitalStocks, solve
from commonplan.planning.model import build_model
from commonplan.planning.scenarios import TradeAssumptions, trade_problem

REGIONS = ("A", "B")


def _two_regions(sectors: int, seed: int = 0) -> Economy:
    """Two regions × ``sectors``, each activity buying 3 inputs anywhere in the table."""
    rng = np.random.default_rng(seed)
    n = len(REGIONS) * sectors
    rows = rng.integers(0, n, (3, n)).ravel()
    cols = np.tile(np.arange(n), 3)
    coefficients = sp.csc_array((np.full(rows.size, 0.1), (rows, cols)), shape=(n, n))
    output = rng.uniform(50.0, 150.0, n)
    labels = pd.MultiIndex.from_product([REGIONS, [f"s{k}" for k in range(sectors)]])
    return Economy(
        products=labels,
        activities=labels,
        use=sp.csr_array(coefficients),
        make=sp.identity(n, format="csr"),
        account_coefficients=rng.uniform(0.2, 0.5, (1, n)),
        account_names=("labour",),
        account_units={"labour": "hours"},
        final_demand_values=rng.uniform(10.0, 20.0, (n, 1)),
        final_demand_columns=pd.Index(["final_demand"]),
        activity_levels=output,
        check_productive=False,
    )


def test_lp_non_zeros_grow_linearly_with_sectors():
    """Every activity has 3 inputs, so a linear LP has a fixed number of entries per sector."""
    sizes = {}
    for sectors in (25, 50, 100, 200):
        problem = trade_problem(
            _two_regions(sectors), list(REGIONS), [], TradeAssumptions(periods=3)
        )
        assert problem.capital.n_groups == len(REGIONS)
        sizes[sectors] = build_model(problem).A.nnz
    per_sector = np.array([nnz / sectors for sectors, nnz in sizes.items()])
    # within a few entries per sector (the random inputs' duplicates vary); a bundle stated per
    # stock would add 2 × 3 × sectors entries per sector, 1,200 at 200 sectors
    assert per_sector.max() - per_sector.min() < 5.0, sizes


def test_shared_bundle_plans_what_the_per_stock_bundle_plans(shared_data):
    """The same plan as with the bundle written out per stock (the LP before sharing)."""
    icio = read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")
    shared = trade_problem(icio, ["COL", "PER"], ["USA"], TradeAssumptions(periods=2))
    capital = shared.capital
    per_stock = CapitalStocks(
        goods=capital.goods,
        activities=capital.activities,
        coefficients=capital.coefficients,
        initial=capital.initial,
        depreciation=capital.depreciation,
        lag=capital.lag,
        bundle=capital.stock_bundle,
    )
    plain = dataclasses.replace(shared, capital=per_stock)
    assert build_model(plain).A.nnz > build_model(shared).A.nnz + 2 * 50 * 50
    ours, reference = solve(shared, method="simplex"), solve(plain, method="simplex")
    assert ours.objective == pytest.approx(reference.objective, rel=1e-9)
    np.testing.assert_allclose(
        ours.worst_fulfilment.to_numpy(), reference.worst_fulfilment.to_numpy(), rtol=1e-7
    )


def test_groups_must_name_bundle_columns():
    from commonplan.errors import CommonplanError

    with pytest.raises(CommonplanError, match="capital.groups"):
        CapitalStocks(
            goods=[0, 1],
            activities=[0, 1],
            coefficients=1.0,
            initial=1.0,
            depreciation=0.0,
            bundle=sp.csr_array(np.ones((2, 1))),
            groups=[0, 1],
        )
