"""The one search loop: every problem in flight shares one generator call and one PRM call
per round, whatever the strategy.

    loop:  expansions = strategy.select(tree)   for every problem in flight
           children   = generator.extend(...)   ONE batched call (+1 per lookahead step)
           scores     = prm.score(...)          ONE batched call
           strategy.update(tree, children)
    a problem whose `select` returns nothing is finished: its output is yielded at once and
    the next problem takes its place, so the generator stays full until the very end.

Partial solutions travel as token ids (prompt ids + generated ids), so nothing is
re-tokenised between rounds and vLLM's prefix cache sees identical prefixes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from sal_cli.config import RunConfig
from sal_cli.data.datasets import Problem
from sal_cli.generators.base import Extension, Generator, SamplingSpec
from sal_cli.prms.base import PRM, aggregate, split_steps
from sal_cli.search.tree import EMPTY, EOS, LENGTH, Expansion, Node, Output, Strategy


@dataclass
class RoundStats:
    """What one round did, for the progress display."""

    round: int = 0
    live: int = 0
    gen_tokens: int = 0
    gen_seconds: float = 0.0
    prm_tokens: int = 0
    prm_seconds: float = 0.0


@dataclass(frozen=True)
class EngineSettings:
    """What the loop reads from a run's settings (see `config.py` for each field)."""

    n: int  # sampling.n: the budget, for the output's voting columns
    batch_size: int  # generator.batch_size: problems in flight
    system_prompt: str
    top_p: float
    seed: int
    max_tokens: int  # sampling.max_tokens: per solution, or per step with `max_tokens_per_step`
    max_tokens_per_step: bool
    step_delimiter: str
    whitespace_step_ends: bool
    score_trailing_empty_step: bool
    agg_strategy: str

    @classmethod
    def from_config(cls, config: RunConfig) -> EngineSettings:
        g, s, search, v = config.generator, config.sampling, config.search, config.verifier
        return cls(
            n=s.n, batch_size=g.batch_size, system_prompt=g.system_prompt, top_p=s.top_p, seed=s.seed,
            max_tokens=s.max_tokens, max_tokens_per_step=search.max_tokens_per_step,
            step_delimiter=search.step_delimiter,
            whitespace_step_ends=search.whitespace_step_ends, score_trailing_empty_step=v.score_trailing_empty_step,
            agg_strategy=v.agg_strategy,
        )


@dataclass
class _Slot:
    problem: Problem
    state: object
    prompt_ids: list[int]
    round: int = 0
    expansions: list[Expansion] = field(default_factory=list)
    generated: int = 0  # every token generated for this problem, pruned branches and lookahead included


