"""Reading a run folder as a user's script would: `results.jsonl` line by line, no sal code."""

from __future__ import annotations

import json
from pathlib import Path


def records(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
