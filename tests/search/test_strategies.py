"""Strategies on the real engine with a scripted generator and PRM: which beams survive
each round, what finishes, what is output, and how many model calls a round costs."""

from __future__ import annotations

import pytest
from scripted import ScriptedGenerator, ScriptedPRM

from sal_cli.config import GeneratorConfig, RunConfig, SamplingConfig, SearchConfig, VerifierConfig
from sal_cli.data.datasets import Problem
from sal_cli.search import make_strategy
from sal_cli.search.beam_search import BeamSearch, _State
from sal_cli.search.engine import Engine, EngineSettings
from sal_cli.search.temperatures import split_n
from sal_cli.search.tree import ANSWER, EOS, LENGTH, Node


def config(n=4, temperature=0.8, max_tokens=1000, batch_size=8, agg="last", **search) -> RunConfig:
    return RunConfig(
        generator=GeneratorConfig(batch_size=batch_size),
        sampling=SamplingConfig(n=n, temperature=temperature, max_tokens=max_tokens),
        search=SearchConfig(**search),
        verifier=VerifierConfig(agg_strategy=agg),
    )


def run(cfg, script, scores, problems=("P",), default_score=0.5):
    gen, prm = ScriptedGenerator(script), ScriptedPRM(scores, default_score)
    engine = Engine(make_strategy(cfg), gen, prm, EngineSettings.from_config(cfg))
    outputs = list(engine.solve([Problem(i, text, None, {}) for i, text in enumerate(problems)]))
    return outputs, gen, prm


def texts(output):
    return [node.text for node in output.nodes]


def expanded(call):
    """(prefix after the prompt, n) of each request of one generator call."""
    return [(prompt.partition(">")[2], spec.n) for prompt, spec in call]


BEAM_SCRIPT = {
    "": ["a\n\n", "b\n\n", "c\n\n", "d\n\n"],
    "a\n\n": ["a1\n\n", "a2|"],
    "d\n\n": ["d1\n\n", "d2\n\n"],
    "d\n\nd2\n\n": ["x|", "y|"],
    "d\n\nd1\n\n": ["z|", "w\n\n"],
}
BEAM_SCORES = {"a": 0.9, "b": 0.1, "c": 0.5, "d": 0.7, "a1": 0.2, "a2": 0.8, "d1": 0.6, "d2": 0.95,
               "x": 0.3, "y": 0.4, "z": 0.5, "w": 0.1, "end": 0.6}


def test_beam_search_keeps_the_best_beams_each_round_and_outputs_the_first_completed():
    cfg = config(approach="beam_search", beam_width=2, num_iterations=3)
    [(problem, out)], gen, prm = run(cfg, BEAM_SCRIPT, BEAM_SCORES)
    assert [expanded(call) for call in gen.calls] == [
        [("", 4)],                               # round 0: n first steps from the prompt
        [("a\n\n", 2), ("d\n\n", 2)],            # a (.9) and d (.7) survive; beam_width children each
        [("d\n\nd2\n\n", 2), ("d\n\nd1\n\n", 2)],  # a2 finished; d2 (.95) and d1 (.6) beat a1 (.2)
    ]
    assert [spec.stop for _, spec in gen.calls[1]] == [("\n\n",)] * 2
    assert [spec.stop for _, spec in gen.calls[2]] == [()] * 2  # the last round runs to the end
    assert texts(out) == ["a\n\na2", "d\n\nd2\n\nx", "d\n\nd2\n\ny", "d\n\nd1\n\nz"]
    assert [node.scores for node in out.nodes] == [[0.9, 0.8], [0.7, 0.95, 0.3], [0.7, 0.95, 0.4], [0.7, 0.6, 0.5]]
    assert [node.stop for node in out.nodes] == [EOS] * 4
    assert [node.tokens for node in out.nodes] == [len(t) for t in texts(out)]  # exact, never 0 or -1
    assert out.groups == [0, 0, 0, 0] and out.stats["completed"] == 5
    assert len(prm.calls) == 3 and out.stats["rounds"] == 3
    assert out.stats["total_tokens"] == 4 * 3 + (4 + 2 + 4 + 4) + (1 + 1 + 1 + 6)  # pruned branches count


def test_beam_search_sort_completed_outputs_the_best_scored():
    cfg = config(approach="beam_search", beam_width=2, num_iterations=3, sort_completed=True)
    [(_, out)], _, _ = run(cfg, BEAM_SCRIPT, BEAM_SCORES)
    assert texts(out) == ["a\n\na2", "d\n\nd1\n\nw\n\nend", "d\n\nd1\n\nz", "d\n\nd2\n\ny"]


