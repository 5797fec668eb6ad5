"""Collective and independent backtracking on the real engine, with a scripted generator and
PRM: every transition (pass, fail, retry at a higher temperature, hold back, jump, finish,
stop at n, stop at max_steps) is pinned round by round."""

from __future__ import annotations

import pytest
from test_strategies import config, run

from sal_cli.search._backtrack import final_score, pass_score
from sal_cli.search.tree import ANSWER, EOS, Node


def rounds(gen):
    """Per generator call: (prefix, n, temperature, max_tokens) of each request."""
    return [[(p.partition(">")[2], spec.n, spec.temperature, spec.max_tokens) for p, spec in call] for call in gen.calls]


def collective(**search):
    defaults = dict(approach="collective_backtrack", tau=0.6, temp_step=0.1, k_tokens=50)
    return config(n=1, temperature=0.7, **{**defaults, **search})


# A problem whose first chunk passes alone, whose retries fail and whose jump goes on.
JUMP_SCRIPT = {"": ["a\n\n"], "@0.9": ["f\n\n"], "@1": ["g\n\n"], "a\n\n": ["y|"]}
JUMP_SCORES = {"a": 0.9, "f": 0.1, "g": 0.2, "y": 0.95}


def test_collective_grows_one_chunk_per_branch_and_spreads_children_only_on_retries():
    """tt_scale `CollectiveBacktrack.run` (always_expand false, retries from 1): candidates
    per round 1, 6, 6, 1, 2 at T 0.8, 0.9, 1.0, then the jump at 0.8, after max_backtracks
    failed rounds."""
    cfg = collective(passing_minimum=2, max_total_branches=6, keeping_branches=2, max_backtracks=3)
    cfg.sampling.n = 2
    [(_, out)], gen, prm = run(cfg, JUMP_SCRIPT, JUMP_SCORES)
    assert rounds(gen) == [
        [("", 1, 0.8, 50)],              # one branch, one chunk at 0.7 + 1 x 0.1: a passes alone (< 2): held
        [("", 6, 0.9, 50)],              # retry: the parent spreads max_total_branches; all fail
        [("", 6, 1.0, 50)],              # retry: ceil(2 - 3/4 x 2) = 1 parent; fails: jump
        [("", 1, 0.8, 50)],              # the jump passes anything above 0: a + held a = 2
        [("a\n\n", 1, 0.8, 50)] * 2,     # one chunk per branch again; both finish: n = 2
    ]
    assert [sum(spec.n for _, spec in call) for call in gen.calls] == [1, 6, 6, 1, 2]
    assert len(prm.calls) == 5
    assert [node.text for node in out.nodes] == ["a\n\ny", "a\n\ny"] and out.nodes[0].stop == EOS
    assert out.branch_scores == [0.95, 0.95]
    assert {k: out.stats[k] for k in ("steps", "retries", "backtracks", "jumps")} == {
        "steps": 5, "retries": 3, "backtracks": 1, "jumps": 1}


def test_collective_always_expand_spreads_max_total_branches_every_round():
    cfg = collective(passing_minimum=2, max_total_branches=6, keeping_branches=2, always_expand=True)
    cfg.sampling.n = 2
    [(_, out)], gen, _ = run(cfg, JUMP_SCRIPT, JUMP_SCORES)
    assert rounds(gen) == [[("", 6, 0.8, 50)], [("a\n\n", 3, 0.8, 50)] * 2]  # floor(6 / live) each round
    assert len(out.nodes) == 2


def test_collective_without_backtrack_retries_with_max_total_over_keeping_children():
    cfg = collective(passing_minimum=2, max_total_branches=6, keeping_branches=3, max_backtracks=3, backtrack=False)
    cfg.sampling.n = 2
    _, gen, _ = run(cfg, JUMP_SCRIPT, JUMP_SCORES)
    assert [sum(spec.n for _, spec in call) for call in gen.calls][:3] == [1, 2, 2]  # 6 // 3 on each retry


def test_collective_stops_at_max_steps_unfinished():
    script = {"": ["a\n\n"], "a\n\n": ["b\n\n"], "a\n\nb\n\n": ["c\n\n"]}
    cfg = collective(passing_minimum=1, max_steps=2)
    [(_, out)], gen, _ = run(cfg, script, {"a": 0.9, "b": 0.8})
    assert len(gen.calls) == 2
    assert [node.text for node in out.nodes] == ["a\n\nb\n\n"] and out.nodes[0].stop is None  # reported unfinished


def test_collective_stops_once_n_branches_finished():
    script = {"": ["s|", "t|", "u\n\n"]}
    cfg = config(n=2, temperature=0.7, approach="collective_backtrack", passing_minimum=1, max_total_branches=3,
                 always_expand=True)
    [(_, out)], gen, _ = run(cfg, script, {"s": 0.9, "t": 0.8, "u": 0.99})
    assert len(gen.calls) == 1
    assert [node.text for node in out.nodes] == ["s", "t"]
    cfg.search.max_finished_branches = 3  # more than n: the search goes on, the output keeps n
    [(_, out)], gen, _ = run(cfg, script, {"s": 0.9, "t": 0.8, "u": 0.99})
    assert len(gen.calls) > 1 and len(out.nodes) == 2


def independent(**search):
    defaults = dict(approach="independent_backtrack", tau=0.6, tau_step=0.05, temp_step=0.1, k_tokens=50,
                    expansion_factor=2, max_branches=3)
    return config(n=1, temperature=0.7, **{**defaults, **search})


