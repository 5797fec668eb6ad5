"""Profile resolution: precedence, `extends`, sources, built-in recipes."""

from __future__ import annotations

import pytest

from sal_cli.errors import SalError
from sal_cli.profiles import list_profiles, resolve


def test_default_profile_is_cpu_demo_on_the_embedded_model():
    resolved = resolve(None)
    assert resolved.chain[-1].stem == "cpu-demo"
    assert resolved.config.generator.model == "embedded:smollm2-135m"
    assert "boxed" in resolved.config.generator.system_prompt


def test_precedence_default_profile_set_flag(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text('[sampling]\nn = 8\ntemperature = 0.5\n[data]\ndataset = "gsm8k"\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n[sampling]\nn = 16\n')
    resolved = resolve(str(child), ["sampling.temperature=0.7", "sampling.top_p=0.9"], {"sampling.top_p": (0.95, "--top-p")})
    cfg = resolved.config
    assert (cfg.sampling.n, cfg.sampling.temperature, cfg.sampling.top_p) == (16, 0.7, 0.95)
    assert cfg.data.dataset == "gsm8k"  # inherited
    assert cfg.sampling.max_tokens == 2048  # built-in default
    assert resolved.sources["sampling.n"].endswith("child.toml`")
    assert resolved.sources["data.dataset"].endswith("base.toml`")
    assert resolved.sources["sampling.temperature"] == "`--set`"
    assert resolved.sources["sampling.top_p"] == "`--top-p`"
    assert "sampling.max_tokens" not in resolved.sources


def test_set_parses_toml_values_and_falls_back_to_strings():
    cfg = resolve(None, ["generator.model=Qwen/Qwen2.5-1.5B-Instruct", "sampling.n=2", "search.filter_duplicates=true",
                         'search.step_delimiter="\\n"']).config
    assert cfg.generator.model == "Qwen/Qwen2.5-1.5B-Instruct"
    assert cfg.sampling.n == 2 and cfg.search.filter_duplicates is True and cfg.search.step_delimiter == "\n"


@pytest.mark.parametrize("model", ["llama-3.2-1b", "llama-3.2-3b", "qwen2.5-1.5b", "qwen2.5-3b", "acemath-7b"])
@pytest.mark.parametrize("approach", ["best_of_n", "beam_search", "dvts", "collective_backtrack", "independent_backtrack"])
def test_seed_recipes_resolve_with_seed_defaults(model, approach):
    cfg = resolve(f"{model}/{approach}").config
    assert cfg.search.approach == approach
    temperature = 0.7 if approach.endswith("backtrack") else 0.8  # tt_scale's starting temperature
    assert (cfg.sampling.n, cfg.sampling.temperature, cfg.sampling.top_p, cfg.sampling.max_tokens) == (4, temperature, 1.0, 2048)
    assert "## Step 1:" in cfg.generator.system_prompt and "\\boxed{answer}" in cfg.generator.system_prompt
    assert cfg.generator.custom_chat_template == ("llama3" if model.startswith("llama") else "none")
    assert cfg.search.filter_duplicates is (approach == "beam_search")  # the seed's beam_search recipes
    if model == "acemath-7b" or approach.endswith("backtrack"):
        assert (cfg.verifier.prm, cfg.verifier.protocol) == ("Qwen/Qwen2.5-Math-PRM-7B", "qwen-prm")
    else:
        assert (cfg.verifier.prm, cfg.verifier.protocol) == ("RLHFlow/Llama3.1-8B-PRM-Deepseek-Data", "rlhflow")


@pytest.mark.parametrize("approach", ["collective_backtrack", "independent_backtrack"])
def test_backtracking_profiles_carry_tt_scale_values(approach):
    s = resolve(f"qwen2.5-3b/{approach}").config.search
    assert (s.stop_strings, s.answer_marker, s.always_expand, s.warmup, s.backtrack) == (["\n## Step"], "<FINAL>", False, False, True)
    assert (s.k_tokens, s.tau, s.max_backtracks, s.temp_step, s.max_steps) == (256, 0.6, 3, 0.1, 30)
    assert (s.passing_minimum, s.max_total_branches, s.keeping_branches) == (3, 9, 3)
    assert (s.expansion_factor, s.max_branches, s.max_tokens_per_step) == (2, 6, True)
    assert s.max_finished_branches == (2 if approach == "independent_backtrack" else 0)  # collective: its N = n


def test_list_profiles_covers_every_file():
    names = {p.name for p in list_profiles()}
    assert {"cpu-demo", "seed-common", "acemath-7b/dvts", "llama-3.2-1b/collective_backtrack"} <= names


def test_errors_name_file_key_and_closest_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sampling]\ntemprature = 0.5\n")
    with pytest.raises(SalError) as info:
        resolve(str(bad))
    assert "sampling.temprature" in info.value.message and "bad.toml" in info.value.message
    assert "sampling.temperature" in info.value.hint


def test_loop_in_extends_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(SalError, match="loop"):
        resolve(str(tmp_path / "a.toml"))
