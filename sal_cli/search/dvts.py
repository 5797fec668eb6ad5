"""Diverse verifier tree search (DVTS): n/beam_width independent subtrees per problem.

Each round every open subtree proposes beam_width next steps from its current path and
keeps the best one; a subtree closes when that step ends the solution (EOS, budget, empty
step) or the answer marker (`search.answer_marker`, a `\\boxed{`) appears. The output is,
for each subtree, the beam_width candidates of its last round (n completions, grouped by
subtree), each a finished solution or marked unfinished. Child j of every subtree samples
at temperature j of the temperatures split over beam_width, so every subtree tries every
temperature (the multi-temperature fork's `_dvts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.search.beam_search import check_beam_width
from sal_cli.search.temperatures import assignment, grouped, temperatures_of
from sal_cli.search.tree import ANSWER, Expansion, Node, Output, best_first, last_round_options

@dataclass
class _Subtree:
    path: Node
    last: list[Node] = field(default_factory=list)
    open: bool = True


@dataclass
class _State:
    subtrees: list[_Subtree]
    round: int = 0
    growing: list[_Subtree] = field(default_factory=list)  # the subtree of each expansion of a round


class DVTS:
    def __init__(
        self,
        n: int,
        beam_width: int,
        num_iterations: int,
        temperatures: list[float],
        lookahead: int = 0,
        answer_marker: str = "\\boxed{",
        temperature_ratios: list[float] | None = None,
    ):
        self.subtrees = n // beam_width
        self.answer_marker = answer_marker
        self.beam_width = beam_width
        self.num_iterations = num_iterations
        self.lookahead = lookahead
        child_temperatures = assignment(temperatures, temperature_ratios or [], beam_width)
        self.groups = [(t, count) for _, t, count in grouped([(0, t) for t in child_temperatures])]

    @classmethod
    def from_config(cls, config: RunConfig) -> DVTS:
        s, n = config.search, config.sampling.n
        check_beam_width(config, "dvts")
        return cls(n, s.beam_width, s.num_iterations, temperatures_of(config), s.lookahead, s.answer_marker,
                   list(s.temperature_ratios))

    def start(self, problem: Problem) -> _State:
        return _State([_Subtree(Node()) for _ in range(self.subtrees)])

    def select(self, state: _State) -> list[Expansion]:
        if state.round >= self.num_iterations:
            return []
        to_end, lookahead = last_round_options(state.round, self.num_iterations, self.lookahead)
        state.growing = [tree for tree in state.subtrees if tree.open for _ in self.groups]
        return [
            Expansion(tree.path, count, t, to_end, lookahead)
            for tree in state.subtrees
            if tree.open
            for t, count in self.groups
        ]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        by_tree: dict[int, list[Node]] = {}
        for tree, kids in zip(state.growing, children):
            by_tree.setdefault(id(tree), []).extend(kids)
        for tree in [t for t in state.subtrees if id(t) in by_tree]:
            kids = by_tree[id(tree)]
            for kid in kids:
                if not kid.done and self.answer_marker in kid.text:
                    kid.stop = ANSWER
            tree.last, tree.path = kids, best_first(kids)[0]
            tree.open = not tree.path.done
        state.round += 1
        if not any(tree.open for tree in state.subtrees):
            state.round = self.num_iterations

    def final(self, state: _State) -> Output:
        nodes = [kid for tree in state.subtrees for kid in tree.last]
        groups = [i for i, tree in enumerate(state.subtrees) for _ in tree.last]
        return Output(nodes, groups)
