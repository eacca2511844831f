"""Labour values: the labour embodied, directly and indirectly, per unit of each product.

``λ = l (I − A)⁻¹ = l L`` (row vector), equivalently the solution of
``λ_j = l_j + Σᵢ λ_i a_ij``: the labour of the product's own activity plus the labour
embodied in the inputs it uses up (Okishio 1963; Morishima 1973, *Marx's Economics*,
ch. 1; for input-output practice Miller & Blair 2009 §6.3 "employment multipliers").

``l`` is any labour account of the economy: hours worked, persons employed, or a
skill-specific kind of labour. Units: the account's unit per money unit of output
(e.g. hours per USD million when the account counts hours and output is in USD
million). Capital consumption is not added (the vertically-integrated labour of the
circulating-capital model).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from commonplan.analysis._inputs import account_rows, get_solver
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy


def labour_values(
    economy: Economy,
    account: str | Sequence[str],
    *,
    solver: LeontiefSolver | None = None,
) -> pd.Series | pd.DataFrame:
    """Labour embodied per unit of each product for one labour account (or several).

    Returns a Series named after the account (a DataFrame with one column per account
    when several are given), indexed by product.
    """
    names, rows = account_rows(economy, account)
    values = get_solver(economy, solver).solve_transpose(rows.T)
    if isinstance(account, str):
        series = pd.Series(values[:, 0], index=economy.products, name=names[0])
        series.attrs["unit"] = (
            f"{economy.account_units.get(names[0], '') or 'account unit'} per unit of output"
        )
        return series
    return pd.DataFrame(values, index=economy.products, columns=pd.Index(names, name="account"))
