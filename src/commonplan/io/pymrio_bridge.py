"""Both ways between a pymrio ``IOSystem`` and an :class:`~commonplan.economy.Economy`.

pymrio (Stadler 2021, https://github.com/IndEcol/pymrio) is an optional extra
(``pip install "commonplan[pymrio]"``): it is imported only by :func:`to_pymrio`, and
:func:`from_pymrio` reads an ``IOSystem``'s attributes without importing it.

Mapping
-------
* ``Z`` (or ``A`` with ``x``), ``Y`` and ``x`` map to the economy's flows, final demand
  (columns ``(region, category)``) and gross output; the system's unit (``io.unit``) and
  name, year and price go to the metadata.
* Each row of each extension's ``F`` (satellite account: emissions, employment, value
  added …) becomes one account. Its name is the row label (a tuple such as
  ``("emission_type1", "air")`` joined with ``" / "``), prefixed by ``"<extension>: "``
  only where two extensions share a row label. Its unit is the extension's ``unit``.
  The mapping back (extension, original row, index names) is kept in
  ``metadata.extra["pymrio"]`` so :func:`to_pymrio` rebuilds the same extensions.
* Account roles (:mod:`commonplan.economy.roles`) travel in a ``role`` column beside the
  ``unit`` column of each extension's ``unit`` table, which :func:`to_pymrio` writes and
  :func:`from_pymrio` reads; ``from_pymrio(roles=...)`` states others (accounts or
  final-demand categories). Final-demand roles have no place in an ``IOSystem``: after a
  round trip they come from the categories' names (households' consumption is recognised).
* Direct final-demand stressors ``F_Y`` (not per unit of activity) become the economy's
  :attr:`~commonplan.economy.Economy.final_demand_stressors` (accounts × final-demand
  columns), which :func:`commonplan.analysis.analyse` and ``footprints`` add to the
  consumption- and production-based accounts as pymrio does, and which :func:`to_pymrio`
  writes back as ``F_Y``. :func:`final_demand_stressors` returns them from an ``IOSystem``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from commonplan.economy import Economy, Metadata
from commonplan.economy.roles import stated_roles
from commonplan.errors import FileFormatError, MissingBlockError, UnsupportedOperationError


def _require_pymrio():
    try:
        import pymrio
    except ImportError as error:  # pragma: no cover - pymrio is installed in the dev extra
        raise UnsupportedOperationError(
            "pymrio is not installed",
            where="commonplan.io.pymrio_bridge",
            expected="the optional dependency pymrio",
            fix='pip install "commonplan[pymrio]"',
        ) from error
    return pymrio


def _label(row: Any) -> str:
    return " / ".join(str(part) for part in row) if isinstance(row, tuple) else str(row)


def _extensions(iosystem: Any, names: Sequence[str] | None) -> list[Any]:
    available = list(iosystem.get_extensions(data=True))
    if names is None:
        return available
    by_name = {ext.name: ext for ext in available}
    by_attribute = {attr: getattr(iosystem, attr) for attr in iosystem.get_extensions(data=False)}
    chosen = []
    for name in names:
        ext = by_name.get(name) or by_attribute.get(name)
        if ext is None:
            raise MissingBlockError(
                f"the IOSystem has no extension {name!r}",
                where="pymrio IOSystem",
                expected=f"one of {sorted(by_name)}",
                fix="choose an existing extension or pass extensions=None for all",
            )
        chosen.append(ext)
    return chosen


def _account_names(extensions: list[Any]) -> list[tuple[Any, Any, str]]:
    """(extension, row, account name) for every extension row, names made unique."""
    entries = []
    for ext in extensions:
        F = ext.F if ext.F is not None else ext.S
        if F is None:
            continue
        for row in F.index:
            entries.append((ext, row, _label(row)))
    counts = pd.Series([name for _, _, name in entries]).value_counts()
    return [
        (ext, row, f"{ext.name}: {name}" if counts[name] > 1 else name)
        for ext, row, name in entries
    ]


def _unit_of(ext: Any, row: Any, column: str = "unit") -> str:
    """The ``column`` (``"unit"`` or ``"role"``) of an extension row's unit table, or ``""``."""
    unit = getattr(ext, "unit", None)
    if isinstance(unit, pd.DataFrame) and column in unit.columns and row in unit.index:
        value = unit.loc[row, column]
        if isinstance(value, pd.Series):
            value = value.iloc[0]
        return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    return ""


