"""PRM-guided search: one engine loop (`engine.py`) and one small module per strategy.

`make_strategy` turns the resolved settings into a strategy; `SearchSolver` runs it through
the engine for the run store (`runner.run`), one record per problem.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from sal_cli import registry
from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.errors import SalError
from sal_cli.search.engine import Engine
from sal_cli.search.records import sample_record, search_record
from sal_cli.search.tree import Strategy


def make_strategy(config: RunConfig) -> Strategy:
    """The strategy `search.approach` names (`registry.STRATEGIES`), with its settings checked."""
    approach = config.search.approach
    if approach not in registry.STRATEGIES:
        raise SalError(f"unknown search approach `{approach}`", hint=f"use {registry.names(registry.STRATEGIES)}")
    return registry.load(registry.STRATEGIES, approach).from_config(config)


class SearchSolver:
    """Feeds problems through the engine and turns each output into its record."""

    def __init__(self, engine: Engine, scored: bool):
        self.engine = engine
        self.scored = scored

    def solve(self, problems: Iterable[Problem]) -> Iterator[tuple[Problem, dict[str, Any], int]]:
        settings = self.engine.settings
        for problem, output in self.engine.solve(problems):
            fields = search_record(output, settings.agg_strategy, settings.n) if self.scored else sample_record(output)
            yield problem, fields, output.stats["total_tokens"]
