"""Reader for Cockshott's five-year-plan CSV format (GitHub ``wc22m/5yearplan``, ``nyearplan.java``).

A folder holds four tables, each with the row label in the first column:

``flows.csv``
    Base-year flows: row = input product, column = using product; then a ``labour`` row
    (labour used by each product in the base year) and an ``output`` row (base-year gross
    output). Input coefficients are ``flows[i, j] / output[j]`` and labour per unit of output
    ``labour[j] / output[j]``: that is how ``nyearplan.java`` writes its constraints
    (``output_j ≤ output[j]/flows[i,j] · flow_ij``).
``cap.csv``
    Capital stock of good ``i`` (row) held by product ``j`` (column) in year 1; stock
    needed per unit of output is ``cap[i, j] / output[j]`` (``output_j ≤ output[j]/cap[i,j] · K_ij``).
``dep.csv``
    Share of each stock ``(i, j)`` lost per year.
``labtarg.csv``
    One row per year (``year1``, ``year2``, …): the target final consumption of each product
    and, in the ``labour`` column, the labour available that year.

His model (the LP ``nyearplan.java`` writes for ``lp_solve``), reproduced exactly by
:class:`~commonplan.planning.problem.PlanProblem` with objective (a): maximise
``Σ_t z_t`` with ``consumption_i,t ≥ z_t · target_i,t`` for every positive target; labour
``Σ_j l_j x_j,t ≤ L_t``; capital ``k_ij x_j,t ≤ K_ij,t``; ``K_ij,1 ≤ cap[i,j]``;
``K_ij,t+1 ≤ (1 − δ_ij) K_ij,t + I_ij,t``; consumption = output − productive consumption −
accumulation. Products whose base-year labour is 0 need no labour (his constraint
``output ≤ output/0 · labour`` has an infinite coefficient). Rows beyond the products in
``cap.csv``/``dep.csv`` are ignored, as his program ignores them. Numeric cells are read as
his reader reads them: a cell not starting with a digit counts as 0.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy, Metadata
from commonplan.errors import FileFormatError, MissingBlockError, SpecError
from commonplan.planning.problem import (
    CapitalStocks,
    Objective,
    PlanProblem,
    ResourceLimit,
    Targets,
)

FILES = ("flows.csv", "cap.csv", "dep.csv", "labtarg.csv")


@dataclass(frozen=True)
class CockshottTables:
    """The four tables as read: product names and plain arrays (products in file order)."""

    products: list[str]
    flows: np.ndarray
    labour: np.ndarray
    output: np.ndarray
    capital: np.ndarray
    depreciation: np.ndarray
    years: list[str]
    targets: np.ndarray
    """Years × products."""
    labour_supply: np.ndarray


def _number(cell: str) -> float:
    cell = cell.strip()
    if not cell or not cell[0].isdigit():
        return 0.0
    try:
        return float(cell)
    except ValueError:
        return 0.0


def _read_table(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    if not path.is_file():
        raise MissingBlockError(
            f"missing {path.name}",
            where=str(path.parent),
            expected=f"the four files {list(FILES)}",
            fix="put flows.csv, cap.csv, dep.csv and labtarg.csv in the folder",
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if len(rows) < 2 or len(rows[0]) < 2:
        raise FileFormatError(
            "the table has no data rows or columns",
            where=str(path),
            expected="a header row, then rows whose first cell is the row label",
        )
    header = [h.strip() for h in rows[0][1:]]
    labels = [row[0].strip() for row in rows[1:]]
    width = len(header)
    values = np.array(
        [
            [_number(cell) for cell in (row[1 : width + 1] + [""] * (width + 1 - len(row)))]
            for row in rows[1:]
        ],
        dtype=float,
    )
    return header, labels, values


def read_cockshott_tables(folder: str | Path) -> CockshottTables:
    """Read the four CSV tables of a five-year-plan folder."""
    folder = Path(folder)
    products, flow_rows, flows = _read_table(folder / "flows.csv")
    n = len(products)
    try:
        labour_row = flow_rows.index("labour")
        output_row = flow_rows.index("output")
    except ValueError:
        raise FileFormatError(
            "flows.csv needs a 'labour' row and an 'output' row",
            where=str(folder / "flows.csv"),
            expected="rows labelled exactly 'labour' and 'output' after the product rows",
        ) from None
    if labour_row < n:
        raise FileFormatError(
            f"flows.csv has {labour_row} product rows for {n} product columns",
            where=str(folder / "flows.csv"),
            expected="one row per product (same order as the columns) before the labour row",
        )
    output = flows[output_row]
    bad = np.flatnonzero((output <= 0) & ((flows[:n] != 0).any(axis=0) | (flows[labour_row] != 0)))
    if bad.size:
        raise FileFormatError(
            f"base-year output of {products[bad[0]]!r} is {output[bad[0]]:g} but it uses inputs",
            where=str(folder / "flows.csv") + ", row 'output'",
            expected="output > 0 for every product that uses inputs or labour",
            fix="give the base-year output of this product",
        )
    tables = {}
    for name in ("cap.csv", "dep.csv"):
        header, _, values = _read_table(folder / name)
        if header[:n] != products[: len(header)] or len(header) < n or values.shape[0] < n:
            raise FileFormatError(
                f"{name} does not have the products of flows.csv as columns and first rows",
                where=str(folder / name),
                expected=f"{n} product rows and columns in the order of flows.csv",
            )
        tables[name] = values[:n, :n]
    header, years, targ = _read_table(folder / "labtarg.csv")
    year_rows = [k for k, label in enumerate(years) if label.startswith("year")]
    if not year_rows:
        raise FileFormatError(
            "labtarg.csv has no 'yearN' rows",
            where=str(folder / "labtarg.csv"),
            expected="rows year1, year2, …",
        )
    if "labour" not in header:
        raise FileFormatError(
            "labtarg.csv has no 'labour' column",
            where=str(folder / "labtarg.csv"),
            expected="a 'labour' column with the labour available each year",
        )
    labour_col = header.index("labour")
    targ = targ[year_rows]
    return CockshottTables(
        products=products,
        flows=flows[:n, :n],
        labour=flows[labour_row],
        output=output,
        capital=tables["cap.csv"],
        depreciation=tables["dep.csv"],
        years=[years[k] for k in year_rows],
        targets=targ[:, :n],
        labour_supply=targ[:, labour_col],
    )


def cockshott_problem(
    tables: CockshottTables, *, name: str = "five-year plan", objective: Objective | None = None
) -> PlanProblem:
    """The :class:`PlanProblem` that is exactly Cockshott's n-year plan for these tables."""
    n = len(tables.products)
    output = tables.output
    inverse = np.divide(1.0, output, out=np.zeros(n), where=output > 0)
    A = tables.flows * inverse[None, :]
    labour = tables.labour * inverse
    economy = Economy(
        products=pd.MultiIndex.from_arrays([["ALL"] * n, tables.products]),
        activities=pd.MultiIndex.from_arrays([["ALL"] * n, tables.products]),
        use=sp.csr_array(A),
        make=sp.identity(n, format="csr"),
        account_coefficients=labour[None, :],
        account_names=("labour",),
        account_units={"labour": "labour units of labtarg.csv per year"},
        final_demand_values=np.zeros((n, 0)),
        final_demand_columns=pd.Index([]),
        activity_levels=output,
        metadata=Metadata(
            name=name, units="units of flows.csv", source="Cockshott five-year-plan CSV format"
        ),
        check_productive=False,
    )
    good, user = np.nonzero(tables.capital)
    capital = CapitalStocks(
        goods=good,
        activities=user,
        coefficients=tables.capital[good, user] * inverse[user],
        initial=tables.capital[good, user],
        depreciation=np.clip(tables.depreciation[good, user], 0.0, 1.0),
        lag=1,
    )
    if (tables.targets < 0).any() or (tables.labour_supply < 0).any():
        raise SpecError(
            "negative target or labour supply", where="labtarg.csv", expected="values ≥ 0"
        )
    return PlanProblem(
        economy=economy,
        periods=pd.Index(tables.years, name="period"),
        targets=Targets(tables.targets.T.copy(), np.ones_like(tables.targets.T)),
        objective=objective or Objective(kind="max_min_fulfilment"),
        resources=(ResourceLimit("labour", tables.labour_supply),),
        capital=capital,
        name=name,
    )


def read_cockshott(folder: str | Path, *, objective: Objective | None = None) -> PlanProblem:
    """Read a five-year-plan folder (``flows.csv``, ``cap.csv``, ``dep.csv``, ``labtarg.csv``) as a problem."""
    folder = Path(folder)
    return cockshott_problem(read_cockshott_tables(folder), name=folder.name, objective=objective)
