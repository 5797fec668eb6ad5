"""`sal train-prm`: a token-classification PRM trained with TRL's `PRMTrainer`.

The trainer lives in `trl.experimental.prm` (TRL 1.0 to 1.13; TRL 1.14 removed it, so the
`train` extra pins `trl<1.14`). Rows are tokenised up front with TRL's own
`PRMTrainer.tokenize_row`, so rows whose labelled steps all fall past `max_length` can be
dropped before they make a NaN loss; the trainer then takes the ids as they are. The
`token-classification` PRM protocol reads a saved model with that same layout.
Order matters for the user: settings, folder and data are checked before a model loads.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sal_cli import __version__
from sal_cli.config import to_dict
from sal_cli.errors import INTERRUPTED, RunFailure, SalError
from sal_cli.progress import note
from sal_cli.training.config import TrainPRMConfig
from sal_cli.training.data import load_stepwise
from sal_cli.training.folder import CHECKPOINTS, claim_folder, inspect_folder, last_checkpoint, write_summary


@dataclass
class TrainOutcome:
    folder: Path
    steps: int
    seconds: float
    first_loss: float | None
    last_loss: float | None
    already_done: bool = False


IGNORE = -100  # the label torch's cross-entropy skips


def require_train_extras(config: TrainPRMConfig) -> None:
    """The `train` extra (TRL's PRM trainer, peft for LoRA), or one line saying how to get it."""
    needed = ["trl", *(["peft"] if config.lora.enabled else [])]
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise SalError(
            f"`sal train-prm` needs {' and '.join(f'`{m}`' for m in missing)}, not installed here",
            hint="run `pip install 'sal-cli[train]'`",
        )
    if importlib.util.find_spec("trl.experimental.prm") is None:
        from importlib.metadata import version

        raise SalError(
            f"`sal train-prm` needs TRL's PRM trainer, which TRL {version('trl')} no longer has (removed in 1.14)",
            hint="run `pip install 'sal-cli[train]'` (it pins `trl>=1.0,<1.14`)",
        )


def train(config: TrainPRMConfig, folder: Path, *, overwrite: bool = False, quiet: bool = False) -> TrainOutcome:
    """Train (or resume, or find already trained) the PRM in `folder`."""
    from sal_cli.training.save import check_can_push

    require_train_extras(config)
    check_can_push(config)
    settings = to_dict(config)
    state = inspect_folder(folder, settings, overwrite)
    if state.finished:
        note(f"`{folder}` already holds the trained PRM (pass `--overwrite` to train again)")
        return TrainOutcome(folder, 0, 0.0, None, None, already_done=True)
    rows = load_stepwise(config.data.dataset, config.data.split, config.data.num_samples)
    eval_rows = load_stepwise(config.data.eval_dataset, config.data.eval_split) if config.data.eval_dataset else None
    claim_folder(folder, settings, overwrite)

    note(f"training `{config.model.base}` on {len(rows)} rows of `{config.data.dataset}` into `{folder}`")
    tokenizer = _load_tokenizer(config)
    train_set = _tokenized(rows, tokenizer, config, is_eval=False)
    eval_set = _tokenized(eval_rows, tokenizer, config, is_eval=True) if eval_rows else None
    trainer, stop, progress = _build_trainer(config, folder, tokenizer, train_set, eval_set, quiet)
    if state.checkpoint is not None:
        note(f"resuming from `{state.checkpoint.name}`")
    started, status = time.monotonic(), "failed"
    try:
        with stop.installed():
            trainer.train(resume_from_checkpoint=str(state.checkpoint) if state.checkpoint else None)
        status = "interrupted" if stop.requested else "complete"
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as exc:
        raise RunFailure(
            f"{type(exc).__name__} while training: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint=f"{_resume_note(folder)}; re-run the same command to go on (`SAL_DEBUG=1` shows the traceback)",
        ) from exc
    finally:
        progress.close()
        summary = _summary(config, trainer.state, status, len(rows) - len(train_set), time.monotonic() - started)
        write_summary(folder, summary)
    if status == "interrupted":
        raise SalError(
            f"interrupted at step {trainer.state.global_step} of {trainer.state.max_steps}; {_resume_note(folder)}",
            hint="re-run the same command to go on from there",
            exit_code=INTERRUPTED,
        )
    return _finish(config, folder, trainer, tokenizer, summary)


def _resume_note(folder: Path) -> str:
    saved = last_checkpoint(folder / CHECKPOINTS)
    return f"the newest checkpoint is `{saved}`" if saved else "no checkpoint was saved yet"


def _finish(config: TrainPRMConfig, folder: Path, trainer: Any, tokenizer: Any, summary: dict[str, Any]) -> TrainOutcome:
    from sal_cli.training.save import push_prm, save_prm

    save_prm(trainer.model, tokenizer, folder, config)
    if not config.output.keep_checkpoints:
        shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
    if config.output.push_to_hub:
        note(f"pushed to {push_prm(folder, config.output.hub_model_id, config.output.hub_private)}")
    return TrainOutcome(folder, summary["steps"], summary["seconds"], summary["first_loss"], summary["last_loss"])


def _load_tokenizer(config: TrainPRMConfig) -> Any:
    from sal_cli.generators.models import resolve_model
    from sal_cli.hub import go_offline_unless_reachable

    path = resolve_model(config.model.base)
    if path == config.model.base:  # a hub id: fail fast from the cache when offline
        go_offline_unless_reachable()
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(
            path, revision=config.model.revision or None, trust_remote_code=config.model.trust_remote_code
        )
    except OSError as exc:  # not found, not cached, gated
        raise SalError(
            f"cannot load model `{config.model.base}`: {str(exc).splitlines()[0]}",
            hint="check the hub id or folder; offline, only models already in the Hugging Face cache load",
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.encode(config.train.step_separator, add_special_tokens=False):
        raise SalError(f"`train.step_separator` ({config.train.step_separator!r}) is no token at all for this tokenizer")
    return tokenizer


def _tokenized(rows: list[dict[str, Any]], tokenizer: Any, config: TrainPRMConfig, is_eval: bool) -> Any:
    """A `datasets.Dataset` of `input_ids`/`labels` in TRL's layout, without rows whose
    labelled steps were all cut off (they teach nothing and make a NaN loss)."""
    import datasets
    from trl.experimental.prm import PRMTrainer

    cfg = config.train
    kwargs = {
        "tokenizer": tokenizer,
        "step_separator": cfg.step_separator,
        "max_length": cfg.max_length or None,
        "max_completion_length": cfg.max_completion_length or None,
        "train_on_last_step_only": cfg.train_on_last_step_only,
        "is_eval": is_eval,
    }
    features = datasets.Features(
        {"input_ids": datasets.Sequence(datasets.Value("int64")), "labels": datasets.Sequence(datasets.Value("int64"))}
    )
    data = datasets.Dataset.from_list(rows).map(
        PRMTrainer.tokenize_row, fn_kwargs=kwargs, num_proc=config.data.num_proc if config.data.num_proc > 1 else None,
        remove_columns=list(rows[0]), features=features,
    )
    kept = data.filter(lambda row: any(label != IGNORE for label in row["labels"]))
    if len(kept) < len(data):
        note(f"dropped {len(data) - len(kept)} of {len(data)} rows whose labelled steps lie past `train.max_length`")
    if not len(kept):
        raise SalError(
            f"no row keeps a labelled step within `train.max_length` ({config.train.max_length})",
            hint="raise `train.max_length` (0 = no limit)",
        )
    return kept


def _build_trainer(config: TrainPRMConfig, folder: Path, tokenizer: Any, train_set: Any, eval_set: Any, quiet: bool):
    import os

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    import torch
    from transformers import AutoModelForTokenClassification, PrinterCallback
    from trl.experimental.prm import PRMTrainer

    from sal_cli.generators.models import resolve_model
    from sal_cli.training.callbacks import StopOnSignal, TrainProgress

    torch.manual_seed(config.train.seed)  # the new classification head
    model = AutoModelForTokenClassification.from_pretrained(
        resolve_model(config.model.base), num_labels=2, dtype=torch.float32,
        revision=config.model.revision or None, trust_remote_code=config.model.trust_remote_code,
    )
    model.config.pad_token_id = tokenizer.pad_token_id
    stop, progress = StopOnSignal(), TrainProgress(quiet)
    trainer = PRMTrainer(  # turns the model's dropout off (`disable_dropout`) and wraps it in LoRA when asked
        model=model,
        args=_prm_config(config, folder, has_eval=eval_set is not None),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        compute_metrics=_step_accuracy,
        preprocess_logits_for_metrics=lambda logits, labels: logits.argmax(-1),
        callbacks=[progress, stop],
        peft_config=_lora(model, config) if config.lora.enabled else None,
    )
    trainer.remove_callback(PrinterCallback)  # it prints raw log dicts to stdout
    return trainer, stop, progress


def _lora(model: Any, config: TrainPRMConfig) -> Any:
    """LoRA adapters for a token-classification task: peft also trains the new head in full.

    "Every linear layer" is listed by name without the head: peft's `"all-linear"` would
    adapt the head too, which clashes with training it in full.
    """
    import torch
    from peft import LoraConfig, TaskType

    lora = config.lora
    targets = lora.target_modules or sorted(
        {name.rpartition(".")[2] for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
        - {"score", "classifier"}
    )
    return LoraConfig(
        task_type=TaskType.TOKEN_CLS, r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets
    )


def _prm_config(config: TrainPRMConfig, folder: Path, has_eval: bool) -> Any:
    """TRL's `PRMConfig` from the profile: every default TRL changed is set here explicitly."""
    import torch
    from trl.experimental.prm import PRMConfig

    cfg, out = config.train, config.output
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    return PRMConfig(
        step_separator=cfg.step_separator,
        max_length=cfg.max_length or None,
        max_completion_length=cfg.max_completion_length or None,
        train_on_last_step_only=cfg.train_on_last_step_only,
        disable_dropout=True,
        output_dir=str(folder / CHECKPOINTS),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_steps=cfg.warmup_steps,
        lr_scheduler_type=cfg.lr_scheduler,
        weight_decay=cfg.weight_decay,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        gradient_checkpointing=cfg.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if cfg.gradient_checkpointing else None,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        eval_strategy=("steps" if cfg.eval_steps else "epoch") if has_eval else "no",
        eval_steps=cfg.eval_steps or None,
        save_strategy="steps",
        save_steps=out.save_steps,
        save_total_limit=out.save_total_limit or None,
        seed=cfg.seed,
        report_to="none",
        disable_tqdm=True,
        use_cpu=not torch.cuda.is_available(),
    )


def _step_accuracy(eval_pred: Any) -> dict[str, float]:
    """Share of labelled steps whose argmax class is right (the padding and prompt are -100)."""
    predictions, labels = eval_pred
    mask = labels != -100
    return {"accuracy": float((predictions[mask] == labels[mask]).mean())}


def _summary(config: TrainPRMConfig, state: Any, status: str, dropped: int, seconds: float) -> dict[str, Any]:
    losses = [(log["step"], log["loss"]) for log in state.log_history if "loss" in log]
    evals = [log for log in state.log_history if "eval_loss" in log]
    return {
        "command": "train-prm",
        "sal_version": __version__,
        "status": status,
        "base_model": config.model.base,
        "dataset": config.data.dataset,
        "dropped_rows": dropped,
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "seconds": round(seconds, 1),
        "first_loss": losses[0][1] if losses else None,
        "last_loss": losses[-1][1] if losses else None,
        "loss_history": losses,
        "last_eval": evals[-1] if evals else None,
    }
