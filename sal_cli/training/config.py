"""Typed settings of `sal train-prm`: a profile schema of its own (`kind = "train-prm"`).

Defaults follow TRL's PRM trainer (step separator `"\\n"`, max length 1024, learning rate
1e-5); the built-in `train-*` profiles carry the search-and-learn recipes. Checks that need
the tokenizer (the separator must tokenise to something) happen when training starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sal_cli.config import Schema, check

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
SAVE_DTYPES = ("bfloat16", "float16", "float32")
SCHEDULERS = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt")


@dataclass
class TrainModelConfig:
    """`[model]`: the model that becomes the PRM (a token-classification head with 2 labels).

    Parameters:
        base: hub id or local folder; `"embedded:smollm2-135m"` is the bundled SmolLM2-135M-Instruct.
        revision: hub revision of the base model; empty for the default branch.
        trust_remote_code: run the model repository's own code (only when you trust it).
    """

    base: str = "embedded:smollm2-135m"
    revision: str = ""
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        check(bool(self.base.strip()), "base", "must not be empty")


@dataclass
class TrainDataConfig:
    """`[data]`: stepwise-supervision rows (`prompt`, `completions` list, `labels` list of booleans).

    Parameters:
        dataset: `prm-sample` (bundled, 164 rows, smoke runs only), a local `.jsonl`/`.json`/
            `.parquet` file, or a hub dataset such as `trl-lib/math_shepherd`.
        split: split of a hub dataset.
        eval_dataset: rows scored during training (same forms as `dataset`); empty = no evaluation.
        eval_split: split of a hub `eval_dataset`.
        num_samples: train on the first k rows only; -1 = all.
        num_proc: processes that tokenise the dataset.
    """

    dataset: str = "prm-sample"
    split: str = "train"
    eval_dataset: str = ""
    eval_split: str = "test"
    num_samples: int = -1
    num_proc: int = 1

    def __post_init__(self) -> None:
        check(bool(self.dataset.strip()), "dataset", "must not be empty")
        check(self.num_samples == -1 or self.num_samples >= 1, "num_samples", "must be >= 1 or -1")
        check(self.num_proc >= 1, "num_proc", "must be >= 1")


@dataclass
class TrainConfig:
    """`[train]`: how steps are laid out and how the optimiser runs.

    Parameters:
        step_separator: text put after every step; the PRM is read at its last token. Keep it
            the same at inference (it is saved in `sal_prm.json`).
        max_length: longest tokenised row (prompt + steps); longer rows are cut at the end and
            rows left with no labelled step are dropped. 0 = no limit.
        max_completion_length: longest tokenised completion (all steps); 0 = no limit.
        train_on_last_step_only: learn from the last step's label only (the others still
            count at evaluation).
        learning_rate: peak AdamW learning rate.
        epochs: passes over the data (fractions allowed).
        max_steps: stop after this many optimiser steps; -1 = as many as `epochs` takes.
        batch_size: rows per device per forward pass.
        eval_batch_size: rows per device per evaluation pass.
        gradient_accumulation_steps: forward passes per optimiser step.
        warmup_steps: steps of linear warm-up from 0 to `learning_rate`.
        lr_scheduler: learning-rate schedule after warm-up (`linear`, `cosine`, `constant`, ...).
        weight_decay: AdamW weight decay.
        precision: `auto` (bf16 mixed precision on a GPU that has it, else fp32), `bf16`, `fp16`, `fp32`.
        gradient_checkpointing: recompute activations in the backward pass (less memory, ~30% slower).
        logging_steps: log the loss every this many steps.
        eval_steps: evaluate every this many steps; 0 = once per epoch (needs `data.eval_dataset`).
        seed: seed of the classification head's initialisation and the data order.
    """

    step_separator: str = "\n"
    max_length: int = 1024
    max_completion_length: int = 0
    train_on_last_step_only: bool = False
    learning_rate: float = 1e-5
    epochs: float = 1.0
    max_steps: int = -1
    batch_size: int = 8
    eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    warmup_steps: int = 0
    lr_scheduler: str = "linear"
    weight_decay: float = 0.0
    precision: str = "auto"
    gradient_checkpointing: bool = False
    logging_steps: int = 10
    eval_steps: int = 0
    seed: int = 42

    def __post_init__(self) -> None:
        check(self.step_separator != "", "step_separator", "must not be empty")
        check(self.max_length >= 0, "max_length", "must be >= 0 (0 = no limit)")
        check(self.max_completion_length >= 0, "max_completion_length", "must be >= 0 (0 = no limit)")
        check(self.learning_rate > 0, "learning_rate", "must be > 0")
        check(self.epochs > 0, "epochs", "must be > 0")
        check(self.max_steps == -1 or self.max_steps >= 1, "max_steps", "must be >= 1 or -1")
        check(self.batch_size >= 1, "batch_size", "must be >= 1")
        check(self.eval_batch_size >= 1, "eval_batch_size", "must be >= 1")
        check(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps", "must be >= 1")
        check(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        check(self.lr_scheduler in SCHEDULERS, "lr_scheduler", f"must be one of {', '.join(SCHEDULERS)}")
        check(self.weight_decay >= 0, "weight_decay", "must be >= 0")
        check(self.precision in PRECISIONS, "precision", f"must be one of {', '.join(PRECISIONS)}")
        check(self.logging_steps >= 1, "logging_steps", "must be >= 1")
        check(self.eval_steps >= 0, "eval_steps", "must be >= 0 (0 = once per epoch)")
        check(self.seed >= 0, "seed", "must be >= 0")


@dataclass
class TrainLoraConfig:
    """`[lora]`: train low-rank adapters instead of every weight; merged into the base when saved.

    Parameters:
        enabled: LoRA (peft, token-classification task) when true, full fine-tuning when false.
        r: adapter rank.
        alpha: adapter scaling numerator (the update is scaled by alpha / r).
        dropout: dropout on the adapter input.
        target_modules: module names to adapt, e.g. `["q_proj", "v_proj"]`; empty = every linear layer.
    """

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check(self.r >= 1, "r", "must be >= 1")
        check(self.alpha >= 1, "alpha", "must be >= 1")
        check(0 <= self.dropout < 1, "dropout", "must be in [0, 1)")


@dataclass
class TrainOutputConfig:
    """`[output]`: where the PRM, its checkpoints and its summary go.

    Parameters:
        root: folder under which training folders are named after base model and dataset.
        dir: the training folder itself; empty = `root/train-prm/<model>/<dataset>`.
        save_steps: write a resumable checkpoint every this many optimiser steps.
        save_total_limit: keep only the newest k checkpoints; 0 = keep all.
        keep_checkpoints: keep `checkpoints/` after the final model is saved.
        dtype: dtype of the saved weights.
        push_to_hub: upload the saved PRM folder to `hub_model_id` when training ends.
        hub_model_id: hub repository, e.g. `me/Qwen2.5-Math-1.5B-PRM`.
        hub_private: create the hub repository as private.
    """

    root: str = "runs"
    dir: str = ""
    save_steps: int = 500
    save_total_limit: int = 2
    keep_checkpoints: bool = False
    dtype: str = "bfloat16"
    push_to_hub: bool = False
    hub_model_id: str = ""
    hub_private: bool = True

    def __post_init__(self) -> None:
        check(self.save_steps >= 1, "save_steps", "must be >= 1")
        check(self.save_total_limit >= 0, "save_total_limit", "must be >= 0 (0 = keep all)")
        check(self.dtype in SAVE_DTYPES, "dtype", f"must be one of {', '.join(SAVE_DTYPES)}")
        check(
            not self.push_to_hub or self.hub_model_id.count("/") == 1,
            "hub_model_id",
            "must look like `owner/name` when `push_to_hub` is on",
        )


@dataclass
class TrainPRMConfig:
    """Every setting of `sal train-prm`; one attribute per TOML section."""

    model: TrainModelConfig = field(default_factory=TrainModelConfig)
    data: TrainDataConfig = field(default_factory=TrainDataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    lora: TrainLoraConfig = field(default_factory=TrainLoraConfig)
    output: TrainOutputConfig = field(default_factory=TrainOutputConfig)


TRAIN_PRM_SCHEMA = Schema("train-prm", TrainPRMConfig, default_profile="train-cpu-demo")
