"""The Leontief solver: solving ``(I − A) x = y`` and ``(I − A)ᵀ p = v`` many times over.

:class:`LeontiefSolver` prepares its machinery once for a coefficient matrix ``A`` and
then solves any number of right-hand sides, for the quantity model (``x = L y``) and for
the price / multiplier model (``p = Lᵀ v``, i.e. ``pᵀ = vᵀ L``), where
``L = (I − A)⁻¹`` is the Leontief inverse (total requirements).

Methods
-------
``"dense"``
    LU factorisation of the dense ``I − A`` (LAPACK ``getrf`` through SciPy), reused for
    both systems (``getrs`` with and without transposition). The default for small
    tables (``n ≤ dense_limit``, 2,000 products), where it is both fastest and exact to
    rounding.
``"gmres"``
    Restarted GMRES (Saad & Schultz 1986) run on a block of right-hand sides at once:
    each column keeps its own Krylov basis (so each column gets exactly the GMRES
    iterate), but the matrix products ``A·V`` are done for the whole block in one
    sparse-times-dense product, which is what makes many right-hand sides cheap. Only
    ``A`` (and, for the transposed system, a CSR copy of ``Aᵀ``) is stored: nothing
    fills in. GMRES minimises the residual over the Krylov space that also contains
    the truncated Neumann series ``Σₖ Aᵏ y``, so it never needs more products than
    the Neumann series and, because the spectrum of a real ``A`` is a single Perron
    root ``ρ(A) < 1`` and a cluster near zero, usually far fewer. It is
    right-preconditioned by the first terms of that series, ``P = I + A + … + Aᵈ⁻¹``
    (``neumann_degree``, default 2): GMRES then works on ``I − Aᵈ``, whose spectrum is
    clustered closer to 1, in half the steps, and ``x = P u``. The default for large
    tables.
``"splu"``
    Sparse LU (SuperLU with COLAMD ordering). Available on request only: it fills in
    badly on input-output matrices with many cycles.

Every solve checks the residual it reached, ``‖b − (I − A)x‖₂ / ‖b‖₂`` per column,
against ``tol`` and raises :class:`~commonplan.errors.SolverError` if it was not
reached; non-finite input raises :class:`~commonplan.errors.InvalidValueError`.
The achieved figures are in :attr:`LeontiefSolver.last_report`.

Units: ``A`` is dimensionless per money unit (input per unit of output); ``x`` has the
unit of ``y``; ``p`` has the unit of ``v`` (e.g. hours per USD of output).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from commonplan.economy import Economy
from commonplan.errors import InvalidValueError, ShapeError, SolverError

Method = Literal["auto", "dense", "gmres", "splu"]

DENSE_LIMIT = 2000
"""Tables up to this many products use a dense LU factorisation by default."""


@dataclass(frozen=True)
class SolveReport:
    """What one call of :meth:`LeontiefSolver.solve` or ``solve_transpose`` achieved.

    ``max_relative_residual`` is the largest ``‖b − (I − A)x‖₂ / ‖b‖₂`` over the
    right-hand sides; ``iterations`` counts the GMRES steps summed over blocks of
    right-hand sides (0 for direct methods; each step applies ``A`` ``neumann_degree``
    times); ``matvecs`` the products with ``A`` counted per column, residual checks and
    the final ``x = P u`` included.
    """

    method: str
    transposed: bool
    n_rhs: int
    iterations: int
    matvecs: int
    max_relative_residual: float
    tolerance: float


class LeontiefSolver:
    """Solve ``(I − A) X = B`` and ``(I − A)ᵀ X = B`` for many ``B`` with one set-up.

    Parameters
    ----------
    A:
        Square technical-coefficient matrix (sparse or dense), or an :class:`~commonplan.economy.Economy`
        whose ``A`` is used; non-negative with spectral
        radius below 1 (a validated :class:`~commonplan.economy.Economy` guarantees both).
    method:
        ``"auto"`` (dense LU up to ``dense_limit`` products, block GMRES above),
        ``"dense"``, ``"gmres"`` or ``"splu"``; see the module documentation.
    tol:
        Relative residual each column must reach (‖b − (I − A)x‖₂ ≤ tol·‖b‖₂).
    restart:
        Krylov basis size before GMRES restarts.
    maxiter:
        Largest number of GMRES iterations (matrix products) in all.
    block_size:
        Right-hand sides solved together by GMRES (bounds memory: the basis holds
        ``(restart + 1) · n · block_size`` numbers).
    neumann_degree:
        Degree ``d`` of the Neumann-series preconditioner of GMRES (1 = none): GMRES runs
        on ``(I − A) P = I − Aᵈ`` with ``P = I + A + … + Aᵈ⁻¹`` (right preconditioning,
        so its residual is the true one) and ``x = P u``. With ``d = 2`` it needs about
        half the Krylov steps for the same number of products with ``A``, which halves
        the basis and quarters the orthogonalisation work.
    """

    def __init__(
        self,
        A: sp.sparray | np.ndarray | Economy,
        *,
        method: Method = "auto",
        tol: float = 1e-12,
        restart: int = 40,
        maxiter: int = 1000,
        block_size: int = 64,
        dense_limit: int = DENSE_LIMIT,
        neumann_degree: int = 2,
    ) -> None:
        if isinstance(A, Economy):
            A = A.A
        matrix = sp.csr_array(A, dtype=np.float64)
        if matrix.shape[0] != matrix.shape[1]:
            raise ShapeError(
                f"coefficient matrix has shape {matrix.shape}",
                where="A",
                expected="a square matrix (products × products)",
            )
        if matrix.nnz and not np.isfinite(matrix.data).all():
            raise InvalidValueError(
                "coefficient matrix has non-finite entries",
                where="A",
                expected="finite coefficients",
                fix="build the matrix from a validated Economy",
            )
        if not tol > 0:
            raise InvalidValueError(
                f"tolerance {tol!r} is not positive", where="tol", expected="tol > 0"
            )
        self.A = matrix
        self.n = matrix.shape[0]
        self.tol = float(tol)
        self.restart = int(max(1, restart))
        self.maxiter = int(maxiter)
        self.block_size = int(max(1, block_size))
        self.neumann_degree = int(max(1, neumann_degree))
        if method == "auto":
            method = "dense" if self.n <= dense_limit else "gmres"
        if method not in ("dense", "gmres", "splu"):
            raise InvalidValueError(
                f"unknown solver method {method!r}",
                where="method",
                expected="'auto', 'dense', 'gmres' or 'splu'",
            )
        self.method: str = method
        self._AT: sp.csr_array | None = None
        self._lu = None
        self._splu = None
        self.last_report: SolveReport | None = None
        if method == "dense":
            dense = -matrix.toarray()
            dense[np.diag_indices_from(dense)] += 1.0
            self._lu = la.lu_factor(dense, overwrite_a=True, check_finite=False)
        elif method == "splu":
            system = sp.csc_matrix(sp.identity(self.n, format="csc") - matrix)
            self._splu = spla.splu(system)

    # ---- public API --------------------------------------------------------------------

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """Quantities: ``x = (I − A)⁻¹ y`` for each column ``y`` of ``rhs`` (shape (n,) or (n, m))."""
        return self._solve(rhs, transposed=False)

    def solve_transpose(self, rhs: np.ndarray) -> np.ndarray:
        """Prices and multipliers: ``p = (I − A)⁻ᵀ v`` for each column ``v`` of ``rhs``.

        Row-vector form: ``pᵀ = vᵀ L``, so ``solve_transpose(s)`` gives the multipliers
        ``s L`` of an account with coefficients ``s``.
        """
        return self._solve(rhs, transposed=True)

    def inverse(self) -> np.ndarray:
        """The dense Leontief inverse ``L = (I − A)⁻¹`` (n × n). Only call when you need it."""
        return self.solve(np.eye(self.n))

    # ---- internals ---------------------------------------------------------------------

    def _operator_matrix(self, transposed: bool) -> sp.csr_array:
        if not transposed:
            return self.A
        if self._AT is None:
            self._AT = sp.csr_array(self.A.T)
        return self._AT

    def _solve(self, rhs: np.ndarray, *, transposed: bool) -> np.ndarray:
        b = np.asarray(rhs, dtype=np.float64)
        vector = b.ndim == 1
        if vector:
            b = b[:, None]
        if b.ndim != 2 or b.shape[0] != self.n:
            raise ShapeError(
                f"right-hand side has shape {np.shape(rhs)}",
                where="right-hand side",
                expected=f"({self.n},) or ({self.n}, m)",
            )
        if not np.isfinite(b).all():
            raise InvalidValueError(
                "right-hand side has non-finite entries",
                where="right-hand side",
                expected="finite numbers",
                fix="check final demand or account coefficients for NaN or inf",
            )
        M = self._operator_matrix(transposed)
        iterations = matvecs = 0
        residual = None
        if b.shape[1] == 0:
            x = np.zeros_like(b)
        elif self.method == "dense":
            x = la.lu_solve(self._lu, b, trans=1 if transposed else 0, check_finite=False)
        elif self.method == "splu":
            x = self._splu.solve(np.asfortranarray(b), trans="T" if transposed else "N")
            x = np.asarray(x).reshape(b.shape)
        else:
            x = np.empty_like(b)
            residual = np.empty(b.shape[1])
            blocks = -(-b.shape[1] // self.block_size)  # equal blocks: 147 → 3 × 49, not 64+64+19
            width = -(-b.shape[1] // blocks)
            d = self.neumann_degree
            operator = M if d == 1 else _MatrixPower(M, d)
            for start in range(0, b.shape[1], width):
                block = slice(start, start + width)
                kernel = _gmres_single if b[:, block].shape[1] == 1 else _block_gmres
                u, residual[block], its, mv = kernel(
                    operator,
                    np.ascontiguousarray(b[:, block]),
                    self.tol,
                    self.restart,
                    self.maxiter,
                )
                x[:, block] = _neumann_sum(M, u, d)  # x = (I + A + … + Aᵈ⁻¹) u
                iterations += its
                matvecs += mv * d + (d - 1) * u.shape[1]
        if residual is None:
            residual = _relative_residuals(M, x, b)
        worst = float(residual.max(initial=0.0))
        self.last_report = SolveReport(
            method=self.method,
            transposed=transposed,
            n_rhs=b.shape[1],
            iterations=iterations,
            matvecs=matvecs,
            max_relative_residual=worst,
            tolerance=self.tol,
        )
        if not np.isfinite(x).all() or not worst <= self.tol:
            column = int(np.nanargmax(np.where(np.isfinite(residual), residual, np.inf)))
            raise SolverError(
                f"Leontief {'price' if transposed else 'quantity'} solve ({self.method}) reached a "
                f"relative residual of {worst:.3g} (column {column}), above the tolerance {self.tol:.3g}",
                where="LeontiefSolver",
                expected="a productive economy (spectral radius of A well below 1)",
                fix="loosen tol, raise maxiter/restart, or use method='dense' for a small table",
            )
        return x[:, 0] if vector else x


class _MatrixPower:
    """``Aᵈ`` as an operator: ``op @ V`` applies the sparse matrix ``d`` times (never forms Aᵈ)."""

    def __init__(self, matrix: sp.csr_array, degree: int) -> None:
        self.matrix = matrix
        self.degree = degree

    def __matmul__(self, V: np.ndarray) -> np.ndarray:
        for _ in range(self.degree):
            V = self.matrix @ V
        return V


def _neumann_sum(M: sp.csr_array, u: np.ndarray, degree: int) -> np.ndarray:
    """``(I + M + … + M^(degree−1)) u``."""
    x = u.copy()
    term = u
    for _ in range(degree - 1):
        term = M @ term
        x += term
    return x


def _row_norms(V: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row, without BLAS threads (see :func:`_block_gmres`)."""
    return np.sqrt(np.einsum("kn,kn->k", V, V))


