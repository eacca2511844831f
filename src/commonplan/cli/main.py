"""The ``commonplan`` command: a thin layer that parses, calls the core or services, and renders.

Each group of commands lives in its own module with a ``register(app)`` function; a
:class:`~commonplan.errors.CommonplanError` is printed as one line and exits with code 2.
"""

from __future__ import annotations

import sys

import typer

from commonplan.cli import admin, analyze, db, demo, participate, plan, server, sweep
from commonplan.errors import CommonplanError

app_typer = typer.Typer(
    name="commonplan",
    help="Commonplan: read input-output tables, analyse them, compute plans, and let councils decide.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app_typer.callback()
def main() -> None:
    """Commonplan: read input-output tables, analyse them, compute plans, and let councils decide."""


for module in (analyze, demo, plan, participate, server, admin, db, sweep):
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