def test_beam_search_stops_once_n_beams_completed_when_order_is_first_come():
    script = {"": ["a|", "b|", "c\n\n", "d\n\n"], "c\n\n": ["c1|"], "d\n\n": ["d1|"]}
    cfg = config(approach="beam_search", beam_width=2, num_iterations=10)
    [(_, out)], gen, _ = run(cfg, script, {})
    assert len(gen.calls) == 2  # 2 + 4 completed after round 1: later rounds could not change the output
    assert texts(out) == ["a", "b", "c\n\nc1", "c\n\nc1"]


def test_beam_pools_are_per_problem():
    script = {"P:": ["pa\n\n", "pb\n\n", "pc\n\n", "pd\n\n"], "Q:": ["qa\n\n", "qb\n\n", "qc\n\n", "qd\n\n"]}
    scores = {"pa": 0.9, "pb": 0.8, "pc": 0.7, "pd": 0.6, "qa": 0.4, "qb": 0.3, "qc": 0.2, "qd": 0.1}
    cfg = config(approach="beam_search", beam_width=2, num_iterations=2)
    outputs, gen, prm = run(cfg, script, scores, problems=("P", "Q"))
    # one pool for both problems (the seed's way) would keep pa and pb and starve Q
    assert [(p.partition(">")[0][1:], p.partition(">")[2]) for p, _ in gen.calls[1]] == [
        ("P", "pa\n\n"), ("P", "pb\n\n"), ("Q", "qa\n\n"), ("Q", "qb\n\n")]
    assert len(gen.calls) == 2 and len(prm.calls) == 2  # both problems share each round's calls
    assert [len(out.nodes) for _, out in outputs] == [4, 4]


def test_lookahead_text_is_scored_and_ranks_but_is_not_kept():
    script = {"": ["a\n\n", "b\n\n", "c\n\n", "d\n\n"], "a\n\n": ["a1\n\n"], "b\n\n": ["b1\n\n"]}
    scores = {"a": 0.9, "b": 0.5, "c": 0.1, "d": 0.1, "a1": 0.1, "b1": 0.99}
    cfg = config(approach="beam_search", beam_width=4, num_iterations=2, lookahead=1)
    [(_, out)], gen, prm = run(cfg, script, scores)
    assert len(gen.calls) == 3  # round 0, its lookahead step, round 1 (no lookahead in the last round)
    assert [spec.temperature for _, spec in gen.calls[1]] == [0.0] * 4  # lookahead is greedy
    assert [steps for _, steps in prm.calls[0]] == [["a", "a1"], ["b", "b1"], ["c", "end"], ["d", "end"]]
    assert expanded(gen.calls[2]) == [("b\n\n", 4)]  # b wins on its lookahead (.99), a would win without
    assert texts(out) == ["b\n\nb1\n\nend"] * 4
    assert out.nodes[0].scores == [0.5, 0.99, 0.5]
    assert [node.tokens for node in out.nodes] == [10] * 4
    assert out.stats["total_tokens"] == 4 * 3 + (4 + 4 + 3 + 3) + 4 * 7


def test_filter_duplicates_frees_the_slots_of_repeated_steps():
    script = {"": ["a\n\n", "a\n\n", "b\n\n", "c\n\n"]}
    scores = {"a": 0.9, "b": 0.5, "c": 0.1}
    for flag, survivors in ((False, ["a\n\n", "a\n\n"]), (True, ["a\n\n", "b\n\n"])):
        cfg = config(approach="beam_search", beam_width=2, num_iterations=2, filter_duplicates=flag)
        _, gen, _ = run(cfg, script, scores)
        assert [prefix for prefix, _ in expanded(gen.calls[1])] == survivors


def test_beam_search_pads_from_completed_and_reports_unfinished_when_none_completed():
    strategy = BeamSearch(n=4, beam_width=2, num_iterations=5, temperatures=[0.8])
    done = Node("x", (1,), stop=EOS, value=0.3)
    out = strategy.final(_State(beams=[Node("open", value=0.9)], completed=[done], done=True))
    assert [node.text for node in out.nodes] == ["x"] * 4  # padded from completed beams only
    beams = [Node("low", value=0.1), Node("high", value=0.9)]
    out = strategy.final(_State(beams=beams, completed=[], done=True))  # the seed divided by zero here
    assert [node.text for node in out.nodes] == ["high", "low", "high", "low"]
    assert all(not node.done for node in out.nodes)


