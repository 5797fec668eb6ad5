"""Runs a solver over problems with a run store: resume, progress, signals, summary.

Shared by the run commands: `sal generate` solves by sampling, `sal search` by PRM-guided
search. Each solved problem is appended and flushed at once, so Ctrl-C, SIGTERM (Slurm
preemption) or a crash lose at most the problems in flight.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from sal_cli import __version__
from sal_cli.config import RunConfig, to_dict
from sal_cli.data.datasets import Problem, load_selection
from sal_cli.data.store import RunStore, read_results
from sal_cli.errors import INTERRUPTED, RunFailure, SalError
from sal_cli.progress import Reporter, library_output, note

LIBRARY_LOG = "library.log"  # the libraries' own warnings and notices, unless `--verbose`


class Solver(Protocol):
    """Turns a stream of problems into result fields, problem by problem."""

    def solve(self, problems: Iterable[Problem]) -> Iterator[tuple[Problem, dict[str, Any], int]]:
        """Yields (problem, fields to store, tokens generated) as each problem finishes."""


@dataclass
class Outcome:
    folder: Path
    total: int
    skipped: int
    solved: int
    tokens: int
    seconds: float
    load_seconds: float = 0.0  # loading the models (0 when they were already loaded)
    generator_seconds: float = 0.0
    prm_seconds: float = 0.0
    prm_tokens: int = 0


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(
    command: str,
    config: RunConfig,
    folder: Path,
    make_solver: Callable[[Reporter], Solver],
    *,
    overwrite: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    selection: tuple[list[Problem], int] | None = None,
    machine: dict[str, Any] | None = None,
) -> Outcome:
    """Solve the problems `config.data` selects (or `selection`: problems and the size of the
    dataset they come from) into `folder`, skipping the ones already there. `machine` (the
    dtype and CPU settings chosen for this machine) is recorded in `run.toml`; the libraries'
    own output goes to `folder/library.log` unless `verbose`."""
    problems, dataset_rows = selection or load_selection(config.data)
    if not problems:
        raise SalError("there are no problems to run", hint="check the dataset slice or the source run")
    store = RunStore(folder, overwrite=overwrite)
    done = store.open(command, to_dict(config), machine)
    todo = [p for p in problems if p.idx not in done]
    skipped = len(problems) - len(todo)
    started = time.monotonic()
    summary = {
        "command": command,
        "sal_version": __version__,
        "selected_rows": len(problems),
        "rows": [problems[0].idx, problems[-1].idx + 1],  # the slice, contiguous: what `sal merge` checks
        "dataset_rows": dataset_rows,
    }
    if not todo:
        note(f"all {len(problems)} problems already done in `{folder}`")
        store.write_summary({**summary, "status": "complete", **_totals(store)})
        store.close()
        return Outcome(folder, len(problems), skipped, 0, 0, 0.0)
    if skipped:
        note(f"resuming `{folder}`: {skipped} of {len(problems)} problems already done")
    status = "failed"
    reporter = Reporter(f"sal {command}", len(problems), skipped, quiet)
    loaded = started
    log = None if verbose else folder / LIBRARY_LOG
    try:
        with _sigterm_as_interrupt(), library_output(log):
            solver = make_solver(reporter)
            loaded = time.monotonic()
            with reporter:
                for problem, fields, tokens in solver.solve(todo):
                    store.append({"idx": problem.idx, **problem.row, **fields})
                    reporter.advance(1, tokens)
        status = "complete"
    except KeyboardInterrupt:
        status = "interrupted"
        raise SalError(
            f"interrupted: {skipped + reporter.done} of {len(problems)} problems saved in `{folder}`",
            hint="re-run the same command to resume",
            exit_code=INTERRUPTED,
        ) from None
    except SalError:
        raise
    except Exception as exc:
        raise RunFailure(
            f"{type(exc).__name__} while running: {str(exc).splitlines()[0] if str(exc) else ''}",
            hint=f"{skipped + reporter.done} finished problems are saved in `{folder}`; re-run to resume "
            f"(`SAL_DEBUG=1` shows the traceback{_log_hint(log)})",
        ) from exc
    finally:
        seconds = time.monotonic() - started
        timings = {"load_seconds": round(loaded - started, 2), "generator_seconds": round(reporter.generator_seconds, 2),
                   "prm_seconds": round(reporter.prm_seconds, 2), "prm_tokens": reporter.prm_tokens}
        store.write_summary(
            {
                **summary,
                "status": status,
                **_totals(store),
                "last_session": {"problems": reporter.done, "tokens": reporter.tokens, "seconds": round(seconds, 2),
                                 "tokens_per_second": round(reporter.tokens_per_second, 2), **timings},
            }
        )
        store.close()
    note(
        f"{command}: {reporter.done} problems, {reporter.tokens} tokens in {seconds:.1f}s "
        f"({reporter.tokens_per_second:.1f} tok/s) -> `{folder}`"
    )
    return Outcome(folder, len(problems), skipped, reporter.done, reporter.tokens, seconds, loaded - started,
                   reporter.generator_seconds, reporter.prm_seconds, reporter.prm_tokens)


def _log_hint(log: Path | None) -> str:
    return f"; the libraries' own output is in `{log}`" if log else ""


def _totals(store: RunStore) -> dict[str, int]:
    records = read_results(store.results) if store.results.exists() else []
    tokens = sum(sum(r.get("completion_tokens", [])) for r in records)
    return {"problems_done": len(records), "completion_tokens": tokens}
