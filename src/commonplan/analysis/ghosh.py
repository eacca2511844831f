"""The Ghosh (supply-driven) model: allocation coefficients and forward multipliers.

Miller & Blair (2009, §12.1): with ``x̂`` the diagonal of gross output and ``Z = A x̂``
the intermediate flows,

* ``B = x̂⁻¹ Z`` — allocation (output) coefficients: the share of product ``i``'s output
  sold to product ``j`` (rows of zero output are zero, as in pymrio's ``calc_B``);
* ``G = (I − B)⁻¹`` — the Ghosh inverse; ``xᵀ = vᵀ G`` for primary inputs ``v``;
* forward (downstream, supply-driven) output multipliers ``G·1``: the output made
  possible downstream per unit of primary input into ``i`` (M&B §12.2, the row sums);
* downstream account multipliers ``M_down = S (Gᵀ − I)`` (pymrio's ``calc_M_down``):
  the account used downstream, outside ``i`` itself, per unit of primary input into ``i``.

Since ``I − B = x̂⁻¹ (I − A) x̂``, ``G = x̂⁻¹ L x̂`` and ``G·1 = x̂⁻¹ L x``: the forward
multipliers take one Leontief solve and ``M_down`` one per account
(``(S Gᵀ)_{k,i} = (L (x ∘ s_k))_i / x_i``), never a dense inverse, so they scale to sparse
economies of any size. :func:`ghosh_matrices` returns dense ``B`` and ``G`` for small
tables (pymrio's ``calc_B`` and ``calc_G``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.analysis._inputs import account_rows, get_solver
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import UnsupportedOperationError

__all__ = [
    "allocation_coefficients",
    "downstream_multipliers",
    "forward_multipliers",
    "ghosh_matrices",
    "DENSE_GHOSH_LIMIT",
]

DENSE_GHOSH_LIMIT = 5_000
"""Largest number of products for which :func:`ghosh_matrices` forms the dense ``G``."""


def _inverse_output(x: np.ndarray) -> np.ndarray:
    inverse = np.zeros_like(x)
    inverse[x != 0] = 1.0 / x[x != 0]
    return inverse


def allocation_coefficients(economy: Economy) -> sp.csr_array:
    """``B = x̂⁻¹ A x̂`` (products × products, sparse): shares of each row's output by buyer."""
    x = economy._require_levels()
    return sp.csr_array(sp.diags_array(_inverse_output(x)) @ economy.A @ sp.diags_array(x))


def forward_multipliers(economy: Economy, solver: LeontiefSolver | None = None) -> pd.Series:
    """Forward (Ghosh) output multipliers ``G·1 = x̂⁻¹ L x`` per product (dimensionless).

    A product with zero output has ``B``'s row zero, so its multiplier is 1.
    """
    x = economy._require_levels()
    solver = get_solver(economy, solver)
    Lx = solver.solve(x)
    values = np.where(x != 0, Lx * _inverse_output(x), 1.0)
    return pd.Series(values, index=economy.products, name="forward_multiplier")


def downstream_multipliers(
    economy: Economy,
    accounts: str | Sequence[str] | None = None,
    *,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """``M_down = S (Gᵀ − I)``, accounts × products: each account used downstream per unit
    of primary input into a product (the account's unit per money unit). Products with zero
    output get 0 (their row of ``G`` is the unit vector)."""
    names, S = account_rows(economy, accounts)
    x = economy._require_levels()
    if not names:
        return pd.DataFrame(np.zeros((0, economy.n_products)), columns=economy.products)
    solved = get_solver(economy, solver).solve((S * x).T)
    values = (np.asarray(solved).reshape(economy.n_products, -1) * _inverse_output(x)[:, None]).T
    values = np.where(x != 0, values - S, 0.0)
    return pd.DataFrame(values, index=pd.Index(names, name="account"), columns=economy.products)


def ghosh_matrices(economy: Economy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dense ``B`` and ``G = (I − B)⁻¹`` as labelled frames, for at most
    :data:`DENSE_GHOSH_LIMIT` products (use :func:`forward_multipliers` beyond)."""
    n = economy.n_products
    if n > DENSE_GHOSH_LIMIT:
        raise UnsupportedOperationError(
            f"the dense Ghosh inverse of {n:,} products would need {8 * n * n / 1e9:.1f} GB",
            where="ghosh_matrices",
            expected=f"at most {DENSE_GHOSH_LIMIT:,} products",
            fix="use forward_multipliers, which needs one sparse solve",
        )
    B = allocation_coefficients(economy).toarray()
    G = np.linalg.solve(np.eye(n) - B, np.eye(n))
    labels = economy.products
    return pd.DataFrame(B, index=labels, columns=labels), pd.DataFrame(
        G, index=labels, columns=labels
    )
