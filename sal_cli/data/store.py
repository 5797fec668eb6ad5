"""Runs on disk: `run.toml` (resolved profile), `results.jsonl` (one line per problem,
appended and flushed as each finishes) and `summary.json`.

Re-opening a folder resumes it: finished rows are skipped, a half-written last line (a
crash mid-write) is cut off, and a folder holding a run with other settings is refused
rather than mixed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sal_cli.errors import SalError
from sal_cli.files import toml_dumps, tomllib, write_atomic

RESULTS = "results.jsonl"
RUN_TOML = "run.toml"
SUMMARY = "summary.json"
MACHINE = "machine"  # run.toml's record of the machine's choices (dtype, CPU threads, KV cache)
# Settings that may change between a run and its resumption without changing its results.
RESUMABLE_KEYS = {"data.start", "data.end", "data.num_samples", "output.root", "output.dir", "generator.batch_size"}


def slug(name: str) -> str:
    """A single safe path component from a model or dataset name (never `..` or a separator)."""
    if "/" in name and Path(name).expanduser().exists():
        name = Path(name).name  # a local folder: its own name, not the whole path
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name.replace("/", "--")).strip("-.")
    return text or "unnamed"


def run_dir(root: str, *parts: str) -> Path:
    """`root/part1/part2/...` from names, guaranteed to stay inside `root`."""
    base = Path(root).expanduser().resolve()
    folder = base.joinpath(*(slug(p) for p in parts)).resolve()
    if not folder.is_relative_to(base):  # pragma: no cover - slug() already prevents it
        raise SalError(f"output folder `{folder}` would escape `{base}`")
    return folder


class RunStore:
    """One run folder. `open()` returns the ids already done; `append()` saves one problem."""

    def __init__(self, folder: Path, overwrite: bool = False):
        self.folder = Path(folder)
        self.overwrite = overwrite
        self.results = self.folder / RESULTS
        self._handle = None

    def open(self, command: str, settings: dict[str, dict[str, Any]], machine: dict[str, Any] | None = None) -> set[int]:
        """Create or resume the run; refuse a folder that holds a different run. `machine` (what
        was chosen for this machine: dtype, CPU threads) is written as `[machine]`, a record that
        is not a setting: resuming or merging runs from other machines is allowed."""
        if self.folder.exists() and not self.folder.is_dir():
            raise SalError(f"output path `{self.folder}` is a file, not a folder", hint="pick another `--output-dir`")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SalError(f"cannot create output folder `{self.folder}`: {exc.strerror}") from None
        if self.overwrite:
            for name in (RESULTS, SUMMARY, RUN_TOML):
                (self.folder / name).unlink(missing_ok=True)
        done = self._check_and_load(command, settings)
        sections = {**settings, MACHINE: machine} if machine else settings
        write_atomic(self.folder / RUN_TOML, toml_dumps(sections, header=f'description = "sal {command} run"'))
        return done

    def append(self, record: dict[str, Any]) -> None:
        if self._handle is None:  # created on the first result, so a run that fails to start leaves no claim
            self._handle = self.results.open("a", encoding="utf-8")
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_atomic(self.folder / SUMMARY, json.dumps(summary, indent=2) + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _check_and_load(self, command: str, settings: dict[str, dict[str, Any]]) -> set[int]:
        if not self.results.exists() or self.results.stat().st_size == 0:
            return set()
        previous = read_settings(self.folder)
        summary = read_summary(self.folder)
        if summary.get("command", command) != command:
            raise SalError(
                f"`{self.folder}` holds a `sal {summary['command']}` run, not `sal {command}`",
                hint="pick another `--output-dir`, or pass `--overwrite` to replace it",
            )
        changed = [
            f"{section}.{key}: {previous[section][key]!r} -> {value!r}"
            for section, table in settings.items()
            for key, value in table.items()
            if f"{section}.{key}" not in RESUMABLE_KEYS
            and section in previous
            and key in previous[section]
            and previous[section][key] != value
        ]
        if changed:
            raise SalError(
                f"`{self.folder}` holds a run with other settings ({'; '.join(changed[:3])})",
                hint="pick another `--output-dir`, or pass `--overwrite` to start over",
            )
        return {record["idx"] for record in read_results(self.results, repair=True)}



def read_results(path: Path, repair: bool = False) -> list[dict[str, Any]]:
    """Records of a results file. A torn last line (no newline: a crash mid-write) is
    dropped, and cut from the file when `repair`; a bad complete line is an error naming it."""
    data = path.read_bytes()
    body, _, tail = data.rpartition(b"\n")
    records = []
    for number, line in enumerate(body.split(b"\n") if body else [], 1):
        if line.strip():
            record = _parse_record(line)
            if record is None:
                raise SalError(
                    f"`{path}` line {number} is not a valid result record",
                    hint="remove that line (its problem runs again on resume)",
                )
            records.append(record)
    if tail.strip():
        record = _parse_record(tail)
        if record is not None:
            records.append(record)
        if repair:
            with path.open("r+b") as handle:
                if record is None:
                    handle.truncate(len(data) - len(tail))
                else:
                    handle.seek(0, os.SEEK_END)
                    handle.write(b"\n")
    return records


def _parse_record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "idx" in record else None


def read_settings(folder: Path) -> dict[str, dict[str, Any]]:
    """A run folder's `run.toml`; `{}` when it is missing or unreadable."""
    try:
        return tomllib.loads((Path(folder) / RUN_TOML).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def read_summary(folder: Path) -> dict[str, Any]:
    """A run folder's `summary.json`; `{}` when it is missing or unreadable."""
    try:
        return json.loads((Path(folder) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
