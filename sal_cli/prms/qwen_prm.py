"""`qwen-prm`: Qwen2.5-Math-PRM-7B/72B, a 2-class token classifier read at `<extra_0>` tokens.

Input, one sequence per solution, rendered with the model's chat template:

    system:    Please reason step by step, and put your final answer within \\boxed{}.
    user:      {problem}
    assistant: {step 1}<extra_0>{step 2}<extra_0>...{step n}<extra_0>

Score of step k: P(positive) (label 1 of the softmax) at the k-th `<extra_0>`. The head is
Qwen's `score` MLP (Linear(hidden, hidden), ReLU, Linear(hidden, 2)) over a Qwen2 backbone,
implemented here and loaded from the safetensors, so no remote code runs. With
`verifier.backend = "vllm"`, vLLM's own Qwen2ForProcessRewardModel serves it.
"""

from __future__ import annotations

from typing import Any, Sequence

from sal_cli.config import VerifierConfig
from sal_cli.prms._headed import load_headed
from sal_cli.prms._layout import PLACEHOLDER, Encoded, clean, encode_marked, render_chat, require_chat_template
from sal_cli.prms._loading import load_tokenizer, max_length, read_json, single_token
from sal_cli.prms._scoring import StepScorer
from sal_cli.prms._torch_scoring import positive_class

NAME = "qwen-prm"
SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
STEP_TOKEN = "<extra_0>"
HEAD = "score."


class QwenLayout:
    def __init__(self, tokenizer: Any, prm: str):
        require_chat_template(tokenizer, prm, NAME)
        hint = "qwen-prm needs Qwen2.5-Math-PRM's tokenizer; check `verifier.protocol`"
        self.step_id = single_token(tokenizer, STEP_TOKEN, "step token", prm, hint)
        self.tokenizer, self.prm = tokenizer, prm

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": clean(problem)},
            {"role": "assistant", "content": PLACEHOLDER.join(clean(s) for s in steps) + PLACEHOLDER},
        ]
        pieces = render_chat(self.tokenizer, messages, len(steps), self.prm)
        return encode_marked(self.tokenizer, pieces, STEP_TOKEN, expect={self.step_id})


def _mlp(hidden: int):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))


def load(cfg: VerifierConfig, source: str) -> StepScorer:
    layout = QwenLayout(load_tokenizer(cfg, source), cfg.prm)
    if cfg.backend == "vllm":
        from sal_cli.prms._vllm import VllmScorer

        return VllmScorer(NAME, layout, cfg, source, max_length(cfg, read_json(cfg, source, "config.json")))
    return load_headed(NAME, cfg, source, layout, _mlp, HEAD, positive_class)
