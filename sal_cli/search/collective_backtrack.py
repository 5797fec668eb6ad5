"""Collective backtracking (tt_scale `CollectiveBacktrack.run`): branches pass or fail
together, and a bad round is retried from fewer, better parents at a higher temperature.

Start from the prompt alone. A round counter r is 1 on a normal round and rises by one per
failed round; every chunk of a round samples at `sampling.temperature + r * temp_step`. On
a normal round each live branch grows one chunk (every branch grows
max(1, floor(max_total_branches / live)) with `always_expand`); on a retry each grows that
many (max_total_branches / keeping_branches with `backtrack = false`). A child passes when
its score is above `tau`. If passing children (finished ones included) plus those held back
from earlier failed rounds reach `passing_minimum`, the best `keeping_branches` open ones go
on and r is reset to 1. Otherwise the passing ones are held back, the parents are ranked by
the sum of their children's scores, the best ceil(keeping * (1 - r / (max_backtracks + 1)))
are retried and r rises; when r passes `max_backtracks` the search jumps: r = 1 and the next
round passes anything above 0. A passing child that ends (EOS, budget, answer marker) is
finished; `max_finished_branches` finished branches or `max_steps` rounds end the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sal_cli.data.datasets import Problem
from sal_cli.search._backtrack import BacktrackSearch, Branch, chunk, final_score, finished_limit, finishes, output, pass_score
from sal_cli.search.tree import Expansion, Node, Output


@dataclass
class _State:
    active: list[Branch]
    held: list[Branch] = field(default_factory=list)
    finished: list[tuple[Node, float]] = field(default_factory=list)
    retry: int = 1  # tt_scale's `retries`: 1 on a normal round, the temperature multiplier
    jumping: bool = False
    done: bool = False
    stats: dict[str, int] = field(default_factory=lambda: {"steps": 0, "retries": 0, "backtracks": 0, "jumps": 0})


class CollectiveBacktrack(BacktrackSearch):
    def start(self, problem: Problem) -> _State:
        return _State([Branch(Node())])

    def select(self, state: _State) -> list[Expansion]:
        if state.done:
            return []
        s = self.s
        if s.backtrack:
            m = max(1, s.max_total_branches // len(state.active))
        else:
            m = max(1, s.max_total_branches // s.keeping_branches)
        if not s.always_expand and state.retry == 1:
            m = 1
        temperature = self.temperature + state.retry * s.temp_step
        first = state.stats["steps"] == 0
        return [chunk(b.node, m, temperature, s, first) for b in state.active]

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
                if score <= threshold:
                    continue
                if finishes(kid, s.answer_marker):
                    done_now.append((kid, final_score(kid, parent.score, s.backtrack_agg)))
                else:
                    passing.append(Branch(kid, score))
        state.finished += sorted(done_now, key=lambda pair: -pair[1])
        if len(state.finished) >= finished_limit(s, self.n):
            state.done = True
            return
        if len(passing) + len(done_now) + len(state.held) >= s.passing_minimum:
            state.active = sorted(passing + state.held, key=lambda b: -b.score)[: s.keeping_branches]
            state.held, state.retry = [], 1
        else:
            self._backtrack(state, passing, sums)
        state.done = not state.active or stats["steps"] >= s.max_steps

    def _backtrack(self, state: _State, passing: list[Branch], sums: list[float]) -> None:
        """Hold the passing children back and retry from the best parents, hotter, or jump."""
        s, stats = self.s, state.stats
        state.held += passing
        ranked = [b for _, b in sorted(zip(sums, state.active), key=lambda pair: -pair[0])]
        keep = math.ceil(s.keeping_branches - state.retry / (s.max_backtracks + 1) * s.keeping_branches)
        state.active = [Branch(b.node, b.score) for b in ranked[: max(1, keep)]]
        stats["backtracks"] += state.retry == 1
        stats["retries"] += 1
        state.retry += 1
        if state.retry > s.max_backtracks:
            state.jumping, state.retry = True, 1
            stats["jumps"] += 1

    def final(self, state: _State) -> Output:
        return output(state.finished, state.active + state.held, self.n, state.stats)
