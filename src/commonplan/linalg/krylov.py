"""Restarted GMRES for ``(I − M) u = r``, one column or a batch of columns at once.

These are the iterative engines of :class:`~commonplan.linalg.LeontiefSolver`. Both run
restarted GMRES (Saad & Schultz 1986) with classical Gram–Schmidt and one
re-orthogonalisation (CGS2, as stable as modified Gram–Schmidt) and Givens rotations.
The batched version keeps one Krylov space per column, so each column gets exactly its
own GMRES iterate, but does the products with ``M`` for all active columns in one
sparse-times-dense product. ``M`` is anything with ``M @ V`` for an ``(n, k)`` block
(the sparse matrix, or :class:`MatrixPower` for the Neumann-preconditioned system).

Convergence is judged against ``scale``, the norm of the original right-hand side (not
of ``r``, which is the residual of the initial guess when the solve is warm-started;
``None`` when ``r`` is the original): a column is done when
``‖r − (I − M)u‖₂ ≤ GMRES_TARGET · tol · scale``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: without it BLAS keeps its threads
    threadpool_limits = None

GMRES_TARGET = 0.5
"""GMRES aims at this fraction of the tolerance, so that the true residual the solver checks passes."""


class MatrixPower:
    """``Mᵈ`` as an operator: ``op @ V`` applies the sparse matrix ``d`` times (never forms Mᵈ)."""

    def __init__(self, matrix: sp.csr_array, degree: int) -> None:
        self.matrix = matrix
        self.degree = degree

    def __matmul__(self, V: np.ndarray) -> np.ndarray:
        for _ in range(self.degree):
            V = self.matrix @ V
        return V


def single_threaded_blas() -> AbstractContextManager:
    """BLAS on one thread (if threadpoolctl is installed) while GMRES runs with :class:`BlockJacobi`.

    The block products are a small part of each step; the rest (the sparse product, the
    Gram–Schmidt sums) runs on one core, and idle BLAS threads spinning beside it made a
    solve several times slower on a busy machine.
    """
    return nullcontext() if threadpool_limits is None else threadpool_limits(1, user_api="blas")


@dataclass(frozen=True, eq=False)
class BlockJacobi:
    """``(I − D)⁻¹`` where ``D`` is the block-diagonal part of a matrix: one dense inverse per block.

    ``groups`` lists the positions (a slice or an index array) of each block, e.g. the
    products of one region; ``inverses`` the dense ``(I − D_b)⁻¹`` (build with :meth:`of`).
    ``D`` is dominated by ``A`` entrywise, so ``ρ(D) ≤ ρ(A) < 1`` and every ``I − D_b`` is
    invertible. Applying it to an ``(n, k)`` block costs ``2 k Σ_b s_b²`` flops in dense
    matrix products (BLAS 3).
    """

    groups: list[slice | np.ndarray]
    inverses: list[np.ndarray]

    @classmethod
    def of(cls, matrix: sp.csr_array, groups: list[slice | np.ndarray]) -> BlockJacobi:
        """Invert the diagonal blocks of ``I − matrix``."""
        inverses = []
        for positions in groups:
            block = -matrix[positions][:, positions].toarray()
            block[np.diag_indices_from(block)] += 1.0
            inverses.append(np.linalg.inv(block))
        return cls(groups, inverses)

    def transposed(self) -> BlockJacobi:
        """``(I − Dᵀ)⁻¹``, the same inverses transposed (no new factorisation)."""
        return BlockJacobi(self.groups, [np.ascontiguousarray(i.T) for i in self.inverses])

    def __matmul__(self, V: np.ndarray) -> np.ndarray:
        out = np.empty(V.shape)
        for positions, inverse in zip(self.groups, self.inverses, strict=True):
            out[positions] = inverse @ V[positions]
        return out


@dataclass(frozen=True, eq=False)
class OffBlockOperator:
    """``O (I − D)⁻¹`` with ``O = A − D``: GMRES on ``(I − A)(I − D)⁻¹ = I − O (I − D)⁻¹``.

    Right preconditioning by :class:`BlockJacobi`; the solution is ``x = (I − D)⁻¹ u``.
    Build it with :meth:`of`.
    """

    off: sp.csr_array
    preconditioner: BlockJacobi

    @classmethod
    def of(
        cls, matrix: sp.csr_array, groups: list[slice | np.ndarray], group_of: np.ndarray
    ) -> OffBlockOperator:
        """Split ``matrix`` into its off-block part and the block-Jacobi inverse of the rest."""
        coo = matrix.tocoo()
        off = group_of[coo.row] != group_of[coo.col]
        return cls(
            sp.csr_array((coo.data[off], (coo.row[off], coo.col[off])), shape=matrix.shape),
            BlockJacobi.of(matrix, groups),
        )

    def transposed(self) -> OffBlockOperator:
        """The operator of the transposed system, ``Oᵀ (I − Dᵀ)⁻¹``, from this one's parts."""
        return OffBlockOperator(sp.csr_array(self.off.T), self.preconditioner.transposed())

    def __matmul__(self, V: np.ndarray) -> np.ndarray:
        return self.off @ (self.preconditioner @ V)


