"""Wires the subcommands into one `sal` app and turns errors into one clean line + exit code."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import typer

from sal_cli import __version__
from sal_cli.cli import evaluate, generate, launch, merge, profiles, score, search, train_prm
from sal_cli.errors import INTERRUPTED, RUN_FAILED, SalError

app = typer.Typer(
    name="sal",
    help="Scale LLM test-time compute on math problems: sample, search with a PRM, grade.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("generate", epilog=generate.EPILOG)(generate.generate)
app.command("search", epilog=search.EPILOG)(search.search)
app.command("score", epilog=score.EPILOG)(score.score)
app.command("merge", epilog=merge.EPILOG)(merge.merge)
app.command("evaluate", epilog=evaluate.EPILOG)(evaluate.evaluate)
app.command("launch", epilog=launch.EPILOG)(launch.launch)
app.add_typer(profiles.app, name="profiles")
app.command("train-prm", epilog=train_prm.EPILOG)(train_prm.train_prm)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sal {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Scale LLM test-time compute on math problems: sample, search with a PRM, grade."""


def main() -> None:
    """Entry point: only this function prints errors and picks exit codes."""
    try:
        app(prog_name="sal")
    except SalError as exc:
        if os.environ.get("SAL_DEBUG"):
            raise
        print(exc.render(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except Exception as exc:  # a bug or an unexpected library failure
        if os.environ.get("SAL_DEBUG"):
            raise
        print(f"error: {type(exc).__name__}: {exc}\n\nhint: set `SAL_DEBUG=1` for the traceback", file=sys.stderr)
        sys.exit(RUN_FAILED)
