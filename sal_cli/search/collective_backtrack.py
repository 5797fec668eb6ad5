"""Collective backtracking (tt_scale): branches pass or fail together, and a bad round is
retried from fewer, better parents at a higher temperature.

Start from `passing_minimum` copies of the prompt. Each round the live branches share
`max_total_branches` children (m = max(1, floor(max_total / live)) each). If at least
`passing_minimum` children pass (score above `tau`; passing branches held back from earlier
failed rounds count), the best `keeping_branches` go on. Otherwise the passing ones are held
back, the parents are ranked by the sum of their children's scores, and the round is
retried from the best ceil(keeping * (1 - f / (max_backtracks + 1))) of them at temperature
`sampling.temperature + f * temp_step` (f = failures so far). After `max_backtracks` failed
retries the search jumps: the next round passes with threshold 0. A passing child that
ends (EOS, budget, answer marker) is finished; `sampling.n` finished branches or
`max_steps` rounds end the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sal_cli.data.datasets import Problem
from sal_cli.search._backtrack import Branch, finishes, output, pass_score
from sal_cli.search.tree import Expansion, Node, Output


@dataclass
class _State:
    active: list[Branch]
    held: list[Branch] = field(default_factory=list)
    finished: list[tuple[Node, float]] = field(default_factory=list)
    failures: int = 0
    jumping: bool = False
    done: bool = False
    stats: dict[str, int] = field(default_factory=lambda: {"steps": 0, "retries": 0, "backtracks": 0, "jumps": 0})


class CollectiveBacktrack:
    def __init__(self, n: int, temperature: float, search):
        self.n = n
        self.temperature = temperature
        self.s = search

    def start(self, problem: Problem) -> _State:
        return _State([Branch(Node()) for _ in range(self.s.passing_minimum)])

    def select(self, state: _State) -> list[Expansion]:
        if state.done:
            return []
        m = max(1, self.s.max_total_branches // len(state.active))
        temperature = round(self.temperature + (0 if state.jumping else state.failures) * self.s.temp_step, 6)
        return [Expansion(b.node, m, temperature, max_tokens=self.s.k_tokens) for b in state.active]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        s, stats = self.s, state.stats
        threshold = 0.0 if state.jumping else s.tau
        state.jumping = False
        stats["steps"] += 1
        passing, sums, done_now = [], [], []
        for parent, kids in zip(state.active, children):
            scores = [pass_score(kid, parent.score, s.backtrack_agg) for kid in kids]
            sums.append(sum(scores))
            for kid, score in zip(kids, scores):
                if score > threshold:
                    (done_now if finishes(kid, s.answer_marker) else passing).append((kid, score))
        state.finished += sorted(done_now, key=lambda pair: -pair[1])
        passed = [Branch(kid, score) for kid, score in passing]
        if len(passing) + len(done_now) + len(state.held) >= s.passing_minimum:
            state.active = sorted(passed + state.held, key=lambda b: -b.score)[: s.keeping_branches]
            state.held, state.failures = [], 0
        else:
            self._backtrack(state, passed, sums)
        state.done = not state.active or len(state.finished) >= self.n or stats["steps"] >= s.max_steps

    def _backtrack(self, state: _State, passed: list[Branch], sums: list[float]) -> None:
        """Hold the passing children back and retry from the best parents, hotter, or jump."""
        s, stats = self.s, state.stats
        state.held += passed
        state.failures += 1
        stats["backtracks"] += state.failures == 1
        ranked = [b for _, b in sorted(zip(sums, state.active), key=lambda pair: -pair[0])]
        f = min(state.failures, s.max_backtracks)
        keep = max(1, math.ceil(s.keeping_branches * (1 - f / (s.max_backtracks + 1))))
        state.active = [Branch(b.node, b.score) for b in ranked[:keep]]
        if state.failures > s.max_backtracks:
            state.jumping, state.failures = True, 0
            stats["jumps"] += 1
        else:
            stats["retries"] += 1

    def final(self, state: _State) -> Output:
        return output(state.finished, state.active + state.held, self.n, state.stats)