def neumann_sum(M: sp.csr_array, u: np.ndarray, degree: int) -> np.ndarray:
    """``(I + M + … + M^(degree−1)) u``: the Neumann-series preconditioner applied to ``u``."""
    x = u.copy()
    term = u
    for _ in range(degree - 1):
        term = M @ term
        x += term
    return x


def row_norms(V: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, without BLAS threads (see :func:`block_gmres`)."""
    return np.sqrt(np.einsum("kn,kn->k", V, V))


def _norm(v: np.ndarray) -> float:
    """Euclidean norm of a vector, without BLAS threads."""
    return float(np.sqrt(np.einsum("n,n->", v, v)))


def block_gmres(
    M, b: np.ndarray, scale: np.ndarray | None, tol: float, restart: int, maxiter: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Restarted GMRES for ``(I − M) U = B``, one Krylov space per column, products batched.

    Vectors are stored one right-hand side per row (``(k, n)``) so that the Gram–Schmidt
    sums run over contiguous memory; only the sparse product sees the ``(n, k)`` block.
    The sums use ``einsum``, not multi-threaded BLAS: they are memory-bound, and BLAS
    threads spinning on a busy machine made them several times slower. Columns that have
    converged are dropped from the block. Returns (U, relative residual per column
    ``‖B − (I − M)U‖₂ / scale``, block iterations, products with ``M`` per column summed);
    the residual is recomputed from ``U`` at each restart, not taken from the GMRES estimate.
    """
    n, m = b.shape
    bt = np.ascontiguousarray(b.T)  # (m, n)
    xt = np.zeros_like(bt)
    initial = row_norms(bt)
    scale = initial if scale is None else scale
    target = GMRES_TARGET * tol * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(scale > 0, initial / np.where(scale > 0, scale, 1.0), 0.0)
    active = np.flatnonzero(initial > target)
    r = bt[active].copy()
    iterations = matvecs = 0
    while active.size and iterations < maxiter:
        k = active.size
        beta = row_norms(r)
        V = np.empty((k, restart + 1, n))  # basis vectors of column c: V[c, :j+1]
        V[:, 0] = r / np.where(beta > 0, beta, 1.0)[:, None]
        H = np.zeros((k, restart + 1, restart))
        cs = np.zeros((restart, k))
        sn = np.zeros((restart, k))
        g = np.zeros((restart + 1, k))
        g[0] = beta
        steps = 0
        for j in range(restart):
            v = V[:, j]
            w = v - (M @ v.T).T
            iterations += 1
            matvecs += k
            basis = V[:, : j + 1]  # (k, j+1, n)
            h = np.einsum("kjn,kn->kj", basis, w)
            w -= np.einsum("kjn,kj->kn", basis, h)
            h2 = np.einsum("kjn,kn->kj", basis, w)
            w -= np.einsum("kjn,kj->kn", basis, h2)
            h += h2  # (k, j+1)
            hnext = row_norms(w)
            V[:, j + 1] = w / np.where(hnext > 0, hnext, 1.0)[:, None]
            col = np.empty((j + 2, k))
            col[: j + 1] = h.T
            col[j + 1] = hnext
            for i in range(j):  # apply earlier rotations (loop over basis size, not products)
                upper = cs[i] * col[i] + sn[i] * col[i + 1]
                col[i + 1] = -sn[i] * col[i] + cs[i] * col[i + 1]
                col[i] = upper
            denom = np.hypot(col[j], col[j + 1])
            safe = np.where(denom > 0, denom, 1.0)
            cs[j] = np.where(denom > 0, col[j] / safe, 1.0)
            sn[j] = np.where(denom > 0, col[j + 1] / safe, 0.0)
            col[j] = denom
            col[j + 1] = 0.0
            g[j + 1] = -sn[j] * g[j]
            g[j] = cs[j] * g[j]
            H[:, : j + 2, j] = col.T
            steps = j + 1
            if (np.abs(g[j + 1]) <= target[active]).all() or iterations >= maxiter:
                break
        R = H[:, :steps, :steps]
        diag = np.abs(np.diagonal(R, axis1=1, axis2=2))
        R = R + np.where(diag > 0, 0.0, 1.0)[:, :, None] * np.eye(steps)[None]
        y = np.linalg.solve(R, g[:steps].T[:, :, None])  # (k, steps, 1)
        xt[active] += np.einsum("kj,kjn->kn", y[:, :, 0], V[:, :steps])
        xa = xt[active]
        r = bt[active] - xa + (M @ xa.T).T
        matvecs += k
        rnorm = row_norms(r)
        relative[active] = rnorm / scale[active]
        if not np.isfinite(rnorm).all():
            relative[active] = np.inf
            break
        keep = rnorm > target[active]
        active = active[keep]
        r = r[keep]
    return np.ascontiguousarray(xt.T), relative, iterations, matvecs


def single_gmres(
    M, b: np.ndarray, scale: np.ndarray | None, tol: float, restart: int, maxiter: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """:func:`block_gmres` for one right-hand side: the same algorithm on a 2-D basis.

    With one column the Gram–Schmidt steps are single matrix–vector sums (``einsum``,
    single-threaded, see :func:`block_gmres`) and the Givens rotations act on scalars,
    which keeps the work per iteration close to the sparse product(s) it needs (this is
    the path of a single large solve).
    """
    rhs = b[:, 0]
    n = rhs.size
    x = np.zeros(n)
    beta = _norm(rhs)
    bnorm = beta if scale is None else float(scale[0])
    target = GMRES_TARGET * tol * bnorm
    if beta <= target:
        return x[:, None], np.array([beta / bnorm if bnorm > 0 else 0.0]), 0, 0
    r = rhs.copy()
    iterations = matvecs = 0
    relative = beta / bnorm
    V = np.empty((restart + 1, n))
    while iterations < maxiter:
        V[0] = r / beta
        H = np.zeros((restart + 1, restart))
        cs = np.zeros(restart)
        sn = np.zeros(restart)
        g = np.zeros(restart + 1)
        g[0] = beta
        steps = 0
        for j in range(restart):
            w = V[j] - M @ V[j]
            iterations += 1
            matvecs += 1
            basis = V[: j + 1]
            h = np.einsum("jn,n->j", basis, w)
            w -= np.einsum("jn,j->n", basis, h)
            h2 = np.einsum("jn,n->j", basis, w)
            w -= np.einsum("jn,j->n", basis, h2)
            h += h2
            hnext = _norm(w)
            if hnext > 0:
                np.multiply(w, 1.0 / hnext, out=V[j + 1])
            else:
                V[j + 1] = 0.0
            col = np.empty(j + 2)
            col[: j + 1] = h
            col[j + 1] = hnext
            for i in range(j):  # earlier rotations, scalars (loop over basis size)
                upper = cs[i] * col[i] + sn[i] * col[i + 1]
                col[i + 1] = -sn[i] * col[i] + cs[i] * col[i + 1]
                col[i] = upper
            denom = float(np.hypot(col[j], col[j + 1]))
            cs[j], sn[j] = (col[j] / denom, col[j + 1] / denom) if denom > 0 else (1.0, 0.0)
            col[j] = denom
            col[j + 1] = 0.0
            g[j + 1] = -sn[j] * g[j]
            g[j] = cs[j] * g[j]
            H[: j + 2, j] = col
            steps = j + 1
            if abs(g[j + 1]) <= target or iterations >= maxiter or hnext == 0.0:
                break
        R = H[:steps, :steps].copy()
        R[np.diag_indices(steps)] = np.where(np.diag(R) != 0, np.diag(R), 1.0)
        y = np.linalg.solve(R, g[:steps])  # tiny upper-triangular system (steps ≤ restart)
        x += np.einsum("j,jn->n", y, V[:steps])
        r = rhs - x + M @ x
        matvecs += 1
        beta = _norm(r)
        relative = beta / bnorm
        if not np.isfinite(beta):
            relative = np.inf
            break
        if beta <= target:
            break
    return x[:, None], np.array([relative]), iterations, matvecs
