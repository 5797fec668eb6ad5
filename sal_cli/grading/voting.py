r"""Voting rules: which answer a set of completions settles on.

- `naive`: the answer of the completion with the highest aggregated PRM score;
- `weighted`: the answer whose equivalent completions have the largest summed score;
- `maj`: the answer given by the most completions (no scores needed).

Completions without an answer never vote; a set where none has one settles on nothing
(`-1`, graded wrong). Ties go to the answer that appears first in the given order (for
`naive`: the earliest of the top-scored completions), so a vote is deterministic.

`vote_columns` writes search-and-learn's `pred_{rule}@{k}` columns for one problem:
answers of the first k completions, k = 1, 2, 4, ... up to n, as `\boxed{answer}`.
"""

from __future__ import annotations

from typing import Sequence

from sal_cli.grading.equivalence import group_answers
from sal_cli.grading.extract import extract_answer

RULES = ("naive", "weighted", "maj")


def budgets(n: int) -> list[int]:
    """1, 2, 4, ... up to n, and n itself when it is not a power of two (none for n < 1)."""
    if n < 1:
        return []
    ks = [1 << i for i in range(n.bit_length()) if 1 << i <= n]
    return ks if ks[-1] == n else [*ks, n]


def vote(classes: Sequence[int], scores: Sequence[float] | None, rule: str) -> int:
    """The winning answer class among `classes` (-1 = no answer), by `rule`.

    `scores[i]` is completion i's aggregated score; `maj` ignores it (pass None).
    """
    if rule == "naive":
        best, best_score = -1, 0.0
        for cls, score in zip(classes, scores):
            if cls >= 0 and (best < 0 or score > best_score):
                best, best_score = cls, score
        return best
    if rule not in ("weighted", "maj"):
        raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}.")
    totals: dict[int, float] = {}  # insertion order = first appearance, which wins ties in max()
    for i, cls in enumerate(classes):
        if cls >= 0:
            totals[cls] = totals.get(cls, 0.0) + (1.0 if rule == "maj" else scores[i])
    return max(totals, key=totals.__getitem__, default=-1)


def vote_columns(
    completions: Sequence[str], agg_scores: Sequence[float], n: int, finished: Sequence[bool] | None = None
) -> dict[str, str]:
    """`pred_weighted@k`, `pred_maj@k` and `pred_naive@k` for every budget k up to n.

    Each k votes over the first k completions (the seed's rule: a search keeps a smaller
    budget's completions first). Equal answers are grouped with math-verify, once over all
    completions. A budget above `len(completions)` votes over all of them. `finished[i]`
    False marks a completion cut off by the token budget: only a complete box counts there.
    """
    if len(completions) != len(agg_scores):
        raise ValueError(f"agg_scores must have one score per completion ({len(completions)}), got {len(agg_scores)}.")
    done = finished if finished is not None else [True] * len(completions)
    classes, answers = group_answers([extract_answer(text, not ok) for text, ok in zip(completions, done)])
    columns = {}
    for rule in ("weighted", "maj", "naive"):
        for k in budgets(n):
            winner = vote(classes[:k], agg_scores[:k], rule)
            columns[f"pred_{rule}@{k}"] = "\\boxed{" + (answers[winner] if winner >= 0 else "") + "}"
    return columns
