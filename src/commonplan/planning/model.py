"""The plan as one linear programme, assembled from sparse blocks in one go.

Variables (each block period-major: position ``t·size + i``):

========  ==========================  =====================================================
block     size                        meaning (units)
========  ==========================  =====================================================
``x``     activities × T              activity levels (activity units)
``d``     products × T                final deliveries (product units)
``K``     capital pairs × T           capital stocks (units of the capital good)
``I``     capital pairs × T           investment (units of the capital good)
``J``     bundle groups × T           investment summed over a shared bundle's stocks
``e``     exported products × T       exports (product units), with a balance of payments
``z``     T                           worst-met fulfilment ratio per period, objective (a)
``h``     targets                     harmony of each target, objective (b)
========  ==========================  =====================================================

Rows: product balances ``(make − use)x − G·I − E·e − d = 0``; resource limits
``acc_r·x ≤ L_r,t``; capital use ``k_p·x_a − K_p ≤ 0``; stock dynamics
``K_t − (1 − δ)K_t−1 − I_t−lag ≤ 0``; fulfilment ``d − y·z ≥ 0`` (a); harmony segments
``h − β_k·d/y ≤ α_k`` (b); shared bundles ``J_g − Σ_p∈g I_p = 0``; balance of payments ``imports − prices·e ≤ deficit``. The
objective is always stated as a minimisation (maximisations are negated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

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


@dataclass
class _Block:
    """A sparse block; with ``periods > 1`` it stands for ``I_periods ⊗ matrix``.

    The per-period copies are never materialised: :func:`_assemble` writes them straight into
    the constraint matrix. ``indptr``, ``indices`` and ``data`` are one period's CSC arrays.
    """

    matrix: sp.sparray
    periods: int = 1

    @cached_property
    def _csc(self) -> sp.csc_array:
        return sp.csc_array(self.matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def indptr(self) -> np.ndarray:
        return self._csc.indptr

    @property
    def indices(self) -> np.ndarray:
        return self._csc.indices[: self._csc.indptr[-1]]

    @property
    def data(self) -> np.ndarray:
        return self._csc.data[: self._csc.indptr[-1]]

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz) * self.periods


def _block(matrix: sp.sparray, periods: int = 1, *, negate: bool = False) -> _Block:
    """``matrix`` (or ``−matrix``) as a block, repeated down the diagonal ``periods`` times."""
    return _Block(-matrix if negate else matrix, periods)


def _identity(size: int, scale: float = 1.0) -> sp.csc_array:
    k = np.arange(size + 1)
    return sp.csc_array((np.full(size, scale), k[:-1], k), shape=(size, size))


def _selector(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], values: np.ndarray | float = 1.0
) -> sp.csc_array:
    data = np.broadcast_to(np.asarray(values, dtype=float), rows.shape)
    if rows.size and (np.diff(rows) > 0).all() and (np.diff(cols) >= 0).all():
        # already in CSC order without duplicates: what the COO conversion would give, without its sort
        indptr = np.zeros(shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
        return sp.csc_array((data.copy(), rows.copy(), indptr), shape=shape)
    return sp.csc_array((data, (rows, cols)), shape=shape)


def _interleave(
    parts: list[tuple[_Block, int]],
    width: int,
    pos: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
) -> int:
    """Stack one-period ``parts`` (block, row offset) down each column, writing at ``pos``.

    Within a column the entries of each part keep their order and parts follow each other in
    list order (as ``scipy.sparse.vstack`` does). ``indptr`` receives the ``width`` column
    starts. Returns the position after the last entry.
    """
    counts = [np.diff(block.indptr) for block, _ in parts]
    starts = np.empty(width + 1, dtype=np.int64)
    starts[0] = pos
    np.cumsum(np.sum(counts, axis=0), out=starts[1:])
    starts[1:] += pos
    indptr[:] = starts[:-1]
    first = starts[:-1].copy()
    for (block, offset), count in zip(parts, counts, strict=True):
        dest = np.repeat(first - block.indptr[:-1], count)
        dest += np.arange(dest.size)
        indices[dest] = block.indices.astype(indices.dtype, copy=False) + offset
        data[dest] = block.data
        first += count
    return int(starts[-1])


def _expand(block: _Block, dtype: type) -> _Block:
    """The one-period block equal to ``I_periods ⊗ block``."""
    T = block.periods
    if T == 1:
        return block
    r, c = block.shape
    indptr = np.empty(c * T + 1, dtype=dtype)
    indices = np.empty(block.nnz, dtype=dtype)
    data = np.empty(block.nnz)
    _repeat_periods(block.indptr, block.indices, block.data, c, r, T, 0, indptr, indices, data)
    indptr[-1] = block.nnz
    return _Block(sp.csc_array((data, indices, indptr), shape=(r * T, c * T)))


def _repeat_periods(
    t_indptr: np.ndarray,
    t_indices: np.ndarray,
    t_data: np.ndarray,
    c: int,
    step: int | np.ndarray,
    T: int,
    pos: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
) -> int:
    """Write periods ``t = 0 … T−1`` of a one-period template (``c`` columns) at ``pos``: rows move by ``t·step``."""
    tn = int(t_indptr[-1])
    end = pos + tn * T
    data[pos:end].reshape(T, tn)[...] = t_data
    out = indices[pos:end].reshape(T, tn)
    out[0] = t_indices
    for t in range(1, T):
        np.add(out[t - 1], step, out=out[t], casting="unsafe")
    for t in range(T):
        np.add(t_indptr[:-1], pos + t * tn, out=indptr[t * c : (t + 1) * c], casting="unsafe")
    return end


def _stack_template(
    parts: list[tuple[_Block, int, int]], dtype: type
) -> tuple[sp.csc_array, np.ndarray, np.ndarray]:
    """One period's ``parts`` (block, row offset, rows) stacked into a template column block.

    Returns the template and, per template row, its row in the first period and the row step
    from one period to the next. The parts are stacked as CSR (a concatenation), then converted
    in one CSR→CSC pass (a stable sort by row within each column): the parts' entries in part
    order, each part's as its own CSR→CSC conversion orders them — what a CSC vstack gives, as
    the parts here are CSR or canonical CSC (identities, selectors).
    """
    template = sp.csc_array(
        sp.vstack([sp.csr_array(block.matrix) for block, _, _ in parts], format="csr")
    )
    T = parts[0][0].periods
    base = np.concatenate(
        [np.arange(offset, offset + size // T, dtype=dtype) for _, offset, size in parts]
    )
    step = np.concatenate([np.full(size // T, size // T, dtype=dtype) for _, _, size in parts])
    return template, base, step


def _write_column_block(
    parts: list[tuple[_Block, int, int]],
    width: int,
    dtype: type,
    pos: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
) -> int:
    """Write one column block's ``parts`` (block, row offset, rows) at ``pos``; returns the end.

    Where every part repeats per period, one period's parts are stacked (a template, 1/T of
    the work) and then copied once per period with shifted rows; otherwise the parts are
    expanded and stacked directly.
    """
    periods = {block.periods for block, _, _ in parts}
    if len(periods) > 1:
        expanded = [(_expand(block, dtype), offset) for block, offset, _ in parts]
        return _interleave(expanded, width, pos, indptr, indices, data)
    T = periods.pop()
    c = width // T
    if len(parts) == 1:
        block, offset, size = parts[0]
        t_indices = block.indices.astype(dtype, copy=False) + dtype(offset)
        return _repeat_periods(
            block.indptr, t_indices, block.data, c, dtype(size // T), T, pos, indptr, indices, data
        )
    template, base, step = _stack_template(parts, dtype)
    t_nnz = template.indptr[-1]
    local = template.indices[:t_nnz]
    return _repeat_periods(
        template.indptr,
        base[local],
        template.data[:t_nnz],
        c,
        step[local],
        T,
        pos,
        indptr,
        indices,
        data,
    )


def _assemble(
    blocks: list[dict[str, _Block]], row_sizes: list[int], columns: dict[str, slice], n_cols: int
) -> sp.csc_array:
    """The constraint matrix from its blocks, written straight into preallocated CSC arrays.

    Column block by column block (:func:`_write_column_block`); indices are int32 where the
    sizes allow.
    """
    offsets = np.concatenate([[0], np.cumsum(row_sizes, dtype=np.int64)]).tolist()
    n_rows = offsets[-1]
    nnz = sum(part.nnz for parts in blocks for part in parts.values())
    dtype = np.int32 if max(n_rows, n_cols, nnz) <= np.iinfo(np.int32).max else np.int64
    indptr = np.empty(n_cols + 1, dtype=dtype)
    indices = np.empty(nnz, dtype=dtype)
    data = np.empty(nnz)
    pos = 0
    for name, cols in columns.items():
        width = cols.stop - cols.start
        if not width:
            continue
        parts = [
            (parts[name], offsets[k], row_sizes[k])
            for k, parts in enumerate(blocks)
            if name in parts
        ]
        if parts:
            pos = _write_column_block(parts, width, dtype, pos, indptr[cols], indices, data)
        else:
            indptr[cols] = pos
    indptr[n_cols] = pos
    assert pos == nnz
    return sp.csc_array((data, indices, indptr), shape=(n_rows, n_cols))


@dataclass(frozen=True)
class _Layout:
    """What every block of the LP needs to know: sizes, targets and variable columns."""

    problem: PlanProblem
    kind: str
    """The objective kind the rows are built for (``min_resource`` for the feasibility model)."""
    export_products: np.ndarray
    """Products with a positive export price (one ``e`` column each per period)."""
    target_product: np.ndarray
    """Product of each positive target, period-major (the order of the target rows)."""
    target_period: np.ndarray
    """Period of each positive target."""
    columns: dict[str, slice]
    """Variable blocks: name → slice of columns."""

    @property
    def T(self) -> int:
        return self.problem.n_periods

    @property
    def n(self) -> int:
        return self.problem.economy.n_products

    @property
    def m(self) -> int:
        return self.problem.economy.n_activities

    @property
    def q(self) -> int:
        return self.problem.capital.n_pairs if self.problem.capital is not None else 0

    @property
    def n_cols(self) -> int:
        return max(block.stop for block in self.columns.values())

    @property
    def target_amounts(self) -> np.ndarray:
        return self.problem.targets.amounts[self.target_product, self.target_period]

    @property
    def target_columns(self) -> np.ndarray:
        """Position of each target's delivery within the ``d`` block."""
        return self.target_period * self.n + self.target_product


