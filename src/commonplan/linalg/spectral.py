"""Spectral radius of a non-negative matrix, as precise as a comparison with a threshold needs.

An economy is productive when the spectral radius (Perron root) ``ρ(A)`` of its
coefficient matrix is below 1 (Hawkins–Simon condition); a Type II model with households
endogenous must pass the same test on its bordered matrix. Both only need to know on
which side of a threshold ``ρ`` lies, so :func:`spectral_radius` starts from cheap
Collatz–Wielandt bounds (linear in the non-zeros) and computes an eigenvalue only when
the bounds straddle the threshold.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, eigs

BOUNDS_ITERATIONS = 200
"""Largest number of power-iteration steps that refine the Collatz–Wielandt bounds."""
BOUNDS_TOLERANCE = 1e-6
"""Relative gap between the bounds at which their refinement stops."""
POSITIVITY_SHIFT = 1e-12
"""Added to the power-iteration vector (scaled to max 1) so that it stays positive on reducible matrices."""
EIGVALS_LIMIT = 2000
"""Up to this many rows the eigenvalues are computed densely (LAPACK ``geev``); ARPACK above."""


# Bounds this close (relative) differ only by the rounding of the sums that make them.
_ROUNDING = 64 * np.finfo(float).eps


def spectral_radius_bounds(
    A: sp.sparray | np.ndarray,
    iterations: int = BOUNDS_ITERATIONS,
    tol: float = BOUNDS_TOLERANCE,
    *,
    threshold: float = 1.0,
) -> tuple[float, float]:
    """Lower and upper bounds on the spectral radius of a non-negative matrix.

    Uses the Collatz–Wielandt bounds ``min(Av/v) ≤ ρ(A) ≤ max(Av/v)`` for positive ``v``,
    refined by power iteration on ``Aᵀ`` (same spectral radius; a small positive shift keeps
    ``v`` positive when ``A`` is reducible), starting from the smaller of the largest row
    and column sums. Stops as soon as both bounds lie on one side of ``threshold`` or are
    within ``tol`` of each other. Linear in the number of non-zeros per iteration.
    """
    n = A.shape[0]
    A = sp.csr_array(A)
    col_sums = np.asarray(abs(A).sum(axis=0)).ravel()
    row_sums = np.asarray(abs(A).sum(axis=1)).ravel()
    upper = float(min(col_sums.max(initial=0.0), row_sums.max(initial=0.0)))
    lower = 0.0
    v = np.ones(n)
    AT = sp.csr_array(A.T)
    for _ in range(iterations):
        w = AT @ v
        ratio = w / v
        upper = min(upper, float(ratio.max(initial=0.0)))
        lower = max(lower, float(ratio.min()) if ratio.size else 0.0)
        if upper < threshold or lower >= threshold or upper - lower <= tol * max(upper, 1e-300):
            break
        norm = w.max()
        if norm <= 0:
            return 0.0, 0.0
        v = w / norm + POSITIVITY_SHIFT
    return lower, upper


def spectral_radius(A: sp.sparray | np.ndarray, *, threshold: float = 1.0) -> float:
    """``ρ(A)`` of a non-negative matrix, exact enough to say whether it is below ``threshold``.

    Returns the Collatz–Wielandt upper bound when it is already below ``threshold``, the
    lower bound when that is at least ``threshold``, and otherwise the largest eigenvalue
    modulus: dense eigenvalues up to :data:`EIGVALS_LIMIT` rows, ARPACK (``eigs``, largest
    magnitude) above, falling back on the upper bound if ARPACK does not converge (so that
    a doubtful case is treated as not below the threshold). Where the bounds meet to rounding,
    the upper one is returned, for the same reason.
    """
    lower, upper = spectral_radius_bounds(A, threshold=threshold)
    if upper < threshold:
        return upper
    if lower >= threshold:
        return lower
    if upper - lower <= _ROUNDING * upper:
        # The bounds meet to rounding (equal column sums: ρ is that sum); an eigenvalue
        # routine would only add its own rounding, on either side of the threshold.
        return upper
    if A.shape[0] <= EIGVALS_LIMIT:
        dense = A.toarray() if sp.issparse(A) else np.asarray(A)
        return float(np.abs(np.linalg.eigvals(dense)).max(initial=0.0))
    try:
        values = eigs(sp.csr_array(A, dtype=float), k=1, which="LM", return_eigenvectors=False)
    except ArpackNoConvergence:
        return upper
    return float(np.abs(values).max())
