"""Progress on stderr: problems done, tokens/s and ETA; `quiet` swaps it for one log line."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

if TYPE_CHECKING:
    from sal_cli.search.engine import RoundStats

console = Console(stderr=True, highlight=False)


class _TokensPerSecond(ProgressColumn):
    def render(self, task) -> Text:
        rate = task.fields.get("tokens", 0) / max(time.monotonic() - task.fields.get("t0", time.monotonic()), 1e-9)
        return Text(f"{rate:,.1f} tok/s", style="progress.data.speed")


class Reporter:
    """Counts problems and generated tokens for one run; draws a live bar unless quiet."""

    def __init__(self, description: str, total: int, already_done: int, quiet: bool):
        self.quiet = quiet
        self.tokens = 0
        self.done = 0
        self.t0 = time.monotonic()
        self._progress = None
        if not quiet:
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
                description, total=total, completed=already_done, tokens=0, t0=self.t0, status=""
            )
        self._gen = [0, 0.0]  # generator tokens, seconds
        self._prm = [0, 0.0]  # PRM tokens, seconds

    def __enter__(self) -> "Reporter":
        self.t0 = time.monotonic()  # the clock starts after the model has loaded
        if self._progress is not None:
            self._progress.update(self._task, t0=self.t0)
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

    def round(self, stats: "RoundStats") -> None:
        """A search round ended: show it, with live beams and generator / PRM throughput."""
        self._gen = [self._gen[0] + stats.gen_tokens, self._gen[1] + stats.gen_seconds]
        self._prm = [self._prm[0] + stats.prm_tokens, self._prm[1] + stats.prm_seconds]
        if self._progress is None:
            return
        status = f"round {stats.round + 1} · {stats.live} live · gen {_rate(self._gen):,.0f} tok/s"
        if self._prm[0]:
            status += f" · prm {_rate(self._prm):,.0f} tok/s"
        self._progress.update(self._task, status=status)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / max(time.monotonic() - self.t0, 1e-9)


def note(message: str) -> None:
    """A status line on stderr (kept in quiet mode: it is what logs are for)."""
    print(message, file=sys.stderr, flush=True)


def _rate(pair: list) -> float:
    tokens, seconds = pair
    return tokens / seconds if seconds > 0 else 0.0