def _norm(v: np.ndarray) -> float:
    """Euclidean norm of a vector, without BLAS threads."""
    return float(np.sqrt(np.einsum("n,n->", v, v)))


def _relative_residuals(M: sp.csr_array, x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """‖b − (x − M x)‖₂ / ‖b‖₂ per column (0 where b = 0 and x = 0)."""
    r = b - x + M @ x
    rnorm = np.linalg.norm(r, axis=0)
    bnorm = np.linalg.norm(b, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(
            bnorm > 0, rnorm / np.where(bnorm > 0, bnorm, 1.0), np.where(rnorm > 0, np.inf, 0.0)
        )
    return rel


def _block_gmres(
    M: sp.csr_array, b: np.ndarray, tol: float, restart: int, maxiter: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Restarted GMRES for ``(I − M) X = B``, one Krylov space per column, products batched.

    Classical Gram–Schmidt with one re-orthogonalisation (CGS2, as stable as modified
    Gram–Schmidt) and Givens rotations, all vectorised over the columns. Vectors are
    stored one right-hand side per row (``(k, n)``) so that the Gram–Schmidt sums run
    over contiguous memory; only the sparse product sees the ``(n, k)`` block. The sums
    use ``einsum``, not multi-threaded BLAS: they are memory-bound, and BLAS threads
    spinning on a busy machine made them several times slower. Columns that have converged are dropped from the block. Returns (X, true
    relative residual per column, block iterations, matvecs); the residual is computed
    from ``B − (I − M)X``, not from the GMRES estimate.
    """
    n, m = b.shape
    bt = np.ascontiguousarray(b.T)  # (m, n)
    xt = np.zeros_like(bt)
    bnorm = _row_norms(bt)
    # Aim a little below tol so that the true residual (checked by the caller) passes.
    target = 0.5 * tol * bnorm
    active = np.flatnonzero(bnorm > 0)
    relative = np.zeros(m)
    relative[active] = 1.0
    r = bt[active].copy()
    iterations = matvecs = 0
    while active.size and iterations < maxiter:
        k = active.size
        beta = _row_norms(r)
        if (beta <= target[active]).all():
            break
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
            hnext = _row_norms(w)
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
        rnorm = _row_norms(r)
        relative[active] = rnorm / bnorm[active]
        if not np.isfinite(rnorm).all():
            relative[active] = np.inf
            break
        keep = rnorm > target[active]
        active = active[keep]
        r = r[keep]
    return np.ascontiguousarray(xt.T), relative, iterations, matvecs


def _gmres_single(
    M: sp.csr_array, b: np.ndarray, tol: float, restart: int, maxiter: int
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """:func:`_block_gmres` for one right-hand side: the same algorithm on a 2-D basis.

    With one column the Gram–Schmidt steps are single matrix–vector sums (``einsum``,
    single-threaded, see :func:`_block_gmres`) and the Givens rotations act on scalars,
    which keeps the work per iteration close to the sparse product(s) it needs (this is
    the path of a single large solve).
    """
    rhs = b[:, 0]
    n = rhs.size
    x = np.zeros(n)
    bnorm = _norm(rhs)
    if bnorm == 0.0:
        return x[:, None], np.zeros(1), 0, 0
    target = 0.5 * tol * bnorm
    r = rhs.copy()
    beta = bnorm
    iterations = matvecs = 0
    relative = 1.0
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
