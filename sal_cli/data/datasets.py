"""Problems in: bundled benchmarks, local files or hub datasets, sliced and sharded.

Every problem keeps its row id in the full dataset (`idx`), so resumed, sharded and merged
runs agree on which row is which.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sal_cli.config import DataConfig
from sal_cli.errors import SalError

BENCHMARK_DIR = Path(__file__).resolve().parent / "benchmarks"


@dataclass(frozen=True)
class Benchmark:
    file: str
    problem_column: str
    answer_column: str
    gsm8k_answers: bool = False  # reference answer is the text after `####`


BENCHMARKS = {
    "math500": Benchmark("math500.jsonl", "problem", "answer"),
    "gsm8k": Benchmark("gsm8k_test.jsonl", "question", "answer", gsm8k_answers=True),
    "aime24": Benchmark("aime24.jsonl", "problem", "answer"),
    "aime25": Benchmark("aime25.jsonl", "problem", "answer"),
    "amc23": Benchmark("amc23.jsonl", "problem", "answer"),
}
LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")


@dataclass
class Problem:
    """One dataset row: its id, the problem text, the reference answer and all its columns."""

    idx: int
    problem: str
    answer: Any
    row: dict[str, Any]


def load_problems(cfg: DataConfig) -> list[Problem]:
    """Load `cfg.dataset`, check its columns and return the selected slice/shard."""
    return load_selection(cfg)[0]


def load_selection(cfg: DataConfig) -> tuple[list[Problem], int]:
    """The selected problems and the number of rows in the whole dataset (for coverage checks)."""
    rows, problem_col, answer_col = _load_rows(cfg)
    if not rows:
        raise SalError(f"dataset `{cfg.dataset}` has no rows")
    missing = [c for c in (problem_col, answer_col) if c not in rows[0]]
    if missing:
        which = "data.problem_column" if missing[0] == problem_col else "data.answer_column"
        raise SalError(
            f"dataset `{cfg.dataset}` has no column `{missing[0]}`",
            hint=f"its columns are {', '.join(f'`{c}`' for c in rows[0])}; pick one with `--set {which}=NAME`",
        )
    indices = select_indices(len(rows), cfg)
    return [Problem(i, str(rows[i][problem_col]), rows[i][answer_col], rows[i]) for i in indices], len(rows)


def select_indices(total: int, cfg: DataConfig) -> list[int]:
    """Row ids after `start/end`, then `num_samples`, then the contiguous `shard` part."""
    end = total if cfg.end == -1 else min(cfg.end, total)
    if cfg.start >= total:
        raise SalError(
            f"`data.start` ({cfg.start}) is past the end of the dataset ({total} rows)",
            hint=f"use a start below {total}",
        )
    indices = list(range(cfg.start, end))
    if cfg.num_samples != -1:
        indices = indices[: cfg.num_samples]
    index, count = cfg.shard_index, cfg.shard_count
    size, extra = divmod(len(indices), count)
    lo = index * size + min(index, extra)
    indices = indices[lo : lo + size + (index < extra)]
    if not indices:
        raise SalError(
            f"shard {cfg.shard} of {len(range(cfg.start, end))} rows is empty",
            hint="use fewer shards than rows",
        )
    return indices


def _load_rows(cfg: DataConfig) -> tuple[list[dict[str, Any]], str, str]:
    name = cfg.dataset
    if name in BENCHMARKS:
        bench = BENCHMARKS[name]
        rows = read_local(BENCHMARK_DIR / bench.file)
        if bench.gsm8k_answers:
            rows = [_gsm8k_row(row) for row in rows]
        return rows, cfg.problem_column or bench.problem_column, cfg.answer_column or bench.answer_column
    columns = (cfg.problem_column or "problem", cfg.answer_column or "answer")
    path = Path(name).expanduser()
    if path.suffix.lower() in LOCAL_SUFFIXES or path.exists():
        if not path.is_file():
            raise SalError(f"dataset file `{name}` does not exist", hint=_dataset_hint())
        if path.suffix.lower() not in LOCAL_SUFFIXES:
            raise SalError(f"dataset file `{name}` has an unsupported type", hint=_dataset_hint())
        return read_local(path), *columns
    if name.count("/") == 1 and not name.startswith((".", "/")):
        return read_hub(name, cfg.split), *columns
    raise SalError(f"unknown dataset `{name}`", hint=_dataset_hint())


def _dataset_hint() -> str:
    return (
        f"use a bundled benchmark ({', '.join(BENCHMARKS)}), a local "
        f"{'/'.join(LOCAL_SUFFIXES)} file, or a hub name like `HuggingFaceH4/MATH-500`"
    )


def _gsm8k_row(row: dict[str, Any]) -> dict[str, Any]:
    """GSM8K stores a worked solution; the reference answer is what follows `####`."""
    solution = str(row["answer"])
    final = solution.rsplit("####", 1)[-1].strip().replace(",", "")
    return {**row, "answer": final, "solution": solution}


def read_local(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            return _read_jsonl(path)
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
                data = next(iter(data.values()))
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise SalError(f"`{path}` must hold a list of objects (one per problem)")
            return data
        if suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    except SalError:
        raise
    except json.JSONDecodeError as exc:
        raise SalError(f"`{path}` is not valid JSON: {exc}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SalError(f"cannot read dataset `{path}`: {exc}") from None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SalError(f"`{path}` line {number} is not valid JSON: {exc.msg}") from None
            if not isinstance(row, dict):
                raise SalError(f"`{path}` line {number} must be a JSON object")
            rows.append(row)
    return rows


def read_hub(name: str, split: str) -> list[dict[str, Any]]:
    from sal_cli.hub import go_offline_unless_reachable

    online = go_offline_unless_reachable()
    import datasets

    try:
        data = datasets.load_dataset(name, split=split)
    except Exception as exc:  # datasets raises many types for "not found / not cached"
        bundled = [k for k, b in BENCHMARKS.items() if k.replace("math", "math-") in name.lower() or k in name.lower()]
        suggestion = f"use the bundled `{bundled[0]}`" if bundled else "use a bundled benchmark or a local file"
        state = "is not in the local cache and the Hub is unreachable" if not online else f"could not be loaded ({exc})"
        raise SalError(f"hub dataset `{name}` (split `{split}`) {state}", hint=suggestion) from None
    return data.to_list()
