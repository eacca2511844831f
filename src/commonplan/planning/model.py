"""The plan as one linear programme, assembled from sparse blocks in one go.

Variables (each block period-major: position ``t·size + i``):

========  ==========================  =====================================================
block     size                        meaning (units)
========  ==========================  =====================================================
``x``     activities × T              activity levels (activity units)
``d``     products × T                final deliveries (product units)
``K``     capital pairs × T           capital stocks (units of the capital good)
``I``     capital pairs × T           investment (units of the capital good)
``e``     exported products × T       exports (product units), with a balance of payments
``z``     T                           worst-met fulfilment ratio per period, objective (a)
``h``     targets                     harmony of each target, objective (b)
========  ==========================  =====================================================

Rows: product balances ``(make − use)x − G·I − E·e − d = 0``; resource limits
``acc_r·x ≤ L_r,t``; capital use ``k_p·x_a − K_p ≤ 0``; stock dynamics
``K_t − (1 − δ)K_t−1 − I_t−lag ≤ 0``; fulfilment ``d − y·z ≥ 0`` (a); harmony segments
``h − β_k·d/y ≤ α_k`` (b); balance of payments ``imports − prices·e ≤ deficit``. The
objective is always stated as a minimisation (maximisations are negated).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from commonplan.planning.problem import PlanProblem, harmony

INF = np.inf


@dataclass
class LinearProgram:
    """``min c·v`` s.t. ``row_lower ≤ A v ≤ row_upper``, ``col_lower ≤ v ≤ col_upper``."""

    c: np.ndarray
    A: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    columns: dict[str, slice] = field(default_factory=dict)
    """Variable blocks: name → slice of columns."""
    rows: dict[str, slice] = field(default_factory=dict)
    """Row blocks: name → slice of rows."""
    maximise: bool = False
    """True when ``c`` is the negated objective of a maximisation."""
    resource_rows: list[tuple[str, int]] = field(default_factory=list)
    """(account, period) of each resource row, in row order."""
    target_index: tuple[np.ndarray, np.ndarray] = (np.zeros(0, int), np.zeros(0, int))
    """(product, period) of each target row, in row order."""
    export_products: np.ndarray = field(default_factory=lambda: np.zeros(0, int))

    @property
    def n_cols(self) -> int:
        return int(self.c.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.size)


def _block_diag(T: int, block: sp.sparray) -> sp.csc_array:
    """``I_T ⊗ block``: the same block once per period, as CSC built by index arithmetic."""
    b = sp.csc_array(block)
    r, c = b.shape
    nnz = b.indptr[-1]
    shift = np.arange(T, dtype=np.int64)[:, None]
    indptr = np.append((b.indptr[:-1][None, :] + nnz * shift).ravel(), nnz * T)
    indices = (b.indices[None, :nnz] + r * shift).ravel()
    return sp.csc_array((np.tile(b.data[:nnz], T), indices, indptr), shape=(r * T, c * T))


def _identity(size: int, scale: float = 1.0) -> sp.csc_array:
    k = np.arange(size + 1)
    return sp.csc_array((np.full(size, scale), k[:-1], k), shape=(size, size))


def _selector(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], values: np.ndarray | float = 1.0) -> sp.csc_array:
    data = np.broadcast_to(np.asarray(values, dtype=float), rows.shape)
    return sp.csc_array((data, (rows, cols)), shape=shape)


def _assemble(blocks: list[dict[str, sp.sparray]], row_sizes: list[int], columns: dict[str, slice]) -> sp.csc_array:
    """The constraint matrix from its blocks: each column block stacked down its row blocks, then side by side.

    All blocks are CSC, so stacking down a column block is one linear pass per column block
    and putting column blocks side by side only concatenates arrays (no conversions).
    """
    stacks = []
    for name, cols in columns.items():
        width = cols.stop - cols.start
        if not width:
            continue
        parts = [sp.csc_array(parts.get(name, sp.csc_array((size, width)))) for parts, size in zip(blocks, row_sizes, strict=True)]
        stacks.append(sp.vstack(parts, format="csc") if parts else sp.csc_array((0, width)))
    n_rows = int(sum(row_sizes))
    return sp.csc_array(sp.hstack(stacks, format="csc")) if stacks else sp.csc_array((n_rows, 0))


def build_model(problem: PlanProblem, *, feasibility: bool = False) -> LinearProgram:
    """Assemble the LP of ``problem`` (no Python loop over products, activities or targets).

    With ``feasibility=True`` every target must be met in full (as in objective (c)) and the
    objective is zero: the feasibility problem whose infeasibility
    :mod:`commonplan.planning.infeasibility` explains.
    """
    eco = problem.economy
    T, n, m = problem.n_periods, eco.n_products, eco.n_activities
    kind = "min_resource" if feasibility else problem.objective.kind
    capital = problem.capital
    q = capital.n_pairs if capital is not None else 0
    bop = problem.balance_of_payments
    export_products = np.flatnonzero(bop.export_prices > 0) if bop is not None else np.zeros(0, int)
    ne = export_products.size
    y = problem.targets.amounts
    tgt_t, tgt_i = np.nonzero(y.T > 0)  # period-major order
    nt = tgt_i.size
    y_t = y[tgt_i, tgt_t]
    n_z = T if kind == "max_min_fulfilment" else 0
    n_h = nt if kind == "harmony" else 0

    sizes = {"x": m * T, "d": n * T, "K": q * T, "I": q * T, "e": ne * T, "z": n_z, "h": n_h}
    columns, start = {}, 0
    for name, size in sizes.items():
        columns[name] = slice(start, start + size)
        start += size
    n_cols = start

    blocks: list[dict[str, sp.sparray]] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    row_names: list[tuple[str, int]] = []

    def add(name: str, parts: dict[str, sp.sparray], lo: np.ndarray, hi: np.ndarray) -> None:
        if lo.size:
            blocks.append(parts)
            lower.append(lo)
            upper.append(hi)
            row_names.append((name, lo.size))

    # product balances
    net = sp.csr_array(eco.make - eco.use)
    parts = {"x": _block_diag(T, net), "d": _identity(n * T, -1.0)}
    if q:
        G = capital.bundle if capital.bundle is not None else _selector(capital.goods, np.arange(q), (n, q))
        parts["I"] = -_block_diag(T, G)
    if ne:
        E = _selector(export_products, np.arange(ne), (n, ne))
        parts["e"] = -_block_diag(T, E)
    add("balance", parts, np.zeros(n * T), np.zeros(n * T))

    # resource limits
    resource_rows: list[tuple[str, int]] = []
    if problem.resources:
        positions = [eco.account_names.index(r.account) for r in problem.resources]
        R = sp.csr_array(eco.account_coefficients[positions])
        L = np.vstack([r.limits for r in problem.resources])  # accounts × T
        add("resources", {"x": _block_diag(T, R)}, np.full(L.size, -INF), L.T.ravel())
        resource_rows = [(r.account, t) for t in range(T) for r in problem.resources]

    # capital: use and dynamics
    if q:
        Kuse = _selector(np.arange(q), capital.activities, (q, m), capital.coefficients)
        add("capital_use", {"x": _block_diag(T, Kuse), "K": _identity(q * T, -1.0)}, np.full(q * T, -INF), np.zeros(q * T))
        if T > 1:
            t_rows = np.arange(T - 1)
            this = _selector(t_rows, t_rows + 1, (T - 1, T))
            prev = _selector(t_rows, t_rows, (T - 1, T))
            keep = 1.0 - capital.depreciation
            K_part = sp.kron(this, sp.identity(q), format="csr") - sp.kron(prev, sp.diags_array(keep), format="csr")
            source = t_rows + 1 - capital.lag
            ok = source >= 0
            inv = _selector(t_rows[ok], source[ok], (T - 1, T))
            I_part = -sp.kron(inv, sp.identity(q), format="csr")
            add("capital_stock", {"K": K_part, "I": I_part}, np.full(q * (T - 1), -INF), np.zeros(q * (T - 1)))

    # objective-specific rows
    d_pos = tgt_t * n + tgt_i
    if kind == "max_min_fulfilment" and nt:
        Dsel = _selector(np.arange(nt), d_pos, (nt, n * T))
        Zsel = _selector(np.arange(nt), tgt_t, (nt, T), -y_t)
        add("fulfilment", {"d": Dsel, "z": Zsel}, np.zeros(nt), np.full(nt, INF))
    if kind == "harmony" and nt:
        points = np.asarray(problem.objective.breakpoints)
        values = harmony(points)
        slopes = np.diff(values) / np.diff(points)
        intercepts = values[:-1] - slopes * points[:-1]
        # beyond the last breakpoint fulfilment adds no harmony (keeps the objective bounded)
        slopes, intercepts = np.append(slopes, 0.0), np.append(intercepts, values[-1])
        k = slopes.size
        rows = np.arange(nt * k)
        seg = np.tile(np.arange(k), nt)
        tgt = np.repeat(np.arange(nt), k)
        Dsel = _selector(rows, d_pos[tgt], (nt * k, n * T), -slopes[seg] / y_t[tgt])
        Hsel = _selector(rows, tgt, (nt * k, nt))
        add("harmony", {"d": Dsel, "h": Hsel}, np.full(nt * k, -INF), intercepts[seg])

    # balance of payments
    if bop is not None:
        positions = [eco.account_names.index(a) for a in bop.import_accounts]
        imports = sp.csr_array(eco.account_coefficients[positions].sum(axis=0, keepdims=True))
        parts = {"x": _block_diag(T, imports)}
        if ne:
            parts["e"] = -_block_diag(T, sp.csr_array(bop.export_prices[export_products][None, :]))
        add("balance_of_payments", parts, np.full(T, -INF), bop.max_deficit.astype(float))

    # stack
    A = _assemble(blocks, [size for _, size in row_names], columns)
    rows, start = {}, 0
    for name, size in row_names:
        rows[name] = slice(start, start + size)
        start += size

    # bounds
    col_lower = np.zeros(n_cols)
    col_upper = np.full(n_cols, INF)
    if problem.capacity is not None:
        col_upper[columns["x"]] = problem.capacity.T.ravel()
    if q:
        col_upper[columns["K"].start : columns["K"].start + q] = capital.initial
    if kind == "min_resource":
        col_lower[columns["d"]] = y.T.ravel()
    if n_h:
        col_lower[columns["h"]] = -INF

    # objective (as a minimisation)
    c = np.zeros(n_cols)
    maximise = True
    if kind == "max_min_fulfilment":
        c[columns["z"]] = -1.0
    elif kind == "harmony":
        c[columns["h"]] = -problem.targets.weights[tgt_i, tgt_t]
    elif not feasibility:
        maximise = False
        r = eco.account_coefficients[eco.account_names.index(problem.objective.resource)]
        c[columns["x"]] = np.tile(r, T)
    else:
        maximise = False

    return LinearProgram(
        c=c,
        A=A,
        row_lower=np.concatenate(lower) if lower else np.zeros(0),
        row_upper=np.concatenate(upper) if upper else np.zeros(0),
        col_lower=col_lower,
        col_upper=col_upper,
        columns=columns,
        rows=rows,
        maximise=maximise,
        resource_rows=resource_rows,
        target_index=(tgt_i, tgt_t),
        export_products=export_products,
    )


def weighted_fulfilment_costs(problem: PlanProblem, lp: LinearProgram) -> np.ndarray:
    """Objective (as a minimisation) of the lexicographic second stage: ``−Σ w·d/y`` over targets."""
    tgt_i, tgt_t = lp.target_index
    y = problem.targets.amounts[tgt_i, tgt_t]
    w = problem.targets.weights[tgt_i, tgt_t]
    c = np.zeros(lp.n_cols)
    n = problem.economy.n_products
    c[lp.columns["d"].start + tgt_t * n + tgt_i] = -w / y
    return c
