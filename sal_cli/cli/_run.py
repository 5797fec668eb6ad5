"""`--push-to-hub`, shared by the commands that write a run."""

from __future__ import annotations

from pathlib import Path


def push(folder: Path, repo_id: str | None, overwrite: bool) -> None:
    """`--push-to-hub REPO`: upload the run as a revision named from its settings (a shard's
    with its chunk); an existing revision is replaced only with `--overwrite`."""
    if not repo_id:
        return
    from sal_cli.data import hub_runs
    from sal_cli.data.store import read_settings, read_summary
    from sal_cli.progress import note

    settings, summary = read_settings(folder), read_summary(folder)
    rows = summary.get("rows")
    whole = [0, summary.get("dataset_rows")]
    chunk = tuple(rows) if rows and (settings.get("data", {}).get("shard") or rows != whole) else None
    revision = hub_runs.revision_name(settings, chunk)
    where = hub_runs.push_run(folder, repo_id, revision, hub_runs.default_api(), overwrite=overwrite)
    note(f"pushed `{folder}` to {where}")
