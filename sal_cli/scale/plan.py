"""A launch folder BASE: the settings every shard runs with, and which shards are left to run.

`BASE/launch.toml` holds the resolved profile, written once. Every shard runs
`sal <command> -p BASE/launch.toml --shard i/N -o BASE/shard-i`, so a resubmission, a Ray
retry or another executor runs exactly the settings of the first launch. `BASE/launch.json`
records the command, the shard count and every submission. Which shards are missing or
partial comes from the coverage check of `sal merge`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from sal_cli.config import RunConfig, to_dict
from sal_cli.data.merge import check, read_shard, shards_to_fill, write_merged
from sal_cli.data.store import RESULTS, SUMMARY
from sal_cli.files import toml_dumps, tomllib, write_atomic
from sal_cli.errors import RunFailure, SalError

LAUNCH_TOML = "launch.toml"
LAUNCH_JSON = "launch.json"
COMMANDS = ("search", "generate")
# What a worker needs to import the same sal and find the same caches and data (never a token).
CARRIED_ENV = ("PYTHONPATH", "SAL_CACHE", "HF_HOME", "HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_HUB_OFFLINE",
               "HF_DATASETS_OFFLINE")


@dataclass(frozen=True)
class Launch:
    """One launch: `command` run over `shards` contiguous parts, in folders under `base`."""

    base: Path
    command: str
    shards: int

    @property
    def profile(self) -> Path:
        return self.base / LAUNCH_TOML

    @property
    def merged(self) -> Path:
        return self.base / "merged"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    def shard_folder(self, index: int) -> Path:
        return self.base / f"shard-{index}"

    def shard_log(self, index: int) -> Path:
        return self.logs / f"shard-{index}.out"

    def shard_args(self, index: int) -> list[str]:
        """The `sal` arguments that run shard `index` (what a Slurm task runs)."""
        return [self.command, "-p", str(self.profile), "--shard", f"{index}/{self.shards}",
                "-o", str(self.shard_folder(index)), "-q"]


def prepare(base: str | Path, command: str, config: RunConfig, shards: int) -> Launch:
    """Check a new launch against its settings, its dataset and what BASE already holds;
    writes nothing (see `create`). A BASE holding the same launch is fine; another is refused."""
    from sal_cli.data.datasets import load_selection

    if shards < 1:
        raise SalError(f"`--shards` must be >= 1, got {shards}")
    if command not in COMMANDS:
        raise SalError(f"`--command` must be {' or '.join(COMMANDS)}, got `{command}`")
    launch = Launch(Path(base).expanduser().resolve(), command, shards)
    problems, _ = load_selection(replace(config.data, shard=""))
    if shards > len(problems):
        raise SalError(f"`--shards {shards}` is more than the {len(problems)} problems selected",
                       hint=f"use at most {len(problems)} shards")
    if launch.profile.is_file():
        old = load(launch.base)
        changed = _changed(tomllib.loads(launch.profile.read_text(encoding="utf-8")), _settings(config))
        changed += [f"`--{name}` ({before} there)" for name, before, now in
                    (("command", old.command, command), ("shards", old.shards, shards)) if before != now]
        if changed:
            raise SalError(f"`{launch.base}` holds another launch: {', '.join(changed[:3])} differ",
                           hint=f"pick another `--output-dir`, or finish that one with `sal launch slurm|ray --resubmit {launch.base}`")
    elif launch.base.is_dir() and any(launch.base.iterdir()):
        raise SalError(f"`{launch.base}` is not empty and holds no `{LAUNCH_TOML}`", hint="pick a new `--output-dir`")
    return launch


def create(launch: Launch, config: RunConfig) -> None:
    """Write `launch.toml` (the resolved settings, shard and folder unset) and `launch.json`,
    unless BASE already holds this launch."""
    if launch.profile.is_file():
        return
    launch.base.mkdir(parents=True, exist_ok=True)
    write_atomic(launch.profile, toml_dumps(_settings(config), header='description = "sal launch: the settings of every shard"'))
    info = {"command": launch.command, "shards": launch.shards, "submissions": []}
    write_atomic(launch.base / LAUNCH_JSON, json.dumps(info, indent=2) + "\n")


def load(base: str | Path) -> Launch:
    """The launch in `base` (for `--resubmit`, and for a Ray actor)."""
    base = Path(base).expanduser().resolve()
    info = _read_info(base)
    if not (base / LAUNCH_TOML).is_file() or not info:
        raise SalError(f"`{base}` holds no launch: `{LAUNCH_TOML}` or `{LAUNCH_JSON}` is missing",
                       hint="pass the folder that was given as `--output-dir` to `sal launch`")
    return Launch(base, info["command"], int(info["shards"]))


def pending(launch: Launch) -> list[int]:
    """Shards that are missing or partial, by `sal merge`'s coverage check of the shard folders
    that hold results (a torn last line counts as a missing row)."""
    if not launch.base.is_dir():
        return list(range(launch.shards))
    folders = [launch.shard_folder(i) for i in range(launch.shards) if (launch.shard_folder(i) / RESULTS).is_file()]
    if not folders:
        return list(range(launch.shards))
    report = check([read_shard(folder) for folder in folders])
    trouble = [*report.mismatches, *report.overlaps, *report.duplicates]
    if trouble:
        raise SalError(f"cannot run the shards of `{launch.base}` again: {trouble[0]}",
                       hint=f"inspect them with `sal merge {launch.base}/shard-* --missing`")
    return shards_to_fill(report, launch.shards)


def merge(launch: Launch, executor: str) -> dict[str, Any]:
    """Merge every shard into `BASE/merged` after `sal merge`'s coverage check; its summary."""
    report = check([read_shard(launch.shard_folder(i)) for i in range(launch.shards)])
    if report.problems:
        raise RunFailure(f"not merging `{launch.base}`: {report.problems[0]}",
                         hint=f"`sal launch {executor} --resubmit {launch.base}` runs what is missing")
    return write_merged(report, launch.merged, overwrite=True)


