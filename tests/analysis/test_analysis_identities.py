"""Accounting identities as property-based tests (hypothesis) on random multi-regional economies."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commonplan import Economy
from commonplan.analysis import (
    LeontiefSolver,
    extract_sectors,
    footprints,
    linkages,
    prices,
    quantities,
)


@st.composite
def economies(draw) -> Economy:
    """A random balanced MRIO: 1–4 regions × 1–5 sectors, final demand by (region, category)."""
    regions = draw(st.integers(1, 4))
    sectors = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = regions * sectors
    density = draw(st.floats(0.2, 1.0))
    Z = rng.random((n, n)) * (rng.random((n, n)) < density) * 100
    Y = rng.random((n, regions * 2)) * 200 + 1.0
    x = Z.sum(axis=1) + Y.sum(axis=1)
    # value added closes each column: x_j = Σ_i Z_ij + va_j with va_j > 0 (productive)
    Z = Z * np.minimum(1.0, 0.9 * x / np.maximum(Z.sum(axis=0), 1e-300))[None, :]
    x = Z.sum(axis=1) + Y.sum(axis=1)
    va = x - Z.sum(axis=0)
    products = pd.MultiIndex.from_product(
        [[f"R{r}" for r in range(regions)], [f"s{s}" for s in range(sectors)]]
    )
    columns = pd.MultiIndex.from_product(
        [[f"R{r}" for r in range(regions)], ["households", "other"]]
    )
    accounts = {"value_added": va, "emissions": rng.random(n) * x, "labour": rng.random(n) * x / 10}
    return Economy.from_flows(
        pd.DataFrame(Z, index=products, columns=products),
        pd.DataFrame(Y, index=products, columns=columns),
        x,
        accounts=accounts,
    )


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(economies(), st.sampled_from(["dense", "gmres"]))
def test_quantity_solution_balances_rows(economy, method):
    """x = Z·1 + Y·1 for the solution x = L y, with Z = A x̂."""
    solver = LeontiefSolver(economy.A, method=method, tol=1e-13)
    x = quantities(economy, solver=solver).to_numpy()
    Z = economy.A.toarray() * x[None, :]
    np.testing.assert_allclose(
        x, Z.sum(axis=1) + economy.final_demand_values.sum(axis=1), rtol=1e-10
    )
    np.testing.assert_allclose(x, economy.gross_output.to_numpy(), rtol=1e-9)


@FAST
@given(economies())
def test_dual_identity_and_unit_prices(economy):
    """p·y = v·x, and with v = value added per unit the unit prices are all 1."""
    y = economy.total_final_demand.to_numpy()
    x = quantities(economy).to_numpy()
    v = economy.account("value_added").to_numpy()
    p = prices(economy, "value_added").to_numpy()
    assert np.isclose(p @ y, v @ x, rtol=1e-10)
    np.testing.assert_allclose(p, 1.0, rtol=1e-10)


@FAST
@given(economies())
def test_footprint_balances(economy):
    """cba = pba + imp − exp per region, and Σ_r D_pba = Σ_r D_cba per account."""
    result = footprints(economy)
    np.testing.assert_allclose(
        result.balance_gap().to_numpy(), 0.0, atol=1e-9 * result.D_pba_reg.abs().to_numpy().max()
    )
    np.testing.assert_allclose(
        result.D_cba_reg.sum(axis=1), result.D_pba_reg.sum(axis=1), rtol=1e-10
    )
    np.testing.assert_allclose(
        result.D_imp_reg.sum(axis=1), result.D_exp_reg.sum(axis=1), rtol=1e-9, atol=1e-9
    )
    # the value-added footprint of all final demand is total value added
    va_total = economy.account_totals().loc["value_added"].sum()
    assert np.isclose(result.D_cba_reg.loc["value_added"].sum(), va_total, rtol=1e-10)


@FAST
@given(economies(), st.data())
def test_extraction_closed_form_equals_recomputation(economy, data):
    """Output after extracting J equals solving the system without J's rows and columns."""
    n = economy.n_products
    J = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=max(1, n - 1))))
    table = extract_sectors(economy, [economy.products[j] for j in J])
    keep = np.setdiff1d(np.arange(n), J)
    A = economy.A.toarray()[np.ix_(keep, keep)]
    y = economy.total_final_demand.to_numpy()[keep]
    expected = np.zeros(n)
    if keep.size:
        expected[keep] = np.linalg.solve(np.eye(keep.size) - A, y)
    np.testing.assert_allclose(
        table["output_after"].to_numpy(), expected, rtol=1e-9, atol=1e-9 * y.sum()
    )
    assert (table["output_lost"].to_numpy() >= -1e-9 * y.sum()).all()


@FAST
@given(economies())
def test_linkage_indices_average_one(economy):
    table = linkages(economy)
    assert np.isclose(table["power_of_dispersion"].mean(), 1.0)
    assert np.isclose(table["sensitivity_of_dispersion"].mean(), 1.0)
    assert (table["backward"] >= 1.0 - 1e-12).all() and (table["forward"] >= 1.0 - 1e-12).all()