def test_token_budget_ends_a_beam_as_length():
    script = {"": ["aaaa\n\n"], "aaaa\n\n": ["bbbbbbbb\n\n"]}
    cfg = config(n=2, approach="beam_search", beam_width=1, num_iterations=5, max_tokens=10)
    [(_, out)], gen, _ = run(cfg, script, {})
    assert [spec.max_tokens for _, spec in gen.calls[1]] == [4, 4]  # the rest of the budget
    assert [node.stop for node in out.nodes] == [LENGTH, LENGTH]
    assert [node.tokens for node in out.nodes] == [10, 10]


def test_dvts_keeps_the_best_child_per_subtree_and_outputs_groups():
    script = {"@0.6": ["a\n\n"], "@1": ["b\n\n"], "a\n\n@0.6": ["x \\boxed{3}\n\n"], "a\n\n@1": ["a2\n\n"]}
    scores = {"a": 0.9, "b": 0.1, "x \\boxed{3}": 0.8, "a2": 0.7}
    cfg = config(approach="dvts", beam_width=2, num_iterations=3, temperatures=[0.6, 1.0])
    [(_, out)], gen, _ = run(cfg, script, scores)
    assert [expanded(call) for call in gen.calls] == [
        [("", 1)] * 4,            # two subtrees; child j of each at temperature j
        [("a\n\n", 1)] * 4,      # both kept a; both then close on the boxed answer
    ]
    assert [[spec.temperature for _, spec in call] for call in gen.calls] == [[0.6, 1.0, 0.6, 1.0]] * 2
    assert texts(out) == ["a\n\nx \\boxed{3}\n\n", "a\n\na2\n\n"] * 2
    assert [node.stop for node in out.nodes] == [ANSWER, None] * 2
    assert out.groups == [0, 0, 1, 1]
    assert [node.temperature for node in out.nodes] == [0.6, 1.0, 0.6, 1.0]


def test_beam_search_children_of_every_beam_cover_every_temperature():
    """The fork's `_beam_search`: candidate i grows beam i mod k at temperature A[i // k]
    (k = n / beam_width kept beams, A = temperatures over beam_width)."""
    script = {"": ["a\n\n", "b\n\n"]}
    cfg = config(n=8, approach="beam_search", beam_width=4, num_iterations=2, temperatures=[0.6, 0.8, 1.0],
                 filter_duplicates=True)
    _, gen, _ = run(cfg, script, {"a": 0.9, "b": 0.8})
    as_sent = [[(prefix, spec.n, spec.temperature) for prefix, spec in
                [(p.partition(">")[2], s) for p, s in call]] for call in gen.calls]
    assert as_sent[0] == [("", 4, 0.6), ("", 2, 0.8), ("", 2, 1.0)]  # A = [.6, .8, 1, .6], 2 candidates each
    assert as_sent[1] == [("a\n\n", 2, 0.6), ("b\n\n", 2, 0.6), ("a\n\n", 1, 0.8), ("b\n\n", 1, 0.8),
                          ("a\n\n", 1, 1.0), ("b\n\n", 1, 1.0)]  # each kept beam: children at .6 .8 1 .6


def test_best_of_n_splits_n_over_temperatures_and_refills_the_batch():
    cfg = config(n=4, batch_size=2, approach="best_of_n", temperatures=[0.6, 0.8, 1.0], temperature_ratios=[1, 1, 2])
    script = {"": ["s1\n\ns2|", "t|"]}
    outputs, gen, prm = run(cfg, script, {"s2": 0.7}, problems=("P", "Q", "R"))
    assert [[(spec.temperature, spec.n) for _, spec in call] for call in gen.calls] == [
        [(0.6, 1), (0.8, 1), (1.0, 2)] * 2,  # two problems in flight: one call
        [(0.6, 1), (0.8, 1), (1.0, 2)],      # the third took a finished problem's place
    ]
    assert len(prm.calls) == 2
    assert [p.problem for p, _ in outputs] == ["P", "Q", "R"]
    _, out = outputs[0]
    assert [node.temperature for node in out.nodes] == [1.0, 0.6, 0.8, 1.0]  # interleaved: any prefix mixes them
    assert texts(out) == ["s1\n\ns2", "s1\n\ns2", "s1\n\ns2", "t"]
    assert [node.scores for node in out.nodes] == [[0.5, 0.7]] * 3 + [[0.5]]
    assert out.groups == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("n", "ratios", "counts"),
    [(4, [1, 1, 2], [1, 1, 2]), (5, [], [2, 2, 1]), (1, [], [1, 0, 0]), (7, [1, 2, 1], [2, 3, 2]), (6, [3, 2, 1], [3, 2, 1])],
)
def test_split_n_is_proportional_and_deterministic(n, ratios, counts):
    split = split_n(n, [0.6, 0.8, 1.0], ratios)
    assert [c for _, c in split] == counts and sum(counts) == n


