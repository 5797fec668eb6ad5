"""Loading shared by every PRM protocol: where the files are, the tokenizer, the weights.

A PRM is named by a hub id (offline: only what the Hugging Face cache holds), a local folder
or `embedded:smollm2-135m`. Every file is read through transformers' `cached_file`, so the
same code serves folders and hub ids. Weights load from safetensors only (never pickle), and
the model repository's own code runs only when `verifier.trust_remote_code` says so.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError

CACHE_HINT = "check the hub id or folder; offline, only models already in the Hugging Face cache load"


def resolve_source(cfg: VerifierConfig) -> str:
    """The folder or hub id to load `cfg.prm` from; a hub id switches to cache-only mode when offline."""
    from sal_cli.generators.models import resolve_model
    from sal_cli.hub import go_offline_unless_reachable

    source = resolve_model(cfg.prm)
    if not Path(source).is_dir():
        go_offline_unless_reachable()
    return source


def hub_options(cfg: VerifierConfig, source: str) -> dict[str, Any]:
    """`revision`, and `local_files_only` when the Hub cannot be reached: given explicitly, because a
    `huggingface_hub` imported before `HF_HUB_OFFLINE` was set would otherwise retry for ~20 s."""
    from sal_cli.hub import hub_reachable

    return {"revision": cfg.revision or None, "local_files_only": Path(source).is_dir() or not hub_reachable()}


def model_file(cfg: VerifierConfig, source: str, name: str, required: bool = True) -> str | None:
    """Local path of one file of the PRM (downloaded into the cache when online), or None."""
    from transformers.utils import cached_file

    try:
        return cached_file(source, name, _raise_exceptions_for_missing_entries=required, **hub_options(cfg, source))
    except OSError as exc:
        raise SalError(f"cannot load PRM `{cfg.prm}`: {_first_line(exc)}", hint=CACHE_HINT) from None


def read_json(cfg: VerifierConfig, source: str, name: str, required: bool = True) -> dict[str, Any] | None:
    """A JSON object saved with the PRM (`config.json`, `sal_prm.json`), or None when absent."""
    path = model_file(cfg, source, name, required)
    if path is None:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SalError(f"`{name}` of PRM `{cfg.prm}` is not valid JSON: {_first_line(exc)}") from None
    if not isinstance(data, dict):
        raise SalError(f"`{name}` of PRM `{cfg.prm}` must hold a JSON object")
    return data


def read_tensors(cfg: VerifierConfig, source: str, names: list[str]) -> dict[str, Any]:
    """Named tensors from the PRM's safetensors (one file or shards), e.g. a head the backbone lacks."""
    from safetensors import safe_open

    index = read_json(cfg, source, "model.safetensors.index.json", required=False)
    if index is not None:
        weight_map = index.get("weight_map", {})
        files = sorted({weight_map[n] for n in names if n in weight_map})
    else:
        files = ["model.safetensors"]
    found: dict[str, Any] = {}
    for name in files:
        with safe_open(model_file(cfg, source, name), framework="pt") as weights:
            found.update({n: weights.get_tensor(n) for n in names if n in weights.keys()})
    missing = [n for n in names if n not in found]
    if missing:
        raise SalError(
            f"PRM `{cfg.prm}` has no `{missing[0]}` weights in its safetensors",
            hint="check `verifier.protocol`: this model may be read by another protocol (or use `auto`)",
        )
    return found


def torch_dtype(cfg: VerifierConfig):
    """`verifier.dtype`; `auto` is bfloat16 on a GPU or a CPU with bf16 instructions, else float32."""
    import torch

    from sal_cli.generators.cpu import resolve_dtype

    return getattr(torch, resolve_dtype(cfg.dtype, torch.cuda.is_available()))


def device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_tokenizer(cfg: VerifierConfig, source: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=cfg.trust_remote_code, **hub_options(cfg, source))
    except (OSError, ValueError) as exc:
        raise SalError(f"cannot load the tokenizer of PRM `{cfg.prm}`: {_first_line(exc)}", hint=CACHE_HINT) from None
    if not getattr(tokenizer, "is_fast", False):
        raise SalError(
            f"PRM `{cfg.prm}` has no fast tokenizer (`tokenizer.json`)",
            hint="save the tokenizer with a recent transformers to write `tokenizer.json`",
        )
    return tokenizer


def load_model(auto_class, cfg: VerifierConfig, source: str):
    """`auto_class.from_pretrained` from safetensors, on the device, in eval mode; errors as SalError."""
    try:
        model = auto_class.from_pretrained(
            source,
            trust_remote_code=cfg.trust_remote_code,
            dtype=torch_dtype(cfg),
            use_safetensors=True,
            **hub_options(cfg, source),
        )
    except (OSError, ValueError) as exc:
        raise SalError(f"cannot load PRM `{cfg.prm}`: {_first_line(exc)}", hint=CACHE_HINT) from None
    return model.to(device()).eval()


@contextlib.contextmanager
def transformers_quiet() -> Iterator[None]:
    """Hide transformers' load report: a backbone loaded without its head lists the head as unexpected."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def max_length(cfg: VerifierConfig, model_config: dict[str, Any]) -> int:
    """`verifier.max_length`, else the model's context length (from its `config.json` values)."""
    return cfg.max_length or int(model_config.get("max_position_embeddings") or 1 << 30)


def single_token(tokenizer, text: str, what: str, prm: str, hint: str) -> int:
    """The id of `text` when the tokenizer reads it as exactly one token; else a SalError."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) != 1:
        raise SalError(f"{what} `{text}` is not a single token in the tokenizer of PRM `{prm}` (got {len(ids)})", hint=hint)
    return ids[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
