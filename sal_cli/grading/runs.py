"""What `sal evaluate` reads: a run folder of `sal generate`/`sal search`, or a
search-and-learn-style results file, checked and reduced to what grading needs.

A run folder tells us how it was made (`run.toml`, `summary.json`); a bare file does not,
so it is read as independent samples unless `--group-size` says its completions come in
contiguous groups (the seed's DVTS files: the beam width; its beam-search files: n).
Nothing here writes: `results.jsonl` is only read.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sal_cli.data.store import RESULTS, read_results, read_settings, read_summary
from sal_cli.errors import SalError
from sal_cli.grading.extract import normalize_gold

FILE_SUFFIXES = (".jsonl", ".json", ".parquet")


@dataclass
class ProblemRecord:
    """One problem as evaluation needs it; lists have one entry per completion."""

    idx: int
    gold: str
    completions: list[str]
    scores: list[float] | None  # aggregated PRM score; None for unscored runs
    groups: list[int]  # subsampling unit: a DVTS subtree, the beam-search pool, or itself
    cut_off: list[bool]  # ran out of tokens: only a complete box counts as its answer
    tokens: list[int] | None
    pruned_tokens: float  # tokens of pruned branches, per completion (search runs)
    level: str | None
    subject: str | None


@dataclass
class Run:
    """One evaluated input and how it was produced."""

    source: Path  # the folder or file named on the command line
    results: Path  # the file read
    out_dir: Path  # where its metrics, grades and plot go
    label: str  # its name in tables and plots: the approach, `generate`, or the file's name
    approach: str  # best_of_n, beam_search, dvts, sampling or file
    greedy: bool  # one completion at temperature 0
    problems: list[ProblemRecord]
    n: int = 0  # most completions of a problem
    group_size: int = 1  # most completions of a group: budgets are multiples of it

    def __post_init__(self) -> None:
        self.n = max(len(p.completions) for p in self.problems)
        self.group_size = max(max(Counter(p.groups).values(), default=1) for p in self.problems)

    @property
    def scored(self) -> bool:
        return all(p.scores is not None for p in self.problems)


@dataclass
class _Origin:
    """How a results file was produced, as far as its folder (or its name) tells."""

    results: Path
    records: list[dict[str, Any]]
    label: str
    approach: str
    greedy: bool
    answer_column: str
    agg_strategy: str  # how per-step `scores` become one score when `agg_scores` is missing
    beam_width: int
    out_dir: Path


def load_run(
    path: str,
    *,
    answer_column: str | None = None,
    n: int | None = None,
    group_size: int | None = None,
    out_dir: Path | None = None,
) -> Run:
    """Read and check one run folder or results file (see the module docstring)."""
    source = Path(path).expanduser()
    if not source.exists():
        raise SalError(f"`{path}` does not exist", hint="pass a run folder (with `results.jsonl`) or a results file")
    if source.is_dir():
        origin = _folder(source, answer_column)
    elif source.suffix.lower() in FILE_SUFFIXES:
        origin = _file(source, answer_column)
    else:
        raise SalError(f"`{path}` is not a run folder or a {'/'.join(FILE_SUFFIXES)} results file")
    records = origin.records
    if not records:
        raise SalError(f"`{origin.results}` has no result records", hint="finish (or resume) the run first")
    twice = [idx for idx, count in Counter(r.get("idx") for r in records).items() if count > 1]
    if twice:
        raise SalError(f"`{origin.results}` has more than one record for idx {', '.join(map(str, twice[:5]))}",
                       hint="two runs wrote to one folder; keep one record per problem, or use `--output-dir` per run")
    groups_of = _default_groups(origin.approach, origin.beam_width, group_size)
    problems = [_problem(r, origin, groups_of, group_size is not None, n) for r in records]
    return Run(source, origin.results, out_dir or origin.out_dir, origin.label, origin.approach,
               origin.greedy and n in (None, 1), problems)


def _folder(folder: Path, answer_column: str | None) -> _Origin:
    results = folder / RESULTS
    if not results.is_file():
        raise SalError(
            f"`{folder}` has no `{RESULTS}`",
            hint="pass the folder `sal generate` or `sal search` printed, or a .jsonl/.parquet results file",
        )
    records = read_results(results)
    settings = read_settings(folder)
    search, sampling = settings.get("search", {}), settings.get("sampling", {})
    command = read_summary(folder).get("command") or ("search" if records and "scores" in records[0] else "generate")
    approach = search.get("approach", "best_of_n") if command in ("search", "score") else "sampling"
    return _Origin(
        results=results,
        records=records,
        label="generate" if command == "generate" else approach,
        approach=approach,
        greedy=command == "generate" and sampling.get("n") == 1 and sampling.get("temperature") == 0,
        answer_column=answer_column or settings.get("data", {}).get("answer_column") or "answer",
        agg_strategy=settings.get("verifier", {}).get("agg_strategy", "last"),
        beam_width=search.get("beam_width", 1),
        out_dir=folder,
    )


def _file(path: Path, answer_column: str | None) -> _Origin:
    """A search-and-learn-style file: rows are problems; its own order gives `idx`."""
    from sal_cli.data.datasets import read_local

    records = [{"idx": i, **row} for i, row in enumerate(read_local(path))]
    return _Origin(path, records, path.stem, "file", False, answer_column or "answer", "last", 1,
                   path.with_name(f"{path.stem}-eval"))


def _problem(record: dict[str, Any], origin: _Origin, groups_of, force_groups: bool, n: int | None) -> ProblemRecord:
    idx, answer_column = record.get("idx"), origin.answer_column
    name = f"record idx={idx} of `{origin.results}`"
    completions = record.get("completions")
    if not isinstance(completions, list) or not all(isinstance(c, str) for c in completions) or not completions:
        problem = "has no `completions` list" if completions is None else "needs a non-empty list of strings in `completions`"
        raise SalError(
            f"{name} {problem}",
            hint="`sal evaluate` reads runs of `sal generate` / `sal search` or files with a `completions` column",
        )
    if answer_column not in record:
        columns = ", ".join(f"`{c}`" for c in record if c != "completions")
        raise SalError(f"{name} has no reference answer column `{answer_column}`",
                       hint=f"name it with `--answer-column`; the columns are {columns}")
    gold = normalize_gold(record[answer_column]) if record[answer_column] is not None else ""
    if not gold:
        raise SalError(f"{name} has an empty reference answer (`{answer_column}`)")
    count = len(completions)
    if n is not None and n > count:
        raise SalError(f"{name} has {count} completions, fewer than `--n` {n}", hint=f"use `--n {count}` or less")
    keep = count if n is None else n
    scores = _scores(record, name, origin.agg_strategy, count)
    tokens = record.get("completion_tokens")
    tokens = [int(t) for t in tokens] if isinstance(tokens, list) and len(tokens) == count else None
    total = record.get("total_tokens")
    pruned = max(0, total - sum(tokens)) / count if isinstance(total, int) and tokens else 0.0
    groups = record.get("groups")
    stored = isinstance(groups, list) and len(groups) == count and not force_groups
    groups = list(groups) if stored else groups_of(count)
    return ProblemRecord(
        idx=int(idx),
        gold=gold,
        completions=completions[:keep],
        scores=scores[:keep] if scores is not None else None,
        groups=groups[:keep],
        cut_off=_cut_off(record, count)[:keep],
        tokens=tokens[:keep] if tokens is not None else None,
        pruned_tokens=pruned,
        level=_label(record.get("level")),
        subject=_label(record.get("subject")),
    )


def _scores(record: dict[str, Any], name: str, agg: str, count: int) -> list[float] | None:
    """`agg_scores`, else `scores` (per-step lists) aggregated the run's way; None if neither."""
    if "agg_scores" in record:
        scores = record["agg_scores"]
    elif "scores" in record:
        from sal_cli.prms.base import aggregate

        steps = record["scores"]
        if not isinstance(steps, list):
            raise SalError(f"{name}: `scores` must hold one list of step scores per completion")
        scores = [aggregate(s, agg) if isinstance(s, list) else s for s in steps]
    else:
        return None
    if not isinstance(scores, list) or len(scores) != count:
        raise SalError(f"{name}: scores must have one value per completion ({count})")
    if not all(isinstance(s, (int, float)) and math.isfinite(s) for s in scores):
        raise SalError(f"{name}: scores must be finite numbers")
    return [float(s) for s in scores]


def _cut_off(record: dict[str, Any], count: int) -> list[bool]:
    """Which completions ran out of tokens: search's `finished`, else `finish_reasons`
    `length`/`unfinished`; a file without either is taken as finished."""
    finished, reasons = record.get("finished"), record.get("finish_reasons")
    if isinstance(finished, list) and len(finished) == count:
        return [not bool(f) for f in finished]
    if isinstance(reasons, list) and len(reasons) == count:
        return [r in ("length", "unfinished") for r in reasons]
    return [False] * count


def _default_groups(approach: str, beam_width: int, group_size: int | None):
    """Groups for records that do not store them: the seed's layout of each approach."""
    if group_size:
        return lambda count: [i // group_size for i in range(count)]
    if approach == "beam_search":
        return lambda count: [0] * count
    if approach == "dvts":
        return lambda count: [i // beam_width for i in range(count)]
    return lambda count: list(range(count))


def _label(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
