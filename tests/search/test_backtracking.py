"""Collective and independent backtracking on the real engine, with a scripted generator and
PRM: every transition (pass, fail, retry at a higher temperature, hold back, jump, finish,
stop at n, stop at max_steps) is pinned round by round."""

from __future__ import annotations

from test_strategies import config, run

from sal_cli.search.tree import ANSWER, EOS


def rounds(gen):
    """Per generator call: (prefix, n, temperature, max_tokens) of each request."""
    return [[(p.partition(">")[2], spec.n, spec.temperature, spec.max_tokens) for p, spec in call] for call in gen.calls]


def collective(**search):
    defaults = dict(approach="collective_backtrack", tau=0.6, temp_step=0.1, k_tokens=50)
    return config(n=1, temperature=0.7, **{**defaults, **search})


def test_collective_holds_back_passing_branches_and_retries_from_fewer_parents_hotter():
    script = {
        "": ["a\n\n", "b\n\n"],
        "a\n\n": ["f\n\n", "g\n\n"],
        "a\n\n@0.8": ["p\n\n", "f\n\n", "g\n\n"],
        "a\n\n@0.9": ["q\n\n", "f\n\n", "f\n\n", "f\n\n", "f\n\n", "f\n\n"],
        "a\n\np\n\n": ["ans \\boxed{1}\n\n", "x\n\n"],
        "a\n\nq\n\n": ["y|", "x\n\n"],
    }
    scores = {"a": 0.9, "b": 0.7, "f": 0.1, "g": 0.2, "p": 0.8, "q": 0.75, "ans \\boxed{1}": 0.9, "y": 0.95, "x": 0.1}
    cfg = collective(passing_minimum=3, max_total_branches=6, keeping_branches=3, max_backtracks=2)
    [(_, out)], gen, prm = run(cfg, script, scores)
    assert rounds(gen) == [
        [("", 2, 0.7, 50)] * 3,                    # start from passing_minimum branches, 6 children
        [("a\n\n", 2, 0.7, 50)] * 3,               # a, a, a kept (6 passed); now f/g all fail
        [("a\n\n", 3, 0.8, 50)] * 2,               # retry 1: 2 best parents, +0.1; 2 pass (< 3): held back
        [("a\n\n", 6, 0.9, 50)],                   # retry 2: 1 parent, +0.2; q passes: 1 + 2 held = 3
        [("a\n\np\n\n", 2, 0.7, 50)] * 2 + [("a\n\nq\n\n", 2, 0.7, 50)],  # held p, p and q go on, cool again
    ]
    assert len(prm.calls) == 5
    assert [node.text for node in out.nodes] == ["a\n\nq\n\ny"]  # the best of three finishing at once
    assert out.nodes[0].stop == EOS
    assert {k: out.stats[k] for k in ("steps", "retries", "backtracks", "jumps")} == {
        "steps": 5, "retries": 2, "backtracks": 1, "jumps": 0}


def test_collective_jumps_after_max_backtracks_and_stops_at_max_steps_unfinished():
    script = {"": ["a\n\n", "b\n\n"], "a\n\n": ["f\n\n", "g\n\n"], "a\n\n@0.8": ["f\n\n", "g\n\n"]}
    scores = {"a": 0.9, "b": 0.2, "f": 0.1, "g": 0.2}
    cfg = collective(passing_minimum=1, max_total_branches=2, keeping_branches=1, max_backtracks=1, max_steps=4)
    [(_, out)], gen, _ = run(cfg, script, scores)
    assert [[(prefix, t) for prefix, _, t, _ in call] for call in rounds(gen)] == [
        [("", 0.7)],        # a passes
        [("a\n\n", 0.7)],   # f, g fail: retry
        [("a\n\n", 0.8)],   # fail again: out of retries, jump
        [("a\n\n", 0.7)],   # threshold 0: f and g pass, g (.2) kept; max_steps reached
    ]
    assert [node.text for node in out.nodes] == ["a\n\ng\n\n"] and out.nodes[0].stop is None  # reported unfinished
    assert {k: out.stats[k] for k in ("steps", "retries", "backtracks", "jumps")} == {
        "steps": 4, "retries": 1, "backtracks": 1, "jumps": 1}


def test_collective_stops_once_n_branches_finished():
    script = {"": ["s|", "t|", "u\n\n"]}
    cfg = config(n=2, temperature=0.7, approach="collective_backtrack", passing_minimum=1, max_total_branches=3)
    [(_, out)], gen, _ = run(cfg, script, {"s": 0.9, "t": 0.8, "u": 0.99})
    assert len(gen.calls) == 1
    assert [node.text for node in out.nodes] == ["s", "t"]


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
