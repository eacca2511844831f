"""CLI command ``commonplan monitor``: production reports against a plan, alarms, a re-plan."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def load_plan(path: Path):
    """A plan from a TOML specification (solved now) or a folder ``commonplan plan`` wrote.

    Returns ``(plan or None, targets frame)``: the plan object where a spec was given (a
    re-plan needs it), and the outputs per product and period.
    """
    import pandas as pd

    from commonplan.errors import FileFormatError

    if path.is_dir():
        for name in ("outputs.parquet", "outputs.csv"):
            if (path / name).is_file():
                frame = (
                    pd.read_parquet(path / name)
                    if name.endswith("parquet")
                    else pd.read_csv(path / name)
                )
                break
        else:
            raise FileFormatError(
                "the folder holds no outputs.parquet or outputs.csv",
                where=str(path),
                fix="give the folder `commonplan plan -o` wrote, or the plan's TOML specification",
            )
        if not {"region", "sector"} <= set(frame.columns):
            raise FileFormatError(
                "the outputs table has no region and sector columns", where=str(path / name)
            )
        return None, frame.set_index(["region", "sector"])
    from commonplan.planning.solve import solve
    from commonplan.planning.spec import read_spec

    parsed = read_spec(path)
    plan = solve(
        parsed.problem,
        method=parsed.method,
        time_limit=parsed.time_limit,
        tolerance=parsed.tolerance,
    )
    return plan, plan.outputs


def _alarm_table(alarms) -> Table:
    table = Table(title=f"Alarms raised: {len(alarms)}")
    for column in ("period", "sub-period", "product", "kind", "ratio", "P(change)", "total / plan"):
        table.add_column(column, justify="right" if column[0] in "rPt" else "left")
    for row in alarms.head(30).itertuples():
        table.add_row(
            str(row.period),
            str(row.sub_period),
            str(row.product),
            str(row.alarm),
            f"{row.ratio:.3f}",
            f"{row.change_probability:.2f}",
            f"{row.total_forecast / row.total_plan:.3f}" if row.total_plan > 0 else "–",
        )
    return table


def monitor_command(
    reports: Annotated[Path, typer.Argument(help="Production reports (CSV or Parquet).")],
    plan: Annotated[
        Path,
        typer.Option(
            help="The plan: its TOML specification, or the folder `commonplan plan` wrote."
        ),
    ],
    sub_periods: Annotated[
        int, typer.Option(help="Reporting sub-periods per plan period (12 for months).")
    ] = 12,
    replan: Annotated[
        bool,
        typer.Option(help="Re-plan the periods not yet reported (needs the specification)."),
    ] = False,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for posterior, alarms and run.json.")
    ] = Path("monitor-output"),
) -> None:
    """Watch PLAN through REPORTS: state probabilities, forecasts, alarms; optionally re-plan."""
    import pandas as pd

    from commonplan.errors import ReportError
    from commonplan.io.writer import write_tables
    from commonplan.monitoring import PlanTargets, monitor_reports, read_reports, validate_reports
    from commonplan.runrecord import Timings, write_run_record

    timings = Timings()
    with timings.step("read"):
        solved, outputs = load_plan(plan)
        unit = str(solved.problem.economy.metadata.units or "") if solved is not None else ""
        targets = (
            PlanTargets.from_plan(solved, sub_periods, unit=unit)
            if solved is not None
            else PlanTargets(
                tuple(f"{r}/{s}" for r, s in outputs.index),
                tuple(str(c) for c in outputs.columns),
                outputs.to_numpy(dtype=float),
                sub_periods,
            )
        )
        canonical = validate_reports(read_reports(reports), targets, source=str(reports))
    with timings.step("compute"):
        monitor, steps = monitor_reports(canonical, targets)
    posterior = pd.concat(
        [s.table.reset_index().assign(period=s.period, sub_period=s.sub_period) for s in steps],
        ignore_index=True,
    )
    alarms = posterior[posterior["alarm"] != ""].reset_index(drop=True)
    tables = {"posterior": posterior, "alarms": alarms}
    if replan:
        if solved is None:
            raise ReportError(
                "a re-plan needs the plan's specification", where="--plan", fix="pass the TOML spec"
            )
        from commonplan.monitoring.replan import ExecutionState
        from commonplan.monitoring.replan import replan as replan_plan

        upcoming = monitor.next_period
        if upcoming is None:
            raise ReportError(
                "every period is reported: nothing is left to re-plan", where="--replan"
            )
        period, sub = upcoming
        # Re-plan from the first period not yet under way.
        labels = [str(p) for p in solved.problem.periods]
        k = labels.index(period) + (0 if sub == 1 else 1)
        if k >= len(labels):
            raise ReportError(
                "the last period is under way: nothing is left to re-plan", where="--replan"
            )
        start = solved.problem.periods[k]
        levels = steps[-1].table["level"]
        with timings.step("replan"):
            result = replan_plan(solved, ExecutionState(start=start, levels=levels[levels < 1]))
        tables |= {f"replan_{k}": v for k, v in result.tables().items()}
    with timings.step("write"):
        files = write_tables(tables, output, ("parquet", "csv"))
    write_run_record(
        output,
        "monitor",
        inputs=[reports, plan],
        parameters={"reports": reports, "plan": plan, "sub_periods": sub_periods, "replan": replan},
        timings=timings,
        outputs=files,
    )
    console.print(
        f"{len(steps)} sub-period(s) of {len(targets.products)} products watched; "
        f"{len(alarms)} alarm(s); next report due: "
        + (
            "none (plan complete)"
            if monitor.next_period is None
            else "period {} sub-period {}".format(*monitor.next_period)
        )
    )
    if len(alarms):
        console.print(_alarm_table(alarms))
    outliers = posterior[posterior["outlier_before"]]
    if len(outliers):
        console.print(
            f"transient outliers (shown, not alarmed): {', '.join(sorted(set(outliers['product'])))}"
        )
    if replan:
        console.print(result.summary())
    console.print(f"wrote {len(files)} files and run.json to {output}")


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to the ``commonplan`` app."""
    app.command("monitor")(monitor_command)
