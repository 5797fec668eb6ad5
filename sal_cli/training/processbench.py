"""ProcessBench-style evaluation of a PRM: find the first wrong step of each solution.

Each row holds a `problem`, its `steps` and a `label`: the index of the first wrong step,
or -1 when every step is right. The PRM scores every step; the prediction is the index of
the first step scoring below the threshold, or -1. Per split (as in QwenLM/ProcessBench):

    error accuracy   = share of erroneous solutions (label != -1) whose first wrong step is found exactly
    correct accuracy = share of correct solutions (label == -1) predicted -1
    F1               = their harmonic mean (0 when both are 0)

A split without erroneous or without correct rows has no F1 (`None`). The average F1 is
the plain mean over splits that have one, as ProcessBench reports it. The metrics are
pure functions; scoring goes through the `PRM` port, so any supported PRM can be scored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from sal_cli.errors import RunFailure, SalError
from sal_cli.training.data import read_rows, require_columns

PROCESSBENCH_SPLITS = ("gsm8k", "math", "olympiadbench", "omnimath")
SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))
COLUMNS = ("problem", "steps", "label")
HINT = "each row needs `problem` (text), `steps` (a list of step texts) and `label` (index of the first wrong step, or -1)"


@dataclass
class Sample:
    split: str
    problem: str
    steps: list[str]
    label: int


@dataclass
class SplitMetrics:
    split: str
    samples: int
    erroneous: int
    correct: int
    error_acc: float | None
    correct_acc: float | None
    f1: float | None


@dataclass
class Report:
    threshold: float
    splits: list[SplitMetrics]
    average_f1: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "splits": [asdict(s) for s in self.splits], "average_f1": self.average_f1}


def first_error(scores: Sequence[float], threshold: float) -> int:
    """Index of the first step scoring below `threshold` (a score equal to it passes), or -1."""
    return next((i for i, score in enumerate(scores) if score < threshold), -1)


def split_metrics(split: str, labels: Sequence[int], predictions: Sequence[int]) -> SplitMetrics:
    erroneous = [p == label for label, p in zip(labels, predictions) if label != -1]
    correct = [p == -1 for label, p in zip(labels, predictions) if label == -1]
    error_acc = sum(erroneous) / len(erroneous) if erroneous else None
    correct_acc = sum(correct) / len(correct) if correct else None
    f1 = None
    if error_acc is not None and correct_acc is not None:
        total = error_acc + correct_acc
        f1 = 2 * error_acc * correct_acc / total if total else 0.0
    return SplitMetrics(split, len(labels), len(erroneous), len(correct), error_acc, correct_acc, f1)


def report(samples: Sequence[Sample], scores: Sequence[Sequence[float]], threshold: float, splits: Sequence[str]) -> Report:
    """Metrics of every split in `splits` (in that order; a split with no samples gets `None`s)."""
    per_split = []
    for name in splits:
        chosen = [(s.label, first_error(sc, threshold)) for s, sc in zip(samples, scores) if s.split == name]
        per_split.append(split_metrics(name, [label for label, _ in chosen], [p for _, p in chosen]))
    f1s = [m.f1 for m in per_split if m.f1 is not None]
    return Report(threshold, per_split, sum(f1s) / len(f1s) if f1s else None)


def load_samples(data: str, splits: Sequence[str]) -> list[Sample]:
    """ProcessBench rows from a local file (one split named after the file, or a `split` column)
    or a hub dataset (one hub split per ProcessBench split), checked row by row."""
    path = Path(data).expanduser()
    if path.is_file() or path.suffix:
        rows = read_rows(data, "", {})
        require_columns(rows, data, COLUMNS, HINT)
        named = [(str(row.get("split", path.stem)), row) for row in rows]
    else:
        named = [(name, row) for name in splits or PROCESSBENCH_SPLITS for row in _hub_split(data, name)]
    present = list(dict.fromkeys(name for name, _ in named))
    unknown = [name for name in splits if name not in present]
    if unknown:
        raise SalError(f"`{data}` has no split `{unknown[0]}`", hint=f"its splits: {', '.join(present)}")
    samples = []
    for index, (name, row) in enumerate(named):
        if splits and name not in splits:
            continue
        problem = _row_problem(row)
        if problem:
            raise SalError(f"`{data}` row {index} (split `{name}`): {problem}", hint=HINT)
        samples.append(Sample(name, row["problem"], row["steps"], row["label"]))
    return samples


def _hub_split(data: str, split: str) -> list[dict[str, Any]]:
    rows = read_rows(data, split, {})
    require_columns(rows, data, COLUMNS, HINT)
    return rows


def _row_problem(row: dict[str, Any]) -> str:
    """What is wrong with one row, or `""`."""
    missing = [c for c in COLUMNS if c not in row]
    if missing:
        return f"has no `{missing[0]}`"
    steps, label = row["steps"], row["label"]
    if not isinstance(row["problem"], str):
        return "`problem` must be text"
    if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
        return "`steps` must be a list of step texts"
    if isinstance(label, bool) or not isinstance(label, int) or not -1 <= label < len(steps):
        return f"`label` must be -1 or a step index below {len(steps)}, got {label!r}"
    return ""


def score_samples(prm: Any, samples: Sequence[Sample], chunk: int, quiet: bool) -> list[list[float]]:
    """One score per step of every sample, through the PRM port, with progress on stderr."""
    from sal_cli.progress import Reporter

    scores: list[list[float]] = []
    with Reporter("sal train-prm --eval-only", len(samples), 0, quiet) as reporter:
        for lo in range(0, len(samples), chunk):
            batch = samples[lo : lo + chunk]
            tokens = prm.tokens
            got = prm.score([s.problem for s in batch], [s.steps for s in batch])
            for offset, (sample, step_scores) in enumerate(zip(batch, got)):
                if len(step_scores) != len(sample.steps):
                    raise RunFailure(
                        f"the PRM gave {len(step_scores)} scores for the {len(sample.steps)} steps of row {lo + offset}",
                        hint="a PRM must score every step; check `--protocol` and the model's max length",
                    )
            scores += [list(map(float, s)) for s in got]
            reporter.advance(len(batch), prm.tokens - tokens)
    return scores
