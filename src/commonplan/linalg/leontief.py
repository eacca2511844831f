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
    tables (``n ≤ dense_limit``, :data:`DENSE_LIMIT` products) that are not too sparse
    (``n³ ≤`` :data:`DENSE_WORK_RATIO` ``· nnz``), where it is fast and exact to rounding.
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

    Given ``blocks`` (a block label per product; the regions of an Economy passed as
    ``A``), GMRES is instead right-preconditioned by block Jacobi, ``P = (I − D)⁻¹`` with
    ``D`` the block-diagonal part of ``A`` (inputs from the product's own region), one
    dense inverse per block: it runs on ``(I − A) P = I − O P`` with ``O = A − D`` (the
    imports) and ``x = P u``. Each region's block has its own near-Perron eigenvalue,
    so a multi-regional spectrum has one outlier per region, which Neumann
    preconditioning leaves to GMRES and block Jacobi removes: on the 49-region benchmark
    table it halves the products with ``A`` per right-hand side (21 → 9). It is used when
    every block has at most :data:`BLOCK_LIMIT` products and applying it costs less than
    about one product with ``A`` (:data:`BLOCK_WORK_RATIO`), otherwise ignored.
``"splu"``
    Sparse LU (SuperLU with COLAMD ordering). Available on request only: it fills in
    badly on input-output matrices with many cycles.

Every solve checks the residual it reached, ``‖b − (I − A)x‖₂ / ‖b‖₂`` per column,
against ``tol`` and raises :class:`~commonplan.errors.SolverError` if it was not
reached; non-finite input raises :class:`~commonplan.errors.InvalidValueError`.
What each solve did (method, GMRES steps, products with ``A``, residual reached, time)
is in :attr:`LeontiefSolver.last_report`. An initial guess ``x0`` (one per column, e.g.
the previous step's answer in a policy iteration) warm-starts GMRES: it then solves for
the correction ``(I − A) δ = b − (I − A) x0``, to the same tolerance relative to ``‖b‖``.

Units: ``A`` is dimensionless per money unit (input per unit of output); ``x`` has the
unit of ``y``; ``p`` has the unit of ``v`` (e.g. hours per USD of output).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from commonplan.errors import InvalidValueError, ShapeError, SolverError
from commonplan.linalg.krylov import (
    MatrixPower,
    OffBlockOperator,
    block_gmres,
    neumann_sum,
    single_gmres,
    single_threaded_blas,
)

Method = Literal["auto", "dense", "gmres", "splu"]

DENSE_LIMIT = 2000
"""Largest table ``method="auto"`` factorises densely (8·n² bytes: 32 MB at 2,000 products)."""
DENSE_WORK_RATIO = 4000
"""``method="auto"`` factorises densely only when ``n³ ≤ DENSE_WORK_RATIO · nnz(A)``.

A dense LU costs about ``n³/3`` multiply-adds at BLAS-3 speed; one GMRES solve about 25
products with ``A``, ``25 · nnz`` multiply-adds at sparse speed (some 15 times slower).
Below this ratio the factorisation costs at most a few single GMRES solves, so neither
side of the switch is orders of magnitude faster than the other (measured in
``benchmarks/bench_thresholds.py``): tables with 40 inputs per product go to GMRES from
about 400 products, dense ones (most published tables) stay dense up to
:data:`DENSE_LIMIT`."""
DEFAULT_TOLERANCE = 1e-12
"""Relative residual ``‖b − (I − A)x‖₂ / ‖b‖₂`` every column must reach by default."""
DEFAULT_RESTART = 40
"""Krylov basis size before GMRES restarts."""
DEFAULT_MAXITER = 1000
"""Largest number of GMRES steps per block of right-hand sides."""
DEFAULT_BLOCK_SIZE = 64
"""Right-hand sides GMRES solves together (the basis holds ``(restart + 1)·n·block_size`` numbers)."""
DEFAULT_NEUMANN_DEGREE = 2
"""Degree ``d`` of the Neumann-series preconditioner ``P = I + A + … + Aᵈ⁻¹`` of GMRES."""
MAX_THREADS = 8
"""Most threads GMRES runs blocks of right-hand sides on (by default, one per available core)."""
BLOCK_MULTIPLE = 4
"""GMRES splits the right-hand sides into a multiple of this many equal blocks (fewer only
when there are fewer columns), whatever the number of threads, so that the answer is the
same bit for bit on every machine: the columns of a block share its GMRES steps."""
BLOCK_LIMIT = 1000
"""Largest block (e.g. region) the block-Jacobi preconditioner inverts densely."""
BLOCK_WORK_RATIO = 4
"""Block-Jacobi preconditioning is used when ``Σ_b s_b² ≤ BLOCK_WORK_RATIO · nnz(A)``.

Applying it costs ``Σ_b s_b²`` multiply-adds per column at BLAS-3 speed, against ``nnz``
at sparse speed for a product with ``A``: with this ratio it costs less than one product."""


@dataclass(frozen=True)
class LeontiefReport:
    """What one call of :meth:`LeontiefSolver.solve` or ``solve_transpose`` did.

    ``max_relative_residual`` is the largest ``‖b − (I − A)x‖₂ / ‖b‖₂`` over the
    right-hand sides; ``iterations`` counts the GMRES steps summed over blocks of
    right-hand sides (0 for direct methods; each step applies ``A`` ``neumann_degree``
    times); ``matvecs`` the products with ``A`` counted per column, residual checks and
    the final ``x = P u`` included; ``warm_start`` whether an initial guess was given;
    ``seconds`` the wall time of the solve.
    """

    method: str
    transposed: bool
    n_rhs: int
    iterations: int
    matvecs: int
    max_relative_residual: float
    tolerance: float
    warm_start: bool = False
    seconds: float = 0.0


class LeontiefSolver:
    """Solve ``(I − A) X = B`` and ``(I − A)ᵀ X = B`` for many ``B`` with one set-up.

    Parameters
    ----------
    A:
        Square technical-coefficient matrix (sparse or dense), or an object with an
        ``A`` attribute (an :class:`~commonplan.economy.Economy`), whose ``A`` is used;
        non-negative with spectral radius below 1 (a validated Economy guarantees both).
    method:
        ``"auto"`` (dense LU up to ``dense_limit`` products when ``n³ ≤``
        :data:`DENSE_WORK_RATIO` ``· nnz(A)``, block GMRES otherwise),
        ``"dense"``, ``"gmres"`` or ``"splu"``; see the module documentation.
    tol:
        Relative residual each column must reach (‖b − (I − A)x‖₂ ≤ tol·‖b‖₂).
    restart:
        Krylov basis size before GMRES restarts.
    maxiter:
        Largest number of GMRES iterations per block of right-hand sides.
    block_size:
        Right-hand sides solved together by GMRES (bounds memory: the basis holds
        ``(restart + 1) · n · block_size`` numbers).
    neumann_degree:
        Degree ``d`` of the Neumann-series preconditioner of GMRES (1 = none): GMRES runs
        on ``(I − A) P = I − Aᵈ`` with ``P = I + A + … + Aᵈ⁻¹`` (right preconditioning,
        so its residual is the true one) and ``x = P u``. With ``d = 2`` it needs about
        half the Krylov steps for the same number of products with ``A``, which halves
        the basis and quarters the orthogonalisation work.
    blocks:
        Block (e.g. region) of each product, for block-Jacobi preconditioning of GMRES
        instead of the Neumann series (see the module documentation); taken from the
        ``region`` level of ``A.products`` when ``A`` is an Economy.
    threads:
        Threads GMRES solves blocks of right-hand sides on at once (default: the cores
        this process may use, at most :data:`MAX_THREADS`). Each block runs on one thread
        with single-threaded BLAS; the sparse products and sums release the GIL. The
        blocks do not depend on ``threads`` (see :data:`BLOCK_MULTIPLE`): the answer is the
        same bit for bit with any number of threads.
    """

    def __init__(
        self,
        A,
        *,
        method: Method = "auto",
        tol: float = DEFAULT_TOLERANCE,
        restart: int = DEFAULT_RESTART,
        maxiter: int = DEFAULT_MAXITER,
        block_size: int = DEFAULT_BLOCK_SIZE,
        dense_limit: int = DENSE_LIMIT,
        neumann_degree: int = DEFAULT_NEUMANN_DEGREE,
        blocks: np.ndarray | None = None,
        threads: int | None = None,
    ) -> None:
        if not (sp.issparse(A) or isinstance(A, np.ndarray)) and hasattr(A, "A"):
            # an Economy (duck typing keeps this module below commonplan.economy)
            blocks = _region_codes(A) if blocks is None else blocks
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
        self.threads = _available_cores() if threads is None else int(max(1, threads))
        if method == "auto":
            small = self.n <= dense_limit and self.n**3 <= DENSE_WORK_RATIO * max(matrix.nnz, 1)
            method = "dense" if small else "gmres"
        if method not in ("dense", "gmres", "splu"):
            raise InvalidValueError(
                f"unknown solver method {method!r}",
                where="method",
                expected="'auto', 'dense', 'gmres' or 'splu'",
            )
        self.method: str = method
        self._AT: sp.csr_array | None = None
        self._groups = _useful_groups(blocks, matrix) if method == "gmres" else None
        self._block_operators: dict[bool, OffBlockOperator] = {}
        self._lu = None
        self._splu = None
        self.last_report: LeontiefReport | None = None
        if method == "dense":
            dense = -matrix.toarray()
            dense[np.diag_indices_from(dense)] += 1.0
            self._lu = la.lu_factor(dense, overwrite_a=True, check_finite=False)
        elif method == "splu":
            system = sp.csc_matrix(sp.identity(self.n, format="csc") - matrix)
            self._splu = spla.splu(system)

    # ---- public API --------------------------------------------------------------------

    def solve(self, rhs: np.ndarray, *, x0: np.ndarray | None = None) -> np.ndarray:
        """Quantities: ``x = (I − A)⁻¹ y`` for each column ``y`` of ``rhs`` (shape (n,) or (n, m)).

        ``x0`` (same shape as ``rhs``) is an initial guess per column for GMRES; the
        direct methods ignore it.
        """
        return self._solve(rhs, x0, transposed=False)

    def solve_transpose(self, rhs: np.ndarray, *, x0: np.ndarray | None = None) -> np.ndarray:
        """Prices and multipliers: ``p = (I − A)⁻ᵀ v`` for each column ``v`` of ``rhs``.

        Row-vector form: ``pᵀ = vᵀ L``, so ``solve_transpose(s)`` gives the multipliers
        ``s L`` of an account with coefficients ``s``. ``x0`` as in :meth:`solve`.
        """
        return self._solve(rhs, x0, transposed=True)

    def inverse(self) -> np.ndarray:
        """The dense Leontief inverse ``L = (I − A)⁻¹`` (n × n). Only call when you need it.

        It is ``n`` right-hand sides, for which one dense LU factorisation costs less than
        ``n`` GMRES solves, so a GMRES solver hands this to a dense one.
        """
        if self.method == "gmres":
            return LeontiefSolver(self.A, method="dense", tol=self.tol).inverse()
        return self.solve(np.eye(self.n))

    # ---- internals ---------------------------------------------------------------------

    def _operator_matrix(self, transposed: bool) -> sp.csr_array:
        if not transposed:
            return self.A
        if self._AT is None:
            self._AT = sp.csr_array(self.A.T)
        return self._AT

    def _columns(self, values, what: str) -> np.ndarray:
        """``values`` as a finite (n, m) float array, or the error naming ``what``."""
        b = np.asarray(values, dtype=np.float64)
        if b.ndim == 1:
            b = b[:, None]
        if b.ndim != 2 or b.shape[0] != self.n:
            raise ShapeError(
                f"{what} has shape {np.shape(values)}",
                where=what,
                expected=f"({self.n},) or ({self.n}, m)",
            )
        if not np.isfinite(b).all():
            raise InvalidValueError(
                f"{what} has non-finite entries",
                where=what,
                expected="finite numbers",
                fix="check final demand or account coefficients for NaN or inf",
            )
        return b

    def _solve(self, rhs: np.ndarray, x0: np.ndarray | None, *, transposed: bool) -> np.ndarray:
        start = time.perf_counter()
        vector = np.ndim(rhs) == 1
        b = self._columns(rhs, "right-hand side")
        guess = None if x0 is None else self._columns(x0, "initial guess")
        if guess is not None and guess.shape != b.shape:
            raise ShapeError(
                f"initial guess has shape {np.shape(x0)}",
                where="initial guess",
                expected=f"the shape of the right-hand side, {np.shape(rhs)}",
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
            x, residual, iterations, matvecs = self._gmres(M, b, guess, transposed)
        if residual is None:
            residual = _relative_residuals(M, x, b)
        worst = float(residual.max(initial=0.0))
        self.last_report = LeontiefReport(
            method=self.method,
            transposed=transposed,
            n_rhs=b.shape[1],
            iterations=iterations,
            matvecs=matvecs,
            max_relative_residual=worst,
            tolerance=self.tol,
            warm_start=guess is not None and self.method == "gmres",
            seconds=time.perf_counter() - start,
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

    def _gmres(
        self, M: sp.csr_array, b: np.ndarray, guess: np.ndarray | None, transposed: bool
    ) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Block GMRES on equal blocks of columns: (x, relative residuals, steps, products with A)."""
        matvecs = 0
        if guess is None:
            r, scale = b, None
        else:
            scale = np.linalg.norm(b, axis=0)
            guess = np.where(scale > 0, guess, 0.0)  # a zero right-hand side has the answer 0
            r = b - guess + M @ guess
            matvecs += b.shape[1]
        x = np.empty_like(b)
        residual = np.empty(b.shape[1])
        operator, solution, d = self._preconditioned(M, transposed)

        def run(block: slice) -> tuple[int, int]:
            kernel = single_gmres if r[:, block].shape[1] == 1 else block_gmres
            u, residual[block], its, mv = kernel(
                operator,
                np.ascontiguousarray(r[:, block]),
                None if scale is None else scale[block],
                self.tol,
                self.restart,
                self.maxiter,
            )
            x[:, block] = solution(u)
            return its, mv * d + (d - 1) * u.shape[1]

        blocks = _column_blocks(b.shape[1], self.block_size, BLOCK_MULTIPLE)
        threads = min(self.threads, len(blocks))
        single = (
            single_threaded_blas() if self._groups is not None or threads > 1 else nullcontext()
        )
        with single:
            if threads > 1:
                with ThreadPoolExecutor(threads, thread_name_prefix="gmres") as pool:
                    counts = list(pool.map(run, blocks))
            else:
                counts = [run(block) for block in blocks]
        iterations = sum(its for its, _ in counts)
        matvecs += sum(mv for _, mv in counts)
        if guess is not None:
            x += guess
        return x, residual, iterations, matvecs

    def _preconditioned(self, M: sp.csr_array, transposed: bool):
        """GMRES's operator, the map from its iterate ``u`` to ``x``, and products with A per application.

        Neumann: ``(Mᵈ, u ↦ (I + M + … + Mᵈ⁻¹) u, d)``; block Jacobi (built once per
        direction): ``(O (I − D)⁻¹, u ↦ (I − D)⁻¹ u, 1)``.
        """
        if self._groups is None:
            d = self.neumann_degree
            operator = M if d == 1 else MatrixPower(M, d)
            return operator, lambda u: neumann_sum(M, u, d), d
        if transposed not in self._block_operators:
            other = self._block_operators.get(not transposed)
            if other is not None:  # the other direction's parts, transposed
                self._block_operators[transposed] = other.transposed()
            else:
                with single_threaded_blas():
                    self._block_operators[transposed] = OffBlockOperator.of(M, *self._groups)
        operator = self._block_operators[transposed]
        return operator, operator.preconditioner.__matmul__, 1


def _available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at most :data:`MAX_THREADS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def _column_blocks(m: int, block_size: int, multiple: int) -> list[slice]:
    """``m`` columns in equal blocks of at most ``block_size``, as many as a multiple of
    ``multiple`` (147 columns, 64, 4: 4 × 37, not 64 + 64 + 19 nor 3 × 49)."""
    if m == 0:
        return []
    count = -(-m // block_size)
    count = min(m, -(-count // multiple) * multiple)
    width = -(-m // count)
    return [slice(start, min(start + width, m)) for start in range(0, m, width)]


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


def _region_codes(table) -> np.ndarray | None:
    """Region of each product of an Economy-like ``table`` (its ``products`` level "region")."""
    products = getattr(table, "products", None)
    names = getattr(products, "names", None) or ()
    if "region" not in names:
        return None
    return np.unique(np.asarray(products.get_level_values("region")), return_inverse=True)[1]


def _useful_groups(
    blocks: np.ndarray | None, matrix: sp.csr_array
) -> tuple[list[slice | np.ndarray], np.ndarray] | None:
    """The groups of ``blocks`` if block-Jacobi preconditioning pays off (see :data:`BLOCK_WORK_RATIO`)."""
    if blocks is None:
        return None
    codes = np.unique(np.asarray(blocks).ravel(), return_inverse=True)[1]
    if codes.size != matrix.shape[0]:
        raise ShapeError(
            f"blocks has {codes.size} entries for {matrix.shape[0]} products",
            where="blocks",
            expected="one block label (e.g. the region) per product",
        )
    sizes = np.bincount(codes)
    if sizes.size < 2 or sizes.max() > BLOCK_LIMIT:
        return None
    if float(sizes @ sizes) > BLOCK_WORK_RATIO * max(matrix.nnz, 1):
        return None
    if (np.diff(codes) >= 0).all():  # contiguous blocks (products sorted by region): views
        ends = np.cumsum(sizes)
        groups = [slice(int(end - size), int(end)) for size, end in zip(sizes, ends, strict=True)]
    else:
        groups = np.split(np.argsort(codes, kind="stable"), np.cumsum(sizes)[:-1])
    return groups, codes
