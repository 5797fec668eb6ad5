"""Metrics against values computed by hand: votes with ties and missing answers, pass@k,
subsets that keep groups whole, breakdowns and tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from sal_cli.grading.grader import grade_problem
from sal_cli.grading.metrics import evaluate, metric_names, pass_at_k
from sal_cli.grading.runs import ProblemRecord, Run

B = "\\boxed{{{}}}".format


def problem(idx, gold, completions, scores=None, groups=None, tokens=None, level=None, subject=None, pruned=0.0):
    groups = groups if groups is not None else list(range(len(completions)))
    return ProblemRecord(idx, gold, completions, scores, groups, [False] * len(completions), tokens, pruned, level,
                         subject)


def make_run(problems, approach="best_of_n", greedy=False):
    return Run(Path("run"), Path("run/results.jsonl"), Path("run"), approach, approach, greedy, problems)


def run_metrics(problems, seeds=1, **kwargs):
    run = make_run(problems, **kwargs)
    return evaluate(run, [grade_problem(p.gold, p.completions) for p in run.problems], seeds)


# A: maj is right (5 twice), naive and weighted follow the 0.9 wrong answer; the 0.95 completion has no answer.
A = problem(0, "5", [B(5), B(6), B("5.0"), "I give up"], [0.2, 0.9, 0.3, 0.95], tokens=[10, 20, 30, 40], level="1",
            subject="Algebra", pruned=10.0)
# B: a 2-2 tie for maj goes to the answer that appears first (1/2, right); weighted 0.7 < 0.8 picks 3 (wrong).
B_ = problem(1, "\\frac{1}{2}", [B("0.5"), B("\\frac12"), B(3), B(3)], [0.6, 0.1, 0.5, 0.3], tokens=[1, 1, 1, 1],
             level="2", subject="Geometry")
# C: no completion has an answer.
C = problem(2, "7", ["no idea", "I give up", "not sure", "let me think"], [0.5] * 4, tokens=[5, 5, 5, 5], level="1", subject="Algebra")


def test_pass_at_k_matches_the_closed_form():
    assert pass_at_k(4, 2, 1) == pytest.approx(0.5)
    assert pass_at_k(4, 2, 2) == pytest.approx(1 - 1 / 6)
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(10, 9, 2) == 1.0


def test_full_budget_votes_by_hand():
    m = run_metrics([A, B_, C], seeds=3)
    assert m.ks == [1, 2, 4]
    acc = m.overall.accuracy
    assert acc["naive@4"] == pytest.approx(1 / 3)  # only B
    assert acc["weighted@4"] == pytest.approx(0.0)
    assert acc["maj@4"] == pytest.approx(2 / 3)  # A and B (tie)
    assert acc["pass@4"] == pytest.approx(2 / 3)
    assert acc["pass@1"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert acc["pass@2"] == pytest.approx((5 / 6 + 5 / 6) / 3)
    assert m.overall.std["maj@4"] == 0.0  # the full set is the same for every seed
    assert m.overall.no_answer["maj@4"] == pytest.approx(1 / 3)  # C
    assert m.overall.no_answer["pass@4"] == pytest.approx(1 / 3)
    assert m.completions_no_answer == pytest.approx(5 / 12)


def test_breakdowns_by_level_and_subject():
    m = run_metrics([A, B_, C])
    assert list(m.by_level) == ["1", "2"]
    assert m.by_level["1"].num_entries == 2
    assert m.by_level["1"].accuracy["maj@4"] == pytest.approx(0.5)
    assert m.by_level["2"].accuracy["naive@4"] == 1.0
    assert m.by_subject["Geometry"].accuracy["weighted@4"] == 0.0


def test_tokens_per_budget_count_pruned_branches_pro_rata():
    m = run_metrics([A], seeds=50)
    assert m.tokens[4] == pytest.approx(100 + 4 * 10)
    assert m.tokens[1] == pytest.approx(25 + 10, abs=6)  # a random completion (mean 25) plus its pruned share


def test_random_subsets_average_over_seeds():
    """k=1 of A: maj@1 is right when the drawn completion says 5 (2 of 4 completions)."""
    m = run_metrics([A], seeds=400)
    assert m.overall.accuracy["maj@1"] == pytest.approx(0.5, abs=0.07)
    assert m.overall.std["maj@1"] == pytest.approx(0.5, abs=0.02)  # each seed is right or wrong
    assert m.overall.accuracy["pass@1"] == 0.5


def test_unscored_runs_have_maj_and_pass_only_and_greedy_runs_greedy():
    unscored = problem(0, "5", [B(5)], tokens=[3])
    m = run_metrics([unscored], greedy=True)
    assert m.names == ["maj@1", "pass@1", "greedy"]
    assert m.overall.accuracy["greedy"] == 1.0
    assert metric_names([1, 2], scored=True, greedy=False) == ["naive@1", "weighted@1", "maj@1", "pass@1",
                                                             "naive@2", "weighted@2", "maj@2", "pass@2"]


def test_dvts_subsets_keep_subtrees_whole():
    # two subtrees of two leaves: subtree 0 answers 1 (right), subtree 1 answers 2
    dvts = problem(3, "1", [B(1), B(1), B(2), B(2)], [0.9, 0.8, 0.1, 0.2], groups=[0, 0, 1, 1])
    run = make_run([dvts], approach="dvts")
    graded = [grade_problem(dvts.gold, dvts.completions)]
    m = evaluate(run, graded, seeds=200)
    assert m.ks == [2, 4]  # no budget smaller than a subtree
    assert m.overall.accuracy["pass@2"] == 0.5  # one of two subtrees
    assert m.overall.accuracy["maj@2"] == pytest.approx(0.5, abs=0.1)  # whichever subtree was drawn
    assert m.overall.accuracy["naive@4"] == 1.0


def test_beam_search_is_reported_at_its_own_n_only():
    beam = problem(4, "1", [B(1), B(2), B(1), B(3)], [0.1, 0.9, 0.2, 0.3], groups=[0, 0, 0, 0])
    m = run_metrics([beam], approach="beam_search")
    assert m.ks == [4]
    assert m.overall.accuracy == {"naive@4": 0.0, "weighted@4": 0.0, "maj@4": 1.0, "pass@4": 1.0}


def test_seeds_must_be_positive():
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        run_metrics([A], seeds=0)
