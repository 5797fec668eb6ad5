"""Independent backtracking (tt_scale `IndependentBacktrack.run`): every branch retries on
its own when it fails.

Each round every live branch writes one chunk at temperature
`sampling.temperature + retries * temp_step`. A chunk that ends the branch (EOS, budget,
answer marker) finishes it whatever its score, and it keeps the better of its parent's
score and its own. Otherwise the branch passes when its score reaches
`tau - retries * tau_step` (its retries then reset); a failed branch with retries left is
retried by `expansion_factor` clones (one once `max_branches` are live), and one out of
retries (or any, with `backtrack = false`) is dropped, except that when every branch fails
the best dropped one is retried anyway. The live set is cut to the best `max_branches`;
`max_finished_branches` finished branches or `max_steps` rounds end the search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sal_cli.data.datasets import Problem
from sal_cli.search._backtrack import BacktrackSearch, Branch, chunk, final_score, finished_limit, finishes, output, pass_score
from sal_cli.search.tree import Expansion, Node, Output


@dataclass
class _State:
    active: list[Branch]
    finished: list[tuple[Node, float]] = field(default_factory=list)
    done: bool = False
    stats: dict[str, int] = field(default_factory=lambda: {"steps": 0, "retries": 0, "backtracks": 0, "jumps": 0})


class IndependentBacktrack(BacktrackSearch):
    def start(self, problem: Problem) -> _State:
        return _State([Branch(Node())])

    def select(self, state: _State) -> list[Expansion]:
        if state.done:
            return []
        first = state.stats["steps"] == 0
        return [chunk(b.node, 1, self.temperature + b.retries * self.s.temp_step, self.s, first) for b in state.active]

    def update(self, state: _State, children: list[list[Node]]) -> None:
        s, stats = self.s, state.stats
        stats["steps"] += 1
        live, dropped, retried = [], [], False
        for parent, (kid,) in zip(state.active, children):
            if finishes(kid, s.answer_marker):
                state.finished.append((kid, max(parent.score, final_score(kid, parent.score, s.backtrack_agg))))
                continue
            score = pass_score(kid, parent.score, s.backtrack_agg)
            if score >= s.tau - s.tau_step * parent.retries:
                live.append(Branch(kid, score))
            elif s.backtrack and parent.retries < s.max_backtracks:
                clones = s.expansion_factor if len(live) < s.max_branches else 1
                live += [Branch(parent.node, parent.score, parent.retries + 1) for _ in range(clones)]
                stats["retries"] += 1
                retried = True
            else:
                dropped.append((score, parent))
        if not live and dropped:
            _, parent = max(dropped, key=lambda pair: pair[0])
            live.append(Branch(parent.node, parent.score, parent.retries + 1))
            stats["retries"] += 1
            retried = True
        stats["backtracks"] += retried
        state.active = sorted(live, key=lambda b: (-b.score, b.retries))[: s.max_branches]
        limit = finished_limit(s, self.n)
        state.done = not state.active or len(state.finished) >= limit or stats["steps"] >= s.max_steps

    def final(self, state: _State) -> Output:
        return output(state.finished, state.active, self.n, state.stats)
