"""Training profiles: their own schema, told apart from run profiles by `kind`."""

from __future__ import annotations

import pytest

from sal_cli.errors import SalError
from sal_cli.profiles import kind_of, list_profiles, resolve
from sal_cli.training.config import TRAIN_PRM_SCHEMA


def test_default_training_profile_is_the_cpu_demo():
    resolved = resolve(None, schema=TRAIN_PRM_SCHEMA)
    assert resolved.chain[-1].stem == "train-cpu-demo"
    cfg = resolved.config
    assert (cfg.model.base, cfg.data.dataset, cfg.train.step_separator) == ("embedded:smollm2-135m", "prm-sample", "\n\n")


@pytest.mark.parametrize(("name", "base", "batch"), [("train-qwen2.5-math-1.5b", "1.5B", 16), ("train-qwen2.5-math-7b", "7B", 8)])
def test_recipe_profiles_carry_the_search_and_learn_settings(name, base, batch):
    cfg = resolve(name, schema=TRAIN_PRM_SCHEMA).config
    assert cfg.model.base == f"Qwen/Qwen2.5-Math-{base}-Instruct"
    assert (cfg.data.dataset, cfg.data.eval_dataset, cfg.data.eval_split) == ("plaguss/prm800k-trl-dedup",) * 2 + ("test",)
    t = cfg.train
    assert (t.learning_rate, t.epochs, t.batch_size, t.max_length, t.step_separator) == (1e-6, 1.0, batch, 2048, "\n\n")
    assert (t.warmup_steps, t.logging_steps, t.eval_steps, t.precision, t.gradient_checkpointing) == (50, 25, 50, "bf16", True)
    assert t.batch_size * t.gradient_accumulation_steps == batch * 4 * 8  # the recipe's 8 GPUs, on one
    assert not cfg.lora.enabled


def test_list_shows_kinds():
    kinds = {p.name: p.kind for p in list_profiles()}
    assert kinds["cpu-demo"] == "run" and kinds["train-cpu-demo"] == "train-prm"
    assert kinds["train-qwen2.5-math-7b"] == "train-prm"  # inherited through `extends`


def test_kinds_do_not_mix():
    with pytest.raises(SalError, match="`train-cpu-demo` is a `train-prm` profile, not a `run` profile") as info:
        resolve("train-cpu-demo")
    assert "`sal train-prm`" in info.value.hint
    with pytest.raises(SalError, match="`cpu-demo` is a `run` profile, not a `train-prm` profile") as info:
        resolve("cpu-demo", schema=TRAIN_PRM_SCHEMA)
    assert "`train-cpu-demo`" in info.value.hint


def test_extending_across_kinds_and_unknown_kinds_are_errors(tmp_path):
    (tmp_path / "mixed.toml").write_text('kind = "run"\nextends = "train-cpu-demo"\n')
    with pytest.raises(SalError, match="extends .* \\(kind `train-prm`\\)"):
        kind_of(str(tmp_path / "mixed.toml"))
    (tmp_path / "typo.toml").write_text('kind = "train"\n')
    with pytest.raises(SalError, match="`kind` in .* must be one of run, train-prm"):
        kind_of(str(tmp_path / "typo.toml"))


def test_training_keys_are_checked_against_the_training_schema(tmp_path):
    (tmp_path / "mine.toml").write_text('kind = "train-prm"\n[train]\nlerning_rate = 1e-5\n')
    with pytest.raises(SalError, match="unknown key `train.lerning_rate`") as info:
        resolve(str(tmp_path / "mine.toml"), schema=TRAIN_PRM_SCHEMA)
    assert "train.learning_rate" in info.value.hint
    cfg = resolve(None, ["lora.enabled=true", "lora.target_modules=['q_proj']"], schema=TRAIN_PRM_SCHEMA).config
    assert cfg.lora.enabled and cfg.lora.target_modules == ["q_proj"]
