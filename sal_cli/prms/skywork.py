"""`skywork`: Skywork o1 Open PRM (Qwen2.5-Math based, 1.5B/7B), a value head on a causal LM.

Input, one sequence per solution, as Skywork's reference lays it out (without the empty
steps its `\\n` split makes of a `\\n\\n` delimiter):

    [BOS] ids(problem + "\\n") ids(step 1) ids("\\n") ids(step 2) ids("\\n") ... ids(step n) ids("\\n")

Score of step k: sigmoid of the value head (`v_head.summary`: Linear(hidden, 1)) on the last
hidden state at the `\\n` that ends step k. The head is implemented here and loaded from the
model's safetensors; the backbone loads with transformers (no remote code).
"""

from __future__ import annotations

from sal_cli.config import VerifierConfig
from sal_cli.prms._headed import load_headed
from sal_cli.prms._layout import SeparatedLayout
from sal_cli.prms._loading import load_tokenizer, single_token
from sal_cli.prms._torch_scoring import TorchScorer

NAME = "skywork"
HEAD = "v_head.summary."


def load(cfg: VerifierConfig, source: str) -> TorchScorer:
    import torch

    tokenizer = load_tokenizer(cfg, source)
    newline = single_token(tokenizer, "\n", "step end", cfg.prm, hint="check `verifier.protocol`")
    layout = SeparatedLayout(tokenizer, [newline], prompt_suffix="\n")
    return load_headed(
        NAME, cfg, source, layout, lambda hidden: torch.nn.Linear(hidden, 1), HEAD, lambda v: torch.sigmoid(v[:, 0])
    )
