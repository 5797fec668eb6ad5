"""`sal train-prm`: train a PRM on stepwise-supervised data, or score one on ProcessBench."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sal_cli.cli import _options as o
from sal_cli.errors import SalError

EPILOG = """Examples:

  sal train-prm                                       # SmolLM2 on the bundled sample, CPU, minutes

  sal train-prm -p train-qwen2.5-math-1.5b --push-to-hub me/Qwen2.5-Math-1.5B-PRM

  sal train-prm --dataset steps.jsonl --set lora.enabled=true --set train.learning_rate=1e-4

  sal train-prm --eval-only runs/train-prm/smollm2-135m/prm-sample --data processbench.jsonl --sweep

  sal train-prm --eval-only Qwen/Qwen2.5-Math-PRM-7B --data Qwen/ProcessBench --split gsm8k --json
"""
EVAL = "Evaluation (ProcessBench)"

NumSamplesOpt = Annotated[Optional[int], typer.Option("--num-samples", help="Train on the first k rows only.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No live display; a plain line per logged step (for log files).")]
BaseModelOpt = Annotated[Optional[str], typer.Option("--base-model", "-m", help="Hub id or local folder of the model to fine-tune.")]
TrainDataOpt = Annotated[
    Optional[str], typer.Option("--dataset", help="Training rows: `prm-sample` (bundled), a local file or a hub name.")
]
MaxStepsOpt = Annotated[Optional[int], typer.Option("--max-steps", help="Stop after this many optimiser steps.")]
PushOpt = Annotated[
    Optional[str], typer.Option("--push-to-hub", metavar="REPO_ID", help="Upload the trained PRM, e.g. `me/my-prm`.")
]
EvalOnlyOpt = Annotated[
    Optional[str],
    typer.Option("--eval-only", metavar="MODEL", help="Score this PRM (hub id or folder) instead of training.", rich_help_panel=EVAL),
]
DataOpt = Annotated[
    Optional[str],
    typer.Option("--data", help="ProcessBench rows: a local file or `Qwen/ProcessBench`.", rich_help_panel=EVAL),
]
SplitOpt = Annotated[
    Optional[list[str]], typer.Option("--split", help="Only this split, e.g. `gsm8k` (repeatable).", rich_help_panel=EVAL)
]
ThresholdOpt = Annotated[
    Optional[float],
    typer.Option("--threshold", help="A step scoring below this is an error (default 0.5).", rich_help_panel=EVAL),
]
SweepOpt = Annotated[bool, typer.Option("--sweep", help="Also report thresholds 0.05, 0.10, ..., 0.95.", rich_help_panel=EVAL)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the metrics as JSON on stdout.", rich_help_panel=EVAL)]
ProtocolOpt = Annotated[
    Optional[str], typer.Option("--protocol", help="How the PRM reads steps (default `auto`).", rich_help_panel=EVAL)
]
SeparatorOpt = Annotated[
    Optional[str],
    typer.Option(
        "--step-separator",
        help="Separator of a token-classification PRM without `sal_prm.json`, e.g. `'\\n\\n'` (TOML escapes).",
        rich_help_panel=EVAL,
    ),
]
EvalBatchOpt = Annotated[
    Optional[int], typer.Option("--eval-batch-size", help="Sequences per PRM forward pass.", rich_help_panel=EVAL)
]


def train_prm(
    profile: o.ProfileOpt = None,
    set_: o.SetOpt = None,
    base_model: BaseModelOpt = None,
    dataset: TrainDataOpt = None,
    num_samples: NumSamplesOpt = None,
    max_steps: MaxStepsOpt = None,
    output_dir: o.OutputDirOpt = None,
    push_to_hub: PushOpt = None,
    overwrite: o.OverwriteOpt = False,
    quiet: QuietOpt = False,
    eval_only: EvalOnlyOpt = None,
    data: DataOpt = None,
    split: SplitOpt = None,
    threshold: ThresholdOpt = None,
    sweep: SweepOpt = False,
    as_json: JsonOpt = False,
    protocol: ProtocolOpt = None,
    step_separator: SeparatorOpt = None,
    eval_batch_size: EvalBatchOpt = None,
) -> None:
    """Train a process reward model (PRM) on stepwise-supervised data, or evaluate one.

    Training reads TRL's stepwise-supervision rows (`prompt`, `completions`, `labels`) and
    writes a folder that `sal search --prm FOLDER` loads as is: weights, tokenizer and
    `sal_prm.json`. Re-running the same command resumes from the last checkpoint; Ctrl-C
    saves one first. Prints the folder on stdout.

    With `--eval-only MODEL --data FILE` it scores ProcessBench rows instead and reports,
    per split, the accuracy on erroneous and on correct solutions and their harmonic mean.
    """
    training = {"--profile": profile, "--set": set_, "--base-model": base_model, "--dataset": dataset,
                "--num-samples": num_samples, "--max-steps": max_steps, "--output-dir": output_dir,
                "--push-to-hub": push_to_hub, "--overwrite": overwrite or None}
    evaluation = {"--data": data, "--split": split or None, "--threshold": threshold, "--sweep": sweep or None,
                  "--json": as_json or None,
                  "--protocol": protocol, "--step-separator": step_separator, "--eval-batch-size": eval_batch_size}
    if eval_only is None:
        _refuse(evaluation, "only applies with `--eval-only MODEL`", "add `--eval-only MODEL`, or drop it")
        _train(profile, set_, base_model, dataset, num_samples, max_steps, output_dir, push_to_hub, overwrite, quiet)
        return
    _refuse(training, "is a training option and does nothing with `--eval-only`", "drop it")
    if data is None:
        raise SalError("`--eval-only` needs `--data`", hint="e.g. `--data processbench.jsonl` or `--data Qwen/ProcessBench`")
    _evaluate(eval_only, data, split or [], threshold, sweep, as_json, protocol, step_separator, eval_batch_size, quiet)


def _refuse(flags: dict[str, object], why: str, hint: str) -> None:
    """Flags given for the other mode (unset ones are None) are an error, not silently ignored."""
    given = [flag for flag, value in flags.items() if value is not None]
    if given:
        raise SalError(f"`{given[0]}` {why}", hint=hint)


def _train(profile, sets, base_model, dataset, num_samples, max_steps, output_dir, push_to_hub, overwrite, quiet) -> None:
    from sal_cli import profiles
    from sal_cli.runs import quiet_libraries
    from sal_cli.progress import note
    from sal_cli.training.config import TRAIN_PRM_SCHEMA
    from sal_cli.training.folder import training_folder
    from sal_cli.training.trainer import train

    flags = {
        "model.base": (base_model, "--base-model"),
        "data.dataset": (dataset, "--dataset"),
        "data.num_samples": (num_samples, "--num-samples"),
        "train.max_steps": (max_steps, "--max-steps"),
        "output.dir": (output_dir, "--output-dir"),
        "output.push_to_hub": (True if push_to_hub else None, "--push-to-hub"),
        "output.hub_model_id": (push_to_hub, "--push-to-hub"),
    }
    config = profiles.resolve(profile, sets or (), flags, schema=TRAIN_PRM_SCHEMA).config
    quiet_libraries()
    outcome = train(config, training_folder(config), overwrite=overwrite, quiet=quiet)
    if not outcome.already_done:
        losses = f"loss {outcome.first_loss:.4f} -> {outcome.last_loss:.4f}" if outcome.last_loss is not None else "no loss logged"
        note(f"train-prm: {outcome.steps} steps in {outcome.seconds:.0f}s, {losses} -> `{outcome.folder}`")
    typer.echo(str(outcome.folder))


def _evaluate(model, data, splits, threshold, sweep, as_json, protocol, step_separator, batch_size, quiet) -> None:
    import json

    from sal_cli.runs import quiet_libraries
    from sal_cli.config import ConfigValueError, VerifierConfig
    from sal_cli.training import processbench as pb

    threshold = 0.5 if threshold is None else threshold
    if not 0 <= threshold <= 1:
        raise SalError(f"`--threshold` must be in [0, 1], got {threshold}", hint="e.g. `--threshold 0.5`")
    try:
        cfg = VerifierConfig(prm=model, protocol=protocol or "auto", step_separator=_unescape(step_separator or ""),
                             batch_size=VerifierConfig.batch_size if batch_size is None else batch_size)
    except ConfigValueError as exc:
        flag = {"prm": "--eval-only", "protocol": "--protocol", "batch_size": "--eval-batch-size"}.get(exc.key, exc.key)
        raise SalError(f"`{flag}` {exc}") from None
    samples = pb.load_samples(data, splits)
    names = list(splits or dict.fromkeys(s.split for s in samples))
    quiet_libraries()
    from sal_cli.prms import load_prm

    prm = load_prm(cfg)
    try:
        scores = pb.score_samples(prm, samples, chunk=cfg.batch_size * 4, quiet=quiet)
    finally:
        prm.close()
    main = pb.report(samples, scores, threshold, names)
    sweeps = [pb.report(samples, scores, t, names) for t in pb.SWEEP] if sweep else []
    if as_json:
        payload = {"model": model, "data": data, **main.to_dict()}
        if sweep:
            payload["sweep"] = [{"threshold": r.threshold, "average_f1": r.average_f1,
                                 "f1": {m.split: m.f1 for m in r.splits}} for r in sweeps]
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_report(model, main)
    if sweep:
        _print_sweep(sweeps)


def _unescape(text: str) -> str:
    """`\\n` typed in a shell means a newline here, read as a TOML string would be."""
    from sal_cli.files import tomllib

    try:
        return tomllib.loads('v = "' + text.replace('"', '\\"') + '"')["v"]
    except tomllib.TOMLDecodeError:
        return text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _print_report(model: str, report) -> None:
    from rich.table import Table

    from sal_cli.progress import console

    table = Table(title=f"ProcessBench: {model} (threshold {report.threshold:g})", title_justify="left", box=None, pad_edge=False)
    for column in ("split", "samples", "erroneous", "correct", "error acc %", "correct acc %", "F1 %"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for m in report.splits:
        table.add_row(m.split, str(m.samples), str(m.erroneous), str(m.correct), _pct(m.error_acc), _pct(m.correct_acc), _pct(m.f1))
    table.add_row("average", "", "", "", "", "", _pct(report.average_f1), style="bold")
    console.print(table)


def _print_sweep(reports) -> None:
    from rich.table import Table

    from sal_cli.progress import console

    best = max(reports, key=lambda r: -1 if r.average_f1 is None else r.average_f1)
    table = Table(title="F1 % by threshold", title_justify="left", box=None, pad_edge=False)
    table.add_column("threshold")
    for m in reports[0].splits:
        table.add_column(m.split, justify="right")
    table.add_column("average", justify="right")
    for r in reports:
        mark = " *" if r is best else ""
        table.add_row(f"{r.threshold:.2f}{mark}", *(_pct(m.f1) for m in r.splits), _pct(r.average_f1))
    console.print(table)
    console.print("* best average F1; a threshold picked on the evaluation data flatters it")
