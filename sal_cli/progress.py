"""Progress on stderr: problems done, tokens/s and ETA; `quiet` swaps it for one log line.

On a terminal it is a live rich bar; when stderr is a file or a pipe it is plain lines
(`sal search: 3/10 problems, 41.2 tok/s, eta 1m05s, round 4 ...`), one per finished problem
and at most one per `PLAIN_EVERY` seconds between them. While models load and run, the
libraries' own output (vLLM, torch, transformers warnings, C++ notices, load bars) goes to
a log file in the run folder (`library_output`), so stderr carries only sal's lines and
stdout only data.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

if TYPE_CHECKING:
    from sal_cli.search.engine import RoundStats

console = Console(stderr=True, highlight=False)
PLAIN_EVERY = 30.0  # seconds between plain progress lines while no problem finishes


class _TokensPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        rate = task.fields.get("tokens", 0) / max(time.monotonic() - task.fields.get("t0", time.monotonic()), 1e-9)
        return Text(f"{rate:,.1f} tok/s", style="progress.data.speed")


class Reporter:
    """Counts problems, generated tokens and time in the generator and the PRM for one run;
    draws a live bar on a terminal, plain lines elsewhere, nothing when quiet."""

    def __init__(self, description: str, total: int, already_done: int, quiet: bool):
        self.quiet = quiet
        self.description = description
        self.total = total
        self.tokens = 0
        self.done = 0
        self.already_done = already_done
        self.t0 = time.monotonic()
        self.status = ""
        self._last_line = 0.0
        self._progress = None
        self._gen = [0, 0.0]  # generator tokens, seconds
        self._prm = [0, 0.0]  # PRM tokens, seconds

    def __enter__(self) -> "Reporter":
        self.t0 = self._last_line = time.monotonic()  # the clock starts after the model has loaded
        if not self.quiet and console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("problems"),
                _TokensPerSecond(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
                console=console,
                transient=False,
            )
            self._task = self._progress.add_task(
                self.description, total=self.total, completed=self.already_done, tokens=0, t0=self.t0, status=""
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self, problems: int, tokens: int) -> None:
        self.done += problems
        self.tokens += tokens
        if self._progress is not None:
            self._progress.update(self._task, advance=problems, tokens=self.tokens)
        else:
            self._plain()

    def round(self, stats: "RoundStats") -> None:
        """A search round ended: show it, with live beams and generator / PRM throughput."""
        self._gen = [self._gen[0] + stats.gen_tokens, self._gen[1] + stats.gen_seconds]
        self._prm = [self._prm[0] + stats.prm_tokens, self._prm[1] + stats.prm_seconds]
        self.status = f"round {stats.round + 1} · {stats.live} live · gen {_rate(self._gen):,.0f} tok/s"
        if self._prm[0]:
            self.status += f" · prm {_rate(self._prm):,.0f} tok/s"
        if self._progress is not None:
            self._progress.update(self._task, status=self.status)
        elif time.monotonic() - self._last_line >= PLAIN_EVERY:
            self._plain()

    def _plain(self) -> None:
        """One plain progress line (stderr is not a terminal)."""
        if self.quiet:
            return
        self._last_line = time.monotonic()
        done = self.already_done + self.done
        elapsed = self._last_line - self.t0
        eta = elapsed / self.done * (self.total - done) if self.done else None
        line = (f"{self.description}: {done}/{self.total} problems, {self.tokens_per_second:,.1f} tok/s, "
                f"elapsed {_clock(elapsed)}, eta {_clock(eta) if eta is not None else '?'}")
        note(f"{line}, {self.status}" if self.status else line)

    @property
    def generator_seconds(self) -> float:
        return self._gen[1]

    @property
    def prm_seconds(self) -> float:
        return self._prm[1]

    @property
    def prm_tokens(self) -> int:
        return self._prm[0]

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / max(time.monotonic() - self.t0, 1e-9)


def note(message: str) -> None:
    """A status line on stderr (kept in quiet mode: it is what logs are for)."""
    print(message, file=console.file, flush=True)


@contextlib.contextmanager
def library_output(log: Path | None) -> Iterator[None]:
    """Send everything written to the process's stderr and stdout (file descriptors 2 and 1:
    Python warnings, library loggers, C++ notices, load bars) to `log`, while sal's own lines
    (`console`, `note`) keep going to the real stderr. `None`: change nothing (`--verbose`).
    stdout is sal's data channel, written after the run; vLLM logs to stdout unless told."""
    os.environ.setdefault("VLLM_LOGGING_STREAM", "ext://sys.stderr")
    if log is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = _own_stream(saved[2])
    with open(log, "a", encoding="utf-8") as handle:
        for fd in saved:
            os.dup2(handle.fileno(), fd)
        console.file = terminal
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            console.file = None  # back to whatever `sys.stderr` is
            if terminal is not sys.stderr:
                terminal.close()


def _own_stream(saved_fd: int):
    """Where sal's lines go while fd 2 is the log: a copy of the real stderr, or `sys.stderr`
    itself when it is not file descriptor 2 (a test's capture)."""
    try:
        real = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    if not real:
        return sys.stderr
    encoding = getattr(sys.stderr, "encoding", None) or "utf-8"
    return os.fdopen(os.dup(saved_fd), "w", buffering=1, encoding=encoding, errors="replace")


def _rate(pair: list) -> float:
    tokens, seconds = pair
    return tokens / seconds if seconds > 0 else 0.0


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
