"""The LP assembly of :func:`build_model` against a straightforward reference, entry for entry.

``build_model`` writes its blocks straight into preallocated CSC arrays (repeating one
period's blocks per period without materialising them). The reference below states the same
model the plain way — Kronecker products ``I_T ⊗ B`` and ``scipy.sparse.block_array`` — and
the two constraint matrices must agree in every index and value (same order within each
column, same explicit entries), as must bounds and costs. The small economies exercise every
block: several resources, capacities, capital (goods and bundles, lags 1 and 2), a balance of
payments with exports, all objectives and the feasibility model, for 1 and 3 periods. The
trade scenarios of the OECD ICIO table (a partner cut-off, federations with table and free
trade) are checked the same way, and so are all bounds and costs, stated row block by row
block and period by period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.io.icio import read_icio_arrays
from commonplan.planning import BalanceOfPayments, Objective, PlanProblem
from commonplan.planning.model import build_model
from commonplan.planning.problem import CapitalStocks, ResourceLimit, Targets, harmony
from commonplan.planning.scenarios import TradeAssumptions, trade_problem

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
    g = cap.n_groups if cap is not None else 0
    widths = [m * T, n * T, q * T, q * T, g * T, ne * T, n_z, n_h]  # x d K I J e z h

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
            names = ["x", "d", "K", "I", "J", "e", "z", "h"]
            grid.append(
                [
                    parts.get(name, sp.csc_array((height, w)))
                    for name, w in zip(names, widths, strict=True)
                ]
            )

    parts = {"x": diag(sp.csr_array(eco.make - eco.use)), "d": -eye(n * T)}
    if q:
        G = cap.bundle if cap.bundle is not None else select(cap.goods, np.arange(q), (n, q))
        parts["J" if g else "I"] = -diag(G)
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
        if g:
            row(g * T, I=diag(select(cap.groups, np.arange(q), (g, q), -1.0)), J=eye(g * T))
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


def _reference_vectors(problem: PlanProblem, feasibility: bool) -> dict[str, np.ndarray]:
    """Costs and bounds stated period by period, block by block (columns x d K I J e z h)."""
    eco = problem.economy
    T, n, m = problem.n_periods, eco.n_products, eco.n_activities
    kind = "min_resource" if feasibility else problem.objective.kind
    cap, bop = problem.capital, problem.balance_of_payments
    q = cap.n_pairs if cap is not None else 0
    ne = int((bop.export_prices > 0).sum()) if bop is not None else 0
    y, w = problem.targets.amounts, problem.targets.weights
    targets = [(i, t) for t in range(T) for i in range(n) if y[i, t] > 0]
    inf = np.inf
    g = cap.n_groups if cap is not None else 0
    cost = {"x": [], "d": [], "K": [], "I": [], "J": [], "e": [], "z": [], "h": []}
    lower = {key: [] for key in cost}
    upper = {key: [] for key in cost}
    for t in range(T):
        cap_t = problem.capacity[:, t] if problem.capacity is not None else np.full(m, inf)
        r = (
            eco.account_coefficients[eco.account_names.index(problem.objective.resource)]
            if kind == "min_resource" and not feasibility
            else np.zeros(m)
        )
        for j in range(m):
            cost["x"].append(r[j])
            lower["x"].append(0.0)
            upper["x"].append(cap_t[j])
        for i in range(n):
            cost["d"].append(0.0)
            lower["d"].append(y[i, t] if kind == "min_resource" else 0.0)
            upper["d"].append(inf)
        for p in range(q):
            for block in ("K", "I"):
                cost[block].append(0.0)
                lower[block].append(0.0)
                upper[block].append(cap.initial[p] if block == "K" and t == 0 else inf)
        for _ in range(g):
            cost["J"].append(0.0)
            lower["J"].append(0.0)
            upper["J"].append(inf)
        for _ in range(ne):
            cost["e"].append(0.0)
            lower["e"].append(0.0)
            upper["e"].append(inf)
        if kind == "max_min_fulfilment":
            cost["z"].append(-1.0)
            lower["z"].append(0.0)
            upper["z"].append(inf)
    if kind == "harmony":
        for i, t in targets:
            cost["h"].append(-w[i, t])
            lower["h"].append(-inf)
            upper["h"].append(inf)
    joined = {
        name: np.array([v for key in cost for v in values[key]], dtype=float)
        for name, values in (("c", cost), ("col_lower", lower), ("col_upper", upper))
    }
    # rows: balance, resources, capital use, capital stock, investment groups, fulfilment, harmony,
    # balance of payments
    row_lower, row_upper = [0.0] * (n * T), [0.0] * (n * T)
    for t in range(T):
        for limit in problem.resources:
            row_lower.append(-inf)
            row_upper.append(limit.limits[t])
    row_lower += [-inf] * (q * T + q * (T - 1))
    row_upper += [0.0] * (q * T + q * (T - 1))
    row_lower += [0.0] * (g * T)
    row_upper += [0.0] * (g * T)
    if kind == "max_min_fulfilment":
        row_lower += [0.0] * len(targets)
        row_upper += [inf] * len(targets)
    if kind == "harmony" and targets:
        points = np.asarray(problem.objective.breakpoints)
        values = harmony(points)
        intercepts = [
            values[k] - (values[k + 1] - values[k]) / (points[k + 1] - points[k]) * points[k]
            for k in range(points.size - 1)
        ] + [values[-1]]
        for _ in targets:
            row_lower += [-inf] * len(intercepts)
            row_upper += intercepts
    if bop is not None:
        row_lower += [-inf] * T
        row_upper += [float(v) for v in bop.max_deficit]
    joined["row_lower"], joined["row_upper"] = np.array(row_lower), np.array(row_upper)
    joined["maximise"] = kind in ("max_min_fulfilment", "harmony")
    return joined


def _assert_assembly(problem: PlanProblem, feasibility: bool) -> None:
    """``build_model`` equals both references: matrix entry for entry, costs and bounds exactly."""
    lp = build_model(problem, feasibility=feasibility)
    ref = _reference_matrix(problem, feasibility)
    assert lp.A.shape == ref.shape
    np.testing.assert_array_equal(lp.A.indptr, ref.indptr)
    np.testing.assert_array_equal(lp.A.indices, ref.indices)
    np.testing.assert_array_equal(lp.A.data, ref.data)
    vectors = _reference_vectors(problem, feasibility)
    assert lp.maximise == vectors.pop("maximise")
    for name, expected in vectors.items():
        np.testing.assert_array_equal(getattr(lp, name), expected, err_msg=name)


@pytest.mark.parametrize("T", [1, 3])
@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.kind)
@pytest.mark.parametrize(
    ("seed", "capital", "bop"),
    [(0, None, False), (1, "goods", True), (2, "bundle", True), (3, "goods", False)],
)
@pytest.mark.parametrize("feasibility", [False, True])
def test_costs_and_bounds_equal_plain_statement(T, objective, seed, capital, bop, feasibility):
    _assert_assembly(_problem(seed, T, objective, capital=capital, bop=bop), feasibility)


TRADE_CASES = {
    "cut-off COL without USA": (["COL"], ["USA"], TradeAssumptions(periods=3)),
    "federation COL+PER, table trade": (["COL", "PER"], ["USA"], TradeAssumptions(periods=2)),
    "federation COL+PER+CHL, free trade": (
        ["COL", "PER", "CHL"],
        ["USA", "MEX"],
        TradeAssumptions(periods=3, member_trade="free", depreciation=0.1, headroom=0.2),
    ),
}


@pytest.fixture(scope="module")
def icio(shared_data):
    return read_icio_arrays(shared_data / "mrio" / "icio2025_y2022_americas11x50.npz")


@pytest.mark.parametrize("case", TRADE_CASES)
@pytest.mark.parametrize("feasibility", [False, True])
def test_trade_scenarios_equal_plain_assembly(icio, case, feasibility):
    members, partners, assumptions = TRADE_CASES[case]
    _assert_assembly(trade_problem(icio, members, partners, assumptions), feasibility)


def test_trade_problems_of_the_same_members_share_one_structure_and_equal_fresh_ones(icio):
    """The members' regrouped table is built once per economy, member set and trade rule; a
    problem built on the remembered structure equals one built from scratch, entry for entry."""
    from commonplan.planning import scenarios as S

    for case in TRADE_CASES.values():
        members, partners, assumptions = case
        remembered = build_model(trade_problem(icio, members, partners, assumptions))
        S._STRUCTURES.pop(icio, None)
        fresh = build_model(trade_problem(icio, members, partners, assumptions))
        assert (remembered.A != fresh.A).nnz == 0
        for part in ("row_lower", "row_upper", "col_lower", "col_upper", "c"):
            assert np.array_equal(getattr(remembered, part), getattr(fresh, part))
    first = S.trade_model(icio, ["COL"], ["USA"], TradeAssumptions(import_flexibility=1.5))
    again = S.trade_model(icio, ["COL"], ["MEX"], TradeAssumptions(import_flexibility=3.0))
    assert again.imports is first.imports  # shared, and so read-only
    with pytest.raises(ValueError):
        first.imports.flow[0] = 0.0
    free = S.trade_model(icio, ["COL", "MEX"], ["USA"], TradeAssumptions(member_trade="free"))
    table = S.trade_model(icio, ["COL", "MEX"], ["USA"], TradeAssumptions(member_trade="table"))
    assert len(free.shipments) > 0 and len(table.shipments) == 0
