"""`sal evaluate`: grade runs and report accuracy against the compute budget n."""

from __future__ import annotations

import json
import os
from pathlib import Path
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
    from sal_cli.grading import report
    from sal_cli.grading.grader import grade_run
    from sal_cli.grading.metrics import evaluate as compute_metrics
    from sal_cli.grading.runs import load_run

    _check(seeds=seeds, n=n, group_size=group_size, workers=workers, fmt=fmt)
    out = Path(output).expanduser() if output else None
    single = len(runs) == 1
    loaded = [load_run(path, answer_column=answer_column, n=n, group_size=group_size, out_dir=out if single else None)
              for path in runs]  # every input checked before any is graded
    for run in loaded:
        _check_writable(run.out_dir)
    results = []
    for run in loaded:
        graded = grade_run(run, workers=workers or os.cpu_count() or 1, regrade=regrade,
                           bar=report.progress_bar(f"grading {run.label}", quiet))
        results.append((run, compute_metrics(run, graded, seeds)))
    names = report.labels(results)
    for (run, metrics), label in zip(results, names):
        report.write_run(run, metrics)
        if not no_plot:
            title = label if label == run.source.name else f"{label} ({run.source.name})"
            _plot([(label, metrics)], run.out_dir / "accuracy.png", title)
    if not single:
        folder = out or _common_parent([run.out_dir for run, _ in results])
        report.write_comparison(results, names, folder)
        if not no_plot:
            curves = list(zip(names, (metrics for _, metrics in results)))
            _plot(curves, folder / f"{report.COMPARISON}.png")
            if all(metrics.tokens for _, metrics in results):
                _plot(curves, folder / f"{report.COMPARISON}-tokens.png", x="tokens")
    if quiet:
        for (run, metrics), label in zip(results, names):
            typer.echo(report.summary_line(run, metrics, label), err=True)
    else:
        report.print_tables(results, names)
    if fmt == "json":
        typer.echo(json.dumps(report.results_json(results, names), indent=2))


def _check(*, seeds: int, n: int | None, group_size: int | None, workers: int | None, fmt: str) -> None:
    for flag, value in (("--seeds", seeds), ("--n", n), ("--group-size", group_size), ("--workers", workers)):
        if value is not None and value < 1:
            raise SalError(f"`{flag}` must be >= 1, got {value}")
    if fmt not in ("table", "json"):
        raise SalError(f"`--format` must be `table` or `json`, got `{fmt}`")


def _check_writable(folder: Path) -> None:
    hint = "evaluate that run alone with `--output DIR`"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SalError(f"cannot create `{folder}` for the outputs: {exc.strerror}", hint=hint) from None
    if not os.access(folder, os.W_OK):
        raise SalError(f"cannot write the outputs to `{folder}`", hint=hint)


def _common_parent(folders: list[Path]) -> Path:
    """The deepest folder holding all of `folders`; the current one if that is the root."""
    common = Path(os.path.commonpath([f.resolve() for f in folders]))
    return Path.cwd() if common == Path(common.anchor) else common


def _plot(curves, path: Path, title: str = "", x: str = "n") -> None:
    try:
        from sal_cli.grading.plot import plot_accuracy

        plot_accuracy(curves, path, title, x)
    except ImportError:
        raise SalError("drawing `accuracy.png` needs matplotlib (metrics are written)",
                       hint="`pip install matplotlib`, or pass `--no-plot`", exit_code=1) from None
