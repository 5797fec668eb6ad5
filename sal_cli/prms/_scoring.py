"""The `PRM` port over a layout: encode, cut from the left, batch, read one score per step.

Every protocol is a layout (how a solution becomes ids and score positions, see `_layout`)
plus a way to turn the model's output at those positions into probabilities. The loop here
is shared and torch-free: the solutions of one problem are batched together
(`verifier.batch_size` at a time, sorted so that shared prefixes sit side by side),
right-padded, and put back in input order. `_torch_scoring.TorchScorer` runs it on a
transformers model with prefix sharing and a kept KV cache.

Truncation: an input longer than the limit loses tokens from the LEFT, so the newest steps
keep their positions. A step whose position was cut away gets the score of the first step
still scored: a PRM's score at a step judges the whole prefix up to it, and the chance that a
prefix is still correct can only fall as steps are added, so that score is a cautious (lower)
estimate for the steps before it. `last` and `min` aggregate as if the lost steps were absent.
"""

from __future__ import annotations

from typing import Any, Sequence

from sal_cli.errors import SalError
from sal_cli.prms._layout import Encoded
from sal_cli.progress import note


class StepScorer:
    """Shared `score()` loop; subclasses give `_forward(batch) -> scores at each Encoded's marks`."""

    def __init__(self, name: str, layout: Any, max_len: int, batch_size: int | None):
        self.name = name
        self.layout = layout
        self.max_len = max_len
        self.batch_size = batch_size  # None: the backend schedules its own batches (vLLM)
        self.tokens = 0
        self._noted_cut = False

    def score(self, problems: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        if len(problems) != len(steps):
            raise ValueError(f"got {len(problems)} problems and {len(steps)} step lists.")
        jobs = []
        for i, (problem, solution) in enumerate(zip(problems, steps)):
            solution = list(solution)
            while solution and not solution[-1].strip():
                solution.pop()  # a trailing empty step (text ending with its delimiter) is never scored
            if solution:
                jobs.append((i, *self._cut(self.layout.encode(problem, solution))))
        results: list[list[float]] = [[] for _ in problems]
        for chunk in self._batches(jobs, problems):
            for (i, _, lost), scores in zip(chunk, self._forward([enc for _, enc, _ in chunk])):
                results[i] = [scores[0]] * lost + scores
            self.tokens += sum(len(enc.ids) for _, enc, _ in chunk)
        return results

    def _batches(self, jobs: list, problems: Sequence[str]) -> list[list]:
        """One problem's solutions per batch (in id order, so prefixes line up), at most
        `batch_size` each; a backend that schedules its own batches gets them all at once."""
        if self.batch_size is None:
            return [jobs] if jobs else []
        by_problem: dict[str, list] = {}
        for job in jobs:
            by_problem.setdefault(problems[job[0]], []).append(job)
        batches = []
        for group in by_problem.values():
            group.sort(key=lambda job: job[1].ids)
            batches += [group[lo : lo + self.batch_size] for lo in range(0, len(group), self.batch_size)]
        return batches

    def _cut(self, enc: Encoded) -> tuple[Encoded, int]:
        """`enc` cut to `max_len` from the left, and how many steps lost their position."""
        cut = len(enc.ids) - self.max_len
        if cut <= 0:
            return enc, 0
        kept = [mark - cut for mark in enc.marks if mark >= cut]
        if not kept:
            raise SalError(
                f"`verifier.max_length` ({self.max_len}) leaves no step of a solution with its score position",
                hint="raise `verifier.max_length`, or set it to 0 for the model's own context length",
            )
        if not self._noted_cut:
            note(f"PRM {self.name}: inputs longer than {self.max_len} tokens are cut from the left")
            self._noted_cut = True
        return Encoded(enc.ids[cut:], kept), len(enc.marks) - len(kept)

    def _forward(self, batch: list[Encoded]) -> list[list[float]]:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to free here; model-holding subclasses drop their model."""
