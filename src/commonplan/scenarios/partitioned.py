"""A Leontief solve ``(I − A) x = y`` partitioned by region across Dask workers (block Jacobi).

Each partition (a set of regions) lives on one worker: its rows of ``A``, split into the
block ``A_rr`` among its own products and the columns it buys from other partitions
(only those that are non-zero). One iteration is, on every partition at once,

    x_r ← (I − A_rr)⁻¹ (y_r + A_r,other · x_other)

solved by :class:`~commonplan.linalg.LeontiefSolver` on ``A_rr``, warm-started with the
previous ``x_r``. The driver exchanges only the cross-region entries: each partition sends
the entries of ``x_r`` that others buy, and receives the entries it buys. ``x_r`` stays on
its worker until the end. For a productive non-negative ``A`` this is a regular splitting,
so it converges (Varga 1962, Thm 3.15), at the rate of the spectral radius of
``(I − D)⁻¹ O`` (D the block diagonal, O the imports): the larger the trade between
partitions, the more iterations. The residual of iterate ``k`` is
``A_r,other (x_other^{k+1} − x_other^k)`` plus the inner solves' residual; the loop stops
when its norm relative to ``‖y‖`` is below ``tol``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from commonplan.errors import ExecutorError, ShapeError, SolverError
from commonplan.linalg import LeontiefSolver


def region_partitions(regions: np.ndarray, parts: int) -> list[np.ndarray]:
    """Split products into ``parts`` groups of whole regions (contiguous, balanced by size)."""
    regions = np.asarray(regions)
    names, first = np.unique(regions, return_index=True)
    order = names[np.argsort(first)]
    sizes = np.array([(regions == r).sum() for r in order])
    if not 1 <= parts <= len(order):
        raise ShapeError(
            f"{parts} partitions of {len(order)} regions",
            where="parts",
            expected=f"1 to {len(order)} partitions",
        )
    cuts = np.searchsorted(np.cumsum(sizes), np.linspace(0, sizes.sum(), parts + 1)[1:-1])
    groups = np.split(order, np.unique(np.clip(cuts + 1, 1, len(order) - 1)))
    return [np.flatnonzero(np.isin(regions, g)) for g in groups if len(g)]


@dataclass
class _Block:
    """One partition's rows: its own block's solver, its imports, what it exports."""

    rows: np.ndarray
    y: np.ndarray
    solver: LeontiefSolver
    off: sp.csr_array
    """Rows × the columns it buys from other partitions (``needs``, global indices)."""
    needs: np.ndarray
    exports: np.ndarray
    """Local positions of the entries other partitions buy."""


@dataclass
class _State:
    x: np.ndarray
    boundary: np.ndarray
    residual_sq: float
    seconds: float


def _step(block: _Block, state: _State | None, boundary: np.ndarray) -> _State:
    start = time.perf_counter()
    residual_sq = 0.0
    if state is not None:
        residual_sq = float(np.sum((block.off @ (boundary - state.boundary)) ** 2))
    rhs = block.y + block.off @ boundary
    x = block.solver.solve(rhs, x0=None if state is None else state.x)
    return _State(x, boundary, residual_sq, time.perf_counter() - start)


def _exports(state: _State, block: _Block) -> tuple[np.ndarray, float, float]:
    return state.x[block.exports], state.residual_sq, state.seconds


def _full(state: _State) -> np.ndarray:
    return state.x


@dataclass(frozen=True)
class PartitionedSolution:
    """The answer and what it took: iterations, residual, seconds, entries exchanged."""

    x: np.ndarray
    iterations: int
    residual: float
    """``‖y − (I − A)x‖₂ / ‖y‖₂`` of the last measured iterate."""
    seconds: float
    compute_seconds: float
    """Sum over iterations of the slowest partition's solve (the critical path)."""
    exchanged: int
    """Cross-partition entries sent per iteration (each way)."""

    @property
    def communication_share(self) -> float:
        """Share of the wall time not on the critical path of the solves (exchange, scheduling)."""
        return max(0.0, 1.0 - self.compute_seconds / self.seconds) if self.seconds > 0 else 0.0


