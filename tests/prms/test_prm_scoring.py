"""What every protocol shares: batching does not change scores, empty input, left truncation."""

from __future__ import annotations

import pytest
import torch
from prm_cases import SOLUTIONS, settings
from transformers import AutoModelForTokenClassification

from sal_cli.errors import SalError
from sal_cli.prms import load_prm
from sal_cli.prms._torch_scoring import _similar_lengths

FOLDERS = {
    "math-shepherd": "shepherd_dir",
    "rlhflow": "rlhflow_dir",
    "llm-judge": "judge_dir",
    "skywork": "skywork_dir",
    "qwen-prm": "qwen_dir",
    "token-classification": "trl_dir",
}
PROBLEMS = [problem for problem, _ in SOLUTIONS]
STEPS = [steps for _, steps in SOLUTIONS]


@pytest.mark.parametrize("protocol", FOLDERS)
def test_batch_size_does_not_change_scores(protocol, request):
    folder = request.getfixturevalue(FOLDERS[protocol])
    one = load_prm(settings(folder, protocol, batch_size=1))
    three = load_prm(settings(folder, protocol, batch_size=3))  # 4 solutions: a padded batch of 3, then 1
    alone, batched = one.score(PROBLEMS, STEPS), three.score(PROBLEMS, STEPS)
    assert [len(s) for s in batched] == [len(s) for s in STEPS]
    for a, b in zip(alone, batched):
        assert b == pytest.approx(a, abs=1e-5)
        assert all(0 < x < 1 for x in b)
    assert one.tokens == three.tokens > 0
    assert three.name == protocol


BRANCHES = [  # one problem, a beam search's pool: shared path, then different next steps
    ["Let x be the number.", "Then 2x + 3 = 11.", "So 2x = 8."],
    ["Let x be the number.", "Then 2x + 3 = 11.", "So x = 4, the answer is $\\boxed{4}$."],
    ["Let x be the number.", "Then 2x + 3 = 11."],
    ["Let x be the number.", "Then 2x = 14, so x = 7."],
    ["Guess: 5."],
]


@pytest.mark.parametrize("protocol", FOLDERS)
def test_solutions_sharing_a_prefix_score_as_if_alone(protocol, request):
    """A batch of one problem's branches runs their common prefix once (KV cache shared): the
    scores must equal scoring each branch on its own, including steps inside the prefix."""
    folder = request.getfixturevalue(FOLDERS[protocol])
    one = load_prm(settings(folder, protocol, batch_size=1))
    pool = load_prm(settings(folder, protocol, batch_size=4))
    problems = ["When a number is doubled and then increased by three, the result is eleven. What is the number?"] * len(BRANCHES)
    calls = []
    states = pool.states
    pool.states = lambda ids, mask, positions, past, keep: calls.append((ids.shape, past is not None)) or states(
        ids, mask, positions, past, keep)
    alone, shared = one.score(problems, BRANCHES), pool.score(problems, BRANCHES)
    on_cache = [shape[0] for shape, cached in calls if cached]
    assert calls[0][0][0] == 1 and not calls[0][1]  # the shared prefix once, first ...
    assert sum(on_cache) == 4 and len(on_cache) > 1  # ... then 4 suffixes, in length groups, on copies of its cache
    assert [len(s) for s in shared] == [len(b) for b in BRANCHES]
    for a, b in zip(alone, shared):
        assert b == pytest.approx(a, abs=1e-5)
    assert alone[0][:2] == pytest.approx(alone[2], abs=1e-5)  # a step's score depends only on what precedes it


ROUNDS = [  # two problems' beams over three search rounds: each round extends the last one's rows
    [["Let x be the number."], ["Let x be the number."], ["Start: 2x + 3 = 11."]],
    [["Let x be the number.", "Then 2x + 3 = 11."], ["Let x be the number.", "Then 2x = 14."],
     ["Start: 2x + 3 = 11.", "So 2x = 8."]],
    [["Let x be the number.", "Then 2x + 3 = 11.", "So x = 4, the answer is $\\boxed{4}$."],
     ["Let x be the number.", "Then 2x + 3 = 11.", "So 2x = 8."],
     ["Let x be the number.", "Then 2x = 14.", "So x = 7."],
     ["Start: 2x + 3 = 11.", "So 2x = 8.", "x = 4."]],
]
ROUND_PROBLEMS = ["When a number is doubled and then increased by three, the result is eleven. What is it?",
                  "Same question, other words: double a number, add three, get eleven. The number?"]


