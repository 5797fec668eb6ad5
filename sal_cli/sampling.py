"""Plain sampling (`sal generate`): n completions per problem, no verifier."""

from __future__ import annotations

from typing import Any, Iterator

from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.generators.base import Generator, SamplingSpec


class SamplingSolver:
    """Sends a whole batch of problems to the generator in one call."""

    def __init__(self, generator: Generator, config: RunConfig):
        self.generator = generator
        self.config = config

    def solve(self, problems: list[Problem]) -> Iterator[tuple[Problem, dict[str, Any], int]]:
        s, g = self.config.sampling, self.config.generator
        prompts = [self.generator.format_prompt(p.problem, g.system_prompt) for p in problems]
        specs = [
            SamplingSpec(n=s.n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=s.seed + p.idx)
            for p in problems
        ]
        for problem, extensions in zip(problems, self.generator.extend(prompts, specs)):
            tokens = [e.num_tokens for e in extensions]
            fields = {
                "completions": [e.text for e in extensions],
                "completion_tokens": tokens,
                "finish_reasons": [e.finish_reason for e in extensions],
            }
            yield problem, fields, sum(tokens)
