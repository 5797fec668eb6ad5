"""PRM-guided search: one engine loop (`engine.py`) and one small module per strategy.

`make_strategy` turns the resolved settings into a strategy; `SearchSolver` runs it through
the engine for the run store (`runner.run`), one record per problem.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.errors import SalError
from sal_cli.search.engine import Engine
from sal_cli.search.records import sample_record, search_record
from sal_cli.search.temperatures import split_n, temperatures_of
from sal_cli.search.tree import Strategy


def make_strategy(config: RunConfig, approach: str | None = None) -> Strategy:
    """The strategy `search.approach` (or `approach`) names, with its settings checked."""
    from sal_cli.search.beam_search import BeamSearch
    from sal_cli.search.best_of_n import BestOfN
    from sal_cli.search.collective_backtrack import CollectiveBacktrack
    from sal_cli.search.dvts import DVTS
    from sal_cli.search.independent_backtrack import IndependentBacktrack

    s, n = config.search, config.sampling.n
    approach = approach or s.approach
    temps = temperatures_of(config)
    if approach == "best_of_n":
        return BestOfN(split_n(n, temps, s.temperature_ratios))
    if approach == "collective_backtrack":
        return CollectiveBacktrack(n, config.sampling.temperature, s)
    if approach == "independent_backtrack":
        return IndependentBacktrack(n, config.sampling.temperature, s)
    if n % s.beam_width:
        divisors = ", ".join(str(d) for d in range(1, n + 1) if n % d == 0)
        raise SalError(
            f"`search.beam_width` ({s.beam_width}) must divide `sampling.n` ({n}) for {approach}",
            hint=f"use beam_width = {divisors}, or change n",
        )
    ratios = list(s.temperature_ratios)
    if approach == "beam_search":
        return BeamSearch(n, s.beam_width, s.num_iterations, temps, s.lookahead, s.filter_duplicates, s.sort_completed,
                          ratios)
    if approach == "dvts":
        return DVTS(n, s.beam_width, s.num_iterations, temps, s.lookahead, s.answer_marker, ratios)
    raise SalError(f"unknown search approach `{approach}`")


class SearchSolver:
    """Feeds problems through the engine and turns each output into its record."""

    def __init__(self, engine: Engine, scored: bool):
        self.engine = engine
        self.scored = scored

    def solve(self, problems: Iterable[Problem]) -> Iterator[tuple[Problem, dict[str, Any], int]]:
        agg, n = self.engine.config.verifier.agg_strategy, self.engine.config.sampling.n
        for problem, output in self.engine.solve(problems):
            fields = search_record(output, agg, n) if self.scored else sample_record(output)
            yield problem, fields, output.stats["total_tokens"]
