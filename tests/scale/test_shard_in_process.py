"""What a Ray actor runs, without Ray: `ray_exec.run_shard` in this process writes the same shard
run as `sal <command> -p BASE/launch.toml --shard i/N -o ...`, loading the models only once."""

from __future__ import annotations

import pytest
from run_files import records as _records

from sal_cli import profiles
from sal_cli.scale import plan
from sal_cli.scale.ray_exec import run_shard


@pytest.mark.parametrize("command", ["generate", "search"])
def test_a_shard_run_in_process_equals_the_cli_shard_run(sal, tiny_model, tmp_path, command):
    flags = {"generator.model": (str(tiny_model), "--model"), "generator.backend": ("transformers", "--backend"),
             "verifier.prm": (str(tiny_model), "--prm"), "verifier.protocol": ("llm-judge", "--set"),
             "data.num_samples": (4, "--num-samples"), "sampling.n": (2, "-n"), "sampling.max_tokens": (8, "--max-tokens")}
    config = profiles.resolve(None, (), flags).config
    launch = plan.prepare(tmp_path / "exp", command, config, 2)
    plan.create(launch, config)
    engines: dict = {}
    outcome = run_shard(launch, 1, engines)
    loaded = dict(engines)
    assert (outcome.total, outcome.solved) == (2, 2)
    assert set(loaded) == ({"generator", "prm"} if command == "search" else {"generator"})
    assert run_shard(launch, 0, engines).solved == 2
    assert all(engines[name] is model for name, model in loaded.items())  # loaded once for both shards
    code, _, err = sal(command, "-p", str(launch.profile), "--shard", "1/2", "-o", str(tmp_path / "cli"), "-q")
    assert code == 0, err
    assert _records(launch.shard_folder(1)) == _records(tmp_path / "cli")
    assert [r["idx"] for r in _records(launch.shard_folder(0))] == [0, 1]