@pytest.mark.parametrize("protocol", FOLDERS)
def test_a_search_round_reads_only_the_new_steps(protocol, request):
    """With `reuse_cache_gib`, a row that extends one of the previous call's rows runs only
    its new tokens on the kept KV cache; the scores must equal scoring from scratch."""
    folder = request.getfixturevalue(FOLDERS[protocol])
    fresh = load_prm(settings(folder, protocol, batch_size=4, reuse_cache_gib=0))
    reusing = load_prm(settings(folder, protocol, batch_size=4, reuse_cache_gib=0.5))
    run = []
    states = reusing.states
    reusing.states = lambda ids, mask, positions, past, keep: run.append(ids.numel()) or states(ids, mask, positions, past, keep)
    for steps in ROUNDS:
        problems = [ROUND_PROBLEMS[0] if s[0].startswith("Let") else ROUND_PROBLEMS[1] for s in steps]
        expected, before, reused = fresh.score(problems, steps), reusing.tokens, reusing.reused
        del run[:]
        got = reusing.score(problems, steps)
        for a, b in zip(expected, got):
            assert b == pytest.approx(a, abs=1e-5)
        if steps is not ROUNDS[0]:  # every row extends a kept one: only new tokens run
            new_tokens = (reusing.tokens - before) - (reusing.reused - reused)
            assert 0 < new_tokens < (reusing.tokens - before) / 2
            assert new_tokens <= sum(run) <= 1.25 * new_tokens  # run: new tokens and their padding only
    assert fresh.reused == 0


@pytest.mark.parametrize(
    "lengths, groups",
    [
        ([100, 100, 90, 80], [[0, 1, 2, 3]]),  # padding 30 of 370 real tokens: one forward
        ([300, 40, 290, 50], [[0, 2], [3, 1]]),  # long and short rows apart, longest first
        ([10], [[0]]),
        ([], []),
    ],
)
def test_rows_of_unlike_lengths_go_in_separate_forwards(lengths, groups):
    assert _similar_lengths(lengths) == groups
    for group in groups:  # padding to the group's longest row costs at most a quarter of its real tokens
        assert max(lengths[r] for r in group) * len(group) <= 1.25 * sum(lengths[r] for r in group)


@pytest.fixture(scope="module")
def judge(judge_dir):
    return load_prm(settings(judge_dir, "llm-judge", batch_size=2))


def test_a_solution_without_steps_gets_no_scores(judge):
    scores = judge.score(["p", "q", "r"], [[], ["one step"], []])
    assert scores[0] == scores[2] == [] and len(scores[1]) == 1
    assert judge.score([], []) == []


def test_a_trailing_empty_step_is_never_scored(judge):
    with_blank, without = judge.score(["p", "p"], [["a", "b", "", " \n"], ["a", "b"]])
    assert with_blank == pytest.approx(without, abs=1e-6)


def test_problems_and_step_lists_must_pair_up(judge):
    with pytest.raises(ValueError, match="2 problems and 1 step lists"):
        judge.score(["p", "q"], [["a"]])


@torch.inference_mode()
def test_left_truncation_keeps_the_newest_steps_and_backfills_the_lost_ones(trl_dir, capsys):
    problem, steps = SOLUTIONS[3]  # 4 steps
    full = load_prm(settings(trl_dir, "token-classification")).layout.encode(problem, steps)
    cut = full.marks[1] + 1  # just past step 2's position: steps 1 and 2 lose theirs
    prm = load_prm(settings(trl_dir, "token-classification", max_length=len(full.ids) - cut))
    scores = prm.score([problem], [steps])[0]

    model = AutoModelForTokenClassification.from_pretrained(trl_dir, dtype=torch.float32)
    logits = model(torch.tensor([full.ids[cut:]])).logits[0]  # the tail starts again at position 0
    kept = logits[[m - cut for m in full.marks[2:]]].softmax(-1)[:, 1].tolist()
    assert scores[2:] == pytest.approx(kept, abs=1e-5)
    assert scores[:2] == pytest.approx([kept[0], kept[0]], abs=1e-7)  # lost steps take the first kept score
    assert prm.tokens == len(full.ids) - cut
    assert "cut from the left" in capsys.readouterr().err


def test_a_limit_that_leaves_no_score_position_is_an_error(qwen_dir):
    prm = load_prm(settings(qwen_dir, "qwen-prm", max_length=2))  # the chat ends `<extra_0><|im_end|>\n`
    with pytest.raises(SalError, match="max_length` \\(2\\) leaves no step"):
        prm.score(["p"], [["a"]])