def test_independent_retries_a_failed_branch_with_clones_a_lower_threshold_and_more_heat():
    script = {"": ["a\n\n"], "@0.8": ["b\n\n"], "b\n\n": ["c|"]}
    [(_, out)], gen, _ = run(independent(max_backtracks=2), script, {"a": 0.5, "b": 0.57})
    assert rounds(gen) == [
        [("", 1, 0.7, 50)],                       # a scores .5 < .6: fails
        [("", 1, 0.8, 50), ("", 1, 0.8, 50)],     # two clones retry at +0.1; b .57 >= .6 - .05 passes
        [("b\n\n", 1, 0.7, 50), ("b\n\n", 1, 0.7, 50)],  # passing resets the retries
    ]
    assert [node.text for node in out.nodes] == ["b\n\nc"] and out.nodes[0].stop == EOS
    assert out.stats["retries"] == 1 and out.stats["backtracks"] == 1


def test_independent_drops_a_branch_out_of_retries_but_rescues_the_best_when_all_fail():
    script = {"": ["a\n\n"], "@0.8": ["b \\boxed{2}\n\n"]}
    [(_, out)], gen, _ = run(independent(max_backtracks=0), script, {"a": 0.5, "b \\boxed{2}": 0.1})
    assert rounds(gen) == [[("", 1, 0.7, 50)], [("", 1, 0.8, 50)]]  # rescued once, then the answer marker
    assert out.nodes[0].text == "b \\boxed{2}\n\n" and out.nodes[0].stop == ANSWER  # finishes whatever its score


def test_all_problems_share_one_generator_and_one_prm_call_per_round():
    script = {"": ["a\n\n", "b|"], "a\n\n": ["c|"]}
    for cfg in (collective(passing_minimum=1, max_total_branches=2), independent()):
        outputs, gen, prm = run(cfg, script, {"a": 0.9, "b": 0.1, "c": 0.9}, problems=("P", "Q", "R"))
        assert len(outputs) == 3
        assert len(gen.calls) == len(prm.calls) == max(out.stats["rounds"] for _, out in outputs)
        assert {p.partition(">")[0] for p, _ in gen.calls[0]} == {"<P", "<Q", "<R"}


def test_chunks_are_cut_at_k_tokens_and_stay_open():
    script = {"": ["abcdefghij\n\n"], "abcd": ["efgh|"]}
    cfg = independent(k_tokens=4)
    [(_, out)], gen, _ = run(cfg, script, {"abcd": 0.9})
    assert [[prefix for prefix, *_ in call] for call in rounds(gen)] == [[""], ["abcd"]]
    assert out.nodes[0].text == "abcdefgh" and out.nodes[0].tokens == 8


TT_SCALE_SCRIPT = {"": ["x\n## Step"], "@0.8": ["## Step 1: a\n## Step"], "## Step 1: a\n## Step": [" 2: <FINAL> 5|"]}
TT_SCALE_SCORES = {"x": 0.1, "## Step 1: a": 0.9, "## Step 1: a\n## Step 2: <FINAL> 5": 0.3}


def test_independent_with_tt_scale_chunks_warmup_final_marker_and_branch_scores():
    """tt_scale's settings: chunks end at `\\n## Step` (kept in the text, not scored as a
    step), `<FINAL>` finishes a branch, the first round may write 2 x k_tokens, and a
    finished branch keeps max(parent score, its own)."""
    cfg = independent(stop_strings=["\n## Step"], answer_marker="<FINAL>", warmup=True, max_finished_branches=2)
    cfg.sampling.n = 4
    [(_, out)], gen, prm = run(cfg, TT_SCALE_SCRIPT, TT_SCALE_SCORES)
    assert rounds(gen) == [
        [("", 1, 0.7, 100)],                                    # warmup: 2 x k_tokens; x fails
        [("", 1, 0.8, 50)] * 2,                                 # two clones retry, hotter
        [("## Step 1: a\n## Step", 1, 0.7, 50)] * 2,            # both passed (.9): both finish
    ]
    assert all(spec.stop == ("\n## Step",) for call in gen.calls for _, spec in call)
    assert prm.calls[1][0][1] == ["## Step 1: a"]  # the next step's header is not scored
    assert [node.text for node in out.nodes] == ["## Step 1: a\n## Step 2: <FINAL> 5"] * 2
    assert [node.scores for node in out.nodes] == [[0.3]] * 2
    assert out.branch_scores == [0.9, 0.9]  # max(parent .9, own .3)


def test_independent_mean_only_final_and_no_backtrack():
    script = {"": ["a\n\n"], "a\n\n": ["b \\boxed{1}|"]}
    scores = {"a": 0.8, "b \\boxed{1}": 0.2}
    [(_, out)], _, _ = run(independent(backtrack_agg="mean_only_final"), script, scores)
    assert out.branch_scores == [0.8]  # mean (.5) of the finished branch, below its parent's .8
    [(_, out)], gen, _ = run(independent(backtrack=False, max_backtracks=3), {"": ["a\n\n"]}, {"a": 0.1})
    assert [len(call) for call in gen.calls][:2] == [1, 1]  # no clones: only the rescue of the best


@pytest.mark.parametrize(
    ("how", "open_score", "finished_score"),
    [("last", 0.2, 0.2), ("mean", 0.5, 0.5), ("mean_step", 0.5, 0.5), ("mean_last", 0.2, 0.5),
     ("mean_only_final", 0.2, 0.5), ("ema", 0.5, 0.5)],
)
def test_backtrack_aggregations_of_tt_scale(how, open_score, finished_score):
    """tt_scale's `agg`: `mean_last` / `mean_only_final` test the last step while a branch is
    open and keep the mean once it finishes; `ema` halves the parent's (.8) and the last."""
    kid = Node(scores=[0.8, 0.2])
    assert pass_score(kid, 0.8, how) == pytest.approx(open_score)
    assert final_score(kid, 0.8, how) == pytest.approx(finished_score)
