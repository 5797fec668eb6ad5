"""Best-of-N: n complete solutions per problem in one expansion, each scored step by step.

Without a PRM (`sal generate`) this is plain sampling; with one, `pred` is the solution with
the best aggregated score.
"""

from __future__ import annotations

from dataclasses import dataclass

from sal_cli.data.datasets import Problem
from sal_cli.search.tree import Expansion, Node, Output


@dataclass
class _State:
    root: Node
    children: list[Node] | None = None


class BestOfN:
    def __init__(self, split: list[tuple[float, int]]):
        self.split = [(t, count) for t, count in split if count > 0]

    def start(self, problem: Problem) -> _State:
        return _State(Node())

    def select(self, state: _State) -> list[Expansion]:
        if state.children is not None:
            return []
        return [Expansion(state.root, count, t, to_end=True) for t, count in self.split]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        state.children = [kid for kids in children for kid in kids]

    def final(self, state: _State) -> Output:
        nodes = state.children or []
        return Output(nodes, groups=list(range(len(nodes))))
