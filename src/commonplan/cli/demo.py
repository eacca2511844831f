"""CLI command ``commonplan demo``: the bundled real economies, analysed, and a partner cut-off planned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from commonplan.cli.analyze import console, run_analysis
from commonplan.economy import roles


def _label(economy, product: tuple) -> str:
    names = economy.metadata.extra.get("sector_names", {}) if economy.metadata.extra else {}
    region, sector = product
    name = names.get(sector, "")
    prefix = f"{region} " if len(economy.regions) > 1 else ""
    text = f"{prefix}{sector}" + (f" {name}" if name else "")
    return text if len(text) <= 40 else text[:39] + "…"


def _print_summary(economy, results, top: int = 10) -> None:
    """The short, readable summary ``commonplan demo`` prints."""
    meta = economy.metadata
    console.print(
        f"[bold]{meta.name or 'Economy'}[/bold]" + (f", {meta.year}" if meta.year else "")
    )
    console.print(
        f"{economy.n_products} products in {len(economy.regions)} region(s); "
        f"units: {meta.units or 'n/a'}; accounts: {', '.join(economy.account_names)}"
    )
    if meta.source:
        console.print(f"source: {meta.source}")
    if meta.citation:
        console.print(f"citation: {meta.citation}")

    linkages = results.linkages
    if linkages is not None:
        # rank by the weaker of the two indices: a key sector is strong both ways
        score = linkages[["power_of_dispersion", "sensitivity_of_dispersion"]].min(axis=1)
        order = linkages.assign(_key=linkages["classification"].eq("key"), _score=score)
        order = order.sort_values(["_key", "_score"], ascending=False).head(top)
        table = Table(title="Ten key sectors (Rasmussen–Hirschman indices; key = both > 1)")
        for column in ("sector", "backward index", "forward index", "class"):
            table.add_column(column)
        for label, row in order.iterrows():
            table.add_row(
                _label(economy, label),
                f"{row['power_of_dispersion']:.3f}",
                f"{row['sensitivity_of_dispersion']:.3f}",
                str(row["classification"]),
            )
        console.print(table)
        top_labels = list(order.index)
    else:
        top_labels = list(
            results.output_multipliers.sort_values("type_I", ascending=False).index[:top]
        )

    accounts = results.account_multipliers
    mtable = Table(title="Multipliers of these sectors (per unit of final demand)")
    mtable.add_column("sector")
    mtable.add_column("output (Type I)")
    with_role = {name for role in roles.ACCOUNT_ROLES for name in economy.accounts_for(role)}
    shown = [a for a in accounts.index if a in with_role][:4]
    for account in shown:
        mtable.add_column(account.replace("_", " "))
    for label in top_labels:
        mtable.add_row(
            _label(economy, label),
            f"{results.output_multipliers.loc[label, 'type_I']:.3f}",
            *(f"{accounts.loc[a, label]:.4g}" for a in shown),
        )
    console.print(mtable)
    units = {a: economy.account_units.get(a, "") for a in shown}
    console.print(
        "account multipliers count each account per unit of final demand ("
        + meta.units.split(",")[0]
        + "); "
        + "; ".join(f"{a}: {u}" for a, u in units.items() if u)
    )

    imports_account = economy.account_for(roles.IMPORTS)
    if imports_account in accounts.index:
        imports = accounts.loc[imports_account].sort_values(ascending=False)
        dtable = Table(
            title="Import dependence: imports embodied per unit of final demand (highest five)"
        )
        dtable.add_column("sector")
        dtable.add_column("imports per unit")
        for label, value in imports.head(5).items():
            dtable.add_row(_label(economy, label), f"{value:.4f}")
        console.print(dtable)


def _print_partner_scenario(region: str, partner: str, periods: int, output: Path) -> list[Path]:
    """Dependence of ``region`` on ``partner`` and the cut-off scenario, on the bundled ICIO table."""
    from commonplan.analysis.dependence import input_dependence, intermediate_imports
    from commonplan.datasets import load_dataset
    from commonplan.planning.scenarios import TradeAssumptions, cutoff_scenario

    economy = load_dataset("icio2022_americas")
    meta = economy.metadata
    console.print(
        f"\n[bold]Dependence on a partner and a cut-off: {meta.name}[/bold] "
        f"({economy.n_products} products; {meta.units or 'n/a'}; {meta.citation})"
    )
    imports = intermediate_imports(economy, region)["imports"].groupby(level="partner").sum()
    shares = (imports / imports.sum()).sort_values(ascending=False)
    table = Table(
        title=f"{region}: intermediate imports by partner ({imports.sum():,.0f} in all)",
        min_width=60,
    )
    table.add_column("partner")
    table.add_column("share", justify="right")
    for name, share in shares.head(6).items():
        table.add_row(str(name), f"{share:.1%}")
    console.print(table)

    dependence = input_dependence(economy, partner, region=region)
    dtable = Table(
        title=f"{region} sectors most dependent on inputs from {partner} (per unit of final demand)"
    )
    for column in ("sector", "direct", "total"):
        dtable.add_column(column)
    for label, row in dependence.sort_values("total", ascending=False).head(5).iterrows():
        dtable.add_row(_label(economy, label), f"{row['direct']:.4f}", f"{row['total']:.4f}")
    console.print(dtable)

    with console.status(f"planning {region} without imports from {partner} over {periods} periods"):
        result = cutoff_scenario(economy, region, partner, TradeAssumptions(periods=periods))
    stable = Table(
        title=f"Largest uniform share of base-year final demand {region} can keep without {partner}"
    )
    stable.add_column("period")
    stable.add_column("share kept", justify="right")
    stable.add_column("without the cut-off", justify="right")
    for period, share in result.share.items():
        base = (
            result.baseline_share.loc[period] if result.baseline_share is not None else float("nan")
        )
        stable.add_row(str(period), f"{share:.1%}", f"{base:.1%}")
    console.print(stable)
    console.print(result.summary().split("\n", 3)[-1])
    folder = output / f"cutoff_{region}_without_{partner}"
    files = result.plan.write(folder)
    (folder / "report.txt").write_text(result.summary() + "\n", encoding="utf-8")
    return [*files, folder / "report.txt"]


def _print_monitoring(region: str, partner: str, output: Path) -> list[Path]:
    """A simulated execution of a plan of the bundled ICIO economy: the partner's supplies stop
    in the middle of the second year; the monitor catches the shortfall, the alarm escalates,
    and the last year is re-planned."""
    from datetime import UTC, datetime, timedelta

    import pandas as pd

    from commonplan.datasets import load_dataset
    from commonplan.io.writer import write_tables
    from commonplan.monitoring import (
        EscalationPolicy,
        escalation_level,
        monitor_reports,
        validate_reports,
    )
    from commonplan.monitoring.replan import ExecutionState, replan
    from commonplan.monitoring.simulate import cutoff_execution
    from commonplan.planning import PlanProblem, solve

    economy = load_dataset("icio2022_americas")
    with console.status("planning three years and simulating their execution"):
        cheapest = solve(
            PlanProblem.build(
                economy, target_share=1.0, objective="min_resource", resource="value_added"
            )
        )
        limit = 0.98 * float(cheapest.resource_use("value_added").iloc[0])
        plan = solve(
            PlanProblem.build(
                economy, periods=3, target_share=1.0, limits={"value_added": limit}, name="demo"
            )
        )
        execution = cutoff_execution(plan, region, partner, seed=1)
        reports = validate_reports(execution.reports, execution.targets)
        reported = reports[reports["period"] != execution.targets.periods[-1]]
        _, steps = monitor_reports(reported, execution.targets)
    console.print(
        f"\n[bold]Watching the plan: {partner}'s supplies to {region} stop in month "
        f"{execution.start % 12 + 1} of year 2[/bold] (monthly reports, noise 1 % of plan; "
        f"one transient outlier in {execution.outlier[0]}, month {execution.outlier[1] + 1})"
    )
    table = Table(title="Alarms raised (first per product)")
    for column in ("month", "product", "kind", "actual / plan", "P(change)", "true shortfall"):
        table.add_column(column, justify="left" if column in ("product", "kind") else "right")
    seen: set[str] = set()
    first_alarm = None
    for k, step in enumerate(steps):
        for product, row in step.alarms.iterrows():
            if product in seen:
                continue
            seen.add(product)
            truth = execution.shortfall.get(product)
            table.add_row(
                str(k + 1),
                str(product),
                row["alarm"],
                f"{row['ratio']:.3f}",
                f"{row['change_probability']:.2f}",
                f"{1 - truth:.1%}" if truth is not None else "none (false alarm)",
            )
            if first_alarm is None and truth is not None:
                first_alarm = (k, product)
    console.print(table)
    outliers = {p for s in steps for p in s.table.index[s.table["outlier_before"]]}
    console.print(f"transient outliers shown, not alarmed: {', '.join(sorted(outliers)) or 'none'}")
    if first_alarm is not None:
        raised = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=30 * first_alarm[0])
        policy = EscalationPolicy()
        path = " → ".join(
            f"{escalation_level(raised, raised + timedelta(hours=h), policy=policy)} (+{h} h)"
            for h in (0, 48, 96)
        )
        console.print(f"nobody acknowledges the alarm on {first_alarm[1]}: {path}")
    levels = steps[-1].table["level"]
    result = replan(plan, ExecutionState(start=plan.problem.periods[-1], levels=levels[levels < 1]))
    console.print(result.summary())
    posterior = pd.concat(
        [s.table.reset_index().assign(period=s.period, sub_period=s.sub_period) for s in steps],
        ignore_index=True,
    )
    tables = {"posterior": posterior, "alarms": posterior[posterior["alarm"] != ""]}
    tables |= {f"replan_{name}": frame for name, frame in result.tables().items()}
    return write_tables(tables, output / "monitoring", ("parquet",))


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the ``commonplan`` app."""

    @app.command()
    def demo(
        output: Annotated[
            Path, typer.Option("--output", "-o", help="Folder for the full results.")
        ] = Path("commonplan-demo"),
        serve: Annotated[
            bool, typer.Option("--serve", help="Seed a demo assembly and serve the web pages.")
        ] = False,
        host: Annotated[
            str, typer.Option(help="Address to serve on (with --serve).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to serve on (with --serve).")] = 8000,
        region: Annotated[
            str, typer.Option(help="Region of the cut-off scenario (bundled ICIO table).")
        ] = "COL",
        partner: Annotated[
            str, typer.Option(help="Partner whose exports stop in the scenario.")
        ] = "USA",
        periods: Annotated[int, typer.Option(help="Periods of the cut-off scenario.")] = 3,
    ) -> None:
        """Analyse the bundled real economies (BEA USA 2021; OECD ICIO 2022 Americas) and print a summary."""
        from commonplan.datasets import load_demo

        economy = load_demo()
        results, files = run_analysis(economy, output, excel=False)
        _print_summary(economy, results)
        files += _print_partner_scenario(region, partner, periods, output)
        files += _print_monitoring(region, partner, output)
        console.print(f"full results: {len(files)} files in {output.resolve()}")
        if serve:
            from commonplan.server import Settings, run

            run(Settings.from_env(host=host, port=port), seed_demo=True, echo=typer.echo)
