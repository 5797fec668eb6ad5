"""Causal-LM PRMs (math-shepherd, rlhflow, llm-judge): the score is a yes/no choice between tokens.

At each score position the model's next-token logits are read for two sets of candidate
tokens, and the score is P(yes) / (P(yes) + P(no)), where each side sums its tokens'
probabilities (one token each for math-shepherd and rlhflow, so it is the softmax over the
`+`/`-` logits). Only those rows of the LM head are applied, and only at the score
positions, so no vocabulary-sized logits are built for the whole sequence.
"""

from __future__ import annotations

from typing import Any, Callable

from sal_cli.config import VerifierConfig
from sal_cli.prms._loading import device, load_model, load_tokenizer, max_length
from sal_cli.prms._torch_scoring import TorchScorer, pad_id, token_states


def load_causal(name: str, cfg: VerifierConfig, source: str, make_layout: Callable[[Any], Any]) -> TorchScorer:
    """Tokenizer first (its checks fail fast), then the model; `layout.candidates` = (yes ids, no ids)."""
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(cfg, source)
    layout = make_layout(tokenizer)
    model = load_model(AutoModelForCausalLM, cfg, source)
    head = candidate_head(model.get_output_embeddings(), *layout.candidates)
    return TorchScorer(
        name, layout, max_length(cfg, model.config.to_dict()), cfg.batch_size, pad_id(tokenizer), token_states(model), head,
        keep_gib=cfg.reuse_cache_gib,
    )


def candidate_head(lm_head: Any, yes: list[int], no: list[int]) -> Callable[[Any], Any]:
    """Hidden states -> P(yes)/(P(yes)+P(no)) from the candidate rows of the LM head, in float32."""
    import torch

    ids = torch.tensor(yes + no, device=device())
    weight = lm_head.weight[ids].float()
    bias = lm_head.bias[ids].float() if getattr(lm_head, "bias", None) is not None else None

    def head(states):
        logits = states @ weight.T if bias is None else states @ weight.T + bias
        return torch.sigmoid(logits[:, : len(yes)].logsumexp(-1) - logits[:, len(yes) :].logsumexp(-1))

    return head
