"""CLI command ``commonplan participate``: run the Hahnel–Szczepanczyk procedure on an experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commonplan.errors import ParticipationInputError
from commonplan.runrecord import Timings, write_run_record

_COLOUR_STYLE = {
    "blue": "blue",
    "green": "green",
    "yellow": "yellow",
    "orange": "dark_orange",
    "red": "red",
}


def participate(
    experiment: Annotated[
        Path, typer.Argument(help="Experiment file in the pequod-cljs format (.clj or .clj.gz).")
    ],
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="Stop a year once no imbalance exceeds this fraction (the program: 0.03).",
        ),
    ] = 0.03,
    years: Annotated[
        int,
        typer.Option("--years", help="Years to plan; years after the first perturb the exponents."),
    ] = 2,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Folder for the Parquet results, run_configuration.json and run.json."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the year-two exponent changes.")] = 0,
    max_rounds: Annotated[int, typer.Option("--max-rounds", help="Round cap per year.")] = 200,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="Also compare the plan's labour with the minimum-labour plan."
        ),
    ] = False,
    report_html: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Also write report.html into --output: the imbalance trajectory "
            "(one self-contained file, works offline).",
        ),
    ] = False,
) -> None:
    """Run participatory planning: councils propose, the facilitation board moves prices until proposals balance."""
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text

    from commonplan.participation.experiments import read_experiment
    from commonplan.participation.procedure import RoundReport, run_procedure

    if not 0 < threshold < 2:
        raise ParticipationInputError(
            f"--threshold is {threshold}",
            where="commonplan participate, --threshold",
            expected="a fraction such as 0.05 or 0.03",
        )
    if report_html and output is None:
        raise ParticipationInputError(
            "--report needs a folder to write report.html into",
            where="commonplan participate, --report",
            expected="--output FOLDER together with --report",
        )
    console = Console()
    timings = Timings()
    with timings.step("read"):
        economy = read_experiment(experiment)
    console.print(f"[bold]{economy!r}[/bold]")

    def line(report: RoundReport | None) -> Text:
        if report is None:
            return Text("starting…")
        label = economy.commodities[report.worst_commodity]
        return Text.assemble(
            f"year {report.year}  round {report.round:3d}  worst imbalance ",
            (f"{100 * report.worst_imbalance:8.4f} %", _COLOUR_STYLE[report.colour]),
            f"  ({label[0]} good {label[1]})",
        )

    with (
        Live(line(None), console=console, refresh_per_second=12, transient=True) as live,
        timings.step("compute"),
    ):
        result = run_procedure(
            economy,
            years=years,
            seed=seed,
            stop_threshold=threshold,
            max_rounds=max_rounds,
            on_round=lambda report: live.update(line(report)),
        )

    table = Table(title=f"{economy.name}: {result.status}")
    for column in (
        "year",
        "rounds",
        "converged",
        "diverged",
        "<10 %",
        "<5 %",
        "<3 %",
        "10 %→5 %",
        "worst at end",
    ):
        table.add_column(column, justify="right")
    for year, row in result.year_summary().iterrows():
        cells = [
            row["first_round_below_10pct"],
            row["first_round_below_5pct"],
            row["first_round_below_3pct"],
            row["rounds_from_10pct_to_5pct"],
        ]
        table.add_row(
            str(year),
            str(row["rounds"]),
            "yes" if row["converged"] else "no",
            "yes" if row["diverged"] else "no",
            *("–" if cell is None or str(cell) == "<NA>" else str(cell) for cell in cells),
            f"{100 * row['final_worst_imbalance']:.4f} %",
        )
    console.print(table)
    if compare and not result.diverged:
        from commonplan.participation.compare import compare_with_minimum_labour

        console.print(compare_with_minimum_labour(result).summary())
    if output is not None:
        with timings.step("write"):
            written = result.write(output)
            if report_html:
                from commonplan.report import participation_report, write_report

                title = f"Participatory planning: {economy.name or experiment.name}"
                written.append(
                    write_report(output / "report.html", title, participation_report(result))
                )
        write_run_record(
            output,
            "participate",
            inputs=[experiment],
            parameters={
                "experiment": experiment,
                "threshold": threshold,
                "years": years,
                "seed": seed,
                "max_rounds": max_rounds,
                "compare": compare,
                "report": report_html,
            },
            timings=timings,
            outputs=written,
            details=result.run_configuration(),
        )
        console.print(f"results and run.json written to {output}")
    if result.diverged:
        result.raise_if_diverged()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``commonplan`` app."""
    app.command("participate")(participate)
