"""`sal evaluate`: grade runs and report accuracy against the compute budget n."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from sal_cli.cli import _options as o
from sal_cli.errors import SalError

EPILOG = """Examples:

  sal evaluate runs/smollm2-135m/math500/generate-n4-t0.8

  sal evaluate runs/.../best_of_n runs/.../beam_search runs/.../dvts -o figures   # one plot, one table

  sal evaluate completions.parquet --group-size 4 --seeds 10 --format json > metrics.json
"""


def evaluate(
    runs: Annotated[list[str], typer.Argument(help="Run folders, or results files (.jsonl/.json/.parquet).", show_default=False)],
    seeds: Annotated[int, typer.Option("--seeds", help="Random subsets per budget below n; accuracies are their mean ± std.")] = 5,
    n: Annotated[Optional[int], typer.Option("--n", "-n", help="Grade only the first n completions of each problem.")] = None,
    answer_column: Annotated[
        Optional[str], typer.Option("--answer-column", help="Reference answer column (default: the run's, else `answer`).")
    ] = None,
    group_size: Annotated[
        Optional[int],
        typer.Option("--group-size", help="Completions come in contiguous groups of this size (a DVTS file: the beam width)."),
    ] = None,
    output: Annotated[
        Optional[str],
        typer.Option("--output", "-o", help="Folder for the comparison of several runs (default: their common parent); "
                                            "with one run, for its outputs instead of its own folder."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="`table` (stderr) or `json` (metrics on stdout, for scripts).")] = "table",
    workers: Annotated[Optional[int], typer.Option("--workers", help="Grading processes (default: one per CPU core).")] = None,
    regrade: Annotated[bool, typer.Option("--regrade", help="Grade again even where `grades.jsonl` is up to date.")] = False,
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not draw the accuracy PNG.")] = False,
    quiet: o.QuietOpt = False,
) -> None:
    """Grade runs and report accuracy against the number of generations n.

    For every n = 1, 2, 4, ... up to the run's n: `naive@n`, `weighted@n` (search runs),
    `maj@n` and `pass@n`, as mean ± std over `--seeds` random subsets, overall and by level
    and subject, with tokens per problem. Writes `metrics.json`, `metrics.csv`,
    `grades.jsonl` and `accuracy.png` to each run folder; several runs also get one
    `comparison.png`/`.csv`/`.json` and `comparison-tokens.png` (accuracy against tokens
    generated per problem). Never changes `results.jsonl`.
    """
    from sal_cli import runs as core
    from sal_cli.grading import report

    _check(seeds=seeds, n=n, group_size=group_size, workers=workers, fmt=fmt)
    results, names = core.run_evaluate(runs, seeds=seeds, n=n, answer_column=answer_column, group_size=group_size,
                                       output=output, workers=workers, regrade=regrade, plot=not no_plot, quiet=quiet)
    report.show(results, names, quiet)
    if fmt == "json":
        typer.echo(json.dumps(report.results_json(results, names), indent=2))


def _check(*, seeds: int, n: int | None, group_size: int | None, workers: int | None, fmt: str) -> None:
    for flag, value in (("--seeds", seeds), ("--n", n), ("--group-size", group_size), ("--workers", workers)):
        if value is not None and value < 1:
            raise SalError(f"`{flag}` must be >= 1, got {value}")
    if fmt not in ("table", "json"):
        raise SalError(f"`--format` must be `table` or `json`, got `{fmt}`")
