"""The verifier port: a process reward model (PRM) gives one score per reasoning step.

The engine splits every solution into steps with `split_steps` and sends one batched
`score(problems, steps)` call per round; each protocol module (math-shepherd tags, RLHFlow
turns, Skywork value head, Qwen2.5-Math-PRM `<extra_0>`, TRL token classification, LLM
judge) decides how to lay the steps out for its model. Nothing here imports torch.
"""

from __future__ import annotations

import math
from typing import Protocol, Sequence


class PRM(Protocol):
    """What the engine needs from a process reward model."""

    name: str
    tokens: int  # tokens read so far (all calls), for the progress display's PRM tokens/s

    def score(self, problems: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        """For each (problem, steps) pair, in input order, one score in [0, 1] per step.

        `steps[i]` holds the non-empty steps of one solution, delimiter removed; a pair with
        no steps gets `[]`. Batching (`verifier.batch_size`) happens inside.
        """

    def close(self) -> None:
        """Free the model."""


def split_steps(text: str, delimiter: str = "\n\n", trailing_empty: bool = False) -> list[str]:
    """The steps of a solution: split at `delimiter`, whitespace trimmed, empty steps dropped.

    A solution ending with the delimiter has no trailing empty step, so it is never scored;
    `trailing_empty` keeps one there (`verifier.score_trailing_empty_step`), as the seed's
    RLHFlow scoring (`ans.split("\n\n")`, search-and-learn `reward_models.RLHFFlow`) did.
    """
    steps = [step.strip() for step in text.split(delimiter) if step.strip()]
    if trailing_empty and not text.split(delimiter)[-1].strip():
        steps.append("")
    return steps


def aggregate(scores: Sequence[float], strategy: str) -> float:
    """One score for a solution from its step scores (`last`, `min`, `prod` or `mean`).

    A solution with no steps scores 0.0: there is nothing to trust in it.
    """
    if not scores:
        return 0.0
    if strategy == "last":
        return float(scores[-1])
    if strategy == "min":
        return float(min(scores))
    if strategy == "prod":
        return float(math.prod(scores))
    if strategy == "mean":
        return float(sum(scores) / len(scores))
    raise ValueError(f"agg_strategy must be one of last, min, prod, mean, got {strategy!r}.")
