"""Flag -> settings for every run command, in seconds: Typer's CliRunner with the core
(`sal_cli.runs`) patched, checking the settings each command hands it. The end-to-end tests
beside this file run the same commands on real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sal_cli import runs
from sal_cli.cli.app import app
from sal_cli.runner import Outcome

RUN_FLAGS = [
    "--dataset", "gsm8k", "--start", "1", "--end", "9", "--num-samples", "3", "-n", "8",
    "--backend", "transformers", "-m", "my/model", "-t", "0.5", "--max-tokens", "99", "--seed", "7",
]


@pytest.fixture
def core(monkeypatch, tmp_path):
    """The core calls the commands made: (function name, settings, keyword arguments)."""
    calls = []

    def fake(name):
        def call(*args, **kwargs):
            calls.append((name, args, kwargs))
            return Outcome(tmp_path / "out", 0, 0, 0, 0, 0.0)

        return call

    for name in ("run_generate", "run_search", "run_score"):
        monkeypatch.setattr(runs, name, fake(name))
    return calls


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_run_flags_reach_the_settings(core):
    invoke("generate", *RUN_FLAGS, "--shard", "1/2", "-o", "somewhere", "-q", "--overwrite")
    ((name, (config,), options),) = core
    assert name == "run_generate" and options == {"overwrite": True, "quiet": True, "verbose": False}
    assert (config.data.dataset, config.data.start, config.data.end, config.data.num_samples) == ("gsm8k", 1, 9, 3)
    assert (config.data.shard_index, config.data.shard_count, config.output.dir) == (1, 2, "somewhere")
    assert (config.generator.backend, config.generator.model) == ("transformers", "my/model")
    s = config.sampling
    assert (s.n, s.temperature, s.max_tokens, s.seed) == (8, 0.5, 99, 7)


def test_greedy_is_n_1_at_temperature_0(core):
    invoke("generate", "--greedy", "--set", "sampling.max_tokens=5")
    config = core[0][1][0]
    assert (config.sampling.n, config.sampling.temperature, config.sampling.max_tokens) == (1, 0.0, 5)


def test_search_flags_reach_the_settings(core):
    invoke("search", *RUN_FLAGS, "--approach", "dvts", "--prm", "my/prm", "--beam-width", "2",
           "--agg-strategy", "min", "--num-iterations", "3", "--set", "search.lookahead=1", "-v")
    ((name, (config,), options),) = core
    assert name == "run_search" and options == {"overwrite": False, "quiet": False, "verbose": True}
    assert (config.search.approach, config.search.beam_width, config.search.num_iterations) == ("dvts", 2, 3)
    assert (config.verifier.prm, config.verifier.protocol, config.verifier.agg_strategy) == ("my/prm", "auto", "min")
    assert config.search.lookahead == 1 and config.sampling.n == 8


def test_prm_keeps_a_protocol_given_with_set(core):
    invoke("search", "--prm", "my/prm", "--set", "verifier.protocol=rlhflow")
    assert core[0][1][0].verifier.protocol == "rlhflow"


def test_without_flags_the_profile_decides(core):
    invoke("search", "-p", "cpu-demo")
    config = core[0][1][0]
    assert (config.verifier.prm, config.verifier.protocol) == ("embedded:smollm2-135m", "llm-judge")


@pytest.fixture
def source(tmp_path) -> Path:
    path = tmp_path / "results.jsonl"
    rows = [{"idx": i, "problem": f"p{i}", "answer": "1", "completions": ["a", "b"], "scores": [[0.1], [0.9]]}
            for i in range(2)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_score_with_a_prm_rescores(core, source):
    invoke("score", str(source), "--prm", "my/prm", "--agg-strategy", "prod", "-o", "x", "-q")
    ((name, (src, config), options),) = core
    assert name == "run_score" and src.path == source and len(src.problems) == 2
    assert options == {"rescore": True, "output_dir": "x", "overwrite": False, "quiet": True, "verbose": False}
    assert (config.verifier.prm, config.verifier.protocol, config.verifier.agg_strategy) == ("my/prm", "auto", "prod")


def test_score_with_only_an_aggregation_reaggregates(core, source):
    invoke("score", str(source), "--agg-strategy", "min")
    ((_, (_, config), options),) = core
    assert options["rescore"] is False and config.verifier.agg_strategy == "min"


def test_launch_flags_reach_the_launch_settings(monkeypatch, tmp_path):
    from sal_cli.scale import plan

    seen = []
    real = plan.prepare
    monkeypatch.setattr(plan, "prepare", lambda base, command, config, shards: seen.append(config)
                        or real(base, command, config, shards))
    invoke("launch", "ray", "--dry-run", "--shards", "2", "-o", str(tmp_path / "base"), "--num-samples", "4",
           "-n", "4", "--approach", "beam_search", "--beam-width", "2", "--prm", "my/prm", "--seed", "3")
    (config,) = seen
    assert (config.data.num_samples, config.sampling.n, config.sampling.seed) == (4, 4, 3)
    assert (config.search.approach, config.search.beam_width, config.verifier.prm) == ("beam_search", 2, "my/prm")
    assert config.output.dir == "" and config.data.shard == ""  # the launch folder is not a run's; shards come later
    assert not (tmp_path / "base").exists()


def test_an_unknown_approach_lists_the_registered_ones():
    from sal_cli.config import RunConfig, SearchConfig
    from sal_cli.errors import SalError
    from sal_cli.registry import STRATEGIES
    from sal_cli.search import make_strategy

    config = RunConfig(search=SearchConfig())
    config.search.approach = "mcts"  # past validation, as a plug-in name could be
    with pytest.raises(SalError) as info:
        make_strategy(config)
    assert "unknown search approach `mcts`" in info.value.message
    assert all(f"`{name}`" in info.value.hint for name in STRATEGIES)