@dataclass(frozen=True)
class _Rows:
    """One block of rows: its parts (column block → sparse block) and ``lower ≤ A v ≤ upper``."""

    name: str
    parts: dict[str, _Block]
    lower: np.ndarray
    upper: np.ndarray


def _layout(problem: PlanProblem, feasibility: bool) -> _Layout:
    """Variable blocks in column order, each period-major (see the module table)."""
    T = problem.n_periods
    kind = "min_resource" if feasibility else problem.objective.kind
    bop = problem.balance_of_payments
    export_products = np.flatnonzero(bop.export_prices > 0) if bop is not None else np.zeros(0, int)
    target_period, target_product = np.nonzero(problem.targets.amounts.T > 0)  # period-major
    q = problem.capital.n_pairs if problem.capital is not None else 0
    sizes = {
        "x": problem.economy.n_activities * T,
        "d": problem.economy.n_products * T,
        "K": q * T,
        "I": q * T,
        "J": problem.capital.n_groups * T if q else 0,
        "e": export_products.size * T,
        "z": T if kind == "max_min_fulfilment" else 0,
        "h": target_product.size if kind == "harmony" else 0,
    }
    return _Layout(problem, kind, export_products, target_product, target_period, _slices(sizes))


def _slices(sizes: dict[str, int]) -> dict[str, slice]:
    """Consecutive slices of the given sizes, in order."""
    slices, start = {}, 0
    for name, size in sizes.items():
        slices[name] = slice(start, start + size)
        start += size
    return slices


