"""Reshaping an economy: aggregation by a concordance, characterisation, per-capita accounts.

* :func:`aggregate` merges regions and/or sectors by a concordance (a mapping from old
  to new label). Flows are summed — ``Z' = C Z Cᵀ``, ``Y' = C Y`` (final-demand regions
  merged too), ``x' = C x``, account totals ``F' = F Cᵀ``, ``F_Y`` by merged column — and
  coefficients are recomputed from the summed flows, as pymrio's ``IOSystem.aggregate``
  does (Stadler 2021). A new label appears in the order of its first old label.
* :func:`map_back` maps per-product results of an aggregated economy back to the
  original products: intensive results (multipliers, prices) are repeated; extensive
  ones (totals) are split in proportion to ``weights`` (e.g. the original gross output).
* :func:`characterize` turns accounts into impacts with a factor matrix (accounts ×
  impacts: impact per unit of account), ``S_impact = Qᵀ S`` and ``F_Y`` likewise, and
  adds them as new accounts (pymrio's ``Extension.characterize``).
* :func:`per_capita` divides regional accounts (e.g. ``footprints(...).D_cba_reg``) by
  population per region (pymrio's ``D_cba_cap``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy
from commonplan.errors import InvalidValueError, LabelError, UnsupportedOperationError

__all__ = ["aggregate", "map_back", "characterize", "per_capita"]

Concordance = Mapping[str, str] | pd.Series
"""Old label → new label, as a mapping or a Series indexed by the old labels."""


def _mapping(concordance: Concordance | None, labels: pd.Index, what: str) -> np.ndarray:
    """The new label of each old label in ``labels`` (identity without a concordance)."""
    old = [str(label) for label in labels]
    if concordance is None:
        return np.array(old, dtype=object)
    table = {str(k): str(v) for k, v in dict(concordance).items()}
    missing = [label for label in dict.fromkeys(old) if label not in table]
    if missing:
        raise LabelError(
            f"the {what} concordance does not map {missing[:3]} ({len(missing)} label(s))",
            where=f"aggregate({what}s=...)",
            expected=f"every {what} of the economy mapped to a new {what}",
            fix=f"add a row for each {what}, mapping it to itself to keep it",
        )
    return np.array([table[label] for label in old], dtype=object)


def _group_matrix(new: pd.MultiIndex, keys: pd.MultiIndex) -> tuple[sp.csr_array, pd.MultiIndex]:
    """The 0/1 concordance matrix (new × old) and the new labels in order of appearance."""
    labels = keys.unique()
    rows = labels.get_indexer(keys)
    matrix = sp.csr_array(
        (np.ones(len(keys)), (rows, np.arange(len(keys)))), shape=(len(labels), len(keys))
    )
    return matrix, labels.set_names(new.names)


def aggregate(
    economy: Economy,
    *,
    regions: Concordance | None = None,
    sectors: Concordance | None = None,
) -> Economy:
    """A new economy with regions and/or sectors merged by concordance (flows summed).

    ``regions`` and ``sectors`` map every old label to its new one (a label mapped to
    itself is kept). Needs a symmetric economy with observed gross output. Account units,
    roles and the metadata carry over; the metadata notes record the aggregation.
    Raises :class:`LabelError` for a label the concordance does not map and
    :class:`UnsupportedOperationError` for a supply-use economy.
    """
    if not economy.is_symmetric:
        raise UnsupportedOperationError(
            "only a symmetric (product-by-product) economy can be aggregated",
            where="aggregate",
            fix="read the table as a symmetric table first",
        )
    x = economy._require_levels()
    products = economy.products
    new_regions = _mapping(regions, products.get_level_values(0), "region")
    new_sectors = _mapping(sectors, products.get_level_values(1), "sector")
    C, labels = _group_matrix(products, pd.MultiIndex.from_arrays([new_regions, new_sectors]))
    Z = economy.use @ sp.diags_array(x)
    Z_new = sp.csr_array(C @ Z @ C.T)
    x_new = C @ x
    fd_columns, D = _final_demand_columns(economy, regions)
    Y_new = C @ economy.final_demand_values @ D.T
    totals = economy.account_coefficients * x
    F_new = np.asarray((C @ totals.T).T) if totals.size else totals.reshape(0, len(labels))
    from dataclasses import replace

    note = f"aggregated from {len(products)} products to {len(labels)} by concordance"
    metadata = replace(
        economy.metadata,
        notes="; ".join(n for n in (economy.metadata.notes, note) if n),
    )
    result = Economy.from_flows(
        Z_new,
        pd.DataFrame(Y_new, index=labels, columns=fd_columns),
        x_new,
        {name: F_new[k] for k, name in enumerate(economy.account_names)} or None,
        account_units=economy.account_units,
        products=labels,
        metadata=metadata,
    )
    if economy.final_demand_stressor_values is not None:
        result = result.replace(
            final_demand_stressor_values=economy.final_demand_stressor_values @ D.T
        )
    return result


def _final_demand_columns(
    economy: Economy, regions: Concordance | None
) -> tuple[pd.Index, np.ndarray]:
    """Merged final-demand columns and the 0/1 matrix (new × old) that sums them."""
    columns = economy.final_demand_columns
    if not isinstance(columns, pd.MultiIndex) or regions is None:
        return columns, np.eye(len(columns))
    new_regions = _mapping(regions, columns.get_level_values(0), "region")
    keys = pd.MultiIndex.from_arrays(
        [new_regions, columns.get_level_values(1).astype(str)], names=columns.names
    )
    matrix, labels = _group_matrix(columns, keys)
    return labels, matrix.toarray()


def map_back(
    values: pd.Series | pd.DataFrame,
    products: pd.MultiIndex,
    *,
    regions: Concordance | None = None,
    sectors: Concordance | None = None,
    weights: pd.Series | np.ndarray | None = None,
) -> pd.Series | pd.DataFrame:
    """Per-product ``values`` of an aggregated economy, mapped to the original ``products``.

    ``values`` is indexed by the aggregated ``(region, sector)`` labels (as
    :func:`aggregate` made them from the same concordances). Without ``weights`` each
    original product gets its group's value (for intensive results: multipliers, prices,
    intensities); with ``weights`` (one per original product, e.g. gross output) the
    group's value is split in proportion to them (for totals), so the groups' sums are
    kept. A group whose weights sum to zero is split equally.
    """
    new_regions = _mapping(regions, products.get_level_values(0), "region")
    new_sectors = _mapping(sectors, products.get_level_values(1), "sector")
    keys = pd.MultiIndex.from_arrays([new_regions, new_sectors])
    positions = values.index.get_indexer(keys)
    if (positions < 0).any():
        first = keys[int(np.flatnonzero(positions < 0)[0])]
        raise LabelError(
            f"no value for the aggregated product {first}",
            where="map_back(values)",
            expected="values indexed by the aggregated products",
            fix="pass the results of the economy aggregate() made with the same concordances",
        )
    picked = values.iloc[positions]
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != (len(products),) or not np.isfinite(w).all() or (w < 0).any():
            raise InvalidValueError(
                "weights must be one finite non-negative number per original product",
                where="map_back(weights)",
                expected=f"{len(products)} values ≥ 0",
            )
        group_sum = np.bincount(positions, weights=w, minlength=len(values))
        group_count = np.bincount(positions, minlength=len(values))
        share = np.where(
            group_sum[positions] > 0,
            w / np.where(group_sum[positions] > 0, group_sum[positions], 1.0),
            1.0 / group_count[positions],
        )
        picked = picked.mul(share, axis=0)
    return picked.set_axis(products, axis=0)


def characterize(
    economy: Economy,
    factors: pd.DataFrame,
    *,
    units: Mapping[str, str] | None = None,
) -> Economy:
    """``economy`` with impacts added as new accounts: impact = Σ factor × account.

    ``factors`` is accounts × impacts (index: account names of the economy; columns: the
    new impacts; cells: impact per unit of the account). Coefficients become
    ``Qᵀ S`` and final-demand stressors ``Qᵀ F_Y``; ``units`` gives each impact's unit.
    Raises :class:`LabelError` for an unknown account or an impact named like an
    existing account, and :class:`InvalidValueError` for a non-finite factor.
    """
    unknown = [str(a) for a in factors.index if str(a) not in economy.account_names]
    if unknown:
        raise LabelError(
            f"characterisation factors name accounts the economy lacks: {unknown[:3]}",
            where="characterize(factors)",
            expected=f"rows among {list(economy.account_names)[:5]}…",
            fix="rename the factor rows to the economy's account names",
        )
    clash = [str(i) for i in factors.columns if str(i) in economy.account_names]
    if clash:
        raise LabelError(
            f"impacts {clash[:3]} are named like existing accounts",
            where="characterize(factors)",
            fix="give the impacts new names",
        )
    Q = np.zeros((len(economy.account_names), factors.shape[1]))
    rows = [economy.account_names.index(str(a)) for a in factors.index]
    values = factors.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InvalidValueError(
            "a characterisation factor is not a finite number", where="characterize(factors)"
        )
    np.add.at(Q, rows, values)
    impacts = [str(i) for i in factors.columns]
    coefficients = np.vstack([economy.account_coefficients, Q.T @ economy.account_coefficients])
    stressors = economy.final_demand_stressor_values
    if stressors is not None:
        stressors = np.vstack([stressors, Q.T @ stressors])
    given = dict(units or {})
    return economy.replace(
        account_coefficients=coefficients,
        account_names=(*economy.account_names, *impacts),
        account_units={**economy.account_units, **{i: given.get(i, "") for i in impacts}},
        final_demand_stressor_values=stressors,
    )


def per_capita(
    accounts: pd.DataFrame | pd.Series, population: Mapping[str, float] | pd.Series
) -> pd.DataFrame | pd.Series:
    """Regional ``accounts`` divided by ``population`` of each region (per person).

    ``accounts`` has one column per region (a DataFrame, accounts × regions, such as
    ``D_cba_reg``) or is a Series indexed by region. Raises :class:`LabelError` for a
    region without population and :class:`InvalidValueError` for a population ≤ 0.
    """
    people = pd.Series(population, dtype=np.float64)
    people.index = people.index.map(str)
    regions = accounts.columns if isinstance(accounts, pd.DataFrame) else accounts.index
    missing = [str(r) for r in regions if str(r) not in people.index]
    if missing:
        raise LabelError(
            f"no population for regions {missing[:3]}",
            where="per_capita(population)",
            expected="a population for every region of the accounts",
        )
    divisor = people.loc[[str(r) for r in regions]].to_numpy()
    if not (np.isfinite(divisor) & (divisor > 0)).all():
        raise InvalidValueError(
            "populations must be positive numbers", where="per_capita(population)"
        )
    if isinstance(accounts, pd.DataFrame):
        return accounts / divisor
    return accounts / divisor
