"""Tiny random PRMs, one per protocol, saved the way the real models are saved.

Each starts from SmolLM2's tokenizer (the embedded model's) with the protocol's specials added
(` ки`, `<extra_0>`, Llama-3 chat tokens) and a 2-layer random backbone; heads the hub ships as
remote code (Skywork's value head, Qwen2.5-Math-PRM's `score` MLP) are written into the
safetensors under their real names. A wide init range spreads the scores away from 0.5, so a
score read at the wrong position shows. Float32 throughout, so hand computations match exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prm_cases import INIT


def _tokenizer(smol_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smol_dir)


def _dims(**extra) -> dict:
    """2 layers, hidden 32 (128 where vLLM serves it: its CPU attention wants a head size of 64)."""
    return {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "max_position_embeddings": 512, "initializer_range": INIT, **extra}


def _save(folder: Path, architecture: str, config, tensors: dict, tokenizer) -> Path:
    """config.json naming `architecture` + one model.safetensors under the given names + the tokenizer."""
    from safetensors.torch import save_file

    config.architectures = [architecture]
    config.save_pretrained(folder)
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(folder / "model.safetensors"), metadata={"format": "pt"})
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def shepherd_dir(tmp_path_factory, smol_dir) -> Path:
    """A Mistral with ` ки` as one token, as in Mistral's own vocabulary."""
    import torch
    from tokenizers import AddedToken
    from transformers import MistralConfig, MistralForCausalLM

    tokenizer = _tokenizer(smol_dir)
    tokenizer.add_tokens([AddedToken(" ки", normalized=False)])
    torch.manual_seed(1)
    model = MistralForCausalLM(MistralConfig(vocab_size=len(tokenizer), **_dims()))
    return _save(tmp_path_factory.mktemp("shepherd"), "MistralForCausalLM", model.config, model.state_dict(), tokenizer)


@pytest.fixture(scope="session")
def rlhflow_dir(tmp_path_factory, smol_dir) -> Path:
    """A Llama with the Llama-3 chat template and its header tokens, like RLHFlow's 8B PRMs."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from sal_cli.generators.chat import LLAMA3_TEMPLATE

    tokenizer = _tokenizer(smol_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]})
    tokenizer.chat_template = LLAMA3_TEMPLATE
    torch.manual_seed(2)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), **_dims(tie_word_embeddings=False)))
    return _save(tmp_path_factory.mktemp("rlhflow"), "LlamaForCausalLM", model.config, model.state_dict(), tokenizer)


@pytest.fixture(scope="session")
def judge_dir(tiny_model) -> Path:
    """Any chat model: the shared tiny Llama with SmolLM2's ChatML template."""
    return tiny_model


@pytest.fixture(scope="session")
def skywork_dir(tmp_path_factory, smol_dir) -> Path:
    """A Qwen2 causal LM plus `v_head.summary` (Linear(hidden, 1)), architecture `Qwen2ForPrmModel`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    tokenizer = _tokenizer(smol_dir)
    torch.manual_seed(3)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tokenizer), **_dims()))
    head = torch.nn.Linear(32, 1)
    torch.nn.init.normal_(head.weight, std=INIT)
    tensors = {**model.state_dict(), "v_head.summary.weight": head.weight, "v_head.summary.bias": head.bias}
    return _save(tmp_path_factory.mktemp("skywork"), "Qwen2ForPrmModel", model.config, tensors, tokenizer)


@pytest.fixture(scope="session")
def qwen_dir(tmp_path_factory, smol_dir) -> Path:
    """Qwen2.5-Math-PRM's layout: Qwen2 backbone under `model.`, the `score` MLP under `score.0`/`score.2`,
    `<extra_0>` special, config with its `auto_map` (remote code this project never runs)."""
    import torch
    from transformers import Qwen2Config, Qwen2Model

    tokenizer = _tokenizer(smol_dir)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<extra_0>"]})
    torch.manual_seed(4)
    config = Qwen2Config(vocab_size=len(tokenizer), **_dims(hidden_size=128, intermediate_size=256))
    backbone = Qwen2Model(config)
    head = torch.nn.Sequential(torch.nn.Linear(128, 128), torch.nn.ReLU(), torch.nn.Linear(128, 2))
    for layer in (head[0], head[2]):
        torch.nn.init.normal_(layer.weight, std=INIT / 4)  # 128 wide: keep the logits unsaturated
    config.auto_map = {
        "AutoConfig": "configuration_qwen2_rm.Qwen2RMConfig",
        "AutoModel": "modeling_qwen2_rm.Qwen2ForProcessRewardModel",
    }
    tensors = {**{f"model.{k}": v for k, v in backbone.state_dict().items()}, **{f"score.{k}": v for k, v in head.state_dict().items()}}
    return _save(tmp_path_factory.mktemp("qwen-prm"), "Qwen2ForProcessRewardModel", config, tensors, tokenizer)


@pytest.fixture(scope="session")
def trl_dir(tmp_path_factory, smol_dir) -> Path:
    """What `sal train-prm` writes: a 2-label LlamaForTokenClassification and its `sal_prm.json`."""
    import torch
    from transformers import LlamaConfig, LlamaForTokenClassification

    tokenizer = _tokenizer(smol_dir)
    torch.manual_seed(5)
    config = LlamaConfig(vocab_size=len(tokenizer), num_labels=2, pad_token_id=tokenizer.pad_token_id,
                         **_dims(hidden_size=128, intermediate_size=256))
    model = LlamaForTokenClassification(config)
    folder = _save(tmp_path_factory.mktemp("trl-prm"), "LlamaForTokenClassification", model.config, model.state_dict(), tokenizer)
    manifest = {"protocol": "token-classification", "step_separator": "\n", "base_model": "tiny", "sal_version": "test"}
    (folder / "sal_prm.json").write_text(json.dumps(manifest))
    return folder
