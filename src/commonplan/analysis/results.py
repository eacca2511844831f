"""Running every applicable analysis on an economy, and writing the results to files.

:func:`analyse` decides what applies (multi-regional analyses need several regions,
footprints and value-added origin need final demand by destination, Type II needs a
household closure, labour values a labour account …), builds one
:class:`~commonplan.analysis.solver.LeontiefSolver` and reuses it for everything, and
returns an :class:`AnalysisResults`. :func:`write_results` writes every table as CSV and
Parquet (and, on request, one Excel workbook) into a folder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    multiplier_table,
    output_multipliers,
)
from commonplan.analysis.solver import DENSE_LIMIT, LeontiefSolver, SolveReport
from commonplan.economy import Economy
from commonplan.errors import CommonplanError, FileFormatError, UnsupportedOperationError

Progress = Callable[[str, int, int], None]
"""``progress(step_description, steps_done, steps_total)``, called before each step and at the end."""

LABOUR_WORDS = ("labour", "labor", "hours", "employment", "employed", "persons", "workers", "jobs")
INCOME_WORDS = ("compensation", "wage", "salar", "labour income", "labor income")
"""Accounts named like these are money paid to labour, not labour: never labour accounts."""
CONSUMPTION_WORDS = (
    "household",
    "hfce",
    "cons_h",
    "private consumption",
    "personal consumption",
    "f010",
)
"""Final-demand categories of household consumption (F010: BEA personal consumption expenditures)."""
VALUE_ADDED_WORDS = ("value_added", "value added", "gva", "va_plus")
EXCEL_MAX_ROWS = 1_048_575


@dataclass
class AnalysisResults:
    """Everything :func:`analyse` computed, as labelled pandas objects.

    Tables that do not apply to the economy are ``None``; ``notes`` says why.
    """

    summary: pd.Series
    output_multipliers: pd.DataFrame
    account_multipliers: pd.DataFrame
    multiplier_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    labour_values: pd.DataFrame | None = None
    linkages: pd.DataFrame | None = None
    footprints: Footprints | None = None
    value_added_origin: pd.DataFrame | None = None
    imports_by_supplier: pd.DataFrame | None = None
    imports_by_user: pd.DataFrame | None = None
    input_dependence: pd.DataFrame | None = None
    extraction: pd.DataFrame | None = None
    solver_reports: list[SolveReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result as a named DataFrame (the names become file names)."""
        out: dict[str, pd.DataFrame] = {"summary": self.summary.to_frame(name="value")}
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
            out["notes"] = pd.DataFrame({"note": self.notes})
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower() or "account"


def _find(names: Sequence[str], words: Sequence[str]) -> str | None:
    for name in names:
        lowered = name.lower()
        if any(word in lowered for word in words):
            return name
    return None


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
        Accounts for labour values (default: accounts whose name mentions labour, hours,
        employment, persons, workers or jobs, but not compensation, wages or salaries,
        which are money paid to labour).
    value_added_account:
        Account used for the origin of value added and input dependence (default: the
        first account named like value added / GVA).
    closure:
        Household closure for Type II multipliers. ``"auto"`` (default) closes the model
        when the economy has an income account named like compensation / wages and a
        final-demand category named like household consumption (HFCE, CONS_h), and
        skips Type II with a note otherwise, or when that closure is not productive;
        ``None`` skips Type II.
    method, tol:
        Passed to :class:`LeontiefSolver`.
    progress:
        Called as ``progress(step, done, total)`` before each step and once at the end.
    """
    names = list(economy.account_names if accounts is None else accounts)
    notes: list[str] = []
    if isinstance(closure, str):
        closure = _auto_closure(economy, notes)
    if labour_accounts is None:
        labour_accounts = [
            a for a in names if _find([a], LABOUR_WORDS) and not _find([a], INCOME_WORDS)
        ]
    va = value_added_account or _find(economy.account_names, VALUE_ADDED_WORDS)
    multi = len(economy.regions) > 1
    try:
        final_demand_by_region(economy)
        by_destination = True
    except CommonplanError:
        by_destination = False

    steps: list[tuple[str, Callable[[], None]]] = []
    solver = get_solver(economy, None, method=method, tol=tol)
    reports: list[SolveReport] = []
    store: dict[str, object] = {"multiplier_tables": {}}

    def record() -> None:
        if solver.last_report is not None:
            reports.append(solver.last_report)

    def step(name: str):
        def wrap(function: Callable[[], object]) -> None:
            def run() -> None:
                function()
                record()

            steps.append((name, run))

        return wrap

    @step("output multipliers")
    def _() -> None:
        store["output_multipliers"] = output_multipliers(economy, closure=closure, solver=solver)

    @step("account multipliers")
    def _() -> None:
        store["account_multipliers"] = account_multipliers(economy, names, solver=solver)

    for account in names:

        @step(f"multipliers of {account}")
        def _(account: str = account) -> None:
            store["multiplier_tables"][account] = multiplier_table(
                economy, account, closure=closure, solver=solver
            )

    if labour_accounts:

        @step("labour values")
        def _() -> None:
            store["labour_values"] = labour_values(economy, list(labour_accounts), solver=solver)

    else:
        notes.append("labour values: no labour account (name one with labour_accounts=)")

    if economy.activity_levels is not None:

        @step("key sectors")
        def _() -> None:
            store["linkages"] = linkages(economy, within_region=multi, solver=solver)

    else:
        notes.append("key sectors: no observed gross output for the Ghosh (forward) linkages")

    if names and by_destination:

        @step("footprints")
        def _() -> None:
            store["footprints"] = footprints(economy, names, solver=solver)

    elif names:
        notes.append("footprints: final demand is not split by destination region")

    if multi:
        if va and by_destination:

            @step("origin of value added in final demand")
            def _() -> None:
                store["value_added_origin"] = value_added_origin(economy, va, solver=solver)

        elif not va:
            notes.append(
                "origin of value added: no value-added account (name one with value_added_account=)"
            )
        else:
            notes.append("origin of value added: final demand is not split by destination region")

        if economy.activity_levels is not None:

            @step("intermediate imports by partner")
            def _() -> None:
                store["imports_by_supplier"] = _all_importers(economy, "supplier")
                store["imports_by_user"] = _all_importers(economy, "user")

        @step("input dependence on each partner")
        def _() -> None:
            frames = {
                str(partner): input_dependence(
                    economy, str(partner), value_added_account=va, solver=solver
                )
                for partner in economy.regions
            }
            store["input_dependence"] = pd.concat(frames, axis=1, names=["partner", "measure"])

    else:
        notes.append("dependence on partners: the economy has a single region")

    if economy.n_products <= DENSE_LIMIT:

        @step("hypothetical extraction of each product")
        def _() -> None:
            store["extraction"] = _extraction_ranking(economy, solver)

    else:
        notes.append(
            f"hypothetical extraction ranking: skipped above {DENSE_LIMIT} products "
            "(use analysis.extract_sectors for chosen products)"
        )

    total = len(steps)
    for done, (name, run) in enumerate(steps):
        if progress is not None:
            progress(name, done, total)
        run()
    if progress is not None:
        progress("done", total, total)

    return AnalysisResults(
        summary=_summary(economy, names, labour_accounts, va),
        output_multipliers=store["output_multipliers"],
        account_multipliers=store["account_multipliers"],
        multiplier_tables=store["multiplier_tables"],
        labour_values=_as_frame(store.get("labour_values")),
        linkages=store.get("linkages"),
        footprints=store.get("footprints"),
        value_added_origin=store.get("value_added_origin"),
        imports_by_supplier=store.get("imports_by_supplier"),
        imports_by_user=store.get("imports_by_user"),
        input_dependence=store.get("input_dependence"),
        extraction=store.get("extraction"),
        solver_reports=reports,
        notes=notes,
    )


def _auto_closure(economy: Economy, notes: list[str]) -> HouseholdClosure | None:
    """The household closure the economy's names suggest, if it is productive; else None with a note."""
    from commonplan.analysis.multipliers import closed_model

    income = _find(economy.account_names, INCOME_WORDS)
    columns = economy.final_demand_columns
    categories = (
        columns.get_level_values("category" if "category" in columns.names else -1)
        if isinstance(columns, pd.MultiIndex)
        else columns
    )
    consumption = _find([str(c) for c in pd.unique(categories)], CONSUMPTION_WORDS)
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
    return closure


