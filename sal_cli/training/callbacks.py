"""Trainer callbacks: live progress (steps, loss, ETA) and a clean stop on Ctrl-C or SIGTERM.

A first Ctrl-C (or Slurm's SIGTERM) lets the running optimiser step finish, saves a
resumable checkpoint and stops; a second Ctrl-C stops at once, keeping the last checkpoint.
"""

from __future__ import annotations

import contextlib
import signal
import time
from typing import Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback

from sal_cli.progress import console, note


class StopOnSignal(TrainerCallback):
    """Turns the first SIGINT/SIGTERM into "save a checkpoint after this step, then stop"."""

    def __init__(self) -> None:
        self.requested = False

    def request(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        note("stopping after this step to save a checkpoint (Ctrl-C again to stop at once)")

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.request) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
        return control


class TrainProgress(TrainerCallback):
    """A rich bar on stderr (optimiser steps, last loss, ETA); in quiet mode a plain line per log."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.monotonic()
        self._bar: Progress | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.t0 = time.monotonic()
        if not self.quiet:
            self._bar = Progress(
                TextColumn("sal train-prm"), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
                TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=console,
            )
            self._task = self._bar.add_task("train", total=state.max_steps, completed=state.global_step, loss="")
            self._bar.start()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_log = True  # so the summary's last loss is the final step's
        if self._bar is not None:
            self._bar.update(self._task, completed=state.global_step)
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        shown = "  ".join(f"{key} {logs[key]:.4g}" for key in ("loss", "eval_loss", "eval_accuracy") if key in (logs or {}))
        if not shown:
            return
        if self._bar is not None:
            self._bar.update(self._task, loss=shown)
        else:
            note(f"step {state.global_step}/{state.max_steps}  {shown}  ({time.monotonic() - self.t0:.0f}s)")

    def on_train_end(self, args, state, control, **kwargs):
        self.close()

    def close(self) -> None:
        """Stop the live bar; also called when training ends by an exception."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
