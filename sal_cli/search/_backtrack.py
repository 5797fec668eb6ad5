"""What the two backtracking searches share: the pass score, the finish test, the output.

Both follow the tt_scale "hybrid searcher": branches grow by chunks of at most `k_tokens`,
a branch passes a round when its score is above a threshold, and `sampling.n` finished
branches end the search.
"""

from __future__ import annotations

from dataclasses import dataclass

from sal_cli.search.tree import ANSWER, Node, Output


@dataclass
class Branch:
    """A live branch: its path, the score it passed with, and its retries so far."""

    node: Node
    score: float = 0.0
    retries: int = 0


def pass_score(kid: Node, parent_score: float, how: str) -> float:
    """The score tested against the threshold: `last` step, `mean` of steps, or `ema`."""
    if not kid.scores:
        return 0.0
    if how == "mean":
        return sum(kid.scores) / len(kid.scores)
    if how == "ema":
        return 0.5 * parent_score + 0.5 * kid.scores[-1]
    return kid.scores[-1]


def finishes(kid: Node, marker: str) -> bool:
    """The chunk ended the branch: EOS, budget, empty chunk, or a final answer in the chunk."""
    if not kid.done and marker in kid.last_step:
        kid.stop = ANSWER
    return kid.done


def output(finished: list[tuple[Node, float]], live: list[Branch], n: int, stats: dict[str, int]) -> Output:
    """The first n finished branches; with none, the best live branch (left unfinished).

    They form one pool (like a beam search's): a subset of them is not a smaller search, so
    `sal evaluate` reports the run at its own n.
    """
    nodes = [node for node, _ in finished[:n]]
    if not nodes and live:
        nodes = [max(live, key=lambda b: b.score).node]
    return Output(nodes, groups=[0] * len(nodes), stats=stats)