def _product_balances(layout: _Layout) -> _Rows:
    """``(make − use)x − G·I − E·e − d = 0`` per product and period.

    ``G`` is the capital bundle (goods used per unit of investment; by default each pair's
    good), ``E`` selects the exported products. A bundle shared by groups of stocks uses its
    goods once per group, ``G·J`` (see :func:`_investment_groups`).
    """
    eco, capital = layout.problem.economy, layout.problem.capital
    T, n, q = layout.T, layout.n, layout.q
    net = sp.csr_array(eco.make - eco.use)
    parts = {"x": _block(net, T), "d": _block(_identity(n, -1.0), T)}
    if q:
        G = (
            capital.bundle
            if capital.bundle is not None
            else _selector(capital.goods, np.arange(q), (n, q))
        )
        parts["J" if capital.groups is not None else "I"] = _block(G, T, negate=True)
    ne = layout.export_products.size
    if ne:
        E = _selector(layout.export_products, np.arange(ne), (n, ne))
        parts["e"] = _block(E, T, negate=True)
    return _Rows("balance", parts, np.zeros(n * T), np.zeros(n * T))


def _resource_limits(layout: _Layout) -> _Rows | None:
    """``acc_r·x ≤ L_r,t`` per limited account and period (period-major)."""
    problem = layout.problem
    if not problem.resources:
        return None
    eco = problem.economy
    positions = [eco.account_names.index(r.account) for r in problem.resources]
    R = sp.csr_array(eco.account_coefficients[positions])
    L = np.vstack([r.limits for r in problem.resources])  # accounts × T
    return _Rows("resources", {"x": _block(R, layout.T)}, np.full(L.size, -INF), L.T.ravel())