def from_pymrio(
    iosystem: Any,
    *,
    extensions: Sequence[str] | None = None,
    name: str | None = None,
    roles: Mapping[str, str] | None = None,
) -> Economy:
    """An :class:`Economy` from a pymrio ``IOSystem`` (flows or coefficients), with its extensions.

    ``extensions`` chooses extensions by name (default: all). ``roles`` states what
    accounts (by their economy name) or final-demand categories are, e.g.
    ``{"Employment hours": "labour"}``, on top of the roles found in the extensions'
    ``role`` column. The system is not changed.
    """
    Y = iosystem.Y
    if Y is None:
        raise MissingBlockError(
            "the IOSystem has no final demand Y",
            where="pymrio IOSystem",
            expected="Y (products × (region, category))",
            fix="load or compute Y before converting",
        )
    Z, A, x = iosystem.Z, iosystem.A, iosystem.x
    if isinstance(x, pd.DataFrame):
        x = x.iloc[:, 0]
    chosen = _account_names(_extensions(iosystem, extensions))
    units: dict[str, str] = {}
    mapping: dict[str, dict[str, Any]] = {}
    rows: dict[str, pd.Series] = {}
    coefficient_rows: dict[str, pd.Series] = {}
    account_roles: dict[str, str] = {}
    for ext, row, account in chosen:
        units[account] = _unit_of(ext, row)
        unit_table = getattr(ext, "unit", None)
        if isinstance(unit_table, pd.DataFrame) and "role" in unit_table.columns:
            account_roles[account] = _unit_of(ext, row, "role")
        entry = mapping.setdefault(
            ext.name,
            {
                "index_names": [
                    str(n) for n in (ext.F if ext.F is not None else ext.S).index.names
                ],
                "rows": {},
            },
        )
        entry["rows"][account] = [str(p) for p in row] if isinstance(row, tuple) else [str(row)]
        if ext.F is not None:
            rows[account] = ext.F.loc[row]
        else:
            coefficient_rows[account] = ext.S.loc[row]
    meta = getattr(iosystem, "meta", None)
    unit = iosystem.unit
    money = ""
    if isinstance(unit, pd.DataFrame) and "unit" in unit.columns and len(unit):
        money = str(unit["unit"].iloc[0])
    Y = _with_category_names(Y)
    categories = Y.columns.get_level_values(-1).unique() if len(Y.columns) else []
    stated_accounts, stated_categories = stated_roles(
        roles, [a for _, _, a in chosen], [str(c) for c in categories], where="from_pymrio(roles=…)"
    )
    metadata = Metadata(
        name=name or str(getattr(iosystem, "name", "") or ""),
        year=_int_or_none(getattr(meta, "year", None) if meta is not None else None),
        units=money,
        source="pymrio IOSystem",
        extra={"pymrio": {"extensions": mapping}},
        account_roles={**account_roles, **stated_accounts},
        final_demand_roles=stated_categories,
    )
    if Z is not None:
        F = None
        if coefficient_rows:
            if x is None:
                x = pd.Series(
                    np.asarray(Z.sum(axis=1)).ravel() + np.asarray(Y.sum(axis=1)).ravel(),
                    index=Z.index,
                )
            for account, s in coefficient_rows.items():
                rows[account] = s * x.reindex(s.index).to_numpy()
        if rows:
            F = pd.DataFrame({k: v for k, v in rows.items()}).T.reindex(columns=Z.columns)
            F = F.reindex([a for _, _, a in chosen])
        economy = Economy.from_flows(Z, Y, x, accounts=F, account_units=units, metadata=metadata)
        return _with_final_demand_stressors(economy, iosystem, extensions)
    if A is None:
        raise MissingBlockError(
            "the IOSystem has neither Z nor A",
            where="pymrio IOSystem",
            expected="intermediate flows Z or coefficients A",
        )
    coefficients = {}
    for ext, row, account in chosen:
        if ext.S is not None:
            coefficients[account] = ext.S.loc[row]
        else:
            if x is None:
                raise MissingBlockError(
                    f"extension {ext.name!r} has flows F but the IOSystem has no output x",
                    where="pymrio IOSystem",
                    fix="compute x (io.calc_system()) or give the extension's coefficients S",
                )
            coefficients[account] = (
                ext.F.loc[row] / x.reindex(ext.F.columns).replace(0, np.inf).to_numpy()
            )
    S = pd.DataFrame(coefficients).T.reindex(columns=A.columns) if coefficients else None
    economy = Economy.from_coefficients(A, Y, x, accounts=S, account_units=units, metadata=metadata)
    return _with_final_demand_stressors(economy, iosystem, extensions)


