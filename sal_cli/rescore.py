"""Re-scoring saved completions (`sal score`): new step scores from a PRM, or only a new
aggregation of the stored ones, written as a new run. The source is never modified.

The source is a run folder or a dataset file with `problem` and `completions` columns (a
search-and-learn results dataset, for instance). Every source record becomes a problem of
the new run, so the new run resumes like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from sal_cli.config import RunConfig
from sal_cli.data.datasets import LOCAL_SUFFIXES, Problem, read_local
from sal_cli.data.store import RESULTS, RUN_TOML, read_results, read_summary
from sal_cli.errors import SalError
from sal_cli.prms.base import PRM, split_steps
from sal_cli.search.records import scored_fields


@dataclass
class Source:
    """What `sal score` reads: the records as problems, and the source run's settings."""

    path: Path
    problems: list[Problem]
    dataset_rows: int
    run_toml: Path | None
    has_scores: bool
    n: int


def read_source(path: str | Path, problem_column: str = "problem") -> Source:
    path = Path(path).expanduser()
    if path.is_dir():
        if not (path / RESULTS).is_file():
            raise SalError(f"`{path}` is not a run folder: `{RESULTS}` is missing", hint="pass a run folder or a results file")
        records = read_results(path / RESULTS)
        run_toml = path / RUN_TOML if (path / RUN_TOML).is_file() else None
        summary = read_summary(path)
    elif path.is_file() and path.suffix.lower() in LOCAL_SUFFIXES:
        records, run_toml, summary = read_local(path), None, {}
    else:
        raise SalError(f"`{path}` is neither a run folder nor a dataset file",
                       hint=f"pass a run folder or a {'/'.join(LOCAL_SUFFIXES)} file with `problem` and `completions`")
    if not records:
        raise SalError(f"`{path}` holds no results")
    for number, record in enumerate(records, 1):
        missing = [c for c in (problem_column, "completions") if c not in record]
        if missing or not isinstance(record["completions"], list):
            raise SalError(f"record {number} of `{path}` has no `{(missing or ['completions'])[0]}` list",
                           hint="`sal score` needs `problem` and `completions` columns")
    problems = [
        Problem(int(r.get("idx", i)), str(r[problem_column]), r.get("answer"), {k: v for k, v in r.items() if k != "idx"})
        for i, r in enumerate(records)
    ]
    has_scores = all(isinstance(r.get("scores"), list) and len(r["scores"]) == len(r["completions"]) for r in records)
    n = max(len(r["completions"]) for r in records)
    rows = summary.get("dataset_rows") or max(p.idx for p in problems) + 1
    return Source(path, problems, rows, run_toml, has_scores, n)


class Rescorer:
    """Scores the completions of `batch_size` records per PRM call (the PRM batches its own
    forwards by `verifier.batch_size`), or (without a PRM) re-aggregates the stored step scores."""

    def __init__(self, prm: PRM | None, config: RunConfig, n: int, batch_size: int):
        self.prm = prm
        self.config = config
        self.n = n
        self.batch_size = batch_size

    def solve(self, problems: Iterable[Problem]) -> Iterator[tuple[Problem, dict[str, Any], int]]:
        todo = list(problems)
        size = self.batch_size
        for lo in range(0, len(todo), size):
            chunk = todo[lo : lo + size]
            tokens_before = self.prm.tokens if self.prm else 0
            scores = self._scores(chunk)
            tokens = (self.prm.tokens - tokens_before) if self.prm else 0
            for problem, problem_scores in zip(chunk, scores):
                completions, finished = problem.row["completions"], problem.row.get("finished")
                if not (isinstance(finished, list) and len(finished) == len(completions)):
                    finished = None
                agg = self.config.verifier.agg_strategy
                fields = scored_fields(completions, problem_scores, agg, self.n, finished)
                yield problem, fields, tokens // len(chunk)

    def _scores(self, chunk: list[Problem]) -> list[list[list[float]]]:
        if self.prm is None:
            return [problem.row["scores"] for problem in chunk]
        delimiter, trailing = self.config.search.step_delimiter, self.config.verifier.score_trailing_empty_step
        pairs = [(p.problem, split_steps(c, delimiter, trailing)) for p in chunk for c in p.row["completions"]]
        flat = self.prm.score([q for q, _ in pairs], [steps for _, steps in pairs])
        out, at = [], 0
        for problem in chunk:
            count = len(problem.row["completions"])
            out.append(flat[at : at + count])
            at += count
        return out
