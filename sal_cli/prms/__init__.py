"""Process reward models: one module per scoring protocol behind the `base.PRM` port.

`load_prm(cfg)` finds the model (hub id, folder or `embedded:smollm2-135m`), resolves
`verifier.protocol` (`auto`: from the model's saved files, see `detect`), and imports the
protocol's module only then, so importing this package pulls in no torch. A new protocol is
one module with a `load(cfg, source) -> PRM` function and one line in `PROTOCOLS` (and its
name in `config.PRM_PROTOCOLS`).
"""

from __future__ import annotations

import importlib

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms.base import PRM, aggregate, split_steps

__all__ = ["PRM", "PROTOCOLS", "VLLM_PROTOCOLS", "aggregate", "load_prm", "split_steps"]

PROTOCOLS: dict[str, str] = {
    "math-shepherd": "sal_cli.prms.math_shepherd:load",
    "rlhflow": "sal_cli.prms.rlhflow:load",
    "skywork": "sal_cli.prms.skywork:load",
    "qwen-prm": "sal_cli.prms.qwen_prm:load",
    "token-classification": "sal_cli.prms.token_classification:load",
    "llm-judge": "sal_cli.prms.llm_judge:load",
}
VLLM_PROTOCOLS = ("token-classification", "qwen-prm")  # the ones vLLM serves as pooling models


def load_prm(cfg: VerifierConfig) -> PRM:
    """Load the PRM named by `cfg` (heavy imports happen here)."""
    from sal_cli.prms._loading import resolve_source
    from sal_cli.prms.detect import choose_protocol

    source = resolve_source(cfg)
    protocol = choose_protocol(cfg, source)
    if cfg.backend == "vllm" and protocol not in VLLM_PROTOCOLS:
        raise SalError(
            f"PRM protocol `{protocol}` runs on the transformers backend only",
            hint=f"set `verifier.backend = \"transformers\"` (vLLM serves {' and '.join(VLLM_PROTOCOLS)})",
        )
    module, function = PROTOCOLS[protocol].split(":")
    return getattr(importlib.import_module(module), function)(cfg, source)
