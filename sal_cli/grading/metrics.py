"""Accuracy against the compute budget k: `naive@k`, `weighted@k`, `maj@k`, `pass@k`
(and `greedy`), overall and by level and subject, with mean generated tokens per problem.

Subsets: a budget k below a problem's n is scored on a random subset of its completions,
drawn anew for each seed (`random.Random(seed * 1_000_003 + idx)`); each accuracy is the
mean over seeds, with the population std beside it (the blog post's seed averaging).
Subsets are made of whole groups: DVTS keeps a subtree's leaves together, so budgets
below the subtree size are not reported; a beam search's completions form one pool, so
only its own n is (a subset of a final pool is not a smaller beam search). Best-of-N and
plain sampling draw completions one by one. Votes inside a subset follow `voting.vote`.

`pass@k` is Chen et al.'s unbiased estimator 1 - C(G-c, m)/C(G, m) over G groups of which
c hold a correct answer, m = k / group size: no sampling, exact, std 0.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from sal_cli.grading.grader import Graded
from sal_cli.grading.runs import ProblemRecord, Run
from sal_cli.grading.voting import budgets, vote

SEED_STRIDE = 1_000_003


@dataclass
class Scope:
    """Metrics over one set of problems: all of them, or one level or subject."""

    num_entries: int
    accuracy: dict[str, float]  # metric name -> mean over seeds of the fraction correct
    std: dict[str, float]  # population std over seeds
    no_answer: dict[str, float]  # fraction of problems whose vote settled on no answer


@dataclass
class Metrics:
    ks: list[int]
    names: list[str]  # metric names in display order, e.g. naive@4, weighted@4, maj@4, pass@4
    seeds: int
    overall: Scope
    by_level: dict[str, Scope]
    by_subject: dict[str, Scope]
    tokens: dict[int, float] | None  # k -> mean tokens generated per problem
    completions_no_answer: float  # fraction of all completions without an answer


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al., 2021): the chance that k of n samples, c of them
    correct, hold a correct one."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def metric_names(ks: Iterable[int], scored: bool, greedy: bool) -> list[str]:
    """Names in display order: per budget the PRM rules (if scored), `maj`, `pass`; then `greedy`."""
    rules = ("naive", "weighted", "maj", "pass") if scored else ("maj", "pass")
    return [f"{rule}@{k}" for k in ks for rule in rules] + (["greedy"] if greedy else [])


def evaluate(run: Run, graded: list[Graded], seeds: int) -> Metrics:
    """Every metric of `run` from its grades, `seeds` subsets per budget."""
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}.")
    ks = [k for k in budgets(run.n) if k % run.group_size == 0]
    names = metric_names(ks, run.scored, run.greedy)
    correct: dict[str, list[list[float]]] = {name: [] for name in names}  # name -> problem -> seed
    no_answer: dict[str, list[list[float]]] = {name: [] for name in names}
    tokens: dict[int, list[float]] = defaultdict(list)
    for problem, grades in zip(run.problems, graded):
        outcome = _ProblemScorer(problem, grades, run.group_size, seeds)
        for name in names:
            hits, misses = outcome.metric(name)
            correct[name].append(hits)
            no_answer[name].append(misses)
        for k in ks:
            tokens[k].append(outcome.tokens(k))
    problems = run.problems

    def scope(rows: list[int]) -> Scope:
        return _scope(rows, names, correct, no_answer, seeds)

    answers = [a for g in graded for a in g.answers]
    return Metrics(
        ks=ks,
        names=names,
        seeds=seeds,
        overall=scope(list(range(len(problems)))),
        by_level={key: scope(rows) for key, rows in _split(problems, "level").items()},
        by_subject={key: scope(rows) for key, rows in _split(problems, "subject").items()},
        tokens={k: statistics.fmean(v) for k, v in tokens.items()} if all(p.tokens for p in problems) else None,
        completions_no_answer=sum(a is None for a in answers) / max(1, len(answers)),
    )


class _ProblemScorer:
    """One problem's subsets (per seed) and the outcome of each metric on them."""

    def __init__(self, problem: ProblemRecord, grades: Graded, group_size: int, seeds: int):
        self.problem, self.grades, self.group_size, self.seeds = problem, grades, group_size, seeds
        self.members: dict[int, list[int]] = defaultdict(list)
        for i, group in enumerate(problem.groups):
            self.members[group].append(i)
        self.orders = []
        for seed in range(seeds):
            order = list(self.members)
            random.Random(seed * SEED_STRIDE + problem.idx).shuffle(order)
            self.orders.append(order)
        self._subsets: dict[int, list[list[int]]] = {}

    def subsets(self, k: int) -> list[list[int]]:
        """Completion indices (record order) of each seed's subset for budget k."""
        if k not in self._subsets:
            m = k // self.group_size
            if m >= len(self.members):  # the whole problem: the same for every seed
                self._subsets[k] = [list(range(len(self.problem.groups)))] * self.seeds
            else:
                self._subsets[k] = [sorted(i for group in order[:m] for i in self.members[group]) for order in self.orders]
        return self._subsets[k]

    def metric(self, name: str) -> tuple[list[float], list[float]]:
        """(correct, no answer) per seed for one metric name."""
        g = self.grades
        if name == "greedy":
            return [float(g.correct[0])] * self.seeds, [float(g.classes[0] < 0)] * self.seeds
        rule, k = name.split("@")
        if rule == "pass":
            groups = len(self.members)
            m = min(int(k) // self.group_size, groups)
            right = sum(any(g.correct[i] for i in members) for members in self.members.values())
            answered = sum(any(g.classes[i] >= 0 for i in members) for members in self.members.values())
            return [pass_at_k(groups, right, m)] * self.seeds, [1.0 - pass_at_k(groups, answered, m)] * self.seeds
        hits, misses = [], []
        scores = self.problem.scores
        for subset in self.subsets(int(k)):
            winner = vote([g.classes[i] for i in subset], [scores[i] for i in subset] if scores else None, rule)
            hits.append(float(winner >= 0 and g.class_correct[winner]))
            misses.append(float(winner < 0))
        return hits, misses

    def tokens(self, k: int) -> float:
        """Mean over seeds of the tokens the subset cost, pruned branches included pro rata."""
        p = self.problem
        if not p.tokens:
            return 0.0
        costs = [sum(p.tokens[i] for i in subset) + p.pruned_tokens * len(subset) for subset in self.subsets(k)]
        return statistics.fmean(costs)


def _scope(
    rows: list[int], names: list[str], correct: dict[str, list[list[float]]], no_answer: dict[str, list[list[float]]], seeds: int
) -> Scope:
    def per_seed(table: list[list[float]]) -> list[float]:
        return [statistics.fmean(table[row][seed] for row in rows) for seed in range(seeds)]

    accuracy, std, missing = {}, {}, {}
    for name in names:
        values = per_seed(correct[name])
        accuracy[name] = statistics.fmean(values)
        std[name] = statistics.pstdev(values)
        missing[name] = statistics.fmean(per_seed(no_answer[name]))
    return Scope(len(rows), accuracy, std, missing)


def _split(problems: list[ProblemRecord], field: str) -> dict[str, list[int]]:
    """Row numbers per value of `level`/`subject` (numeric values in numeric order)."""
    rows: dict[str, list[int]] = defaultdict(list)
    for row, problem in enumerate(problems):
        value = getattr(problem, field)
        if value is not None:
            rows[value].append(row)
    return dict(sorted(rows.items(), key=lambda item: (not item[0].isdigit(), int(item[0]) if item[0].isdigit() else 0, item[0])))
