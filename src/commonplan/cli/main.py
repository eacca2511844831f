"""The ``commonplan`` command: a thin layer that parses, calls the core or services, and renders.

Each group of commands lives in its own module with a ``register(app)`` function; a
:class:`~commonplan.errors.CommonplanError` is printed as one line and exits with code 2.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from commonplan.cli import (
    admin,
    analyze,
    bots,
    db,
    demo,
    monitor,
    participate,
    plan,
    server,
    sweep,
)
from commonplan.errors import CommonplanError

app_typer = typer.Typer(
    name="commonplan",
    help="Commonplan: read input-output tables, analyse them, compute plans, and let councils decide.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from commonplan import __version__

        typer.echo(f"commonplan {__version__}")
        raise typer.Exit()


@app_typer.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Commonplan's version and exit.",
        ),
    ] = False,
) -> None:
    """Commonplan: read input-output tables, analyse them, compute plans, and let councils decide."""


for module in (analyze, demo, plan, monitor, participate, server, admin, db, sweep, bots):
    module.register(app_typer)


@app_typer.command()
def version() -> None:
    """Print Commonplan's version."""
    from commonplan import __version__

    typer.echo(f"commonplan {__version__}")


def app() -> None:
    """Entry point: run the CLI, turning user errors into one clear line."""
    try:
        app_typer()
    except CommonplanError as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    app()
