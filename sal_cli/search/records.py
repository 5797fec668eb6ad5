"""One problem's output as the columns of its `results.jsonl` line.

Search records keep the seed's columns (`completions`, `scores`, `pred`, `pred_weighted@k`,
`pred_maj@k`, `pred_naive@k`, ...) so existing analysis keeps working, plus what the seed
lacked: exact `completion_tokens`, each completion's temperature, how it ended, its DVTS
subtree (`groups`) and every token generated for the problem (`total_tokens`).
"""

from __future__ import annotations

from typing import Any

from sal_cli.prms.base import aggregate
from sal_cli.search.tree import FINISHED, UNFINISHED, Output


def sample_record(output: Output) -> dict[str, Any]:
    """`sal generate`: completions without scores."""
    nodes = output.nodes
    return {
        "completions": [node.text for node in nodes],
        "completion_tokens": [node.tokens for node in nodes],
        "finish_reasons": [node.stop or UNFINISHED for node in nodes],
    }


def search_record(output: Output, agg_strategy: str, n: int) -> dict[str, Any]:
    """`sal search`: completions with per-step scores, the best one and the voting columns
    for budgets up to the run's n (backtracking may finish fewer than n completions)."""
    nodes = output.nodes
    finished = [node.stop in FINISHED for node in nodes]
    fields = scored_fields([node.text for node in nodes], [node.scores for node in nodes], agg_strategy, n, finished)
    if output.branch_scores:  # the strategy's own winner (tt_scale: best finished branch score)
        ranked = output.branch_scores
        fields["pred"] = nodes[max(range(len(ranked)), key=lambda i: (ranked[i], -i))].text
        fields["branch_scores"] = ranked
    return {
        **sample_record(output),
        **fields,
        "temperatures": [node.temperature for node in nodes],
        "finished": finished,
        "groups": output.groups,
        "total_tokens": output.stats.get("total_tokens", 0),
        "search_stats": {k: v for k, v in output.stats.items() if k != "total_tokens"},
    }


def scored_fields(
    completions: list[str], scores: list[list[float]], agg_strategy: str, n: int, finished: list[bool] | None = None
) -> dict[str, Any]:
    """`scores`, `agg_scores`, `pred` (the best-scored completion, first on ties) and the
    seed's voting columns for budgets up to n (shared by `sal search` and `sal score`);
    `finished` False marks a completion cut off before its end."""
    from sal_cli.grading.voting import vote_columns

    agg = [aggregate(steps, agg_strategy) for steps in scores]
    best = max(range(len(agg)), key=lambda i: (agg[i], -i)) if agg else None
    return {
        "scores": scores,
        "agg_scores": agg,
        "pred": completions[best] if best is not None else "",
        **vote_columns(completions, agg, n, finished),
    }
