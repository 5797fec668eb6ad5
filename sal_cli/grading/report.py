"""What `sal evaluate` shows and writes: terminal tables (stderr), `metrics.json`,
`metrics.csv`, and the same for several runs side by side.

JSON keeps accuracies as fractions in [0, 1]; the tables show percentages. The CSV is
long-format (one row per run, scope, group and metric) so that pandas or a spreadsheet
can pivot it any way.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

from sal_cli.files import write_atomic
from sal_cli.grading.metrics import Metrics, Scope
from sal_cli.grading.runs import Run

METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
COMPARISON = "comparison"
CSV_FIELDS = ("run", "label", "scope", "group", "metric", "rule", "k", "accuracy", "std", "no_answer", "num_entries",
              "tokens")
RULE_COLUMNS = ("naive", "weighted", "maj", "pass")


def labels(results: list[tuple[Run, Metrics]]) -> list[str]:
    """Each run's name in tables and plots: its label, plus its folder's name where two runs
    with the same label share a budget. Runs with one label and distinct budgets (beam
    search at n = 4, 16, 64) keep the label, so they draw one line."""
    names = []
    for run, metrics in results:
        clash = any(
            other is not run and other.label == run.label and set(m.ks) & set(metrics.ks) for other, m in results
        )
        names.append(f"{run.label} ({run.source.name})" if clash else run.label)
    return names


def run_json(run: Run, metrics: Metrics, label: str | None = None) -> dict[str, Any]:
    """One run's metrics: `overall`, `std`, `no_answer` map metric names to fractions."""
    overall = metrics.overall
    return {
        "run": str(run.source),
        "label": label or run.label,
        "approach": run.approach,
        "n": run.n,
        "group_size": run.group_size,
        "seeds": metrics.seeds,
        "ks": metrics.ks,
        "num_entries": overall.num_entries,
        **_scope_json(overall),
        "tokens": {str(k): round(v, 2) for k, v in metrics.tokens.items()} if metrics.tokens else None,
        "completions_no_answer": round(metrics.completions_no_answer, 6),
        "by_level": {key: {"num_entries": s.num_entries, **_scope_json(s)} for key, s in metrics.by_level.items()},
        "by_subject": {key: {"num_entries": s.num_entries, **_scope_json(s)} for key, s in metrics.by_subject.items()},
        "summary": {
            name: {"num_entries": overall.num_entries, "correct": round(overall.accuracy[name], 6),
                   "no_answer": round(overall.no_answer[name], 6)}
            for name in metrics.names
        },
    }


def write_run(run: Run, metrics: Metrics) -> None:
    """`metrics.json` and `metrics.csv` in the run's output folder."""
    run.out_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(run.out_dir / METRICS_JSON, json.dumps(run_json(run, metrics), indent=2) + "\n")
    write_atomic(run.out_dir / METRICS_CSV, csv_text([(run, metrics)], [run.label]))


def results_json(results: list[tuple[Run, Metrics]], names: list[str]) -> dict[str, Any]:
    """What `--format json` prints: one run's object, or `{"runs": [...]}` for several."""
    payload = [run_json(run, metrics, label) for (run, metrics), label in zip(results, names)]
    return payload[0] if len(payload) == 1 else {"runs": payload}


