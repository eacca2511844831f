"""CLI command ``commonplan sweep SPEC.toml``: many cut-off scenarios on an executor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console()


def sweep_command(
    spec: Annotated[Path, typer.Argument(help="Sweep specification (TOML).")],
    executor: Annotated[str, typer.Option(help="serial, pool or dask.")] = "serial",
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (pool, local Dask).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler (tcp://host:8786).")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder of the results (resumed if it exists).")
    ] = Path("sweep-output"),
) -> None:
    """Run the scenarios of SPEC, writing Parquet results to OUTPUT; a rerun skips done ones."""
    from commonplan.scenarios.executors import make_executor
    from commonplan.scenarios.sweep import SweepSpec, run_sweep

    parsed = SweepSpec.read(spec)
    runner = make_executor(executor, workers=workers, scheduler=scheduler)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(
            f"{parsed.name}: {len(parsed.scenarios)} scenarios", total=len(parsed.scenarios)
        )
        report = run_sweep(
            parsed, runner, output, progress=lambda done, total: bar.update(task, completed=done)
        )
    console.print(report.summary())


def register(app: typer.Typer) -> None:
    """Add ``sweep`` to the ``commonplan`` app."""
    app.command("sweep")(sweep_command)
