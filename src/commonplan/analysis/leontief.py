"""The Leontief quantity and price models, labelled by product.

* Quantity model: ``x = (I − A)⁻¹ y = L y`` — gross output (money units, the unit of
  ``y``) needed to deliver final demand ``y``.
* Price model: ``pᵀ = vᵀ (I − A)⁻¹ = vᵀ L`` — the cost (or content) per unit of output
  when every product's direct primary inputs per unit are ``v`` (unit of ``v`` per unit
  of output: unit prices when ``v`` is value added per USD; hours per USD when ``v`` is
  hours worked per USD).
* Total requirements ``L`` itself only on request (:func:`total_requirements`).

Source: Leontief (1936, 1941); Miller & Blair (2009), *Input-Output Analysis*, 2nd ed.,
ch. 2 (quantity model) and §2.6 (price model). Both are solved by
:class:`~commonplan.analysis.solver.LeontiefSolver`, never by forming ``L``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from commonplan.analysis._inputs import account_rows, get_solver
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import LabelError, ShapeError


def _aligned(values, economy: Economy, what: str) -> tuple[np.ndarray, pd.Index | None]:
    """Values per product as an (n, m) array aligned to ``economy.products``."""
    if isinstance(values, pd.Series):
        values = values.to_frame()
    if isinstance(values, pd.DataFrame):
        if not values.index.equals(economy.products):
            missing = economy.products.difference(values.index)
            if len(missing):
                raise LabelError(
                    f"{what} lacks products {missing[:3].tolist()}",
                    where=what,
                    expected="one row per product of the economy (index (region, sector))",
                    fix="reindex the values on economy.products, filling absent products with 0",
                )
            values = values.reindex(economy.products)
        return values.to_numpy(dtype=np.float64), values.columns
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] != economy.n_products:
        raise ShapeError(
            f"{what} has shape {np.shape(values)}",
            where=what,
            expected=f"{economy.n_products} values per column (one per product)",
        )
    return array, None


def quantities(
    economy: Economy, final_demand=None, *, solver: LeontiefSolver | None = None
) -> pd.Series | pd.DataFrame:
    """Gross output ``x = L y`` (money units) for final demand ``y``.

    ``final_demand`` may be a Series or DataFrame indexed by product, or an array of
    shape (n,) or (n, m); by default the economy's total final demand, so the result
    reproduces the observed output of a balanced table. A DataFrame gives one column of
    outputs per column of demand.
    """
    if final_demand is None:
        final_demand = economy.total_final_demand
    y, columns = _aligned(final_demand, economy, "final demand")
    x = get_solver(economy, solver).solve(y)
    if x.shape[1] == 1 and (columns is None or isinstance(final_demand, pd.Series)):
        return pd.Series(x[:, 0], index=economy.products, name="gross_output")
    return pd.DataFrame(x, index=economy.products, columns=columns)


def prices(
    economy: Economy,
    primary_inputs: str | Sequence[str] | pd.Series | np.ndarray,
    *,
    solver: LeontiefSolver | None = None,
) -> pd.Series | pd.DataFrame:
    """Unit prices or contents ``pᵀ = vᵀ L`` per unit of each product's output.

    ``primary_inputs`` is an account name (its coefficients are ``v``), a list of names
    (one column each), or coefficients per product (Series/array). With ``v`` the value
    added per unit of output of a balanced table, ``p`` is 1 for every product (the
    dual of the quantity model).
    """
    if isinstance(primary_inputs, str) or (
        isinstance(primary_inputs, Sequence) and all(isinstance(a, str) for a in primary_inputs)
    ):
        names, rows = account_rows(economy, primary_inputs)
        p = get_solver(economy, solver).solve_transpose(rows.T)
        if isinstance(primary_inputs, str):
            return pd.Series(p[:, 0], index=economy.products, name=names[0])
        return pd.DataFrame(p, index=economy.products, columns=pd.Index(names, name="account"))
    v, columns = _aligned(primary_inputs, economy, "primary inputs")
    p = get_solver(economy, solver).solve_transpose(v)
    if p.shape[1] == 1:
        name = primary_inputs.name if isinstance(primary_inputs, pd.Series) else "price"
        return pd.Series(p[:, 0], index=economy.products, name=name)
    return pd.DataFrame(p, index=economy.products, columns=columns)


def total_requirements(economy: Economy, *, solver: LeontiefSolver | None = None) -> pd.DataFrame:
    """The dense Leontief inverse ``L = (I − A)⁻¹`` (products × products, dimensionless).

    ``L[i, j]`` is the output of ``i`` needed per unit of final demand for ``j``. This
    forms an n × n dense matrix (8·n² bytes): only ask for it on tables where you need
    every entry; the other analyses never build it.
    """
    L = get_solver(economy, solver).inverse()
    return pd.DataFrame(L, index=economy.products, columns=economy.products)
