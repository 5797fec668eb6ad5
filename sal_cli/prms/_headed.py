"""PRMs that are a transformers backbone plus a small head implemented here (skywork, qwen-prm).

Their hub repositories ship the head as remote code; here the backbone loads with
transformers' own `AutoModel` and the head's weights are read from the same safetensors under
their saved names, so no repository code runs. The head works in float32 and only at the
score positions.
"""

from __future__ import annotations

from typing import Any, Callable

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._loading import device, load_model, max_length, read_tensors, transformers_quiet
from sal_cli.prms._torch_scoring import TorchScorer, pad_id, token_states


def load_headed(
    name: str,
    cfg: VerifierConfig,
    source: str,
    layout: Any,
    make_head: Callable[[int], Any],
    prefix: str,
    activation: Callable[[Any], Any],
) -> TorchScorer:
    """Backbone from `source`, head `make_head(hidden_size)` loaded from the weights named `prefix*`."""
    from transformers import AutoModel

    with transformers_quiet():
        backbone = load_model(AutoModel, cfg, source)
    head = make_head(backbone.config.hidden_size)
    tensors = read_tensors(cfg, source, [prefix + key for key in head.state_dict()])
    try:
        head.load_state_dict({key[len(prefix) :]: value for key, value in tensors.items()})
    except RuntimeError as exc:
        raise SalError(f"the `{prefix}*` weights of PRM `{cfg.prm}` do not fit its backbone: {str(exc).splitlines()[0]}") from None
    head = head.float().to(device()).eval()
    return TorchScorer(
        name,
        layout,
        max_length(cfg, backbone.config.to_dict()),
        cfg.batch_size,
        pad_id(layout.tokenizer),
        token_states(backbone),
        lambda states: activation(head(states)),
        keep_gib=cfg.reuse_cache_gib,
    )
