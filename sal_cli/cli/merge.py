"""`sal merge`: merge shard runs into one run after a coverage check."""

from __future__ import annotations

import glob
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

EPILOG = """Examples:

  sal merge runs/exp/shard-* -o runs/exp/merged

  sal merge runs/exp/shard-* --missing            # what is missing, and the commands that fill it

  sal merge 'runs/exp/shard-*' -o runs/exp/merged --allow-partial

  sal merge --from-hub me/Llama-3.2-1B-Instruct-best_of_n-prm-completions --filter seed-0 -o runs/merged
"""


def merge(
    shards: Annotated[
        Optional[list[str]], typer.Argument(help="Shard run folders, or quoted globs such as `'runs/exp/shard-*'`.")
    ] = None,
    output_dir: Annotated[
        Optional[str], typer.Option("--output-dir", "-o", help="Folder of the merged run (required unless `--missing`).")
    ] = None,
    allow_partial: Annotated[
        bool, typer.Option("--allow-partial", help="Write even with gaps or overlaps; gaps are recorded in the summary.")
    ] = False,
    missing: Annotated[
        bool, typer.Option("--missing", help="Print the missing row ranges and the commands that fill them; write nothing.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a merged run already in the output folder.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the coverage report as JSON on stdout.")] = False,
    from_hub: Annotated[
        Optional[str], typer.Option("--from-hub", help="Merge the revisions (branches) of this Hub dataset repo.")
    ] = None,
    name_filter: Annotated[
        str, typer.Option("--filter", help="With `--from-hub`: only revisions whose name contains this, e.g. `seed-0`.")
    ] = "",
    push_to_hub: Annotated[
        Optional[str], typer.Option("--push-to-hub", help="Push the merged run to this Hub dataset repo.")
    ] = None,
) -> None:
    """Merge shard runs (`--shard i/N` or `--start/--end` slices) into one run.

    Before writing, checks coverage: gaps (missing rows), overlapping shards, duplicate rows,
    shards run with other settings, torn last lines. Any of these refuses the merge (exit 2)
    unless `--allow-partial`; other settings are always refused. The merged run evaluates like
    a single one, and re-running its `run.toml` into it fills its gaps.
    """
    from sal_cli.cli._run import push
    from sal_cli.data.merge import check, fill_commands, read_shard, write_merged
    from sal_cli.errors import SalError
    from sal_cli.progress import note

    if bool(shards) == bool(from_hub):
        raise SalError("give shard folders or `--from-hub REPO`, not both or neither",
                       hint="e.g. `sal merge runs/exp/shard-*` or `sal merge --from-hub me/results --filter seed-0`")
    folders = _download(from_hub, name_filter, output_dir) if from_hub else _expand(shards)
    report = check([read_shard(folder) for folder in folders])
    if as_json:
        typer.echo(json.dumps({"expected": [report.expected.start, report.expected.stop], "gaps": report.gaps,
                               "problems": report.problems, "fill": fill_commands(report) if report.gaps else []}, indent=2))
    else:
        _render(report)
    if missing:
        if not as_json:
            for command in fill_commands(report):
                typer.echo(command)
        return
    if output_dir is None:
        raise SalError("`sal merge` needs `--output-dir`", hint="e.g. `-o runs/exp/merged`, or `--missing` to only check")
    if report.mismatches or (report.problems and not allow_partial):
        raise SalError(
            f"not merging: {report.problems[0]}" + (f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""),
            hint="settings must match; for gaps run `sal merge ... --missing`, or pass `--allow-partial`"
            if not report.mismatches else "merge only shards of the same experiment",
        )
    summary = write_merged(report, Path(output_dir), overwrite=overwrite)
    note(f"merged {len(folders)} shards: {summary['problems_done']} problems, status {summary['status']} -> `{output_dir}`")
    push(Path(output_dir), push_to_hub, overwrite)
    if not as_json:
        typer.echo(output_dir)


def _download(repo_id: str, name_filter: str, output_dir: str | None) -> list[Path]:
    """The matching revisions, downloaded next to the merged run (or to a temporary folder)."""
    import tempfile

    from sal_cli.data import hub_runs

    base = Path(output_dir).parent / f".{Path(output_dir).name}-shards" if output_dir else Path(tempfile.mkdtemp())
    return hub_runs.download_runs(repo_id, name_filter, base, hub_runs.default_api())


def _expand(patterns: list[str]) -> list[Path]:
    from sal_cli.errors import SalError

    folders: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise SalError(f"`{pattern}` matches no folder", hint="check the path or the glob")
        folders += [Path(m) for m in matches if Path(m) not in folders]
    return folders


def _render(report) -> None:
    from rich.table import Table

    from sal_cli.progress import console

    table = Table("shard", "slice", "rows", "records", box=None, pad_edge=False,
                  title=f"expected rows {report.expected.start}-{report.expected.stop - 1}", title_justify="left")
    for shard in report.shards:
        rows = f"{shard.rows.start}-{shard.rows.stop - 1}"
        table.add_row(str(shard.folder), shard.shard or "-", rows, f"{len(shard.records)}/{len(shard.rows)}")
    console.print(table)
    for problem in report.problems:
        console.print(f"- {problem}", markup=False, soft_wrap=True)
    if not report.problems:
        console.print("coverage: complete, no overlaps, settings match")
