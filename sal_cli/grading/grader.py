"""Grading every completion of a run: extract its answer, group equal answers, check each
against the reference. In worker processes, and saved for the next `sal evaluate`.

Workers are processes, not threads, because math-verify's timeouts use `signal.alarm`,
which only works in a process's main thread. Grades go to `grades.jsonl` in the run's
output folder, keyed (in `.grades.key`) by the results file's hash and the grader's
version, so evaluating the same run again, with other seeds or budgets, skips grading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import Callable, ContextManager, Sequence

from sal_cli.files import write_atomic
from sal_cli.grading.equivalence import equivalent, group_answers
from sal_cli.grading.extract import extract_answer
from sal_cli.grading.runs import Run

GRADER_VERSION = "3"  # bump when extraction or equivalence changes what a grade is
GRADES = "grades.jsonl"
KEY = ".grades.key"
SERIAL_BELOW = 16  # fewer problems than this are graded in-process: a pool costs more


@dataclass
class Graded:
    """One problem's grades; per-completion lists follow the record's `completions`."""

    answers: list[str | None]  # extracted final answer, None = no answer
    classes: list[int]  # equivalence class of the answer, -1 = no answer
    class_answers: list[str]  # each class's first answer: what a vote for it predicts
    class_correct: list[bool]  # each class's first answer against the reference
    correct: list[bool]  # each completion's own answer against the reference


def grade_problem(gold: str, completions: Sequence[str], cut_off: Sequence[bool] = ()) -> Graded:
    """Grade one problem's completions against its (normalised) reference answer;
    `cut_off[i]` marks a completion that ran out of tokens (see `extract_answer`)."""
    cut = list(cut_off) or [False] * len(completions)
    answers = [extract_answer(text, stopped) for text, stopped in zip(completions, cut)]
    classes, class_answers = group_answers(answers)
    return Graded(
        answers=answers,
        classes=classes,
        class_answers=class_answers,
        class_correct=[equivalent(gold, answer) for answer in class_answers],
        correct=[answer is not None and equivalent(gold, answer) for answer in answers],
    )


def grade_run(
    run: Run,
    *,
    workers: int,
    regrade: bool = False,
    bar: Callable[[int], ContextManager[Callable[[int], None]]] | None = None,
) -> list[Graded]:
    """Grades of every problem of `run`, from `grades.jsonl` when it is still valid.

    `bar(total)` is entered around fresh grading and yields an `advance(problems)`.
    """
    key = _key(run)
    if not regrade:
        cached = _load(run, key)
        if cached is not None:
            return cached
    jobs = [(p.gold, p.completions, p.cut_off) for p in run.problems]
    with (bar or _no_bar)(len(jobs)) as advance:
        graded = grade_all(jobs, workers=workers, advance=advance)
    _save(run, key, graded)
    return graded


def grade_all(jobs: Sequence[tuple], *, workers: int, advance: Callable[[int], None] = lambda _: None) -> list[Graded]:
    """`grade_problem` over (gold, completions[, cut_off]) jobs, in input order, on `workers` processes."""
    if workers <= 1 or len(jobs) < SERIAL_BELOW:
        results = []
        for job in jobs:
            results.append(grade_problem(*job))
            advance(1)
        return results
    import math_verify  # noqa: F401  (imported once here, so forked workers start with it)

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results = []
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        for graded in pool.map(_grade_job, jobs, chunksize=max(1, len(jobs) // (workers * 16))):
            results.append(graded)
            advance(1)
    return results


def _grade_job(job: tuple) -> Graded:
    return grade_problem(*job)


@contextlib.contextmanager
def _no_bar(total: int):
    yield lambda _: None


def _key(run: Run) -> dict[str, object]:
    digest = hashlib.sha256()
    with run.results.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {
        "grader": f"{GRADER_VERSION}+math-verify-{version('math-verify')}",
        "results_sha256": digest.hexdigest(),
        "golds_sha256": hashlib.sha256("\n".join(p.gold for p in run.problems).encode()).hexdigest(),
        "completions": [len(p.completions) for p in run.problems],
    }


def _load(run: Run, key: dict[str, object]) -> list[Graded] | None:
    try:
        if json.loads((run.out_dir / KEY).read_text(encoding="utf-8")) != key:
            return None
        lines = (run.out_dir / GRADES).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines]
        graded = [Graded(**{field: row[field] for field in Graded.__dataclass_fields__}) for row in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return graded if len(graded) == len(run.problems) else None


def _save(run: Run, key: dict[str, object], graded: list[Graded]) -> None:
    run.out_dir.mkdir(parents=True, exist_ok=True)
    lines = (
        json.dumps({"idx": p.idx, "gold": p.gold, **asdict(g)}, ensure_ascii=False) for p, g in zip(run.problems, graded)
    )
    write_atomic(run.out_dir / GRADES, "".join(line + "\n" for line in lines))
    write_atomic(run.out_dir / KEY, json.dumps(key))
