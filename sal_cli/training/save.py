"""The finished PRM on disk (and optionally on the Hub), in the layout `sal search --prm` reads.

The folder is a plain `AutoModelForTokenClassification` checkpoint (LoRA adapters merged
into the base) plus its tokenizer and `sal_prm.json`, which tells the `token-classification`
PRM protocol how steps were laid out during training:

    {"protocol": "token-classification", "step_separator": "\\n\\n",
     "base_model": "Qwen/Qwen2.5-Math-1.5B-Instruct", "sal_version": "0.1.0"}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sal_cli import __version__
from sal_cli.files import write_atomic
from sal_cli.errors import RunFailure, SalError
from sal_cli.training.config import TrainPRMConfig
from sal_cli.training.folder import CHECKPOINTS, PRM_CARD


def save_prm(model: Any, tokenizer: Any, folder: Path, config: TrainPRMConfig) -> None:
    """Merge adapters, cast to `output.dtype`, write safetensors + tokenizer, then `sal_prm.json` last."""
    import torch

    if config.lora.enabled:
        model = model.merge_and_unload()
    model = model.to(getattr(torch, config.output.dtype))
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    card = {
        "protocol": "token-classification",
        "step_separator": config.train.step_separator,
        "base_model": config.model.base,
        "sal_version": __version__,
    }
    write_atomic(folder / PRM_CARD, json.dumps(card, indent=2, ensure_ascii=False) + "\n")


def check_can_push(config: TrainPRMConfig) -> None:
    """Before hours of training: a push needs the Hub and a token (which is never printed)."""
    if not config.output.push_to_hub:
        return
    from huggingface_hub import get_token

    from sal_cli.hub import hub_reachable

    if not hub_reachable():
        raise SalError(
            "`output.push_to_hub` is on but the Hugging Face Hub is unreachable",
            hint="train with `--set output.push_to_hub=false` and upload the folder later with `hf upload`",
        )
    if get_token() is None:
        raise SalError(
            "`output.push_to_hub` is on but no Hugging Face token is set",
            hint="run `hf auth login` or set `HF_TOKEN`",
        )


def push_prm(folder: Path, repo_id: str, private: bool) -> str:
    """Upload the PRM folder (not its checkpoints); returns the repository URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    try:
        url = api.create_repo(repo_id, private=private, exist_ok=True)
        api.upload_folder(folder_path=folder, repo_id=repo_id, ignore_patterns=[f"{CHECKPOINTS}/*"])
    except Exception as exc:  # huggingface_hub raises many types (HTTP, auth, network)
        raise RunFailure(
            f"pushing to `{repo_id}` failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint=f"the PRM is saved in `{folder}`; upload it later with `hf upload {repo_id} {folder}`",
        ) from None
    return str(url)