def complete_shards(launch: Launch) -> int:
    """Shards whose run says it is complete (what progress displays count)."""
    return sum(_summary(launch.shard_folder(i)).get("status") == "complete" for i in range(launch.shards))


def merged_complete(launch: Launch) -> bool:
    return _summary(launch.merged).get("status") == "complete"


def record(launch: Launch, submission: dict[str, Any]) -> None:
    """Append one submission (executor, shards, job ids, options) to `launch.json`, with its time."""
    info = _read_info(launch.base)
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    info.setdefault("submissions", []).append({"submitted": when, **submission})
    write_atomic(launch.base / LAUNCH_JSON, json.dumps(info, indent=2) + "\n")


def submissions(launch: Launch) -> list[dict[str, Any]]:
    return _read_info(launch.base).get("submissions", [])


def program() -> list[str]:
    """How workers start sal: the Python running this launch, so they run the same code."""
    return [sys.executable, "-m", "sal_cli"]


def carried_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables from `environ` that a worker gets: `CARRIED_ENV` and `SAL_*`."""
    return {k: environ[k] for k in sorted(environ) if environ[k] and (k in CARRIED_ENV or k.startswith("SAL_"))}


def _settings(config: RunConfig) -> dict[str, dict[str, Any]]:
    """What `launch.toml` holds: the settings with shard and output folder unset."""
    settings = to_dict(config)
    settings["data"]["shard"] = ""
    settings["output"]["dir"] = ""
    return settings


def _changed(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[str]:
    keys = {(s, k) for side in (old, new) for s, table in side.items() if isinstance(table, dict) for k in table}
    return [f"`{s}.{k}`" for s, k in sorted(keys) if old.get(s, {}).get(k) != new.get(s, {}).get(k)]


def _read_info(base: Path) -> dict[str, Any]:
    return _read_json(base / LAUNCH_JSON)


def _summary(folder: Path) -> dict[str, Any]:
    return _read_json(folder / SUMMARY)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