def write_comparison(results: list[tuple[Run, Metrics]], names: list[str], folder: Path) -> None:
    """`comparison.csv` and `comparison.json`: every run's metrics side by side."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / f"{COMPARISON}.csv", csv_text(results, names))
    write_atomic(folder / f"{COMPARISON}.json", json.dumps(results_json(results, names), indent=2) + "\n")


def csv_text(results: list[tuple[Run, Metrics]], names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for (run, metrics), label in zip(results, names):
        scopes = [("overall", "", metrics.overall)]
        scopes += [("level", key, s) for key, s in metrics.by_level.items()]
        scopes += [("subject", key, s) for key, s in metrics.by_subject.items()]
        for scope, group, s in scopes:
            for name in metrics.names:
                rule, _, k = name.partition("@")
                tokens = metrics.tokens.get(int(k or 1)) if metrics.tokens else None
                writer.writerow({
                    "run": str(run.source), "label": label, "scope": scope, "group": group, "metric": name,
                    "rule": rule, "k": k or 1, "accuracy": round(s.accuracy[name], 6), "std": round(s.std[name], 6),
                    "no_answer": round(s.no_answer[name], 6), "num_entries": s.num_entries,
                    "tokens": round(tokens, 2) if tokens is not None else "",
                })
    return buffer.getvalue()


def print_tables(results: list[tuple[Run, Metrics]], names: list[str]) -> None:
    """Accuracy (%) +/- std per budget for every run in one table; for one run, its
    breakdown by level and subject at its largest budget too."""
    from rich import box
    from rich.table import Table

    from sal_cli.progress import console

    several = len(results) > 1
    seeds = sorted({m.seeds for _, m in results})
    console.print(f"accuracy % by budget n (mean±std over {'/'.join(map(str, seeds))} seeds); "
                  "no ans.: maj@n found no answer")
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    if several:
        table.add_column("run", no_wrap=True)
    table.add_column("n", justify="right")
    rules = [r for r in RULE_COLUMNS if any(f"{r}@{m.ks[0]}" in m.names for _, m in results)]
    for rule in rules:
        table.add_column(rule, justify="right")
    table.add_column("no ans.", justify="right")
    table.add_column("tokens", justify="right")
    for (run, metrics), label in zip(results, names):
        for k in metrics.ks:
            cells = [_cell(metrics.overall, f"{rule}@{k}") for rule in rules]
            no_answer = metrics.overall.no_answer.get(f"maj@{k}")
            tokens = metrics.tokens.get(k) if metrics.tokens else None
            table.add_row(*([label] if several else []), str(k), *cells, _percent(no_answer),
                          f"{tokens:,.0f}" if tokens is not None else "-")
    console.print(table)
    for (run, metrics), label in zip(results, names):
        if "greedy" in metrics.names:
            console.print(f"{label}: greedy {_cell(metrics.overall, 'greedy')}% "
                          f"(no answer {_percent(metrics.overall.no_answer['greedy'])}%)")
        for title, groups in (("level", metrics.by_level), ("subject", metrics.by_subject)):
            if groups and not several:  # several runs: breakdowns are in their metrics.json/csv
                console.print(f"{label}: accuracy % by {title} at n={metrics.ks[-1]}")
                console.print(_breakdown(title, groups, metrics, rules))


def show(results: list[tuple[Run, Metrics]], names: list[str], quiet: bool) -> None:
    """The tables on stderr, or with `quiet` one summary line per run."""
    if quiet:
        for (run, metrics), label in zip(results, names):
            print(summary_line(run, metrics, label), file=sys.stderr)
    else:
        print_tables(results, names)


def summary_line(run: Run, metrics: Metrics, label: str) -> str:
    """The one line `--quiet` prints per run."""
    k = metrics.ks[-1]
    shown = "  ".join(f"{name} {100 * metrics.overall.accuracy[name]:.1f}%" for name in metrics.names if name.endswith(f"@{k}"))
    return f"evaluate: {label}: {metrics.overall.num_entries} problems  {shown}  -> `{run.out_dir}`"


def progress_bar(description: str, quiet: bool) -> Callable[[int], ContextManager[Callable[[int], None]]]:
    """`grader.grade_run`'s `bar`: a rich bar of problems graded on stderr (none if quiet)."""

    @contextlib.contextmanager
    def bar(total: int) -> Iterator[Callable[[int], None]]:
        if quiet:
            yield lambda _: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from sal_cli.progress import console

        columns = (TextColumn(description), BarColumn(), MofNCompleteColumn(), TextColumn("problems graded"),
                   TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(description, total=total)
            yield lambda count: progress.advance(task, count)

    return bar


def _breakdown(column: str, groups: dict[str, Scope], metrics: Metrics, rules: list[str]):
    from rich import box
    from rich.table import Table

    k = metrics.ks[-1]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in (column, "problems", *(f"{rule}@{k}" for rule in rules)):
        table.add_column(name, justify="left" if name == column else "right")
    for key, scope in groups.items():
        table.add_row(key, str(scope.num_entries), *(_cell(scope, f"{rule}@{k}") for rule in rules))
    return table


def _scope_json(scope: Scope) -> dict[str, dict[str, float]]:
    return {
        "overall": {k: round(v, 6) for k, v in scope.accuracy.items()},
        "std": {k: round(v, 6) for k, v in scope.std.items()},
        "no_answer": {k: round(v, 6) for k, v in scope.no_answer.items()},
    }


def _cell(scope: Scope, name: str) -> str:
    if name not in scope.accuracy:
        return "-"
    std = scope.std[name]
    return f"{100 * scope.accuracy[name]:.1f}" + (f"±{100 * std:.1f}" if std else "")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"