def _capital_use(layout: _Layout) -> _Rows | None:
    """``k_p·x_a − K_p ≤ 0``: each capital pair's activity within its stock."""
    capital, T, q = layout.problem.capital, layout.T, layout.q
    if not q:
        return None
    Kuse = _selector(np.arange(q), capital.activities, (q, layout.m), capital.coefficients)
    return _Rows(
        "capital_use",
        {"x": _block(Kuse, T), "K": _block(_identity(q, -1.0), T)},
        np.full(q * T, -INF),
        np.zeros(q * T),
    )


def _capital_stocks(layout: _Layout) -> _Rows | None:
    """``K_t − (1 − δ)K_t−1 − I_t−lag ≤ 0`` for ``t ≥ 2``: stocks grow only by investment."""
    capital, T, q = layout.problem.capital, layout.T, layout.q
    if not q or T == 1:
        return None
    t_rows = np.arange(T - 1)
    this = _selector(t_rows, t_rows + 1, (T - 1, T))
    prev = _selector(t_rows, t_rows, (T - 1, T))
    keep = 1.0 - capital.depreciation
    K_part = sp.kron(this, sp.identity(q), format="csr") - sp.kron(
        prev, sp.diags_array(keep), format="csr"
    )
    source = t_rows + 1 - capital.lag
    ok = source >= 0
    inv = _selector(t_rows[ok], source[ok], (T - 1, T))
    I_part = -sp.kron(inv, sp.identity(q), format="csr")
    return _Rows(
        "capital_stock",
        {"K": _block(K_part), "I": _block(I_part)},
        np.full(q * (T - 1), -INF),
        np.zeros(q * (T - 1)),
    )


def _investment_groups(layout: _Layout) -> _Rows | None:
    """``J_g,t − Σ_p∈g I_p,t = 0``: the investment of each shared bundle's stocks, summed."""
    capital, T, q = layout.problem.capital, layout.T, layout.q
    if not q or capital.groups is None:
        return None
    k = capital.n_groups
    members = _selector(capital.groups, np.arange(q), (k, q), -1.0)
    return _Rows(
        "investment_groups",
        {"I": _block(members, T), "J": _block(_identity(k), T)},
        np.zeros(k * T),
        np.zeros(k * T),
    )


def _fulfilment(layout: _Layout) -> _Rows | None:
    """Objective (a): ``d − y·z_t ≥ 0`` per target, ``z_t`` the period's worst-met ratio."""
    nt = layout.target_product.size
    if layout.kind != "max_min_fulfilment" or not nt:
        return None
    Dsel = _selector(np.arange(nt), layout.target_columns, (nt, layout.n * layout.T))
    Zsel = _selector(np.arange(nt), layout.target_period, (nt, layout.T), -layout.target_amounts)
    return _Rows(
        "fulfilment", {"d": _block(Dsel), "z": _block(Zsel)}, np.zeros(nt), np.full(nt, INF)
    )


def _harmony_segments(layout: _Layout) -> _Rows | None:
    """Objective (b): ``h − β_k·d/y ≤ α_k`` per target and segment of the piecewise-linear harmony.

    The segments join :func:`~commonplan.planning.problem.harmony` at the objective's
    breakpoints; beyond the last one fulfilment adds no harmony (keeps the objective bounded).
    """
    nt = layout.target_product.size
    if layout.kind != "harmony" or not nt:
        return None
    points = np.asarray(layout.problem.objective.breakpoints)
    values = harmony(points)
    slopes = np.diff(values) / np.diff(points)
    intercepts = values[:-1] - slopes * points[:-1]
    slopes, intercepts = np.append(slopes, 0.0), np.append(intercepts, values[-1])
    k = slopes.size
    rows = np.arange(nt * k)
    seg = np.tile(np.arange(k), nt)
    tgt = np.repeat(np.arange(nt), k)
    y_t = layout.target_amounts
    Dsel = _selector(
        rows, layout.target_columns[tgt], (nt * k, layout.n * layout.T), -slopes[seg] / y_t[tgt]
    )
    Hsel = _selector(rows, tgt, (nt * k, nt))
    return _Rows(
        "harmony", {"d": _block(Dsel), "h": _block(Hsel)}, np.full(nt * k, -INF), intercepts[seg]
    )


