"""Shards done out of a launch's total, on stderr: a live bar, or a log line per change when quiet."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sal_cli.progress import console, note


class ShardProgress:
    """`update(done, status)` as shards finish; quiet mode prints only lines that changed."""

    def __init__(self, description: str, total: int, quiet: bool):
        self.description = description
        self.total = total
        self._last = ""
        self._progress = None
        if not quiet:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("shards"), TimeElapsedColumn(), TextColumn("{task.fields[status]}"),
                                      console=console)
            self._task = self._progress.add_task(description, total=total, status="")

    def __enter__(self) -> "ShardProgress":
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, done: int, status: str = "") -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, status=status)
            return
        line = f"{self.description}: {done}/{self.total} shards complete" + (f" · {status}" if status else "")
        if line != self._last:
            note(line)
            self._last = line