def partitioned_solve(
    A,
    y: np.ndarray,
    partitions: list[np.ndarray],
    client,
    *,
    tol: float = 1e-12,
    maxiter: int = 1000,
    timeout: float = 600.0,
) -> PartitionedSolution:
    """``x = (I − A)⁻¹ y`` by block Jacobi over ``partitions`` (index arrays), on a ``distributed.Client``.

    Raises :class:`SolverError` if ``tol`` is not reached in ``maxiter`` iterations, and
    :class:`ExecutorError` if a step does not come back within ``timeout`` seconds.
    """
    start = time.perf_counter()
    A = sp.csr_array(A, dtype=float)
    y = np.asarray(y, dtype=float)
    n = A.shape[0]
    owner = np.full(n, -1)
    for r, rows in enumerate(partitions):
        owner[rows] = r
    if (owner < 0).any() or sum(len(p) for p in partitions) != n:
        raise ShapeError("partitions do not cover every product once", where="partitions")
    workers = sorted(client.scheduler_info()["workers"])
    blocks, futures, places = [], [], []
    for r, rows in enumerate(partitions):
        part = A[rows]
        outside = owner[part.indices] != r
        needs = np.unique(part.indices[outside])
        local = sp.csr_array(part[:, rows])
        off = sp.csr_array(part[:, needs])
        blocks.append((rows, needs, local, off))
    exported = [
        np.unique(
            np.concatenate([b[1][owner[b[1]] == r] for b in blocks] + [np.empty(0, int)])
        ).astype(int)
        for r in range(len(partitions))
    ]
    position = np.empty(n, dtype=int)
    for rows in partitions:
        position[rows] = np.arange(len(rows))
    for r, (rows, needs, local, off) in enumerate(blocks):
        block = _Block(
            rows, y[rows], LeontiefSolver(local, tol=tol * 1e-1), off, needs, position[exported[r]]
        )
        where = [workers[r % len(workers)]]
        places.append(where)
        futures.append(client.scatter(block, workers=where, hash=False))
    values = np.zeros(n)
    states: list = [None] * len(partitions)
    norm = float(np.linalg.norm(y)) or 1.0
    compute = 0.0
    residual = np.inf
    for iteration in range(1, maxiter + 1):
        states = [
            client.submit(
                _step, futures[r], states[r], values[blocks[r][1]], workers=places[r], pure=False
            )
            for r in range(len(partitions))
        ]
        small = [
            client.submit(_exports, states[r], futures[r], workers=places[r], pure=False)
            for r in range(len(partitions))
        ]
        try:
            got = [f.result(timeout=timeout) for f in small]
        except TimeoutError:
            raise ExecutorError(
                f"a block Jacobi step did not finish within {timeout:g} s",
                where="partitioned_solve",
                fix="raise the timeout",
            ) from None
        for r, (part, _, _) in enumerate(got):
            values[exported[r]] = part
        compute += max(s for _, _, s in got)
        if iteration > 1:
            residual = float(np.sqrt(sum(r for _, r, _ in got))) / norm
            if residual <= tol:
                break
    else:
        raise SolverError(
            f"block Jacobi reached a residual of {residual:.2e} after {maxiter} iterations",
            where="partitioned_solve",
            expected=f"≤ {tol:g}",
            fix="raise maxiter or use fewer partitions",
        )
    x = np.empty(n)
    for r, rows in enumerate(partitions):
        x[rows] = client.submit(_full, states[r], workers=places[r], pure=False).result(
            timeout=timeout
        )
    exchanged = int(sum(len(e) for e in exported))
    return PartitionedSolution(
        x, iteration, residual, time.perf_counter() - start, compute, exchanged
    )
