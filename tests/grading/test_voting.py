"""Voting rules and the seed's `pred_*@k` columns, against hand-computed winners."""

from __future__ import annotations

import pytest

from sal_cli.grading.voting import budgets, vote, vote_columns


def test_budgets_are_powers_of_two_then_n():
    assert budgets(1) == [1]
    assert budgets(16) == [1, 2, 4, 8, 16]
    assert budgets(6) == [1, 2, 4, 6]
    assert budgets(0) == []


def test_rules_on_a_hand_computed_example():
    # classes: A A B B B C ; scores      .9 .8 .2 .3 .1 .95
    classes, scores = [0, 0, 1, 1, 1, 2], [0.9, 0.8, 0.2, 0.3, 0.1, 0.95]
    assert vote(classes, None, "maj") == 1  # B: 3 votes
    assert vote(classes, scores, "weighted") == 0  # A: 1.7 > C: 0.95 > B: 0.6
    assert vote(classes, scores, "naive") == 2  # C holds the top score 0.95


def test_ties_go_to_the_answer_that_appears_first():
    assert vote([1, 0, 0, 1], None, "maj") == 1  # 2-2: class 1 appears first
    assert vote([1, 0, 0, 1], [0.25, 0.5, 0.25, 0.5], "weighted") == 1  # 0.75-0.75
    assert vote([0, 1, 2], [0.5, 0.9, 0.9], "naive") == 1  # equal top scores: the earlier completion


def test_completions_without_answer_never_win():
    assert vote([-1, -1, 0], None, "maj") == 0
    assert vote([-1, 0], [0.99, 0.1], "naive") == 0  # the top-scored completion has no answer
    assert vote([-1, -1], [0.5, 0.5], "weighted") == -1
    assert vote([], [], "naive") == -1


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule must be one of"):
        vote([0], [1.0], "best")


def test_vote_columns_vote_over_the_first_k_completions():
    completions = ["\\boxed{2}", "so \\boxed{3}", "\\boxed{3.0}", "no idea", "\\boxed{\\frac{4}{2}}", "\\boxed{2}"]
    scores = [0.1, 0.9, 0.2, 0.99, 0.3, 0.4]
    columns = vote_columns(completions, scores, 6)
    assert set(columns) == {f"pred_{r}@{k}" for r in ("weighted", "maj", "naive") for k in (1, 2, 4, 6)}
    assert columns["pred_naive@1"] == columns["pred_maj@1"] == columns["pred_weighted@1"] == "\\boxed{2}"
    assert columns["pred_naive@2"] == "\\boxed{3}"
    assert columns["pred_maj@2"] == "\\boxed{2}"  # 1-1 tie: the first answer
    assert columns["pred_weighted@4"] == "\\boxed{3}"  # 3: 1.1 vs 2: 0.1; "no idea" does not vote
    assert columns["pred_maj@6"] == "\\boxed{2}"  # 2, 4/2, 2 are one answer: 3 votes
    assert columns["pred_weighted@6"] == "\\boxed{3}"  # 3: 1.1 vs 2: 0.8


def test_vote_columns_skip_fallback_answers_of_cut_off_completions():
    columns = vote_columns(["so it is 7.", "the total is 7"], [0.9, 0.1], 2, finished=[True, False])
    assert columns["pred_maj@2"] == "\\boxed{7}"
    assert vote_columns(["the total is 7"], [0.5], 1, finished=[False])["pred_maj@1"] == "\\boxed{}"


def test_vote_columns_without_any_answer_write_an_empty_box():
    assert vote_columns(["no idea", "I give up"], [0.5, 0.4], 2)["pred_maj@2"] == "\\boxed{}"


def test_vote_columns_of_no_completions_are_empty():
    assert vote_columns([], [], 0) == {}


def test_vote_columns_check_their_inputs():
    with pytest.raises(ValueError, match="one score per completion"):
        vote_columns(["\\boxed{1}"], [0.1, 0.2], 2)
