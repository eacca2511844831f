"""CLI commands ``commonplan analyze`` and ``commonplan formats``: read a table, decipher it, write every result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonplan.runrecord import Timings, write_run_record

if TYPE_CHECKING:
    from commonplan.economy import Economy

console = Console()


def check_fits_excel(economy: Economy) -> None:
    """Refuse ``--excel`` before analysing when the written tables cannot fit an Excel sheet.

    The tables are written in long format (see
    :meth:`~commonplan.analysis.AnalysisResults.tidy_tables`): the longest has one row per
    product and account (account multipliers, footprints) or per product and partner
    region (input dependence), plus the header row; Excel holds
    :data:`~commonplan.io.writer.EXCEL_MAX_ROWS` rows.
    """
    from commonplan.errors import UnsupportedOperationError
    from commonplan.io.writer import EXCEL_MAX_ROWS

    per_product = max(1, len(economy.account_names), len(economy.regions))
    rows = economy.n_products * per_product + 1
    if rows > EXCEL_MAX_ROWS:
        raise UnsupportedOperationError(
            f"--excel: {economy.n_products:,} products × {per_product:,} accounts or regions "
            f"need {rows:,} rows, more than an Excel sheet holds ({EXCEL_MAX_ROWS:,})",
            where="commonplan analyze --excel",
            expected=f"at most {EXCEL_MAX_ROWS - 1:,} products × accounts for an Excel workbook",
            fix="leave out --excel; the CSV and Parquet files hold every result",
        )


def run_analysis(economy, output: Path, excel: bool, timings: Timings | None = None):
    """Analyse ``economy`` with a progress bar and write every result into ``output``."""
    from commonplan.analysis import analyse

    timings = timings or Timings()

    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("analysing", total=None)

        def report(step: str, done: int, total: int) -> None:
            progress.update(task, description=step, completed=done, total=total)

        with timings.step("compute"):
            results = analyse(economy, progress=report)
        progress.update(task, description="writing results")
        with timings.step("write"):
            files = results.write(
                output, formats=("csv", "parquet", *(("excel",) if excel else ()))
            )
    return results, files


def _formats_help() -> str:
    """The ``analyze`` help text: what it does and every format it reads (from the registry)."""
    from commonplan.io import FORMATS

    lines = "\n".join(f"* {name}: {reader.description}" for name, reader in FORMATS.items())
    return (
        "Read TABLE, validate it, and write every analysis result as CSV and Parquet.\n\n"
        "Formats (--format; detected from the file when omitted):\n\n" + lines
    )


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and ``formats`` to the ``commonplan`` app."""

    @app.command(help=_formats_help())
    def analyze(
        table: Annotated[
            Path, typer.Argument(help="A table file or folder (see `commonplan formats`).")
        ],
        format: Annotated[
            str | None,
            typer.Option(
                "--format", "-f", help="Reader to use; detected from the file when omitted."
            ),
        ] = None,
        output: Annotated[
            Path, typer.Option("--output", "-o", help="Folder for the results.")
        ] = Path("commonplan-results"),
        excel: Annotated[
            bool, typer.Option("--excel", help="Also write one Excel workbook.")
        ] = False,
        report: Annotated[
            bool,
            typer.Option(
                "--report",
                help="Also write report.html: charts of key sectors, multipliers and "
                "dependence by partner (one self-contained file, works offline).",
            ),
        ] = False,
        year: Annotated[
            int | None,
            typer.Option(
                "--year",
                help="Year to read from a file holding several years; "
                "a single-year table must be of this year.",
            ),
        ] = None,
    ) -> None:
        """Read TABLE, validate it, and write every analysis result as CSV and Parquet."""
        from commonplan.io import read_table

        timings = Timings()
        options = {"year": year} if year is not None else {}
        with timings.step("read"):
            economy = read_table(table, format=format, **options)
        if excel:
            check_fits_excel(economy)
        results, files = run_analysis(economy, output, excel, timings)
        if report:
            from commonplan.report import analysis_report, write_report

            with timings.step("report"):
                title = f"Analysis: {economy.metadata.name or table.name}"
                files.append(write_report(output / "report.html", title, analysis_report(results)))
        record = write_run_record(
            output,
            "analyze",
            inputs=[table],
            parameters={
                "table": table,
                "format": format,
                "year": year,
                "excel": excel,
                "report": report,
            },
            timings=timings,
            outputs=files,
            details={"economy": repr(economy), "notes": list(results.notes)},
        )
        console.print(
            f"analysed {economy.n_products} products in {len(economy.regions)} region(s): "
            f"{len(files) + 1} files written to {output} (run record {record.name})"
        )

    @app.command()
    def formats() -> None:
        """List the table formats `analyze --format` accepts."""
        from commonplan.io import FORMATS

        table = Table(title="Table formats")
        table.add_column("format")
        table.add_column("what")
        for name, reader in FORMATS.items():
            table.add_row(name, reader.description)
        console.print(table)
