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

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.errors import InfeasiblePlanError, SolverError
from commonplan.planning.model import LinearProgram, build_model
from commonplan.planning.problem import PlanProblem
from commonplan.planning.tolerances import ELASTIC_WEIGHT_FLOOR, NEGLIGIBLE


def _label(index: pd.Index, position: np.ndarray) -> list[str]:
    return ["/".join(map(str, index[k])) for k in position]


def elastic_program(problem: PlanProblem) -> tuple[LinearProgram, pd.DataFrame]:
    """The elastic LP and a table describing each relaxation column (kind, name, period, requirement)."""
    lp = build_model(problem, feasibility=True)
    eco = problem.economy
    n, m = eco.n_products, eco.n_activities
    A = sp.csr_array(lp.A)
    n_cols = lp.n_cols
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    row_lower, row_upper = lp.row_lower.copy(), lp.row_upper.copy()
    extra_rows: list[sp.csr_array] = []
    extra_lower: list[np.ndarray] = []
    extra_upper: list[np.ndarray] = []
    descriptions: list[pd.DataFrame] = []

    # targets: d + s ≥ y
    t_i, t_t = lp.target_index
    nt = t_i.size
    d_pos = lp.columns["d"].start + t_t * n + t_i
    y = problem.targets.amounts[t_i, t_t]
    col_lower[d_pos] = 0.0
    if nt:
        extra_rows.append(sp.csr_array((np.ones(nt), (np.arange(nt), d_pos)), shape=(nt, n_cols)))
        extra_lower.append(y)
        extra_upper.append(np.full(nt, np.inf))
        descriptions.append(
            pd.DataFrame(
                {
                    "kind": "target",
                    "name": _label(eco.products, t_i),
                    "period": problem.periods[t_t],
                    "requirement": y,
                }
            )
        )
    # capacities: x − w ≤ cap
    cap_pos = np.zeros(0, int)
    if problem.capacity is not None:
        caps = problem.capacity.T.ravel()
        cap_pos = np.flatnonzero(np.isfinite(caps))
        col_upper[lp.columns["x"].start + cap_pos] = np.inf
        if cap_pos.size:
            extra_rows.append(
                sp.csr_array(
                    (
                        np.ones(cap_pos.size),
                        (np.arange(cap_pos.size), lp.columns["x"].start + cap_pos),
                    ),
                    shape=(cap_pos.size, n_cols),
                )
            )
            extra_lower.append(np.full(cap_pos.size, -np.inf))
            extra_upper.append(caps[cap_pos])
            descriptions.append(
                pd.DataFrame(
                    {
                        "kind": "capacity",
                        "name": _label(eco.activities, cap_pos % m),
                        "period": problem.periods[cap_pos // m],
                        "requirement": caps[cap_pos],
                    }
                )
            )

    all_rows = sp.vstack([A, *extra_rows], format="csr") if extra_rows else A
    n_rows = all_rows.shape[0]
    lower = np.concatenate([row_lower, *extra_lower])
    upper = np.concatenate([row_upper, *extra_upper])
    base_rows = lp.n_rows
    entries: list[tuple[np.ndarray, float]] = []  # (row positions, sign)
    # target and capacity relaxations act on the new rows
    offset = base_rows
    if nt:
        entries.append((offset + np.arange(nt), 1.0))
        offset += nt
    if cap_pos.size:
        entries.append((offset + np.arange(cap_pos.size), -1.0))
        offset += cap_pos.size
    # resource limits and the balance of payments: use − u ≤ L
    for block, kind in (("resources", "limit"), ("balance_of_payments", "balance_of_payments")):
        if block not in lp.rows:
            continue
        rows = np.arange(lp.rows[block].start, lp.rows[block].stop)
        finite = rows[np.isfinite(upper[rows])]
        entries.append((finite, -1.0))
        if kind == "limit":
            accounts = [lp.resource_rows[k - rows[0]] for k in finite]
            descriptions.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "name": [a for a, _ in accounts],
                        "period": problem.periods[[t for _, t in accounts]],
                        "requirement": upper[finite],
                    }
                )
            )
        else:
            descriptions.append(
                pd.DataFrame(
                    {
                        "kind": kind,
                        "name": "imports − exports",
                        "period": problem.periods[finite - rows[0]],
                        "requirement": upper[finite],
                    }
                )
            )
    positions = np.concatenate([e[0] for e in entries]) if entries else np.zeros(0, int)
    signs = np.concatenate([np.full(e[0].size, e[1]) for e in entries]) if entries else np.zeros(0)
    k = positions.size
    relax = sp.csr_array((signs, (positions, np.arange(k))), shape=(n_rows, k))
    matrix = sp.csc_array(sp.hstack([all_rows, relax], format="csr"))
    table = (
        pd.concat(descriptions, ignore_index=True)
        if descriptions
        else pd.DataFrame(columns=["kind", "name", "period", "requirement"])
    )
    requirement = table["requirement"].to_numpy(dtype=float)
    positive = requirement[requirement > 0]
    floor = ELASTIC_WEIGHT_FLOOR * (positive.max() if positive.size else 1.0)
    weights = 1.0 / np.maximum(np.abs(requirement), floor)
    elastic = LinearProgram(
        c=np.concatenate([np.zeros(n_cols), weights]),
        A=matrix,
        row_lower=lower,
        row_upper=upper,
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
