"""Rows in for training and evaluation: a bundled sample, a local file or a hub dataset.

Every row is checked before any model loads, so a bad file costs a second, not a model
download, and the error names the row (counted from 0, as `datasets` indexes them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sal_cli.data.datasets import LOCAL_SUFFIXES, read_hub, read_local
from sal_cli.errors import SalError

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "training"
BUNDLED = {"prm-sample": BUNDLED_DIR / "prm_sample.jsonl"}
STEPWISE_COLUMNS = ("prompt", "completions", "labels")
STEPWISE_HINT = (
    "each row needs `prompt` (text), `completions` (a list of step texts) and `labels` "
    "(a list of true/false, one per step): TRL's stepwise-supervision format"
)


def read_rows(name: str, split: str, bundled: dict[str, Path]) -> list[dict[str, Any]]:
    """Rows of a bundled short name, a local `.jsonl`/`.json`/`.parquet`/`.csv` file or a hub dataset."""
    hint = (
        f"use a bundled name ({', '.join(bundled)}), a local {'/'.join(LOCAL_SUFFIXES)} file, "
        "or a hub name like `trl-lib/math_shepherd`"
    )
    if name in bundled:
        return read_local(bundled[name])
    path = Path(name).expanduser()
    if path.suffix.lower() in LOCAL_SUFFIXES or path.exists():
        if not path.is_file() or path.suffix.lower() not in LOCAL_SUFFIXES:
            raise SalError(f"dataset file `{name}` does not exist or has an unsupported type", hint=hint)
        return read_local(path)
    if name.count("/") == 1 and not name.startswith((".", "/")):
        try:
            return read_hub(name, split)
        except SalError as exc:
            raise SalError(exc.message, hint=hint) from None
    raise SalError(f"unknown dataset `{name}`", hint=hint)


def require_columns(rows: list[dict[str, Any]], name: str, columns: tuple[str, ...], hint: str) -> None:
    """The dataset has rows and its first row has every column (each row is checked later)."""
    if not rows:
        raise SalError(f"dataset `{name}` has no rows", hint=hint)
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        have = ", ".join(f"`{c}`" for c in rows[0])
        raise SalError(f"dataset `{name}` has no column `{missing[0]}` (its columns: {have})", hint=hint)


def load_stepwise(name: str, split: str, num_samples: int = -1) -> list[dict[str, Any]]:
    """Stepwise-supervision rows (`prompt`, `completions`, `labels`), checked row by row."""
    rows = read_rows(name, split, BUNDLED)
    require_columns(rows, name, STEPWISE_COLUMNS, STEPWISE_HINT)
    if num_samples != -1:
        rows = rows[:num_samples]
    for index, row in enumerate(rows):
        problem = _stepwise_problem(row)
        if problem:
            raise SalError(f"dataset `{name}` row {index}: {problem}", hint=STEPWISE_HINT)
    return [{column: row[column] for column in STEPWISE_COLUMNS} for row in rows]


def _stepwise_problem(row: dict[str, Any]) -> str:
    """What is wrong with one row, or `""`."""
    missing = [c for c in STEPWISE_COLUMNS if c not in row]
    if missing:
        return f"has no `{missing[0]}`"
    prompt, completions, labels = row["prompt"], row["completions"], row["labels"]
    if not isinstance(prompt, str):
        return f"`prompt` must be text, got {type(prompt).__name__}"
    if not isinstance(completions, list) or not all(isinstance(c, str) for c in completions):
        return "`completions` must be a list of step texts"
    if not completions:
        return "`completions` is empty"
    if not isinstance(labels, list) or not all(isinstance(x, bool) or x in (0, 1) for x in labels):
        return "`labels` must be a list of true/false"
    if len(labels) != len(completions):
        return f"`labels` has {len(labels)} items but `completions` has {len(completions)}"
    return ""
