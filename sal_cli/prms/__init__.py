"""Process reward models: one module per scoring protocol behind the `base.PRM` port.

`load_prm(cfg)` finds the model (hub id, folder or `embedded:smollm2-135m`), resolves
`verifier.protocol` (`auto`: from the model's saved files, see `detect`), and imports the
protocol's module only then, so importing this package pulls in no torch. A new protocol is
one module with a `load(cfg, source) -> PRM` function and one line in
`registry.PRM_PROTOCOLS`.
"""

from __future__ import annotations

from sal_cli import registry
from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms.base import PRM, aggregate, split_steps

__all__ = ["PRM", "PROTOCOLS", "VLLM_PROTOCOLS", "aggregate", "load_prm", "split_steps"]

PROTOCOLS = registry.PRM_PROTOCOLS
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
    return registry.load(PROTOCOLS, protocol)(cfg, source)
