"""Merging shard runs into one run, after checking that they cover their slice exactly once.

Every run records its slice (`summary.json` `rows`, the dataset's size in `dataset_rows`) and
its settings (`run.toml`), so a merge can tell, before it writes anything, which rows are
missing (gaps), which are covered twice (overlaps, duplicates), which shard was run with
other settings, and which results file ends in a torn line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sal_cli.config import DataConfig
from sal_cli.data.datasets import select_indices
from sal_cli.data.store import MACHINE, RESULTS, RUN_TOML, SUMMARY, read_results, read_summary
from sal_cli.files import toml_dumps, tomllib, write_atomic
from sal_cli.errors import SalError

# Settings shards may differ in without producing different results for the same row.
MERGEABLE_KEYS = {
    "data.shard", "data.start", "data.end", "data.num_samples", "output.root", "output.dir",
    "generator.batch_size", "generator.max_num_seqs", "generator.gpu_memory_utilization", "verifier.batch_size",
}


@dataclass
class Shard:
    """One run folder to merge: its settings, records and the slice it was asked to cover."""

    folder: Path
    command: str
    settings: dict[str, dict[str, Any]]
    records: list[dict[str, Any]]
    rows: range  # what its run selected
    whole: range  # that slice before sharding (all shards of one experiment share it)
    torn: bool  # the results file ended in a half-written line (its row is lost)
    dataset_rows: int

    @property
    def shard(self) -> str:
        return str(self.settings.get("data", {}).get("shard", ""))


@dataclass
class Coverage:
    """What a merge of `shards` would hold; `problems` lists everything that is not right."""

    shards: list[Shard]
    expected: range
    gaps: list[tuple[int, int]] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        gaps = [f"rows {lo}-{hi - 1} are missing ({hi - lo} problems)" for lo, hi in self.gaps]
        return [*self.mismatches, *gaps, *self.overlaps, *self.duplicates, *self.torn]


def read_shard(folder: Path) -> Shard:
    folder = Path(folder)
    results, run_toml = folder / RESULTS, folder / RUN_TOML
    for path in (results, run_toml):
        if not path.is_file():
            raise SalError(f"`{folder}` is not a run folder: `{path.name}` is missing", hint="pass the shards' run folders")
    try:
        settings = tomllib.loads(run_toml.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SalError(f"`{run_toml}` is not valid TOML: {exc}") from None
    summary = read_summary(folder)
    records = read_results(results)
    data = results.read_bytes()
    torn = bool(data) and not data.endswith(b"\n") and len(records) == data.count(b"\n")
    cfg = DataConfig(**{k: v for k, v in settings.get("data", {}).items() if k in DataConfig.__dataclass_fields__})
    total = summary.get("dataset_rows") or _dataset_rows(cfg, folder)
    if "rows" in summary:
        rows = range(*summary["rows"])
    else:
        picked = select_indices(total, cfg)
        rows = range(picked[0], picked[-1] + 1)
    whole_cfg = DataConfig(**{**cfg.__dict__, "shard": ""})
    whole = select_indices(total, whole_cfg)
    whole_rows = range(whole[0], whole[-1] + 1)
    return Shard(folder, summary.get("command", "search"), settings, records, rows, whole_rows, torn, total)


def check(shards: list[Shard]) -> Coverage:
    """Compare the shards with each other and with the slice they should cover together."""
    if not shards:
        raise SalError("no shard runs to merge", hint="pass run folders, e.g. `runs/exp/shard-*`")
    expected = range(min(s.whole.start for s in shards), max(s.whole.stop for s in shards))
    report = Coverage(shards, expected)
    first = shards[0]
    for shard in shards[1:]:
        diff = _differences(first.settings, shard.settings)
        if shard.command != first.command:
            diff.insert(0, f"command: {first.command} vs {shard.command}")
        if diff:
            report.mismatches.append(f"`{shard.folder}` was run with other settings than `{first.folder}`: "
                                     + "; ".join(diff[:4]))
    owner: dict[int, Shard] = {}
    for shard in shards:
        seen: set[int] = set()
        for record in shard.records:
            idx = record["idx"]
            if idx in seen:
                report.duplicates.append(f"row {idx} appears twice in `{shard.folder}`")
            seen.add(idx)
            owner.setdefault(idx, shard)
        if shard.torn:
            report.torn.append(f"`{shard.folder / RESULTS}` ends in a torn line: its row is lost (re-run the shard to redo it)")
    for i, a in enumerate(shards):
        for b in shards[i + 1 :]:
            lo, hi = max(a.rows.start, b.rows.start), min(a.rows.stop, b.rows.stop)
            if lo < hi:
                report.overlaps.append(f"`{a.folder}` and `{b.folder}` both cover rows {lo}-{hi - 1}")
    report.gaps = ranges(i for i in expected if i not in owner)
    return report


def write_merged(report: Coverage, out: Path, overwrite: bool = False) -> dict[str, Any]:
    """Write the merged run (first copy of each row wins) and return its summary."""
    out = Path(out)
    if (out / RESULTS).exists() and not overwrite:
        raise SalError(f"`{out}` already holds a run", hint="pick another `--output-dir`, or pass `--overwrite`")
    if any(out.resolve() == s.folder.resolve() for s in report.shards):
        raise SalError(f"`{out}` is one of the shards being merged", hint="write the merge to a new folder")
    out.mkdir(parents=True, exist_ok=True)
    records: dict[int, dict[str, Any]] = {}
    for shard in report.shards:
        for record in shard.records:
            records.setdefault(record["idx"], record)
    merged = [records[i] for i in sorted(records)]
    settings = {section: dict(table) for section, table in report.shards[0].settings.items()
                if isinstance(table, dict) and section != MACHINE}
    settings.setdefault("data", {}).update(shard="", start=report.expected.start, end=report.expected.stop, num_samples=-1)
    tmp = out / f".{RESULTS}.tmp"
    with tmp.open("w", encoding="utf-8") as handle:
        for record in merged:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out / RESULTS)
    command = report.shards[0].command
    write_atomic(out / RUN_TOML, toml_dumps(settings, header=f'description = "sal {command} run (merged)"'))
    summary = {
        "command": command,
        "status": "partial" if report.gaps else "complete",
        "merged_from": [str(s.folder) for s in report.shards],
        "rows": [report.expected.start, report.expected.stop],
        "dataset_rows": report.shards[0].dataset_rows,
        "gaps": [list(gap) for gap in report.gaps],
        "problems_done": len(merged),
        "completion_tokens": sum(sum(r.get("completion_tokens", [])) for r in merged),
    }
    write_atomic(out / SUMMARY, json.dumps(summary, indent=2) + "\n")
    return summary


def fill_commands(report: Coverage) -> list[str]:
    """The commands that would fill each gap: resume a partial shard, run a missing shard,
    or run the missing rows as a slice; plus a Slurm array line for missing shards."""
    first = report.shards[0]
    commands, missing_shards = [], []
    counts = {s.shard.partition("/")[2] for s in report.shards}
    count = int(counts.pop()) if len(counts) == 1 and first.shard else 0
    present = {int(s.shard.partition("/")[0]) for s in report.shards if s.shard}
    for lo, hi in report.gaps:
        inside = [s for s in report.shards if s.rows.start <= lo and hi <= s.rows.stop]
        if inside:
            shard = inside[0]
            commands.append(f"sal {shard.command} -p {shard.folder / RUN_TOML} -o {shard.folder}  # resumes rows {lo}-{hi - 1}")
            continue
        shard_cmds = _missing_shard_commands(report, count, present, lo, hi)
        if shard_cmds:
            for index, command in shard_cmds:
                if index not in missing_shards:
                    missing_shards.append(index)
                    commands.append(command)
            continue
        folder = first.folder.parent / f"fill-{lo}-{hi}"
        commands.append(
            f"sal {first.command} -p {first.folder / RUN_TOML} --set 'data.shard=\"\"' --set data.num_samples=-1 "
            f"--start {lo} --end {hi} -o {folder}"
        )
    if missing_shards:
        commands.append(f"# Slurm: resubmit the array job with --array={','.join(map(str, sorted(missing_shards)))}")
    return commands


def shards_to_fill(report: Coverage, count: int) -> list[int]:
    """Parts i of an i/`count` experiment whose rows meet a gap: the missing and the partial
    shards, which a resubmission runs again (a partial one resumes in its own folder)."""
    indices = []
    for index in range(count):
        rows = shard_rows(report.shards[0], index, count)
        if any(lo < rows.stop and rows.start < hi for lo, hi in report.gaps):
            indices.append(index)
    return indices


def shard_rows(shard: Shard, index: int, count: int) -> range:
    """The rows of part `index` of `count` of the slice that `shard`'s experiment covers."""
    cfg = DataConfig(**{k: v for k, v in shard.settings["data"].items() if k in DataConfig.__dataclass_fields__})
    rows = select_indices(shard.dataset_rows, DataConfig(**{**cfg.__dict__, "shard": f"{index}/{count}"}))
    return range(rows[0], rows[-1] + 1)


