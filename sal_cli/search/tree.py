"""The values strategies and the engine pass around: partial solutions and growth requests.

A `Node` is one partial or complete solution of one problem. Strategies never call the
generator or the PRM: they answer `select` with `Expansion`s and read the scored children
the engine hands back to `update`, so every strategy is testable without a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sal_cli.data.datasets import Problem

# Why a node stopped growing; `None` while it may still grow.
EOS = "eos"  # the model ended the solution
LENGTH = "length"  # the token budget (`sampling.max_tokens` or the context) ran out
EMPTY = "empty"  # the model wrote an empty step: nothing more to add
ANSWER = "answer"  # DVTS: a `\boxed{` answer appeared
UNFINISHED = "unfinished"  # the search stopped before the solution ended
FINISHED = (EOS, EMPTY, ANSWER)  # reasons that count as a finished solution


@dataclass
class Node:
    """A solution so far: its text and token ids (prompt excluded) and its PRM scores.

    `scores` holds one PRM score per step of `text`; `value` is the aggregated score the
    strategy ranks by (with lookahead, the score of the text extended by greedy steps).
    """

    text: str = ""
    token_ids: tuple[int, ...] = ()
    temperature: float = 0.0
    stop: str | None = None
    scores: list[float] = field(default_factory=list)
    value: float = 0.0
    depth: int = 0
    last_step: str = ""

    @property
    def tokens(self) -> int:
        return len(self.token_ids)

    @property
    def done(self) -> bool:
        return self.stop is not None

    def child(self, step: str, ids: tuple[int, ...], temperature: float) -> "Node":
        return Node(self.text + step, self.token_ids + ids, temperature, depth=self.depth + 1, last_step=step)


@dataclass
class Expansion:
    """Grow `node` into `n` children with one sampling temperature.

    `to_end` drops the step delimiter so each child runs to EOS or the budget; `lookahead`
    extends each unfinished child by that many greedy steps before scoring (the extension
    ranks the child but is not kept); `max_tokens` caps this one extension (a chunk cut
    there stays open), within the solution's budget; `stop` replaces the step delimiter as
    what ends the extension (a backtracking chunk's `search.stop_strings`).
    """

    node: Node
    n: int
    temperature: float
    to_end: bool = False
    lookahead: int = 0
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()


@dataclass
class Output:
    """What a strategy reports for one problem: the n completions and how each ended.

    `branch_scores`, when set, are what the strategy ranks its completions by (tt_scale's
    winner is the finished branch with the best such score), so `pred` follows them.
    """

    nodes: list[Node]
    groups: list[int]
    stats: dict[str, int] = field(default_factory=dict)
    branch_scores: list[float] | None = None


class Strategy(Protocol):
    """A search method over one problem's tree; the engine runs many at once."""

    def start(self, problem: Problem) -> object:
        """Fresh state for one problem (its tree, with the root at the empty solution)."""

    def select(self, state: object) -> list[Expansion]:
        """What to grow this round; an empty list means the problem is done."""

    def update(self, state: object, children: list[list[Node]]) -> None:
        """Take the scored children of each expansion (same order) and keep, prune, finish."""

    def final(self, state: object) -> Output:
        """The problem's completions, once `select` has returned nothing."""


def last_round_options(round_: int, num_iterations: int, lookahead: int) -> tuple[bool, int]:
    """(to_end, lookahead) for a round: the last round runs to the end, without lookahead."""
    last = round_ >= num_iterations - 1
    return last, 0 if last else lookahead


def best_first(nodes: list[Node]) -> list[Node]:
    """Nodes by score, best first; equal scores keep their order (so ties are deterministic)."""
    return sorted(nodes, key=lambda node: -node.value)
