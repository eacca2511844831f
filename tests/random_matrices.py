"""Random sparse coefficient matrices with cycles, for the kernel and planner tests.

Each product gets ``inputs`` inputs from random suppliers (repeats summed), with random
weights scaled so that column ``j`` sums to ``totals[j]``; with all totals below 1 the
matrix is productive (ρ(A) ≤ max column sum).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def sparse_coefficients(
    n: int, inputs: int = 40, seed: int = 0, total: float | None = None
) -> sp.csr_array:
    """``A`` (n × n) with ``inputs`` inputs per product; column sums ``total``, else U[0.3, 0.7]."""
    rng = np.random.default_rng(seed)
    cols = np.repeat(np.arange(n), inputs)
    rows = rng.integers(0, n, cols.size)
    A = sp.csr_array((rng.random(cols.size), (rows, cols)), shape=(n, n))
    A.sum_duplicates()
    sums = np.asarray(A.sum(axis=0)).ravel()
    totals = rng.uniform(0.3, 0.7, n) if total is None else total
    return sp.csr_array(A @ sp.diags_array(totals / sums))