def _balance_of_payments(layout: _Layout) -> _Rows | None:
    """``imports·x − prices·e ≤ deficit_t`` per period (import accounts summed, in money units)."""
    bop, T = layout.problem.balance_of_payments, layout.T
    if bop is None:
        return None
    eco = layout.problem.economy
    positions = [eco.account_names.index(a) for a in bop.import_accounts]
    imports = sp.csr_array(eco.account_coefficients[positions].sum(axis=0, keepdims=True))
    parts = {"x": _block(imports, T)}
    if layout.export_products.size:
        prices = sp.csr_array(bop.export_prices[layout.export_products][None, :])
        parts["e"] = _block(prices, T, negate=True)
    return _Rows("balance_of_payments", parts, np.full(T, -INF), bop.max_deficit.astype(float))


ROW_BLOCKS = (
    _product_balances,
    _resource_limits,
    _capital_use,
    _capital_stocks,
    _investment_groups,
    _fulfilment,
    _harmony_segments,
    _balance_of_payments,
)
"""The row blocks of the LP, in row order; each returns ``None`` where it does not apply."""


def _column_bounds(layout: _Layout) -> tuple[np.ndarray, np.ndarray]:
    """``col_lower ≤ v ≤ col_upper``: capacities, initial stocks, met targets (c), free harmony."""
    problem, columns = layout.problem, layout.columns
    lower = np.zeros(layout.n_cols)
    upper = np.full(layout.n_cols, INF)
    if problem.capacity is not None:
        upper[columns["x"]] = problem.capacity.T.ravel()
    if layout.q:
        upper[columns["K"].start : columns["K"].start + layout.q] = problem.capital.initial
    if layout.kind == "min_resource":
        lower[columns["d"]] = problem.targets.amounts.T.ravel()
    if columns["h"].stop > columns["h"].start:
        lower[columns["h"]] = -INF
    return lower, upper


def _objective(layout: _Layout, feasibility: bool) -> tuple[np.ndarray, bool]:
    """The costs ``c`` of the minimisation, and whether they negate a maximisation.

    (a) maximises ``Σ_t z_t``, (b) the weighted harmony ``Σ w·h``, (c) minimises the
    resource's use; the feasibility model has no objective.
    """
    problem, columns = layout.problem, layout.columns
    c = np.zeros(layout.n_cols)
    if layout.kind == "max_min_fulfilment":
        c[columns["z"]] = -1.0
        return c, True
    if layout.kind == "harmony":
        c[columns["h"]] = -problem.targets.weights[layout.target_product, layout.target_period]
        return c, True
    if not feasibility:
        eco = problem.economy
        r = eco.account_coefficients[eco.account_names.index(problem.objective.resource)]
        c[columns["x"]] = np.tile(r, layout.T)
    return c, False


def build_model(problem: PlanProblem, *, feasibility: bool = False) -> LinearProgram:
    """Assemble the LP of ``problem`` (no Python loop over products, activities or targets).

    With ``feasibility=True`` every target must be met in full (as in objective (c)) and the
    objective is zero: the feasibility problem whose infeasibility
    :mod:`commonplan.planning.infeasibility` explains.
    """
    layout = _layout(problem, feasibility)
    blocks = [rows for make in ROW_BLOCKS if (rows := make(layout)) is not None and rows.lower.size]
    A = _assemble(
        [rows.parts for rows in blocks],
        [rows.lower.size for rows in blocks],
        layout.columns,
        layout.n_cols,
    )
    col_lower, col_upper = _column_bounds(layout)
    c, maximise = _objective(layout, feasibility)
    return LinearProgram(
        c=c,
        A=A,
        row_lower=np.concatenate([rows.lower for rows in blocks]),
        row_upper=np.concatenate([rows.upper for rows in blocks]),
        col_lower=col_lower,
        col_upper=col_upper,
        columns=layout.columns,
        rows=_slices({rows.name: rows.lower.size for rows in blocks}),
        maximise=maximise,
        resource_rows=[(r.account, t) for t in range(layout.T) for r in problem.resources],
        target_index=(layout.target_product, layout.target_period),
        export_products=layout.export_products,
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
