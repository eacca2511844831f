"""The LP assembly of :func:`build_model` against a straightforward reference, entry for entry.

``build_model`` writes its blocks straight into preallocated CSC arrays (repeating one
period's blocks per period without materialising them). The reference below states the same
model the plain way — Kronecker products ``I_T ⊗ B`` and ``scipy.sparse.block_array`` — and
the two constraint matrices must agree in every index and value (same order within each
column, same explicit entries), as must bounds and costs. The small economies exercise every
block: several resources, capacities, capital (goods and bundles, lags 1 and 2), a balance of
payments with exports, all objectives and the feasibility model, for 1 and 3 periods.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.planning import BalanceOfPayments, Objective, PlanProblem
from commonplan.planning.model import build_model
from commonplan.planning.problem import CapitalStocks, ResourceLimit, Targets, harmony

N, M = 5, 8


def _economy(seed: int) -> Economy:
    rng = np.random.default_rng(seed)
    use = rng.random((N, M)) * (rng.random((N, M)) < 0.5) * 0.2
    make = np.zeros((N, M))
    make[np.arange(M) % N, np.arange(M)] = 1.0
    make[0, M - 1] = 0.5  # joint production
    accounts = rng.random((3, M)) + 0.1
    return Economy(
        products=pd.MultiIndex.from_arrays([["R"] * N, [f"p{i}" for i in range(N)]]),
        activities=pd.MultiIndex.from_arrays([["R"] * M, [f"a{j}" for j in range(M)]]),
        use=sp.csr_array(use),
        make=sp.csr_array(make),
        account_coefficients=accounts,
        account_names=("labour", "imports:A", "imports:B"),
        account_units={"labour": "hours", "imports:A": "USD", "imports:B": "USD"},
        final_demand_values=rng.uniform(0.5, 1.5, (N, 1)),
        final_demand_columns=pd.Index(["final_demand"]),
        check_productive=False,
    )


def _problem(
    seed: int, T: int, objective: Objective, *, capital: str | None, bop: bool
) -> PlanProblem:
    eco = _economy(seed)
    rng = np.random.default_rng(seed + 100)
    amounts = rng.uniform(0.5, 1.5, (N, T)) * (rng.random((N, T)) < 0.7)
    amounts[0] = 1.0  # every period has a target
    cap = None
    if capital is not None:
        bundle = (
            sp.csr_array(rng.random((N, 3)) * (rng.random((N, 3)) < 0.6))
            if capital == "bundle"
            else None
        )
        cap = CapitalStocks(
            goods=[1, 3, 1],
            activities=[4, 0, 6] if seed % 2 else [0, 4, 6],
            coefficients=[0.5, 0.0, 2.0],
            initial=[3.0, 1.0, 2.0],
            depreciation=[0.1, 0.0, 0.25],
            lag=1 + seed % 2,
            bundle=bundle,
        )
    balance = None
    if bop:
        prices = np.array([0.3, 0.0, 0.8, 0.0, 0.5])
        balance = BalanceOfPayments(("imports:A", "imports:B"), prices, np.linspace(0.0, 1.0, T))
    capacity = np.where(rng.random((M, T)) < 0.3, rng.uniform(1, 5, (M, T)), np.inf)
    return PlanProblem(
        economy=eco,
        periods=pd.Index(range(1, T + 1)),
        targets=Targets(amounts, rng.uniform(0.5, 2, (N, T))),
        objective=objective,
        resources=(
            ResourceLimit("labour", np.full(T, 10.0)),
            ResourceLimit("imports:B", np.arange(1.0, T + 1)),
        ),
        capacity=capacity,
        capital=cap,
        balance_of_payments=balance,
        name=f"assembly {seed}",
    )


def _reference_matrix(problem: PlanProblem, feasibility: bool) -> sp.csc_array:
    """The constraint matrix stated plainly: ``I_T ⊗ B`` by ``sp.kron``, stacked by ``sp.block_array``."""
    eco = problem.economy
    T, n, m = problem.n_periods, eco.n_products, eco.n_activities
    kind = "min_resource" if feasibility else problem.objective.kind
    cap, bop = problem.capital, problem.balance_of_payments
    q = cap.n_pairs if cap is not None else 0
    exports = np.flatnonzero(bop.export_prices > 0) if bop is not None else np.zeros(0, int)
    ne = exports.size
    y = problem.targets.amounts
    tgt_t, tgt_i = np.nonzero(y.T > 0)
    nt = tgt_i.size
    y_t = y[tgt_i, tgt_t]
    n_z = T if kind == "max_min_fulfilment" else 0
    n_h = nt if kind == "harmony" else 0
    widths = [m * T, n * T, q * T, q * T, ne * T, n_z, n_h]  # x d K I e z h

    def diag(B) -> sp.csc_array:
        return sp.csc_array(sp.kron(sp.identity(T), sp.csc_array(B), format="csc"))

    def select(rows, cols, shape, values=1.0) -> sp.csc_array:
        return sp.csc_array(
            (np.broadcast_to(np.asarray(values, float), np.shape(rows)), (rows, cols)), shape=shape
        )

    def eye(k: int) -> sp.csc_array:
        return sp.csc_array(sp.identity(k, format="csc"))

    grid = []

    def row(height: int, **parts) -> None:
        if height:
            names = ["x", "d", "K", "I", "e", "z", "h"]
            grid.append(
                [
                    parts.get(name, sp.csc_array((height, w)))
                    for name, w in zip(names, widths, strict=True)
                ]
            )

    parts = {"x": diag(sp.csr_array(eco.make - eco.use)), "d": -eye(n * T)}
    if q:
        G = cap.bundle if cap.bundle is not None else select(cap.goods, np.arange(q), (n, q))
        parts["I"] = -diag(G)
    if ne:
        parts["e"] = -diag(select(exports, np.arange(ne), (n, ne)))
    row(n * T, **parts)
    if problem.resources:
        positions = [eco.account_names.index(r.account) for r in problem.resources]
        row(len(positions) * T, x=diag(sp.csr_array(eco.account_coefficients[positions])))
    if q:
        row(
            q * T,
            x=diag(select(np.arange(q), cap.activities, (q, m), cap.coefficients)),
            K=-eye(q * T),
        )
        if T > 1:
            K_part = sp.csc_array(
                sp.kron(sp.eye(T - 1, T, 1), sp.identity(q))
                - sp.kron(sp.eye(T - 1, T), sp.diags_array(1.0 - cap.depreciation))
            )
            I_part = -sp.csc_array(sp.kron(sp.eye(T - 1, T, 1 - cap.lag), sp.identity(q)))
            row(q * (T - 1), K=K_part, I=I_part)
    d_pos = tgt_t * n + tgt_i
    if kind == "max_min_fulfilment" and nt:
        row(
            nt,
            d=select(np.arange(nt), d_pos, (nt, n * T)),
            z=select(np.arange(nt), tgt_t, (nt, T), -y_t),
        )
    if kind == "harmony" and nt:
        points = np.asarray(problem.objective.breakpoints)
        values = harmony(points)
        slopes = np.append(np.diff(values) / np.diff(points), 0.0)
        k = slopes.size
        seg, tgt = np.tile(np.arange(k), nt), np.repeat(np.arange(nt), k)
        row(
            nt * k,
            d=select(np.arange(nt * k), d_pos[tgt], (nt * k, n * T), -slopes[seg] / y_t[tgt]),
            h=select(np.arange(nt * k), tgt, (nt * k, nt)),
        )
    if bop is not None:
        positions = [eco.account_names.index(a) for a in bop.import_accounts]
        parts = {
            "x": diag(sp.csr_array(eco.account_coefficients[positions].sum(axis=0, keepdims=True)))
        }
        if ne:
            parts["e"] = -diag(sp.csr_array(bop.export_prices[exports][None, :]))
        row(T, **parts)
    kept = [j for j, w in enumerate(widths) if w]
    return sp.csc_array(sp.block_array([[r[j] for j in kept] for r in grid], format="csc"))


OBJECTIVES = [
    Objective("max_min_fulfilment"),
    Objective("harmony"),
    Objective("min_resource", resource="labour"),
]


@pytest.mark.parametrize("T", [1, 3])
@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.kind)
@pytest.mark.parametrize(
    ("seed", "capital", "bop"),
    [(0, None, False), (1, "goods", True), (2, "bundle", True), (3, "goods", False)],
)
@pytest.mark.parametrize("feasibility", [False, True])
def test_matrix_equals_plain_assembly(T, objective, seed, capital, bop, feasibility):
    problem = _problem(seed, T, objective, capital=capital, bop=bop)
    lp = build_model(problem, feasibility=feasibility)
    ref = _reference_matrix(problem, feasibility)
    A = lp.A
    assert A.format == "csc" and A.shape == ref.shape == (lp.n_rows, lp.n_cols)
    # entry for entry: the same positions, in the same order, with the same values (explicit zeros included)
    np.testing.assert_array_equal(A.indptr, ref.indptr)
    np.testing.assert_array_equal(A.indices, ref.indices)
    np.testing.assert_array_equal(A.data, ref.data)
    assert A.indices.dtype == np.int32
    assert lp.c.shape == lp.col_lower.shape == lp.col_upper.shape == (lp.n_cols,)
    assert lp.row_lower.shape == lp.row_upper.shape == (lp.n_rows,)
