"""Explaining infeasible plans: which targets and limits conflict, and by how much each must give.

Method: elastic programming (Brown & Graves 1975; Chinneck, *Feasibility and Infeasibility in
Optimization*, 2008, ch. 6). Every target ``d ≥ y`` becomes ``d + s ≥ y``, every resource
limit ``use − u ≤ L``, every finite capacity ``x − w ≤ cap`` and every balance-of-payments
row ``imports − exports − v ≤ deficit``, with relaxations ``s, u, w, v ≥ 0``. HiGHS then
minimises the total *relative* relaxation ``Σ s/y + Σ u/L + …`` (each amount divided by the
size of the requirement it relaxes, so a 10 % cut of a small target weighs like a 10 % cut
of a big one). The relaxations that come out positive are the conflict: the smallest set of
changes, in that measure, that makes the plan feasible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.errors import InfeasiblePlanError, SolverError
from commonplan.planning.model import LinearProgram, build_model
from commonplan.planning.problem import PlanProblem
from commonplan.planning.tolerances import ELASTIC_WEIGHT_FLOOR, NEGLIGIBLE


def _label(index: pd.Index, position: np.ndarray) -> list[str]:
    return ["/".join(map(str, index[k])) for k in position]


@dataclass(frozen=True)
class _Relaxations:
    """One kind of relaxation column: the rows it relaxes, its sign there, and what each relaxes.

    ``new_rows`` (with ``lower ≤ new_rows·v ≤ upper``) are rows the elastic LP adds, for
    requirements the feasibility LP states as column bounds; ``rows`` index the LP's rows
    otherwise, or the new rows (from 0) when ``new_rows`` is given.
    """

    rows: np.ndarray
    sign: float
    description: pd.DataFrame
    new_rows: sp.csr_array | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None


def _describe(kind: str, name: Any, periods: pd.Index, requirement: np.ndarray) -> pd.DataFrame:
    """One row per relaxation column: what it relaxes (kind, name, period) and by how much it is asked."""
    return pd.DataFrame({"kind": kind, "name": name, "period": periods, "requirement": requirement})


def _target_relaxations(
    problem: PlanProblem, lp: LinearProgram, col_lower: np.ndarray
) -> _Relaxations | None:
    """Targets ``d ≥ y`` (column bounds of the feasibility LP) become rows ``d + s ≥ y``."""
    t_i, t_t = lp.target_index
    nt = t_i.size
    d_pos = lp.columns["d"].start + t_t * problem.economy.n_products + t_i
    y = problem.targets.amounts[t_i, t_t]
    col_lower[d_pos] = 0.0
    if not nt:
        return None
    return _Relaxations(
        rows=np.arange(nt),
        sign=1.0,
        description=_describe(
            "target", _label(problem.economy.products, t_i), problem.periods[t_t], y
        ),
        new_rows=sp.csr_array((np.ones(nt), (np.arange(nt), d_pos)), shape=(nt, lp.n_cols)),
        lower=y,
        upper=np.full(nt, np.inf),
    )


def _capacity_relaxations(
    problem: PlanProblem, lp: LinearProgram, col_upper: np.ndarray
) -> _Relaxations | None:
    """Finite capacities ``x ≤ cap`` (column bounds) become rows ``x − w ≤ cap``."""
    if problem.capacity is None:
        return None
    m = problem.economy.n_activities
    caps = problem.capacity.T.ravel()
    cap_pos = np.flatnonzero(np.isfinite(caps))
    columns = lp.columns["x"].start + cap_pos
    col_upper[columns] = np.inf
    k = cap_pos.size
    if not k:
        return None
    return _Relaxations(
        rows=np.arange(k),
        sign=-1.0,
        description=_describe(
            "capacity",
            _label(problem.economy.activities, cap_pos % m),
            problem.periods[cap_pos // m],
            caps[cap_pos],
        ),
        new_rows=sp.csr_array((np.ones(k), (np.arange(k), columns)), shape=(k, lp.n_cols)),
        lower=np.full(k, -np.inf),
        upper=caps[cap_pos],
    )


def _limit_relaxations(problem: PlanProblem, lp: LinearProgram) -> list[_Relaxations]:
    """Finite resource limits ``use ≤ L`` and balance-of-payments rows become ``use − u ≤ L``."""
    found = []
    for block, kind in (("resources", "limit"), ("balance_of_payments", "balance_of_payments")):
        if block not in lp.rows:
            continue
        rows = np.arange(lp.rows[block].start, lp.rows[block].stop)
        finite = rows[np.isfinite(lp.row_upper[rows])]
        if kind == "limit":
            accounts = [lp.resource_rows[k - rows[0]] for k in finite]
            names = [a for a, _ in accounts]
            periods = problem.periods[[t for _, t in accounts]]
        else:
            names, periods = "imports − exports", problem.periods[finite - rows[0]]
        description = _describe(kind, names, periods, lp.row_upper[finite])
        found.append(_Relaxations(rows=finite, sign=-1.0, description=description))
    return found


def _relaxation_weights(requirement: np.ndarray) -> np.ndarray:
    """``1 / |requirement|``, with requirements below the floor weighed as the floor."""
    positive = requirement[requirement > 0]
    floor = ELASTIC_WEIGHT_FLOOR * (positive.max() if positive.size else 1.0)
    return 1.0 / np.maximum(np.abs(requirement), floor)


def elastic_program(problem: PlanProblem) -> tuple[LinearProgram, pd.DataFrame]:
    """The elastic LP and a table describing each relaxation column (kind, name, period, requirement)."""
    lp = build_model(problem, feasibility=True)
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    added = [
        r
        for r in (
            _target_relaxations(problem, lp, col_lower),
            _capacity_relaxations(problem, lp, col_upper),
        )
        if r is not None
    ]
    kinds = added + _limit_relaxations(problem, lp)
    A = sp.csr_array(lp.A)
    all_rows = sp.vstack([A, *(r.new_rows for r in added)], format="csr") if added else A
    positions, offset = [], lp.n_rows
    for r in kinds:
        if r.new_rows is not None:
            positions.append(offset + r.rows)
            offset += r.rows.size
        else:
            positions.append(r.rows)
    position = np.concatenate(positions) if positions else np.zeros(0, int)
    signs = np.concatenate([np.full(r.rows.size, r.sign) for r in kinds]) if kinds else np.zeros(0)
    k = position.size
    relax = sp.csr_array((signs, (position, np.arange(k))), shape=(all_rows.shape[0], k))
    table = (
        pd.concat([r.description for r in kinds], ignore_index=True)
        if kinds
        else pd.DataFrame(columns=["kind", "name", "period", "requirement"])
    )
    n_cols = lp.n_cols
    elastic = LinearProgram(
        c=np.concatenate(
            [np.zeros(n_cols), _relaxation_weights(table["requirement"].to_numpy(dtype=float))]
        ),
        A=sp.csc_array(sp.hstack([all_rows, relax], format="csr")),
        row_lower=np.concatenate([lp.row_lower, *(r.lower for r in added)]),
        row_upper=np.concatenate([lp.row_upper, *(r.upper for r in added)]),
        col_lower=np.concatenate([col_lower, np.zeros(k)]),
        col_upper=np.concatenate([col_upper, np.full(k, np.inf)]),
        columns={**lp.columns, "relax": slice(n_cols, n_cols + k)},
        rows=lp.rows,
    )
    return elastic, table


def explain_infeasibility(problem: PlanProblem) -> pd.DataFrame:
    """Conflicting targets and limits: one row per requirement that must give, with the amount.

    Columns: ``kind`` (target, limit, capacity, balance_of_payments), ``name`` (product,
    account or activity), ``period``, ``requirement`` (the target or limit as given),
    ``relaxation`` (how much it must give, same unit), ``relative`` (relaxation / requirement).
    """
    from commonplan.planning.solve import run_highs

    elastic, table = elastic_program(problem)
    result = run_highs(elastic, "simplex")
    if result.status != "Optimal":
        raise SolverError(
            f"the elastic (relaxed) problem could not be solved either: {result.status}",
            where=f"problem {problem.name!r}",
            fix="check the data for inconsistent units or values",
        )
    relaxation = result.col_value[elastic.columns["relax"]]
    table = table.assign(relaxation=relaxation)
    table["relative"] = table["relaxation"] / table["requirement"].where(table["requirement"] > 0)
    scale = max(float(table["requirement"].abs().max()), 1.0)
    conflicts = table[table["relaxation"] > NEGLIGIBLE * scale].sort_values(
        "relative", ascending=False, na_position="first"
    )
    return conflicts.reset_index(drop=True)


def raise_infeasible(problem: PlanProblem) -> None:
    """Raise :class:`InfeasiblePlanError` with the conflicts in its message and ``conflicts``."""
    conflicts = explain_infeasibility(problem)
    parts = []
    for _, row in conflicts.head(6).iterrows():
        verb = "lower" if row["kind"] == "target" else "raise"
        parts.append(
            f"{verb} {row['kind']} {row['name']} in period {row['period']} by {row['relaxation']:.6g} (of {row['requirement']:.6g})"
        )
    more = f" and {len(conflicts) - 6} more" if len(conflicts) > 6 else ""
    raise InfeasiblePlanError(
        f"no plan meets all targets within the limits; the smallest relaxation: {'; '.join(parts)}{more}",
        conflicts=conflicts,
        where=f"problem {problem.name!r}",
        expected="targets that the limits, capacities and capital allow",
        fix="lower the listed targets or raise the listed limits by at least the amounts shown",
    )