def _as_frame(value) -> pd.DataFrame | None:
    if value is None or isinstance(value, pd.DataFrame):
        return value
    return value.to_frame()


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


def _summary(economy: Economy, names, labour, va) -> pd.Series:
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
            "accounts": ", ".join(names),
            "labour_accounts": ", ".join(labour or []),
            "value_added_account": va or "",
        },
        name="value",
    )


def write_results(
    results: AnalysisResults, folder: str | Path, *, excel: bool = False
) -> list[Path]:
    """Write every table of ``results`` as ``NAME.csv`` and ``NAME.parquet`` into ``folder``.

    With ``excel=True`` also one workbook ``results.xlsx`` with a sheet per table (a table
    longer than Excel's 1,048,576 rows raises
    :class:`~commonplan.errors.UnsupportedOperationError`). Returns the paths written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileFormatError(
            "output path exists and is not a folder",
            where=str(folder),
            expected="a folder (it is created if missing)",
            fix="choose another output path",
        )
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = results.tables()
    for name, frame in tables.items():
        csv = folder / f"{name}.csv"
        frame.to_csv(csv)
        parquet = folder / f"{name}.parquet"
        _parquet_ready(frame).to_parquet(parquet)
        written += [csv, parquet]
    if excel:
        too_long = [name for name, frame in tables.items() if len(frame) > EXCEL_MAX_ROWS]
        if too_long:
            raise UnsupportedOperationError(
                f"table {too_long[0]!r} has more rows than an Excel sheet holds",
                where=str(folder / "results.xlsx"),
                expected=f"at most {EXCEL_MAX_ROWS} rows per sheet",
                fix="use the CSV or Parquet files for this table",
            )
        path = folder / "results.xlsx"
        with pd.ExcelWriter(path) as writer:
            used: set[str] = set()
            for name, frame in tables.items():
                sheet = name[:31]
                k = 1
                while sheet in used:
                    sheet = f"{name[:28]}_{k}"
                    k += 1
                used.add(sheet)
                frame.to_excel(writer, sheet_name=sheet)
        written.append(path)
    return written


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs string column labels; keep the (Multi)Index, stringify the labels."""
    columns = frame.columns
    if isinstance(columns, pd.MultiIndex):
        columns = pd.MultiIndex.from_arrays(
            [columns.get_level_values(i).astype(str) for i in range(columns.nlevels)],
            names=columns.names,
        )
    else:
        columns = pd.Index(columns.astype(str), name=columns.name)
    return frame.set_axis(columns, axis=1)


__all__ = ["AnalysisResults", "Progress", "analyse", "write_results", "LeontiefSolver"]
