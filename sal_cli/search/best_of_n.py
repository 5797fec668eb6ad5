"""Best-of-N: n complete solutions per problem in one expansion, each scored step by step.

Without a PRM (`sal generate`) this is plain sampling; with one, `pred` is the solution with
the best aggregated score. With several temperatures the output interleaves them (the fork
grouped them by temperature when given ratios, so `pred_*@k` for small k saw only the first).
"""

from __future__ import annotations

from dataclasses import dataclass

from sal_cli.data.datasets import Problem
from sal_cli.config import RunConfig
from sal_cli.search.temperatures import interleaved, split_n, temperatures_of
from sal_cli.search.tree import Expansion, Node, Output


@dataclass
class _State:
    root: Node
    children: list[Node] | None = None


class BestOfN:
    def __init__(self, split: list[tuple[float, int]]):
        self.split = [(t, count) for t, count in split if count > 0]

    @classmethod
    def from_config(cls, config: RunConfig) -> BestOfN:
        """n split over `search.temperatures` by `search.temperature_ratios`."""
        return cls(split_n(config.sampling.n, temperatures_of(config), config.search.temperature_ratios))

    def start(self, problem: Problem) -> _State:
        return _State(Node())

    def select(self, state: _State) -> list[Expansion]:
        if state.children is not None:
            return []
        return [Expansion(state.root, count, t, to_end=True) for t, count in self.split]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        state.children = [kid for kids in children for kid in kids]

    def final(self, state: _State) -> Output:
        """The samples with their temperatures interleaved, so the first k mix them all."""
        children = state.children or []
        nodes = [children[i] for i in interleaved([kid.temperature for kid in children])]
        return Output(nodes, groups=list(range(len(nodes))))
