"""Output and account multipliers, Type I (open model) and Type II (households endogenous).

Definitions (Miller & Blair 2009, *Input-Output Analysis*, 2nd ed., ch. 6):

* **Account multipliers** ``M = S L`` (accounts × products): the account (labour, value
  added, imports, emissions …) embodied per unit of final demand for each product, in
  the account's unit per money unit of final demand. This is pymrio's ``M``.
* **Simple output multiplier (Type I)** ``m_j = Σᵢ L_ij``: total output in all sectors per
  unit of final demand for ``j`` (dimensionless).
* For one account with direct coefficients ``s`` (per unit of output):
  *effect* ``(s L)_j`` — the total (direct + indirect) account per unit of final demand
  (ONS "effects", M&B "total multiplier"), and *Type I multiplier* ``(s L)_j / s_j`` —
  total account per unit of the account directly used (e.g. the employment multiplier).
  It is undefined where ``s_j = 0``; following the ONS publication of the UK tables
  (which reports 0 for owner-occupiers' housing, a product without employees) it is
  reported as 0 there, never as NaN.
* **Type II**: households are made endogenous (M&B §6.2.3). The coefficient matrix is
  bordered with one household row and one household column per household group:

  ``Ā = [[A, c], [h, 0]]``, ``h_j`` = household income per unit of output of ``j``
  (the chosen *income account*, e.g. compensation of employees, as a coefficient), and
  ``c_i`` = household purchases of ``i`` per unit of household income = consumption
  column (the chosen final-demand *category*) / total household income ``x_{n+1}``
  (M&B §2.5: the household sector's total output, its income from all sources). Tables
  do not record total household income, and compensation ``Σⱼ h_j x_j`` is only part of
  it (US 2014: households buy 1.22 dollars of domestic products per dollar of
  compensation). The default is therefore the total of the value-added account
  (``Σⱼ v_j x_j``, all primary income earned in the group's products), falling back to
  the income account's total only when the economy has no value-added account;
  ``household_income`` gives the true figure (e.g. national accounts' household income). In a multi-regional
  table with final demand by destination there is one household group per region: it
  earns the income of its region's products and buys the consumption column
  ``(region, category)``. Type II effects are ``s L̄`` restricted to the n products
  (M&B's "truncated" multipliers, household row excluded), Type II output multipliers
  the column sums of ``L̄`` over the n product rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.analysis._inputs import (
    _name,
    account_rows,
    final_demand_column,
    get_solver,
    observed_output,
)
from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import InvalidValueError, NotProductiveError
from commonplan.linalg import DEFAULT_TOLERANCE, spectral_radius

PRODUCTIVE_BELOW = 1.0 - 1e-9
"""The Type II model counts as productive when ``ρ(Ā)`` is below this (a margin for rounding)."""


@dataclass(frozen=True)
class HouseholdClosure:
    """How households are made endogenous for Type II multipliers.

    Attributes
    ----------
    income_account:
        Account whose coefficients are household income per unit of output (e.g.
        ``"compensation"``), in money per money unit of output.
    consumption_category:
        Final-demand category holding household consumption (e.g. ``"households"``).
    household_income:
        Total household income (money units) per household group: a number for a
        one-region economy, a mapping region → income otherwise. Default: the total of
        ``income_total_account`` over the group's products.
    income_total_account:
        Account whose total (coefficient × observed output) stands for household income
        when ``household_income`` is not given. Default: the value-added account
        (``economy.account_for("value_added")``), else ``income_account`` itself.
    """

    income_account: str
    consumption_category: str
    household_income: float | Mapping[str, float] | None = None
    income_total_account: str | None = None


def account_multipliers(
    economy: Economy,
    accounts: str | Sequence[str] | None = None,
    *,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """``M = S L``: each account embodied per unit of final demand, accounts × products.

    Units: the account's unit (``economy.account_units``) per money unit of final demand.
    Same definition as pymrio's ``M`` (``calc_M``), computed by one block of transposed
    solves instead of the dense inverse.
    """
    names, S = account_rows(economy, accounts)
    M = (
        get_solver(economy, solver).solve_transpose(S.T).T
        if names
        else np.zeros((0, economy.n_products))
    )
    return pd.DataFrame(M, index=pd.Index(names, name="account"), columns=economy.products)


def income_total_account(economy: Economy, closure: HouseholdClosure) -> str:
    """The account whose total stands for household income in ``closure`` (see
    :class:`HouseholdClosure`): the one named, else value added, else the income account."""
    if closure.income_total_account is not None:
        return closure.income_total_account
    return economy.account_for("value_added") or closure.income_account


def closed_model(economy: Economy, closure: HouseholdClosure) -> tuple[sp.csr_array, pd.MultiIndex]:
    """The bordered coefficient matrix ``Ā`` of the Type II model and its household labels.

    Raises :class:`NotProductiveError` if households spend more than they earn in a way
    that makes ``Ā`` non-productive (spectral radius ≥ 1).
    """
    _, h = account_rows(economy, closure.income_account)
    h = h[0]
    x = observed_output(economy)
    columns = economy.final_demand_columns
    region_values = economy.products.get_level_values("region")
    if isinstance(columns, pd.MultiIndex) and len(economy.regions) > 1:
        groups = [str(r) for r in economy.regions]
        masks = [np.asarray(region_values == r) for r in groups]
        consumption = [
            final_demand_column(economy, closure.consumption_category, r) for r in groups
        ]
    else:
        groups = [str(economy.regions[0])] if len(economy.regions) == 1 else ["ALL"]
        masks = [np.ones(economy.n_products, dtype=bool)]
        consumption = [final_demand_column(economy, closure.consumption_category)]
    given = closure.household_income
    total_account = income_total_account(economy, closure)
    _, t = account_rows(economy, total_account)
    t = t[0]
    rows, cols = [], []
    for group, mask, c in zip(groups, masks, consumption, strict=True):
        if given is None:
            income = float(t[mask] @ x[mask])
        elif isinstance(given, Mapping):
            income = float(given[group]) if group in given else float(t[mask] @ x[mask])
        else:
            income = float(given)
        if not np.isfinite(income) or income <= 0:
            raise InvalidValueError(
                f"household income of {group!r} is {income:.6g}",
                where=f"{_name(economy)}, account {closure.income_account!r}",
                expected="a positive total household income",
                fix="choose an income account with positive values (e.g. compensation of employees) "
                "or pass household_income",
            )
        rows.append(np.where(mask, h, 0.0))
        cols.append(c / income)
    A = economy.A
    H = sp.csr_array(np.vstack(rows))
    C = sp.csr_array(np.column_stack(cols))
    k = len(groups)
    closed = sp.csr_array(sp.block_array([[A, C], [H, sp.csr_array((k, k))]], format="csr"))
    labels = pd.MultiIndex.from_tuples(
        [(g, "households") for g in groups], names=["region", "sector"]
    )
    rho = spectral_radius(closed, threshold=PRODUCTIVE_BELOW)
    if not rho < PRODUCTIVE_BELOW:
        raise NotProductiveError(
            f"the Type II model with households endogenous is not productive (spectral radius "
            f"{rho:.6g}): households spend more per unit of income than the economy can return",
            where=f"{_name(economy)}, closure ({closure.income_account!r}, {closure.consumption_category!r})",
            expected="household consumption per unit of household income such that ρ(Ā) < 1",
            fix="pass a larger household_income (e.g. disposable income) or a narrower consumption category",
        )
    return closed, labels


def output_multipliers(
    economy: Economy,
    *,
    closure: HouseholdClosure | None = None,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """Simple output multipliers per product: ``type_I`` = 1ᵀL and, with a closure, ``type_II``.

    Dimensionless (total output per unit of final demand for the product).
    """
    n = economy.n_products
    result = pd.DataFrame(index=economy.products)
    result["type_I"] = get_solver(economy, solver).solve_transpose(np.ones(n))
    if closure is not None:
        closed, labels = closed_model(economy, closure)
        ones = np.r_[np.ones(n), np.zeros(len(labels))]
        result["type_II"] = LeontiefSolver(closed, tol=_tol(solver)).solve_transpose(ones)[:n]
    return result


def multiplier_table(
    economy: Economy,
    account: str,
    *,
    closure: HouseholdClosure | None = None,
    solver: LeontiefSolver | None = None,
) -> pd.DataFrame:
    """Direct coefficient, effects and Type I (and Type II) multipliers of one account.

    Columns: ``direct`` (s_j, account unit per money unit of output), ``effect_type_I``
    ((sL)_j, per money unit of final demand), ``multiplier_type_I`` ((sL)_j / s_j,
    dimensionless, 0 where s_j = 0 as in the ONS tables), and with a closure ``effect_type_II`` and
    ``multiplier_type_II`` from ``L̄``.
    """
    names, S = account_rows(economy, account)
    s = S[0]
    n = economy.n_products
    table = pd.DataFrame(index=economy.products)
    table["direct"] = s
    table["effect_type_I"] = get_solver(economy, solver).solve_transpose(s)
    table["multiplier_type_I"] = _ratio(table["effect_type_I"].to_numpy(), s)
    if closure is not None:
        closed, labels = closed_model(economy, closure)
        rhs = np.r_[s, np.zeros(len(labels))]
        effect = LeontiefSolver(closed, tol=_tol(solver)).solve_transpose(rhs)[:n]
        table["effect_type_II"] = effect
        table["multiplier_type_II"] = _ratio(effect, s)
    table.columns.name = names[0]
    return table


def _ratio(effect: np.ndarray, direct: np.ndarray) -> np.ndarray:
    out = np.zeros_like(effect)
    np.divide(effect, direct, out=out, where=direct != 0)
    return out


def _tol(solver: LeontiefSolver | None) -> float:
    return solver.tol if solver is not None else DEFAULT_TOLERANCE