def test_beam_width_must_divide_n():
    from sal_cli.errors import SalError

    with pytest.raises(SalError, match=r"`search.beam_width` \(3\) must divide `sampling.n` \(8\)"):
        make_strategy(config(n=8, approach="beam_search", beam_width=3))


def test_best_of_n_interleaves_temperatures_so_small_budgets_see_each():
    from sal_cli.search.records import search_record

    cfg = config(n=4, approach="best_of_n", temperatures=[0.6, 1.0])
    script = {"@0.6": ["\\boxed{1}|"], "@1": ["\\boxed{2}|"]}
    [(_, out)], _, _ = run(cfg, script, {"\\boxed{1}": 0.4, "\\boxed{2}": 0.9})
    assert [node.temperature for node in out.nodes] == [0.6, 1.0, 0.6, 1.0]
    record = search_record(out, "last", 4)
    assert record["pred_naive@2"] == "\\boxed{2}"  # grouped by temperature, @2 saw only T = 0.6's \boxed{1}


def test_max_tokens_per_step_caps_each_step_not_the_solution():
    script = {"": ["abcd\n\n"], "abcd\n\n": ["efgh\n\n"], "abcd\n\nefgh\n\n": ["ij|"]}
    cfg = config(n=1, max_tokens=6, approach="beam_search", beam_width=1, num_iterations=3)
    [(_, out)], gen, _ = run(cfg, script, {})
    assert len(gen.calls) == 1 and out.nodes[0].stop == LENGTH  # sal: 6 tokens for the whole solution
    cfg.search.max_tokens_per_step = True  # the seed: every step may write max_tokens
    [(_, out)], gen, _ = run(cfg, script, {})
    assert [spec.max_tokens for call in gen.calls for _, spec in call] == [6, 6, 6]
    assert out.nodes[0].text == "abcd\n\nefgh\n\nij" and out.nodes[0].stop == EOS


def test_whitespace_step_ends_the_beam_unless_set_to_the_seeds_rule():
    script = {"": ["a\n\n"], "a\n\n": ["\n\n"], "a\n\n\n\n": ["b|"]}
    cfg = config(n=1, approach="beam_search", beam_width=1, num_iterations=3)
    [(_, out)], _, _ = run(cfg, script, {})
    assert texts(out) == ["a\n\n\n\n"] and out.nodes[0].stop == "empty"
    cfg.search.whitespace_step_ends = False  # the seed: only a step with no text ends a beam
    [(_, out)], _, _ = run(cfg, script, {})
    assert texts(out) == ["a\n\n\n\nb"] and out.nodes[0].stop == EOS


def test_score_trailing_empty_step_sends_and_counts_the_seeds_empty_last_step():
    script = {"": ["a\n\n"], "a\n\n": ["b|"]}
    cfg = config(n=1, approach="beam_search", beam_width=1, num_iterations=2)
    _, _, prm = run(cfg, script, {"a": 0.9, "": 0.2})
    assert prm.calls[0] == [("P", ["a"])]
    cfg.verifier.score_trailing_empty_step = True
    [(_, out)], _, prm = run(cfg, script, {"a": 0.9, "": 0.2, "b": 0.7})
    assert prm.calls[0] == [("P", ["a", ""])]  # `"a\n\n".split("\n\n")`, as the seed's RLHFlow scoring
    assert prm.calls[1] == [("P", ["a", "b"])]
    assert out.nodes[0].scores == [0.9, 0.7]


@pytest.mark.parametrize("approach", ["best_of_n", "beam_search", "dvts", "collective_backtrack", "independent_backtrack"])
def test_every_registered_strategy_builds_from_the_settings(approach):
    from sal_cli.registry import STRATEGIES

    strategy = make_strategy(config(n=4, approach=approach, beam_width=2))
    assert type(strategy).__name__ == STRATEGIES[approach].split(":")[1]
    assert all(callable(getattr(strategy, m)) for m in ("start", "select", "update", "final"))
