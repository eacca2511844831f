"""Checks an :class:`~commonplan.economy.Economy` must pass on construction.

Each failure raises the specific :class:`~commonplan.errors.DataError` subclass and
names the product, activity or cell concerned. All checks are vectorised and linear in
the number of non-zeros, so they run on economies of 10⁶ products.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from commonplan.checks import check_finite, check_nonnegative
from commonplan.errors import LabelError, NotProductiveError, ShapeError
from commonplan.linalg.spectral import spectral_radius

if TYPE_CHECKING:
    from commonplan.economy.model import Economy


def _name(economy: Economy) -> str:
    return economy.metadata.name or "economy"


def validate_economy(economy: Economy) -> None:
    where = _name(economy)
    n, m = economy.n_products, economy.n_activities
    for block, matrix in (("use", economy.use), ("make", economy.make)):
        if matrix.shape != (n, m):
            raise ShapeError(
                f"{block} matrix has shape {matrix.shape}",
                where=where,
                expected=f"(products, activities) = ({n}, {m})",
            )
        check_nonnegative(
            matrix,
            what=f"{block} cell",
            where=where,
            labels=(economy.products, economy.activities),
            axes=("input", "activity"),
            fix=f"correct the {block} cell in the source table, or set it to 0",
        )

    make_out = np.asarray(economy.make.sum(axis=0)).ravel()
    no_output = np.flatnonzero(make_out <= 0)
    if no_output.size:
        raise ShapeError(
            f"activity {economy.activities[no_output[0]]} makes nothing "
            f"({no_output.size} such activities)",
            where=where,
            expected="every activity makes at least one product",
            fix="remove the activity or give it an output in the make matrix",
        )

    coefficients = economy.account_coefficients
    if coefficients.shape != (len(economy.account_names), m):
        raise ShapeError(
            f"account coefficients have shape {coefficients.shape}",
            where=where,
            expected=f"(accounts, activities) = ({len(economy.account_names)}, {m})",
        )
    if len(set(economy.account_names)) != len(economy.account_names):
        raise LabelError("duplicate account names", where=where, expected="unique account names")
    check_finite(
        coefficients,
        what="account coefficient",
        where=where,
        labels=(economy.account_names, economy.activities),
        axes=("account", "activity"),
        fix="correct the account value in the source table",
    )

    fd = economy.final_demand_values
    if fd.shape[0] != n or fd.shape[1] != len(economy.final_demand_columns):
        raise ShapeError(
            f"final demand has shape {fd.shape}",
            where=where,
            expected=f"(products, categories) = ({n}, {len(economy.final_demand_columns)})",
        )
    check_finite(
        fd,
        what="final demand",
        where=where,
        labels=(economy.products, economy.final_demand_columns),
        axes=("product", "category"),
    )

    stressors = economy.final_demand_stressor_values
    if stressors is not None:
        expected = (len(economy.account_names), len(economy.final_demand_columns))
        if stressors.shape != expected:
            raise ShapeError(
                f"final-demand stressors have shape {stressors.shape}",
                where=where,
                expected=f"(accounts, final-demand categories) = {expected}",
                fix="give one row per account and one column per final-demand category, or None",
            )
        check_finite(
            stressors,
            what="final-demand stressor",
            where=where,
            labels=(economy.account_names, economy.final_demand_columns),
            axes=("account", "category"),
        )

    levels = economy.activity_levels
    if levels is not None:
        if levels.shape != (m,):
            raise ShapeError(
                f"activity levels have shape {levels.shape}", where=where, expected=f"({m},)"
            )
        check_nonnegative(
            levels,
            what="gross output",
            where=where,
            labels=(economy.activities,),
            axes=("activity",),
            fix="correct the output total in the source table",
        )

    if economy.check_productive and economy.is_symmetric and n:
        check_productive(economy.use, economy.products, where)


def check_productive(A: sp.csr_array, products, where: str) -> None:
    """Raise :class:`NotProductiveError` unless the spectral radius of ``A`` is below 1."""
    rho = spectral_radius(A)
    if rho >= 1.0:
        col_sums = np.asarray(A.sum(axis=0)).ravel()
        worst = int(np.argmax(col_sums))
        raise NotProductiveError(
            f"the economy is not productive: spectral radius of A is {rho:.6g} ≥ 1 "
            f"(largest input cost per unit of output: {products[worst]} with {col_sums[worst]:.6g})",
            where=where,
            expected="spectral radius < 1 (Hawkins–Simon condition)",
            fix="check units and gross output: coefficients are inputs per unit of output, so a column summing to ≥ 1 usually means a wrong output total",
        )