def _missing_shard_commands(report: Coverage, count: int, present: set[int], lo: int, hi: int) -> list[tuple[int, str]]:
    """Whole shards of an i/N experiment that are absent and lie inside the gap [lo, hi)."""
    if not count:
        return []
    first = report.shards[0]
    found = []
    for index in range(count):
        if index in present:
            continue
        rows = shard_rows(first, index, count)
        if lo <= rows.start and rows.stop <= hi:
            folder = _sibling(first, index)
            found.append((index, f"sal {first.command} -p {first.folder / RUN_TOML} --shard {index}/{count} -o {folder}"))
    return found


def _sibling(shard: Shard, index: int) -> Path:
    """Where shard `index` would live, named like its siblings (`shard-0-of-4` -> `shard-2-of-4`)."""
    name = shard.folder.name
    own = shard.shard.partition("/")[0]
    renamed = re.sub(rf"(shard-?){own}(\b|$)", rf"\g<1>{index}", name, count=1)
    return shard.folder.parent / (renamed if renamed != name else f"shard-{index}")


def ranges(indices) -> list[tuple[int, int]]:
    """Sorted ints -> [lo, hi) runs."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def _differences(a: dict[str, dict], b: dict[str, dict]) -> list[str]:
    keys = {f"{s}.{k}" for side in (a, b) for s, t in side.items() if isinstance(t, dict) and s != MACHINE for k in t}
    diff = []
    for key in sorted(keys - MERGEABLE_KEYS):
        section, _, name = key.partition(".")
        va, vb = a.get(section, {}).get(name), b.get(section, {}).get(name)
        if va != vb:
            diff.append(f"{key}: {va!r} vs {vb!r}")
    return diff


def _dataset_rows(cfg: DataConfig, folder: Path) -> int:
    """Older runs did not record the dataset's size: load the dataset to learn it."""
    from sal_cli.data.datasets import load_selection

    try:
        return load_selection(DataConfig(**{**cfg.__dict__, "shard": "", "start": 0, "end": -1, "num_samples": -1}))[1]
    except SalError as exc:
        raise SalError(f"cannot tell which rows `{folder}` should cover: {exc.message}") from None
