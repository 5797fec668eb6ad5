"""Shared fixtures: the embedded SmolLM2 folder, a tiny random model with its tokenizer, and a
helper that runs `sal` in-process the way the console script does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["prm_fixtures"]  # tiny random PRMs of every protocol (tests/prm_fixtures.py)


@pytest.fixture(scope="session")
def smol_dir() -> Path:
    """The real embedded model, converted once into the user cache."""
    from sal_cli.generators.models import resolve_model

    return Path(resolve_model("embedded:smollm2-135m"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, smol_dir) -> Path:
    """A 2-layer random Llama with SmolLM2's tokenizer and chat template: real code paths, fast."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    out = tmp_path_factory.mktemp("tiny-llama")
    tokenizer = AutoTokenizer.from_pretrained(smol_dir)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture
def sal(capsys, monkeypatch, tmp_path):
    """Run `sal ARGS...` in-process; returns (exit code, stdout, stderr)."""
    from sal_cli.cli.app import main

    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["sal", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
