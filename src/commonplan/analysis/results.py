"""Running every applicable analysis on an economy: :func:`analyse` and its :class:`AnalysisResults`.

:func:`analyse` decides what applies (multi-regional analyses need several regions,
footprints and value-added origin need final demand by destination, Type II needs a
household closure, labour values a labour account …), builds one
:class:`~commonplan.analysis.solver.LeontiefSolver` and reuses it for everything, and
returns an :class:`AnalysisResults`. That is a :class:`~commonplan.results.Result`:
``tables()`` gives every result as a named DataFrame, ``tidy_tables()`` the same in the
layout of the files (one header row, labels as columns, long where products were columns),
``write(folder, formats)`` writes those as Parquet, CSV or one Excel workbook, ``summary()`` is a short text and ``report``
says how the Leontief systems were solved.

The accounts and the final-demand category it needs are found by their role
(:meth:`Economy.accounts_for <commonplan.economy.Economy.accounts_for>`,
:meth:`~commonplan.economy.Economy.account_for`,
:meth:`~commonplan.economy.Economy.final_demand_for`; see :mod:`commonplan.economy.roles`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from commonplan.analysis._inputs import final_demand_by_region, get_solver
from commonplan.analysis.dependence import (
    input_dependence,
    intermediate_imports,
    value_added_origin,
)
from commonplan.analysis.footprints import Footprints, footprints
from commonplan.analysis.labour import labour_values
from commonplan.analysis.linkages import linkages
from commonplan.analysis.multipliers import (
    HouseholdClosure,
    account_multipliers,
    closed_model,
    income_total_account,
    multiplier_table,
    output_multipliers,
)
from commonplan.analysis.solver import DENSE_LIMIT, LeontiefReport, LeontiefSolver
from commonplan.economy import Economy
from commonplan.economy.roles import COMPENSATION, HOUSEHOLD_CONSUMPTION, LABOUR, VALUE_ADDED
from commonplan.errors import CommonplanError
from commonplan.io.writer import flat_format, long_format, write_tables
from commonplan.results import WritesTables, summary_html

Progress = Callable[[str, int, int], None]
"""``progress(step_description, steps_done, steps_total)``, called before each step and at the end."""


@dataclass(frozen=True)
class AnalysisReport:
    """How an analysis was computed: the Leontief solver's set-up and what its solves achieved.

    ``method`` is the solver's method (``"dense"`` LU, ``"gmres"`` or ``"splu"``) and
    ``tolerance`` the relative residual ``‖b − (I − A)x‖₂ / ‖b‖₂`` it was asked for;
    ``steps`` the analyses run, in order; ``solves`` the report of the last Leontief solve
    of each step that solved one; ``seconds`` the wall-clock time of all steps.
    """

    method: str
    tolerance: float
    steps: tuple[str, ...]
    solves: tuple[LeontiefReport, ...]
    seconds: float

    @property
    def max_relative_residual(self) -> float:
        """The largest relative residual over :attr:`solves` (0 when nothing was solved)."""
        return max((s.max_relative_residual for s in self.solves), default=0.0)


@dataclass(frozen=True, eq=False)
class AnalysisResults(WritesTables):
    """Everything :func:`analyse` computed, as labelled pandas objects.

    ``overview`` says what was analysed (economy, accounts, labour and value-added
    accounts; written as the ``summary`` table). Tables that do not apply to the economy
    are ``None``; ``notes`` says why.
    """

    overview: pd.Series
    output_multipliers: pd.DataFrame
    account_multipliers: pd.DataFrame
    report: AnalysisReport
    multiplier_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    labour_values: pd.DataFrame | None = None
    linkages: pd.DataFrame | None = None
    footprints: Footprints | None = None
    value_added_origin: pd.DataFrame | None = None
    imports_by_supplier: pd.DataFrame | None = None
    imports_by_user: pd.DataFrame | None = None
    input_dependence: pd.DataFrame | None = None
    extraction: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result as a named DataFrame (the names become file names)."""
        out: dict[str, pd.DataFrame] = {
            "summary": self.overview.rename_axis("field").to_frame(name="value")
        }
        out["output_multipliers"] = self.output_multipliers
        out["account_multipliers"] = self.account_multipliers
        for account, table in self.multiplier_tables.items():
            out[f"multipliers_{_slug(account)}"] = table
        for name in (
            "labour_values",
            "linkages",
            "value_added_origin",
            "imports_by_supplier",
            "imports_by_user",
            "input_dependence",
            "extraction",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.footprints is not None:
            for name, frame in self.footprints.frames().items():
                out[f"footprint_{name}"] = frame
        if self.notes:
            out["notes"] = pd.DataFrame({"note": list(self.notes)})
        return out

    def tidy_tables(self) -> dict[str, pd.DataFrame]:
        """:meth:`tables` in the shape files get, each with one header row and labels as columns.

        Tables with one column per product or region (``account_multipliers`` and the
        footprints: accounts × products or regions; ``value_added_origin``: origin ×
        destination) are in long format, one row per value: ``account, region, sector, value`` (:func:`~commonplan.io.writer.long_format`).
        Every other table has products (or partners, importers …) as rows and its measures
        as columns, the row labels as columns (:func:`~commonplan.io.writer.flat_format`).
        Nothing is n × n: the size grows with the number of products.
        """
        return {
            name: long_format(frame) if _by_product_columns(name) else flat_format(frame)
            for name, frame in self.tables().items()
        }

    def write(self, directory: str | Path, formats: Sequence[str] = ("parquet",)) -> list[Path]:
        """Write :meth:`tidy_tables` into ``directory``; return the paths written.

        ``formats``: any of ``"parquet"``, ``"csv"`` and ``"excel"``; see
        :func:`~commonplan.io.writer.write_tables`.
        """
        return write_tables(self.tidy_tables(), directory, formats, workbook=self.workbook)

    def __repr__(self) -> str:
        o, r = self.overview, self.report
        year = f" {o['year']}" if o["year"] else ""
        return (
            f"<AnalysisResults {o['name'] or 'economy'!r}{year}: {o['products']} products, "
            f"{o['regions']} region(s), {len(self.tables())} tables, {r.method} solver, "
            f"residual {r.max_relative_residual:.1e}, {len(self.notes)} notes>"
        )

    def _repr_html_(self) -> str:
        o, r = self.overview, self.report
        rows = [
            ("economy", f"{o['name'] or 'economy'} {o['year']}".strip()),
            ("products / regions / sectors", f"{o['products']} / {o['regions']} / {o['sectors']}"),
            ("accounts", o["accounts"] or "none"),
            ("tables", ", ".join(self.tables())),
            (
                "Leontief solver",
                f"{r.method}, largest relative residual {r.max_relative_residual:.1e}",
            ),
            ("seconds", f"{r.seconds:.3g}"),
            *(("note", note) for note in self.notes),
        ]
        return summary_html("Analysis results", rows)

    def summary(self) -> str:
        """A few lines: the economy, the accounts used, the tables, the solver, the notes."""
        o, r = self.overview, self.report
        year = f" {o['year']}" if o["year"] else ""
        lines = [
            f"{o['name'] or 'economy'}{year}: {o['products']} products, "
            f"{o['regions']} region(s), {o['sectors']} sectors",
            f"accounts: {o['accounts'] or 'none'}; labour: {o['labour_accounts'] or 'none'}; "
            f"value added: {o['value_added_account'] or 'none'}",
            "tables: " + ", ".join(self.tables()),
            f"Leontief solver: {r.method}, tolerance {r.tolerance:.0e}, {len(r.solves)} solves, "
            f"largest relative residual {r.max_relative_residual:.1e}, {r.seconds:.3g} s",
        ]
        return "\n".join([*lines, *self.notes])


def _by_product_columns(name: str) -> bool:
    """Whether the table ``name`` of :meth:`AnalysisResults.tables` has labels as columns
    (accounts × products or regions; origin × destination region), so is written long."""
    return name in ("account_multipliers", "value_added_origin") or name.startswith("footprint_")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "account"


def analyse(
    economy: Economy,
    *,
    accounts: Sequence[str] | None = None,
    labour_accounts: Sequence[str] | None = None,
    value_added_account: str | None = None,
    closure: HouseholdClosure | str | None = "auto",
    method: str = "auto",
    tol: float = 1e-12,
    progress: Progress | None = None,
) -> AnalysisResults:
    """Run every analysis that applies to ``economy``; one solver serves them all.

    Parameters
    ----------
    accounts:
        Accounts for multipliers and footprints (default: all).
    labour_accounts:
        Accounts for labour values (default: those of ``accounts`` whose role is
        ``labour``: hours, employment, persons; never compensation or wages, which are
        money paid to labour).
    value_added_account:
        Account used for the origin of value added and input dependence (default: the
        first account whose role is ``value_added``).
    closure:
        Household closure for Type II multipliers. ``"auto"`` (default) closes the model
        with the economy's ``compensation`` account and its ``household_consumption``
        final-demand category when it has both, and skips Type II with a note otherwise,
        or when that closure is not productive; ``None`` skips Type II.
    method, tol:
        Passed to :class:`LeontiefSolver`.
    progress:
        Called as ``progress(step, done, total)`` before each step and once at the end.
    """
    notes: list[str] = []
    scope = _scope(economy, accounts, labour_accounts, value_added_account, closure, notes)
    steps = _applicable_steps(economy, scope, notes)
    solver = get_solver(economy, None, method=method, tol=tol)
    start = time.perf_counter()
    found, solves = _run_steps(steps, economy, scope, solver, progress)
    report = AnalysisReport(
        method=solver.method,
        tolerance=solver.tol,
        steps=tuple(name for name, _ in steps),
        solves=tuple(solves),
        seconds=time.perf_counter() - start,
    )
    return AnalysisResults(
        overview=_overview(economy, scope), report=report, notes=tuple(notes), **found
    )


# ---- what applies --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What :func:`analyse` works with: the accounts, the roles it found, the economy's shape."""

    accounts: tuple[str, ...]
    labour_accounts: tuple[str, ...]
    value_added: str | None
    closure: HouseholdClosure | None
    multi_regional: bool
    by_destination: bool
    """Final demand is split by destination region (footprints and value-added origin need it)."""


def _scope(
    economy: Economy,
    accounts: Sequence[str] | None,
    labour_accounts: Sequence[str] | None,
    value_added_account: str | None,
    closure: HouseholdClosure | str | None,
    notes: list[str],
) -> _Scope:
    """The accounts and closure asked for, or found by role; notes say what is missing."""
    names = tuple(economy.account_names if accounts is None else accounts)
    if isinstance(closure, str):
        closure = _auto_closure(economy, notes)
    if labour_accounts is None:
        labour = set(economy.accounts_for(LABOUR))
        labour_accounts = [name for name in names if name in labour]
    return _Scope(
        accounts=names,
        labour_accounts=tuple(labour_accounts),
        value_added=value_added_account or economy.account_for(VALUE_ADDED),
        closure=closure,
        multi_regional=len(economy.regions) > 1,
        by_destination=_by_destination(economy),
    )


def _by_destination(economy: Economy) -> bool:
    try:
        final_demand_by_region(economy)
    except CommonplanError:
        return False
    return True


def _auto_closure(economy: Economy, notes: list[str]) -> HouseholdClosure | None:
    """The household closure the economy's roles give, if it is productive; else None with a note."""
    income = economy.account_for(COMPENSATION)
    consumption = economy.final_demand_for(HOUSEHOLD_CONSUMPTION)
    if income is None or consumption is None or economy.activity_levels is None:
        notes.append(
            "Type II multipliers: no income account (compensation/wages) and household-consumption "
            "category found (pass closure=HouseholdClosure(...))"
        )
        return None
    closure = HouseholdClosure(income, consumption)
    try:
        closed_model(economy, closure)
    except CommonplanError as error:
        notes.append(f"Type II multipliers skipped: {error}")
        return None
    notes.append(
        f"Type II multipliers: household row {income!r}, column {consumption!r} divided by "
        f"household income = the total of {income_total_account(economy, closure)!r} "
        "(pass closure=HouseholdClosure(..., household_income=...) for another figure)"
    )
    return closure


Step = Callable[[Economy, _Scope, LeontiefSolver], dict[str, object]]
"""One analysis: returns the :class:`AnalysisResults` fields it computed."""


def _applicable_steps(economy: Economy, scope: _Scope, notes: list[str]) -> list[tuple[str, Step]]:
    """The analyses that apply to ``economy``, in order, with a description each; notes say why others do not."""
    steps: list[tuple[str, Step]] = [
        ("output multipliers", _output_multipliers),
        ("account multipliers", _account_multipliers),
    ]
    steps += [
        (f"multipliers of {account}", partial(_multiplier_table, account=account))
        for account in scope.accounts
    ]
    if scope.labour_accounts:
        steps.append(("labour values", _labour_values))
    else:
        notes.append("labour values: no labour account (name one with labour_accounts=)")
    if economy.activity_levels is not None:
        steps.append(("key sectors", _key_sectors))
    else:
        notes.append("key sectors: no observed gross output for the Ghosh (forward) linkages")
    if scope.accounts and scope.by_destination:
        steps.append(("footprints", _footprints))
        if economy.final_demand_stressors is not None:
            notes.append(
                "footprints: direct final-demand stressors (F_Y) added to D_cba_reg and D_pba_reg"
            )
    elif scope.accounts:
        notes.append("footprints: final demand is not split by destination region")
    if scope.multi_regional:
        steps += _partner_steps(economy, scope, notes)
    else:
        notes.append("dependence on partners: the economy has a single region")
    if economy.n_products <= DENSE_LIMIT:
        steps.append(("hypothetical extraction of each product", _extraction))
    else:
        notes.append(
            f"hypothetical extraction ranking: skipped above {DENSE_LIMIT} products "
            "(use analysis.extract_sectors for chosen products)"
        )
    return steps


def _partner_steps(economy: Economy, scope: _Scope, notes: list[str]) -> list[tuple[str, Step]]:
    """The multi-regional analyses: origin of value added, imports and dependence by partner."""
    steps: list[tuple[str, Step]] = []
    if scope.value_added and scope.by_destination:
        steps.append(("origin of value added in final demand", _value_added_origin))
    elif not scope.value_added:
        notes.append(
            "origin of value added: no value-added account (name one with value_added_account=)"
        )
    else:
        notes.append("origin of value added: final demand is not split by destination region")
    if economy.activity_levels is not None:
        steps.append(("intermediate imports by partner", _imports_by_partner))
    steps.append(("input dependence on each partner", _input_dependence))
    return steps


def _run_steps(
    steps: list[tuple[str, Step]],
    economy: Economy,
    scope: _Scope,
    solver: LeontiefSolver,
    progress: Progress | None,
) -> tuple[dict[str, object], list[LeontiefReport]]:
    """Run ``steps`` in order, telling ``progress``; the fields found and the last solve of each step."""
    found: dict[str, object] = {"multiplier_tables": {}}
    solves: list[LeontiefReport] = []
    total = len(steps)
    for done, (name, step) in enumerate(steps):
        if progress is not None:
            progress(name, done, total)
        for key, value in step(economy, scope, solver).items():
            if isinstance(found.get(key), dict):  # one multiplier table per account
                found[key].update(value)
            else:
                found[key] = value
        last = solver.last_report
        if last is not None and (not solves or last is not solves[-1]):
            solves.append(last)
    if progress is not None:
        progress("done", total, total)
    return found, solves


# ---- the analyses --------------------------------------------------------------------------


def _output_multipliers(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {"output_multipliers": output_multipliers(economy, closure=scope.closure, solver=solver)}


def _account_multipliers(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {
        "account_multipliers": account_multipliers(economy, list(scope.accounts), solver=solver)
    }


def _multiplier_table(
    economy: Economy, scope: _Scope, solver: LeontiefSolver, *, account: str
) -> dict:
    table = multiplier_table(economy, account, closure=scope.closure, solver=solver)
    return {"multiplier_tables": {account: table}}


def _labour_values(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    values = labour_values(economy, list(scope.labour_accounts), solver=solver)
    return {"labour_values": values if isinstance(values, pd.DataFrame) else values.to_frame()}


def _key_sectors(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {"linkages": linkages(economy, within_region=scope.multi_regional, solver=solver)}


def _footprints(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {"footprints": footprints(economy, list(scope.accounts), solver=solver)}


def _value_added_origin(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {"value_added_origin": value_added_origin(economy, scope.value_added, solver=solver)}


def _imports_by_partner(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {
        "imports_by_supplier": _all_importers(economy, "supplier"),
        "imports_by_user": _all_importers(economy, "user"),
    }


def _input_dependence(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    frames = {
        str(partner): input_dependence(
            economy, str(partner), value_added_account=scope.value_added, solver=solver
        )
        for partner in economy.regions
    }
    return {"input_dependence": pd.concat(frames, axis=1, names=["partner", "measure"])}


def _extraction(economy: Economy, scope: _Scope, solver: LeontiefSolver) -> dict:
    return {"extraction": _extraction_ranking(economy, solver)}


def _all_importers(economy: Economy, by: str) -> pd.DataFrame:
    frames = {str(r): intermediate_imports(economy, str(r), by=by) for r in economy.regions}
    return pd.concat(frames, names=["importer"])


def _extraction_ranking(economy: Economy, solver: LeontiefSolver) -> pd.DataFrame:
    """Total linkage of each product extracted alone: ``x_j · Σᵢ L_ij / L_jj`` (dense L)."""
    L = solver.inverse()
    x = L @ economy.total_final_demand.to_numpy()
    diagonal = np.diag(L)
    table = pd.DataFrame(
        {"output": x, "total_output_lost": x * L.sum(axis=0) / diagonal}, index=economy.products
    )
    table["share_of_total_output"] = table["total_output_lost"] / x.sum() if x.sum() else 0.0
    return table


def _overview(economy: Economy, scope: _Scope) -> pd.Series:
    meta = economy.metadata
    return pd.Series(
        {
            "name": meta.name,
            "year": "" if meta.year is None else str(meta.year),
            "units": meta.units,
            "source": meta.source,
            "products": str(economy.n_products),
            "regions": str(len(economy.regions)),
            "sectors": str(len(economy.sectors)),
            "accounts": ", ".join(scope.accounts),
            "labour_accounts": ", ".join(scope.labour_accounts),
            "value_added_account": scope.value_added or "",
        },
        name="value",
    )


__all__ = ["AnalysisReport", "AnalysisResults", "Progress", "analyse", "LeontiefSolver"]
