"""Shared plumbing of the analysis functions: the solver, accounts, regions, final demand.

Each helper turns a user request (an account name, a region, a final-demand category)
into plain arrays, or raises the specific :class:`~commonplan.errors.CommonplanError`
that names what was asked for and what exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.analysis.solver import LeontiefSolver
from commonplan.economy import Economy
from commonplan.errors import InvalidValueError, LabelError, MissingBlockError


def _name(economy: Economy) -> str:
    return economy.metadata.name or "economy"


def get_solver(economy: Economy, solver: LeontiefSolver | None = None, **options) -> LeontiefSolver:
    """The given solver (checked to match the economy's size) or a new one for ``economy``.

    A new solver is built from the economy itself, so that GMRES on a multi-regional table
    is preconditioned by its regional blocks (see :class:`~commonplan.linalg.LeontiefSolver`).
    """
    if solver is not None:
        if solver.n != economy.n_products:
            raise InvalidValueError(
                f"the solver was built for {solver.n} products, the economy has {economy.n_products}",
                where="solver",
                expected="a LeontiefSolver built from this economy's A",
                fix="build the solver with LeontiefSolver(economy.A) or pass solver=None",
            )
        return solver
    return LeontiefSolver(economy, **options)


def account_rows(
    economy: Economy, accounts: str | Sequence[str] | None
) -> tuple[list[str], np.ndarray]:
    """Names and coefficient rows (k × products) of the requested accounts (all if ``None``)."""
    if accounts is None:
        names = list(economy.account_names)
    elif isinstance(accounts, str):
        names = [accounts]
    else:
        names = [str(a) for a in accounts]
    unknown = [a for a in names if a not in economy.account_names]
    if unknown:
        raise MissingBlockError(
            f"no account named {unknown[0]!r}",
            where=_name(economy),
            expected=f"one of {list(economy.account_names)}",
            fix="choose an existing account, or add it when building the economy",
        )
    positions = [economy.account_names.index(a) for a in names]
    return names, np.asarray(economy.account_coefficients[positions], dtype=np.float64).reshape(
        len(names), economy.n_activities
    )


def check_regions(economy: Economy, regions: Iterable[str], what: str) -> list[str]:
    """The regions as strings, or :class:`LabelError` naming the first unknown one."""
    known = list(economy.regions)
    chosen = [str(r) for r in regions]
    for region in chosen:
        if region not in known:
            raise LabelError(
                f"unknown {what} {region!r}",
                where=_name(economy),
                expected=f"one of the economy's regions {known}",
                fix=f"choose the {what} among the economy's regions",
            )
    return chosen


def region_codes(economy: Economy) -> tuple[pd.Index, np.ndarray]:
    """Regions (in order of appearance) and, per product, the position of its region."""
    regions = economy.regions
    codes = regions.get_indexer(economy.products.get_level_values("region"))
    return regions, codes


def region_mask(economy: Economy, region: str) -> np.ndarray:
    """Boolean mask of the products of ``region``."""
    return np.asarray(economy.products.get_level_values("region") == region)


def sector_indicator(economy: Economy) -> tuple[pd.Index, sp.csr_array]:
    """Sectors (in order of first appearance) and the products × sectors 0/1 matrix."""
    sectors = pd.Index(economy.products.get_level_values("sector").unique(), name="sector")
    codes = sectors.get_indexer(economy.products.get_level_values("sector"))
    n = economy.n_products
    return sectors, sp.csr_array((np.ones(n), (np.arange(n), codes)), shape=(n, len(sectors)))


def final_demand_by_region(economy: Economy) -> tuple[pd.Index, np.ndarray]:
    """Final demand summed over categories per destination region: (regions, products × regions).

    Uses the ``region`` level of the final-demand columns (or their first level, as
    pymrio does). A one-region economy whose columns carry no region gets all its final
    demand assigned to that region. Raises :class:`MissingBlockError` otherwise.
    """
    columns = economy.final_demand_columns
    values = economy.final_demand_values
    if values.shape[1] == 0:
        raise MissingBlockError(
            "the economy has no final demand",
            where=_name(economy),
            expected="final demand by destination region (columns (region, category))",
            fix="build the economy with Y (final demand)",
        )
    if isinstance(columns, pd.MultiIndex):
        level = "region" if "region" in columns.names else 0
        labels = columns.get_level_values(level).astype(str)
        regions = pd.Index(pd.unique(labels), name="region")
        codes = regions.get_indexer(labels)
        indicator = sp.csr_array(
            (np.ones(len(labels)), (np.arange(len(labels)), codes)),
            shape=(len(labels), len(regions)),
        )
        return regions, np.asarray(values @ indicator)
    if len(economy.regions) == 1:
        return pd.Index(economy.regions, name="region"), values.sum(axis=1, keepdims=True)
    raise MissingBlockError(
        "final demand is not split by destination region",
        where=_name(economy),
        expected="final-demand columns labelled (region, category)",
        fix="read a table with final demand by destination (e.g. a full MRIO) or build Y with "
        "MultiIndex columns (region, category)",
    )


def observed_output(economy: Economy) -> np.ndarray:
    """Observed gross output per product (money units); :class:`MissingBlockError` if absent."""
    return np.asarray(economy.gross_output.to_numpy(), dtype=np.float64)


def final_demand_column(
    economy: Economy, category: object, region: str | None = None
) -> np.ndarray:
    """One final-demand column, by category (and region where columns are (region, category))."""
    columns = economy.final_demand_columns
    if isinstance(columns, pd.MultiIndex):
        level = "category" if "category" in columns.names else columns.nlevels - 1
        mask = np.asarray(columns.get_level_values(level).astype(str) == str(category))
        if region is not None:
            rlevel = "region" if "region" in columns.names else 0
            mask &= np.asarray(columns.get_level_values(rlevel).astype(str) == str(region))
        available = sorted({str(c) for c in columns.get_level_values(level)})
    else:
        mask = np.asarray(columns.astype(str) == str(category))
        available = [str(c) for c in columns]
    if not mask.any():
        raise MissingBlockError(
            f"no final-demand category {category!r}"
            + (f" for region {region!r}" if region else ""),
            where=_name(economy),
            expected=f"one of {available}",
            fix="choose an existing final-demand category (e.g. household consumption)",
        )
    return economy.final_demand_values[:, mask].sum(axis=1)