def derive_seed(*parts: int) -> int:
    """A 31-bit seed from integers (splitmix64 steps), stable across runs and machines."""
    value = 0x9E3779B97F4A7C15
    for part in parts:
        value = (value ^ (part & 0xFFFF_FFFF_FFFF_FFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFF_FFFF_FFFF_FFFF
        value = (value ^ (value >> 31)) * 0x94D049BB133111EB & 0xFFFF_FFFF_FFFF_FFFF
    return value >> 33


class Engine:
    """Runs one strategy over a stream of problems, `generator.batch_size` of them at a time."""

    def __init__(
        self,
        strategy: Strategy,
        generator: Generator,
        prm: PRM | None,
        settings: EngineSettings,
        on_round: Callable[[RoundStats], None] | None = None,
    ):
        self.strategy = strategy
        self.generator = generator
        self.prm = prm
        self.settings = settings
        self.on_round = on_round
        self.delimiter = settings.step_delimiter
        self.trailing_empty = settings.score_trailing_empty_step
        self.max_model_len = generator.max_model_len or 1 << 30

    def solve(self, problems: Iterable[Problem]) -> Iterator[tuple[Problem, Output]]:
        """Yields each problem with its output as soon as its search ends."""
        pending = iter(problems)
        active: list[_Slot] = []
        capacity = self.settings.batch_size
        rounds = 0
        while True:
            still: list[_Slot] = []
            for slot in active:
                slot.expansions = self.strategy.select(slot.state)
                if slot.expansions:
                    still.append(slot)
                else:
                    yield slot.problem, self._final(slot)
            active = still
            for problem in pending:
                slot = self._start(problem)
                slot.expansions = self.strategy.select(slot.state)
                if slot.expansions:
                    active.append(slot)
                else:
                    yield slot.problem, self._final(slot)
                if len(active) >= capacity:
                    break
            if not active:
                return
            self._round(active, rounds)
            rounds += 1

    def _start(self, problem: Problem) -> _Slot:
        prompt = self.generator.format_prompt(problem.problem, self.settings.system_prompt)
        return _Slot(problem, self.strategy.start(problem), self.generator.encode(prompt))

    def _final(self, slot: _Slot) -> Output:
        output = self.strategy.final(slot.state)
        output.stats = {"rounds": slot.round, "total_tokens": slot.generated, **output.stats}
        return output

    def _round(self, slots: list[_Slot], number: int) -> None:
        stats = RoundStats(round=number)
        requests = [(slot, j, exp) for slot in slots for j, exp in enumerate(slot.expansions)]
        stats.live = sum(exp.n for _, _, exp in requests)
        before, started = sum(s.generated for s in slots), time.monotonic()
        children = self._generate(requests)
        extra = self._lookahead(requests, children)
        stats.gen_tokens = sum(s.generated for s in slots) - before
        stats.gen_seconds = time.monotonic() - started
        started = time.monotonic()
        stats.prm_tokens = self._score(requests, children, extra)
        stats.prm_seconds = time.monotonic() - started
        for slot in slots:
            mine = [kids for (s, _, _), kids in zip(requests, children) if s is slot]
            self.strategy.update(slot.state, mine)
            slot.round += 1
        if self.on_round is not None:
            self.on_round(stats)

    def _budget(self, slot: _Slot, node: Node) -> int:
        """Tokens `node` may still add: the solution budget (or, with
        `search.max_tokens_per_step`, the step budget), and the model's context."""
        room = self.max_model_len - len(slot.prompt_ids) - node.tokens
        used = 0 if self.settings.max_tokens_per_step else node.tokens
        return min(self.settings.max_tokens - used, room)

    def _spec(self, slot: _Slot, j: int, exp: Expansion) -> SamplingSpec:
        s = self.settings
        budget = self._budget(slot, exp.node)
        return SamplingSpec(
            n=exp.n,
            temperature=exp.temperature,
            top_p=s.top_p,
            max_tokens=min(budget, exp.max_tokens) if exp.max_tokens else budget,
            stop=() if exp.to_end else (exp.stop or (self.delimiter,)),
            include_stop=True,
            seed=derive_seed(s.seed, slot.problem.idx, slot.round, j),
        )

    def _generate(self, requests: list[tuple[_Slot, int, Expansion]]) -> list[list[Node]]:
        """Every expansion of every problem in ONE generator call."""
        live = [r for r in requests if self._budget(r[0], r[2].node) > 0]
        results = self.generator.extend(
            [slot.prompt_ids + list(exp.node.token_ids) for slot, _, exp in live],
            [self._spec(slot, j, exp) for slot, j, exp in live],
        )
        by_request = {id(r): exts for r, exts in zip(live, results)}
        children = []
        for request in requests:
            slot, _, exp = request
            if id(request) not in by_request:  # no budget left: nothing to generate
                children.append([_stopped(exp.node, LENGTH) for _ in range(exp.n)])
                continue
            kids = []
            for ext in by_request[id(request)]:
                slot.generated += ext.num_tokens
                kid = exp.node.child(ext.text, ext.token_ids, exp.temperature)
                kid.stop = self._stop_of(ext, kid, slot, chunked=exp.max_tokens is not None)
                kids.append(kid)
            children.append(kids)
        return children

    def _stop_of(self, ext: Extension, kid: Node, slot: _Slot, chunked: bool) -> str | None:
        """Why `kid` ends, or None while it may grow (a chunk cut at its own cap stays open)."""
        if ext.finished:
            return EOS
        if self._budget(slot, kid) <= 0 or (ext.finish_reason == "length" and not chunked):
            return LENGTH
        if not (ext.text.strip() if self.settings.whitespace_step_ends else ext.text):
            return EMPTY
        return None

    def _lookahead(self, requests, children: list[list[Node]]) -> dict[int, str]:
        """Extend each open child of a lookahead expansion by greedy steps, batched across
        problems; returns the extra text per child (by `id`), which ranks but is not kept."""
        chains = [
            (slot, kid, exp.lookahead)
            for (slot, _, exp), kids in zip(requests, children)
            for kid in kids
            if exp.lookahead and not kid.done
        ]
        extra = {id(kid): "" for _, kid, _ in chains}
        ids = {id(kid): () for _, kid, _ in chains}
        for step in range(max((k for _, _, k in chains), default=0)):
            open_ = [(slot, kid) for slot, kid, k in chains if step < k and ids[id(kid)] is not None]
            open_ = [(slot, kid) for slot, kid in open_ if self._budget(slot, kid) - len(ids[id(kid)]) > 0]
            if not open_:
                break
            results = self.generator.extend(
                [slot.prompt_ids + list(kid.token_ids) + list(ids[id(kid)]) for slot, kid in open_],
                [
                    SamplingSpec(max_tokens=self._budget(slot, kid) - len(ids[id(kid)]), stop=(self.delimiter,))
                    for slot, kid in open_
                ],
            )
            for (slot, kid), (ext,) in zip(open_, results):
                slot.generated += ext.num_tokens
                extra[id(kid)] += ext.text
                ids[id(kid)] = None if ext.stop_reason is None else ids[id(kid)] + ext.token_ids
        return extra

    def _score(self, requests, children: list[list[Node]], extra: dict[int, str]) -> int:
        """Score every child of every problem in ONE PRM call; returns PRM tokens read."""
        kids = [
            (slot, kid, self._scored_text(kid, exp))
            for (slot, _, exp), group in zip(requests, children)
            for kid in group
        ]
        if self.prm is None:
            return 0
        steps = [self._steps(text + extra.get(id(kid), "")) for _, kid, text in kids]
        before = self.prm.tokens
        scores = self.prm.score([slot.problem.problem for slot, _, _ in kids], steps)
        agg = self.settings.agg_strategy
        for (_, kid, text), full in zip(kids, scores):
            kid.scores = list(full[: len(self._steps(text))])
            kid.value = aggregate(full, agg)
        return self.prm.tokens - before

    def _steps(self, text: str) -> list[str]:
        return split_steps(text, self.delimiter, self.trailing_empty)

    def _scored_text(self, kid: Node, exp: Expansion) -> str:
        """The text the PRM reads: a chunk that stopped at one of its own stop strings (say
        the next step's `\n## Step` header) is read without it; the step delimiter stays."""
        for stop in exp.stop:
            if stop != self.delimiter and kid.last_step.endswith(stop):
                return kid.text[: -len(stop)]
        return kid.text


def _stopped(node: Node, reason: str) -> Node:
    kid = node.child("", (), node.temperature)
    kid.stop = reason
    return kid
