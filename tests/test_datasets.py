"""Datasets: bundled benchmarks, local formats, slicing and sharding."""

from __future__ import annotations

import json

import pytest

from sal_cli.config import DataConfig
from sal_cli.data.datasets import load_problems, select_indices


@pytest.mark.parametrize(("name", "rows"), [("math500", 500), ("gsm8k", 1319), ("aime24", 30), ("aime25", 30), ("amc23", 40)])
def test_bundled_benchmarks_load_offline(name, rows):
    problems = load_problems(DataConfig(dataset=name))
    assert len(problems) == rows
    assert all(p.problem and p.answer is not None for p in problems)


def test_gsm8k_answer_is_the_text_after_hashes():
    first = load_problems(DataConfig(dataset="gsm8k", num_samples=1))[0]
    assert first.answer == "18"
    assert "####" in first.row["solution"]


def test_slice_keeps_row_ids():
    problems = load_problems(DataConfig(dataset="math500", start=10, end=20, num_samples=3))
    assert [p.idx for p in problems] == [10, 11, 12]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_cover_the_slice_exactly_once(count):
    parts = [select_indices(100, DataConfig(start=5, end=28, shard=f"{i}/{count}")) for i in range(count)]
    flat = [i for part in parts for i in part]
    assert flat == list(range(5, 28))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_local_formats(tmp_path):
    rows = [{"q": "1+1", "a": "2"}, {"q": "2+2", "a": "4"}]
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "d.json").write_text(json.dumps({"data": rows}))
    (tmp_path / "d.csv").write_text("q,a\n1+1,2\n2+2,4\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "d.parquet")
    for suffix in ("jsonl", "json", "csv", "parquet"):
        problems = load_problems(DataConfig(dataset=str(tmp_path / f"d.{suffix}"), problem_column="q", answer_column="a"))
        assert [(p.idx, p.problem, str(p.answer)) for p in problems] == [(0, "1+1", "2"), (1, "2+2", "4")], suffix
