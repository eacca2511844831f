"""Key sectors: backward and forward linkages and the four-way classification.

* **Backward linkage** (Rasmussen 1956): ``BL_j = Σᵢ L_ij``, the column sums of the
  Leontief inverse — total output needed per unit of final demand for ``j``.
* **Forward linkage** on the supply-side (Ghosh 1958) model, as recommended by
  Miller & Blair (2009) §12.1.3 following Dietzenbacher (1997): ``FL_i = Σⱼ G_ij``, the
  row sums of ``G = (I − B)⁻¹`` with allocation coefficients ``B = x̂⁻¹ Z``. Since
  ``G = x̂⁻¹ L x̂``, ``FL = x̂⁻¹ L x`` — one quantity solve, no inverse. A product with
  zero output has a zero row in ``B`` and so ``FL = 1``.
* **Normalised indices** (Hirschman 1958; Rasmussen's "power of dispersion" and
  "sensitivity of dispersion"): ``U^b_j = BL_j / mean(BL)`` and
  ``U^f_i = FL_i / mean(FL)``, the mean taken over the products compared (all, or the
  products of each region when ``within_region=True``).
* **Classification** (Miller & Blair 2009, Table 12.1): *key* if both indices exceed 1,
  *backward-oriented* if only the backward one does, *forward-oriented* if only the
  forward one does, *weak* otherwise.

All linkage measures are dimensionless.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from commonplan.analysis._inputs import get_solver, observed_output
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy

CLASSES = ("key", "backward-oriented", "forward-oriented", "weak")


def linkages(
    economy: Economy, *, within_region: bool = False, solver: LeontiefSolver | None = None
) -> pd.DataFrame:
    """Backward and forward linkages, normalised indices and the key-sector class per product.

    Columns: ``backward`` (Σᵢ L_ij), ``forward`` (Σⱼ G_ij), ``power_of_dispersion``,
    ``sensitivity_of_dispersion`` and ``classification`` (one of :data:`CLASSES`).
    Needs observed gross output (for the Ghosh model).
    """
    solver = get_solver(economy, solver)
    n = economy.n_products
    x = observed_output(economy)
    backward = solver.solve_transpose(np.ones(n))
    Lx = solver.solve(x)
    forward = np.ones(n)
    positive = x > 0
    forward[positive] = Lx[positive] / x[positive]
    table = pd.DataFrame({"backward": backward, "forward": forward}, index=economy.products)
    if within_region:
        means = table.groupby(level="region", sort=False)[["backward", "forward"]].transform("mean")
    else:
        means = pd.DataFrame(
            np.broadcast_to(table[["backward", "forward"]].mean().to_numpy(), (n, 2)),
            index=table.index,
            columns=["backward", "forward"],
        )
    table["power_of_dispersion"] = table["backward"] / means["backward"]
    table["sensitivity_of_dispersion"] = table["forward"] / means["forward"]
    table["classification"] = classify(
        table["power_of_dispersion"], table["sensitivity_of_dispersion"]
    )
    return table


def classify(power: pd.Series, sensitivity: pd.Series) -> pd.Categorical:
    """The four-way classification from the normalised backward and forward indices."""
    b = np.asarray(power) > 1.0
    f = np.asarray(sensitivity) > 1.0
    labels = np.select([b & f, b & ~f, ~b & f], list(CLASSES[:3]), default=CLASSES[3])
    return pd.Categorical(labels, categories=list(CLASSES))


def key_sectors(linkage_table: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The ``top`` key sectors, ranked by the sum of the two normalised indices."""
    key = linkage_table[linkage_table["classification"] == "key"]
    score = key["power_of_dispersion"] + key["sensitivity_of_dispersion"]
    return key.loc[score.sort_values(ascending=False).index[:top]]
