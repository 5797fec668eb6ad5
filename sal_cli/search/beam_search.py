"""Beam search with a PRM, one pool per problem.

Each round spreads n candidate next steps over the kept beams (round 0: the prompt; beam_width
each when n/beam_width beams are kept): candidate i grows beam i mod (beams) at temperature
A[i // (n/beam_width)], A the temperatures split over beam_width, so the j-th child of each
beam samples at A[j] (the multi-temperature fork's `_beam_search`). The best n/beam_width
open candidates are kept. A candidate
that ends (EOS, token budget, empty step) joins the completed pool. The last round
(`num_iterations`) runs every beam to the end. The output is the first n completed beams
(or the n best with `sort_completed`), padded to n by repeating completed beams; when none
completed, the best open beams are reported, marked unfinished.

Fixed from the seed: pools are per problem (the seed pooled a whole batch, so one problem
could starve another), lookahead text is scored (the seed computed it and scored without
it), no division by zero when nothing completed, and `completion_tokens` are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.errors import SalError
from sal_cli.search.temperatures import assignment, grouped, temperatures_of
from sal_cli.search.tree import Expansion, Node, Output, best_first, last_round_options


@dataclass
class _State:
    beams: list[Node] = field(default_factory=list)
    completed: list[Node] = field(default_factory=list)
    round: int = 0
    done: bool = False


def check_beam_width(config: RunConfig, approach: str) -> None:
    """Beam search and DVTS split n into n / beam_width pools, so beam_width must divide n."""
    s, n = config.search, config.sampling.n
    if n % s.beam_width:
        divisors = ", ".join(str(d) for d in range(1, n + 1) if n % d == 0)
        raise SalError(
            f"`search.beam_width` ({s.beam_width}) must divide `sampling.n` ({n}) for {approach}",
            hint=f"use beam_width = {divisors}, or change n",
        )


class BeamSearch:
    def __init__(
        self,
        n: int,
        beam_width: int,
        num_iterations: int,
        temperatures: list[float],
        lookahead: int = 0,
        filter_duplicates: bool = False,
        sort_completed: bool = False,
        temperature_ratios: list[float] | None = None,
    ):
        self.n = n
        self.keep = n // beam_width
        self.num_iterations = num_iterations
        self.child_temperatures = assignment(temperatures, temperature_ratios or [], beam_width)
        self.lookahead = lookahead
        self.filter_duplicates = filter_duplicates
        self.sort_completed = sort_completed

    @classmethod
    def from_config(cls, config: RunConfig) -> BeamSearch:
        s, n = config.search, config.sampling.n
        check_beam_width(config, "beam_search")
        return cls(n, s.beam_width, s.num_iterations, temperatures_of(config), s.lookahead, s.filter_duplicates,
                   s.sort_completed, list(s.temperature_ratios))

    def start(self, problem: Problem) -> _State:
        return _State()

    def select(self, state: _State) -> list[Expansion]:
        if state.done:
            return []
        to_end, lookahead = last_round_options(state.round, self.num_iterations, self.lookahead)
        parents = state.beams if state.round else [Node()]
        temps = self.child_temperatures
        children = [(i % len(parents), temps[i // self.keep]) for i in range(self.n)]
        return [Expansion(parents[p], count, t, to_end, lookahead) for p, t, count in grouped(children)]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        candidates = [kid for kids in children for kid in kids]
        state.completed += [kid for kid in candidates if kid.done]
        open_ = [kid for kid in candidates if not kid.done]
        if self.filter_duplicates:
            open_ = _unique_texts(open_)
        state.beams = best_first(open_)[: self.keep]
        state.round += 1
        enough = not self.sort_completed and len(state.completed) >= self.n  # later ones would not be output
        state.done = not state.beams or state.round >= self.num_iterations or enough

    def final(self, state: _State) -> Output:
        pool = best_first(state.completed) if self.sort_completed else state.completed
        pool = pool[: self.n] or best_first(state.beams)[: self.n]
        nodes = [pool[i % len(pool)] for i in range(self.n)] if pool else []
        return Output(nodes, groups=[0] * len(nodes), stats={"completed": len(state.completed)})


def _unique_texts(nodes: list[Node]) -> list[Node]:
    """The best-scored node of each distinct text (duplicates waste the beam's slots)."""
    kept: dict[str, Node] = {}
    for node in best_first(nodes):
        kept.setdefault(node.text, node)
    return list(kept.values())
