"""CLI commands ``commonplan plan``, ``commonplan cutoff`` and ``commonplan federation``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from commonplan.runrecord import Timings, write_run_record

console = Console()


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _plan_table(plan) -> Table:
    table = Table(title=f"Plan {plan.problem.name!r}")
    table.add_column("period")
    table.add_column("worst-met target", justify="right")
    for limit in plan.problem.resources[:4]:
        table.add_column(f"{limit.account} used / limit", justify="right")
    worst = plan.worst_fulfilment
    for k, period in enumerate(plan.problem.periods):
        cells = [str(period), f"{worst.iloc[k]:.4f}"]
        for limit in plan.problem.resources[:4]:
            row = plan.resources[
                (plan.resources["account"] == limit.account) & (plan.resources["period"] == period)
            ].iloc[0]
            mark = " (binding)" if row["binding"] else ""
            cells.append(f"{row['used']:.6g} / {row['limit']:.6g}{mark}")
        table.add_row(*cells)
    return table


def plan_command(
    spec: Annotated[Path, typer.Argument(help="Planning specification (TOML).", exists=False)],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Folder for the plan's tables (Parquet, CSV and Excel)."
        ),
    ] = Path("plan-output"),
    method: Annotated[
        str | None,
        typer.Option(help="auto, structured, simplex, ipm or pdlp (overrides the spec)."),
    ] = None,
    excel: Annotated[bool, typer.Option(help="Also write plan.xlsx.")] = True,
    report_html: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Also write report.html with charts (one self-contained file, works offline).",
        ),
    ] = False,
) -> None:
    """Compute the optimal plan of SPEC and write its tables to OUTPUT."""
    from commonplan.planning.solve import solve
    from commonplan.planning.spec import read_spec

    timings = Timings()
    with _progress() as progress:
        task = progress.add_task("reading the specification", total=None)
        with timings.step("read"):
            parsed = read_spec(spec)
        problem = parsed.problem
        progress.update(
            task,
            description=f"solving {problem.name!r}: {problem.economy.n_activities} activities × {problem.n_periods} periods",
        )
        with timings.step("compute"):
            plan = solve(
                problem,
                method=method or parsed.method,
                time_limit=parsed.time_limit,
                tolerance=parsed.tolerance,
            )
        progress.update(task, description="writing files")
        with timings.step("write"):
            files = plan.write(
                output, formats=("parquet", "csv", "excel") if excel else ("parquet", "csv")
            )
            report = output / "report.txt"
            report.write_text(plan.summary(timings=False) + "\n", encoding="utf-8")
            if report_html:
                from commonplan.report import plan_report, write_report

                title = f"Plan: {problem.name}"
                files.append(write_report(output / "report.html", title, plan_report(plan)))
        record = write_run_record(
            output,
            "plan",
            inputs=spec_inputs(spec),
            parameters={"spec": spec, "method": method, "excel": excel, "report": report_html},
            timings=timings,
            outputs=[*files, report],
            details={
                "method_used": method or parsed.method,
                "time_limit": parsed.time_limit,
                "tolerance": parsed.tolerance,
                "problem": problem.name,
                "solver": plan.report.as_dict(),
            },
        )
    console.print(_plan_table(plan))
    console.print(plan.summary())
    console.print(f"wrote {len(files) + 2} files to {output} (run record {record.name})")


def spec_inputs(spec: Path) -> list[Path]:
    """The specification and the table (or Cockshott folder) it names, for the run record."""
    import tomllib

    inputs = [spec]
    try:
        section = tomllib.loads(spec.read_text(encoding="utf-8")).get("economy", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return inputs  # read_spec has accepted the file, so this does not happen
    for key in ("table", "cockshott"):
        if isinstance(section, dict) and isinstance(section.get(key), str):
            named = Path(section[key])
            inputs.append(named if named.is_absolute() else spec.parent / named)
    return inputs


def _scenario(
    command: str,
    economy_path: Path,
    table_format: str | None,
    members: list[str],
    partners: list[str],
    periods: int,
    member_trade: str,
    output: Path,
    compare: bool,
    report_html: bool = False,
    pooling: str = "uniform",
) -> None:
    from commonplan.io import read_table
    from commonplan.planning.scenarios import TradeAssumptions, federation_scenario

    timings = Timings()
    with _progress() as progress:
        task = progress.add_task("reading the table", total=None)
        with timings.step("read"):
            economy = read_table(economy_path, format=table_format)
        progress.update(
            task,
            description=f"planning {'+'.join(members)} without {'+'.join(partners) or 'no one'}",
        )
        with timings.step("compute"):
            result = federation_scenario(
                economy,
                members,
                partners,
                TradeAssumptions(periods=periods, member_trade=member_trade, pooling=pooling),
                compare=compare,
            )  # type: ignore[arg-type]
    table = Table(title=result.plan.problem.name)
    table.add_column("period")
    table.add_column("share kept", justify="right")
    if result.baseline_share is not None:
        table.add_column("without cut-off", justify="right")
    for k, period in enumerate(result.share.index):
        cells = [str(period), f"{result.share.iloc[k]:.4f}"]
        if result.baseline_share is not None:
            cells.append(f"{result.baseline_share.iloc[k]:.4f}")
        table.add_row(*cells)
    console.print(table)
    console.print(result.summary())
    with timings.step("write"):
        files = result.write(output, formats=("parquet", "csv"))
        report = output / "report.txt"
        report.write_text(result.summary() + "\n", encoding="utf-8")
        if report_html:
            from commonplan.report import scenario_report, write_report

            title = f"Scenario: {result.plan.problem.name}"
            files.append(write_report(output / "report.html", title, scenario_report(result)))
    write_run_record(
        output,
        command,
        inputs=[economy_path],
        parameters={
            "table": economy_path,
            "format": table_format,
            "members": list(members),
            "partners": list(partners),
            "periods": periods,
            "member_trade": member_trade,
            "pooling": pooling,
            "compare": compare,
            "report": report_html,
        },
        timings=timings,
        outputs=[*files, report],
        details={
            "economy": repr(economy),
            "problem": result.plan.problem.name,
            "solver": result.plan.report.as_dict(),
        },
    )
    console.print(f"wrote the scenario and its run record to {output}")


def _comparison_tables(comparison, top: int) -> list[Table]:
    """The totals per period and model, then the ``top`` (period, sector) rows by spread.

    Loss shares in per cent; a model measuring a price rise (ghosh-price) is marked ``*``.
    """
    totals = comparison.totals()
    models = list(comparison.outcomes)
    extra = [c for c in ("min", "max", "spread") if c in totals]
    headers = [f"{n}*" if comparison.outcomes[n].measure == "cost" else n for n in models] + extra
    first = Table(title=f"{comparison.shock.describe()}: % of base output lost")
    first.add_column("period")
    for header in headers:
        first.add_column(header, justify="right")
    for period, row in totals.iterrows():
        first.add_row(str(period), *(f"{100 * row[c]:.1f}" for c in models + extra))
    wide = comparison.side_by_side()
    order = wide["spread"] if "spread" in wide else wide[models[0]].abs()
    shown = wide.loc[order.sort_values(ascending=False).index[:top]]
    second = Table(
        title=f"% lost by period and sector: the {len(shown)} widest spreads of {len(wide)}",
        caption="* price rise, not output lost (not in the spread)"
        if any(h.endswith("*") for h in headers)
        else None,
    )
    second.add_column("period")
    second.add_column("sector")
    for header in headers:
        second.add_column(header, justify="right")
    for (period, sector), row in shown.iterrows():
        second.add_row(str(period), str(sector), *(f"{100 * row[c]:.1f}" for c in models + extra))
    return [first, second]


def _comparison_html(comparison, path: Path) -> Path:
    """A self-contained HTML chart (Plotly, embedded, nothing from a CDN) of the comparison.

    Top: share of the region's base output lost per period, one bar per model. Bottom:
    period 1 by sector, one marker per model, sectors ordered by the spread across models.
    """
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    totals = comparison.totals()
    wide = comparison.side_by_side()
    first = wide.xs(totals.index[0], level="period")
    if "spread" in first:
        first = first.sort_values("spread", ascending=False)
    figure = make_subplots(
        rows=2,
        cols=1,
        subplot_titles=(
            "share of base output lost, per period",
            f"period {totals.index[0]}, by sector (widest spread first)",
        ),
    )
    for k, (name, outcome) in enumerate(comparison.outcomes.items()):
        label = f"{name} (price rise)" if outcome.measure == "cost" else name
        color = qualitative.Plotly[k % len(qualitative.Plotly)]
        figure.add_trace(
            go.Bar(
                x=[str(p) for p in totals.index],
                y=totals[name],
                name=label,
                legendgroup=name,
                marker_color=color,
            ),
            row=1,
            col=1,
        )
        figure.add_trace(
            go.Scatter(
                x=list(first.index),
                y=first[name],
                mode="markers",
                marker_color=color,
                name=label,
                legendgroup=name,
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    figure.update_yaxes(tickformat=".0%")
    figure.update_layout(
        title=comparison.shock.describe(), barmode="group", height=900, template="plotly_white"
    )
    figure.write_html(path, include_plotlyjs=True, full_html=True)
    return path


def _compare_models(
    economy_path: Path,
    table_format: str | None,
    region: str,
    partners: list[str],
    periods: int,
    models: list[str],
    share: float,
    duration: int | None,
    output: Path | None,
    top: int,
) -> None:
    from commonplan.io import read_table
    from commonplan.scenarios import MODELS, Shock, compare

    names = list(MODELS) if models == ["all"] else models
    shock = Shock(region, tuple(partners), share, periods=periods, duration=duration)
    with _progress() as progress:
        task = progress.add_task("reading the table", total=None)
        economy = read_table(economy_path, format=table_format)
        progress.update(task, description=f"{shock.describe()}: {', '.join(names)}")
        comparison = compare(economy, shock, names)
    wide = console if console.is_terminal else Console(width=max(console.width, 132))
    for table in _comparison_tables(comparison, top):
        wide.print(table)
    console.print(comparison.summary())
    if output is not None:
        comparison.write(output)
        (output / "report.txt").write_text(comparison.summary() + "\n", encoding="utf-8")
        _comparison_html(comparison, output / "comparison.html")
        console.print(f"wrote the comparison to {output}")


def cutoff_command(
    table: Annotated[Path, typer.Argument(help="Multi-regional table (see `commonplan formats`).")],
    region: Annotated[str, typer.Option(help="The region that plans, e.g. COL.")],
    partner: Annotated[
        list[str], typer.Option(help="Partner whose exports stop, e.g. USA (repeatable).")
    ],
    periods: Annotated[int, typer.Option(help="Number of periods.")] = 5,
    model: Annotated[
        list[str] | None,
        typer.Option(
            help="Scenario model (lp, leontief, ghosh-price, inoperability, critical-inputs, "
            "ario; repeatable) or 'all': prints the models side by side. "
            "Without it, the plan LP's detailed result."
        ),
    ] = None,
    share: Annotated[
        float, typer.Option(help="With --model: share of the partner's supplies cut (0 to 1).")
    ] = 1.0,
    duration: Annotated[
        int | None,
        typer.Option(help="With --model: periods the cut lasts (default: all of them)."),
    ] = None,
    top: Annotated[
        int, typer.Option(help="With --model: (period, sector) rows shown, widest spread first.")
    ] = 15,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Folder for the result tables and run.json."),
    ] = Path("cutoff-output"),
    compare: Annotated[bool, typer.Option(help="Also solve without the cut-off.")] = True,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Table format; detected when omitted.")
    ] = None,
    report_html: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Also write report.html with charts (one self-contained file, works offline).",
        ),
    ] = False,
) -> None:
    """Largest share of base-year final demand REGION keeps each period if imports from PARTNER stop.

    With --model, the loss of output under each model instead, side by side.
    """
    if model:
        _compare_models(
            table, format, region, partner, periods, model, share, duration, output, top
        )
        return
    _scenario(
        "cutoff", table, format, [region], partner, periods, "table", output, compare, report_html
    )


def federation_command(
    table: Annotated[Path, typer.Argument(help="Multi-regional table (see `commonplan formats`).")],
    member: Annotated[list[str], typer.Option(help="A member region (repeat for each).")],
    partner: Annotated[
        list[str] | None, typer.Option(help="Partner whose exports stop (repeatable).")
    ] = None,
    periods: Annotated[int, typer.Option(help="Number of periods.")] = 5,
    trade: Annotated[
        str,
        typer.Option(help="Trade between members: 'table' (fixed flows) or 'free' (with a cost)."),
    ] = "table",
    pooling: Annotated[
        str,
        typer.Option(
            help="'uniform': one share of base-year deliveries for every member (the weakest "
            "sets it); 'harmony': a weighted total of every target's harmony."
        ),
    ] = "uniform",
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Folder for the result tables and run.json."),
    ] = Path("federation-output"),
    compare: Annotated[bool, typer.Option(help="Also solve without the cut-off.")] = True,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Table format; detected when omitted.")
    ] = None,
    report_html: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Also write report.html with charts (one self-contained file, works offline).",
        ),
    ] = False,
) -> None:
    """The cut-off scenario for several member regions planning together."""
    _scenario(
        "federation",
        table,
        format,
        member,
        partner or [],
        periods,
        trade,
        output,
        compare,
        report_html,
        pooling,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``commonplan`` app."""
    app.command("plan")(plan_command)
    app.command("cutoff")(cutoff_command)
    app.command("federation")(federation_command)
