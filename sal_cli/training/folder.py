"""A training folder on disk: the PRM itself at the top, resumable checkpoints below.

    <folder>/
      config.json, model.safetensors, tokenizer files   the PRM (written when training ends)
      sal_prm.json      how to read it; written last, so its presence means "finished"
      train.toml        the resolved settings (`sal train-prm -p <folder>/train.toml` replays them)
      summary.json      status, steps, losses, time
      checkpoints/checkpoint-<step>/                      removed at the end unless kept

Re-running the same command resumes from the newest checkpoint; a folder that holds a
training run with other settings is refused rather than mixed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sal_cli.data.store import run_dir
from sal_cli.files import toml_dumps, tomllib, write_atomic
from sal_cli.errors import SalError
from sal_cli.training.config import TrainPRMConfig

TRAIN_TOML = "train.toml"
SUMMARY = "summary.json"
PRM_CARD = "sal_prm.json"
CHECKPOINTS = "checkpoints"
# Settings that may change between a run and its resumption (where things go, not what is learnt).
RESUMABLE_SECTIONS = {"output"}


@dataclass
class FolderState:
    folder: Path
    finished: bool  # a saved PRM is already there
    checkpoint: Path | None  # newest complete checkpoint to resume from


def training_folder(config: TrainPRMConfig) -> Path:
    """`output.dir` if given, else `root/train-prm/<model>/<dataset>` (kept inside root)."""
    if config.output.dir:
        return Path(config.output.dir).expanduser()
    return run_dir(config.output.root, "train-prm", config.model.base.removeprefix("embedded:"), config.data.dataset)


def inspect_folder(folder: Path, settings: dict[str, dict[str, Any]], overwrite: bool) -> FolderState:
    """What a training folder holds, checked against `settings`; writes nothing, so bad input loses nothing."""
    if folder.exists() and not folder.is_dir():
        raise SalError(f"output path `{folder}` is a file, not a folder", hint="pick another `--output-dir`")
    if overwrite:
        return FolderState(folder, False, None)
    if (folder / TRAIN_TOML).is_file():
        _refuse_other_settings(folder, settings)
    elif folder.is_dir() and any(folder.iterdir()):
        raise SalError(
            f"`{folder}` is not empty and holds no `sal train-prm` run",
            hint="pick another `--output-dir`, or pass `--overwrite` to train into it anyway",
        )
    return FolderState(folder, (folder / PRM_CARD).is_file(), last_checkpoint(folder / CHECKPOINTS))


def claim_folder(folder: Path, settings: dict[str, dict[str, Any]], overwrite: bool) -> None:
    """Start or go on with the run in `folder` (with `overwrite`, forget the old one first); write `train.toml`."""
    if overwrite:
        shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
        for name in (PRM_CARD, SUMMARY, TRAIN_TOML):
            (folder / name).unlink(missing_ok=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SalError(f"cannot create output folder `{folder}`: {exc.strerror}") from None
    write_atomic(folder / TRAIN_TOML, toml_dumps(settings, header='kind = "train-prm"\ndescription = "sal train-prm run"'))


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The newest `checkpoint-<step>` that was written completely (it has `trainer_state.json`)."""
    done = [p for p in checkpoints.glob("checkpoint-*") if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[-1]), default=None)


def write_summary(folder: Path, summary: dict[str, Any]) -> None:
    write_atomic(folder / SUMMARY, json.dumps(summary, indent=2) + "\n")


def _refuse_other_settings(folder: Path, settings: dict[str, dict[str, Any]]) -> None:
    try:
        previous = tomllib.loads((folder / TRAIN_TOML).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        previous = {}
    changed = [
        f"{section}.{key}: {previous.get(section, {}).get(key)!r} -> {value!r}"
        for section, table in settings.items()
        if section not in RESUMABLE_SECTIONS
        for key, value in table.items()
        if previous.get(section, {}).get(key) != value
    ]
    if changed:
        raise SalError(
            f"`{folder}` holds a training run with other settings ({'; '.join(changed[:3])})",
            hint="pick another `--output-dir`, or pass `--overwrite` to start over",
        )