def _with_final_demand_stressors(
    economy: Economy, iosystem: Any, extensions: Sequence[str] | None
) -> Economy:
    """``economy`` carrying the system's ``F_Y`` (accounts without one count 0), if any."""
    stressors = final_demand_stressors(iosystem, extensions=extensions)
    if stressors is None:
        return economy
    values = (
        stressors.reindex(index=list(economy.account_names), fill_value=0.0)
        .reindex(columns=economy.final_demand_columns, fill_value=0.0)
        .to_numpy(dtype=np.float64)
    )
    return economy.replace(final_demand_stressor_values=values)


def read_pymrio_folder(path: str | Path, *, name: str | None = None) -> Economy:
    """An :class:`Economy` from a folder written by pymrio's ``IOSystem.save_all`` (or ``save``).

    The folder holds ``file_parameters.json``, the core tables (``Z``, ``Y``, ``x`` …)
    and one subfolder per extension; pymrio reads it (``pymrio.load_all``) and
    :func:`from_pymrio` converts it, final-demand stressors ``F_Y`` included.
    """
    pymrio = _require_pymrio()
    folder = Path(path)
    if not (folder / "file_parameters.json").is_file():
        raise MissingBlockError(
            "no file_parameters.json: not a folder written by pymrio",
            where=str(folder),
            expected="a folder from IOSystem.save_all(...)",
            fix="save the system with pymrio's save_all, or choose another --format",
        )
    try:
        iosystem = pymrio.load_all(folder)
    except Exception as error:  # noqa: BLE001 - pymrio's parser errors are format problems
        raise FileFormatError(
            f"pymrio could not load the folder ({type(error).__name__}: {str(error)[:120]})",
            where=str(folder),
            expected="a folder written by pymrio's save_all, unchanged",
        ) from None
    economy = from_pymrio(iosystem, name=name or str(getattr(iosystem, "name", "") or folder.name))
    meta = economy.metadata
    source = f"pymrio save_all folder {folder}"
    return economy.replace(
        metadata=replace(meta, source=source, extra={**meta.extra, "source_files": [str(folder)]})
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _with_category_names(Y: pd.DataFrame) -> pd.DataFrame:
    if isinstance(Y.columns, pd.MultiIndex) and Y.columns.nlevels == 2:
        return Y.set_axis(Y.columns.set_names(["region", "category"]), axis=1)
    return Y


def final_demand_stressors(
    iosystem: Any, *, extensions: Sequence[str] | None = None
) -> pd.DataFrame | None:
    """The extensions' direct final-demand stressors ``F_Y`` with the economy's account names.

    Accounts × final-demand columns, in each account's unit; ``None`` when no extension
    has ``F_Y``. Pass it as ``final_demand_stressors=`` to
    :func:`commonplan.analysis.footprints`.
    """
    frames = []
    for ext, row, account in _account_names(_extensions(iosystem, extensions)):
        F_Y = getattr(ext, "F_Y", None)
        if F_Y is not None and row in F_Y.index:
            frames.append(F_Y.loc[row].rename(account))
    if not frames:
        return None
    table = pd.DataFrame(frames)
    table.index.name = "account"
    return table.set_axis(_with_category_names(table).columns, axis=1)


def to_pymrio(economy: Economy, *, final_demand_stressors: pd.DataFrame | None = None):
    """A pymrio ``IOSystem`` with ``Z``, ``Y``, ``x``, ``A`` and one extension per group of accounts.

    Accounts that came from pymrio go back to their extensions and rows; other accounts
    form one extension ``"accounts"`` (index ``"stressor"``). ``final_demand_stressors``
    (accounts × final-demand columns; default: the economy's own) become the extensions'
    ``F_Y``. Needs a symmetric economy with observed output.
    """
    pymrio = _require_pymrio()
    if final_demand_stressors is None:
        final_demand_stressors = economy.final_demand_stressors
    A = economy.A
    x = economy.gross_output.to_numpy()
    products = economy.products
    Z = pd.DataFrame((A @ sp.diags_array(x)).toarray(), index=products, columns=products)
    Y = economy.final_demand
    if not isinstance(Y.columns, pd.MultiIndex):
        if len(economy.regions) != 1:
            raise UnsupportedOperationError(
                "pymrio needs final demand by region, and this multi-regional economy has none",
                where=economy.metadata.name or "economy",
                expected="final-demand columns (region, category)",
            )
        Y = Y.set_axis(
            pd.MultiIndex.from_product([[str(economy.regions[0])], [str(c) for c in Y.columns]]),
            axis=1,
        )
    Y = _with_category_names(Y)
    money = economy.metadata.units or ""
    unit = pd.DataFrame({"unit": [money] * len(products)}, index=products)
    flows = economy.account_totals()
    stored = dict(economy.metadata.extra.get("pymrio", {}).get("extensions", {}))
    groups: dict[str, tuple[list[str], list[tuple[str, ...]], list[str]]] = {}
    placed: set[str] = set()
    for ext_name, entry in stored.items():
        names = [a for a in entry.get("rows", {}) if a in economy.account_names]
        if names:
            groups[ext_name] = (
                names,
                [tuple(entry["rows"][a]) for a in names],
                list(entry["index_names"]),
            )
            placed.update(names)
    rest = [a for a in economy.account_names if a not in placed]
    if rest:
        groups["accounts"] = (rest, [(a,) for a in rest], ["stressor"])
    extensions = {}
    for ext_name, (names, rows, index_names) in groups.items():
        index = (
            pd.MultiIndex.from_tuples(rows, names=index_names)
            if len(index_names) > 1
            else pd.Index([r[0] for r in rows], name=index_names[0])
        )
        F = flows.loc[names].set_axis(index)
        F.columns = products
        ext_unit = pd.DataFrame(
            {"unit": [economy.account_units.get(a, "") for a in names]}, index=index
        )
        recorded = economy.metadata.account_roles
        if all(a in recorded for a in names):
            ext_unit["role"] = [recorded[a] for a in names]
        F_Y = None
        if final_demand_stressors is not None:
            F_Y = (
                final_demand_stressors.reindex(index=names, fill_value=0.0)
                .reindex(columns=Y.columns, fill_value=0.0)
                .set_axis(index)
            )
        extensions[_attribute(ext_name)] = {"name": ext_name, "F": F, "F_Y": F_Y, "unit": ext_unit}
    meta = economy.metadata
    return pymrio.IOSystem(
        Z=Z,
        Y=Y,
        x=pd.DataFrame({"indout": x}, index=products),
        unit=unit,
        name=meta.name or "commonplan",
        year=meta.year,
        description=meta.source or None,
        **extensions,
    )


def _attribute(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name).strip("_").lower() or "accounts"
    return cleaned if not cleaned[0].isdigit() else f"ext_{cleaned}"
