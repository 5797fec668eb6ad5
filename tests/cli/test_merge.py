"""`sal merge` on real shard runs of `sal search` (embedded SmolLM2 as generator and PRM):
complete, missing, overlapping, other-seed and torn shards each give the right report and
exit code; `--missing` prints the commands that fill the gaps."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from run_files import records as _records

SEARCH = ["search", "--backend", "transformers", "--num-samples", "6", "-n", "2", "--max-tokens", "12", "-q"]


def _sal(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sal_cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    """Three shards of one experiment, one overlapping slice and one shard with another seed."""
    base = tmp_path_factory.mktemp("exp")
    for args, name in (
        (["--shard", "0/3"], "shard-0-of-3"),
        (["--shard", "1/3"], "shard-1-of-3"),
        (["--shard", "2/3"], "shard-2-of-3"),
        (["--start", "3", "--end", "5"], "overlap"),
        (["--shard", "1/3", "--seed", "7"], "other-seed"),
    ):
        proc = _sal(*SEARCH, *args, "-o", str(base / name), cwd=base)
        assert proc.returncode == 0, proc.stderr
    return base


def _work(shards: Path, tmp_path: Path, *names: str) -> list[str]:
    for name in names:
        shutil.copytree(shards / name, tmp_path / name)
    return [str(tmp_path / name) for name in names]


THREE = ("shard-0-of-3", "shard-1-of-3", "shard-2-of-3")


def test_complete_shards_merge_into_one_run_that_replays(shards, tmp_path):
    folders = _work(shards, tmp_path, *THREE)
    proc = _sal("merge", *folders, "-o", str(tmp_path / "merged"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "coverage: complete" in proc.stderr
    merged = _records(tmp_path / "merged")
    assert [r["idx"] for r in merged] == list(range(6))
    assert merged[2] == _records(tmp_path / "shard-1-of-3")[0]  # records are copied as they were
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert (summary["status"], summary["gaps"], summary["dataset_rows"], summary["command"]) == ("complete", [], 500, "search")
    run_toml = (tmp_path / "merged" / "run.toml").read_text()
    assert 'shard = ""' in run_toml and "start = 0" in run_toml and "end = 6" in run_toml
    again = _sal("search", "-p", str(tmp_path / "merged" / "run.toml"), "-o", str(tmp_path / "merged"), "-q", cwd=tmp_path)
    assert again.returncode == 0 and "all 6 problems already done" in again.stderr  # the merged run is a run


def test_a_missing_shard_is_reported_refused_and_its_fill_command_works(shards, tmp_path):
    folders = _work(shards, tmp_path, "shard-0-of-3", "shard-2-of-3")
    proc = _sal("merge", *folders, "-o", str(tmp_path / "merged"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "error: not merging: rows 2-3 are missing (2 problems)" in proc.stderr
    assert not (tmp_path / "merged").exists()
    missing = _sal("merge", str(tmp_path / "shard-*"), "--missing", cwd=tmp_path)
    assert missing.returncode == 0, missing.stderr
    command, slurm = missing.stdout.strip().splitlines()
    assert command.endswith(f"--shard 1/3 -o {tmp_path / 'shard-1-of-3'}") and "shard-0-of-3/run.toml" in command
    assert slurm == "# Slurm: resubmit the array job with --array=1"
    partial = _sal("merge", *folders, "-o", str(tmp_path / "merged"), "--allow-partial", cwd=tmp_path)
    assert partial.returncode == 0, partial.stderr
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["status"] == "partial" and summary["gaps"] == [[2, 4]]
    filled = subprocess.run(command.replace("sal ", f"{sys.executable} -m sal_cli ", 1) + " -q --backend transformers",
                            shell=True, capture_output=True, text=True, cwd=tmp_path)
    assert filled.returncode == 0, filled.stderr
    assert _records(tmp_path / "shard-1-of-3") == _records(shards / "shard-1-of-3")  # same seeds, same records
    assert _sal("merge", str(tmp_path / "shard-*"), "-o", str(tmp_path / "full"), cwd=tmp_path).returncode == 0


def test_an_overlapping_shard_is_refused(shards, tmp_path):
    folders = _work(shards, tmp_path, *THREE, "overlap")
    proc = _sal("merge", *folders, "-o", str(tmp_path / "merged"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "shard-1-of-3` and `" in proc.stderr and "both cover rows 3-3" in proc.stderr
    assert "both cover rows 4-4" in proc.stderr


def test_a_shard_with_another_seed_is_refused_even_when_partial_is_allowed(shards, tmp_path):
    folders = _work(shards, tmp_path, "shard-0-of-3", "other-seed", "shard-2-of-3")
    for extra in ([], ["--allow-partial"]):
        proc = _sal("merge", *folders, "-o", str(tmp_path / "merged"), *extra, cwd=tmp_path)
        assert proc.returncode == 2
        assert "was run with other settings" in proc.stderr and "sampling.seed: 0 vs 7" in proc.stderr
        assert "merge only shards of the same experiment" in proc.stderr


def test_a_torn_last_line_loses_its_row_and_is_reported(shards, tmp_path):
    folders = _work(shards, tmp_path, *THREE)
    results = tmp_path / "shard-2-of-3" / "results.jsonl"
    data = results.read_bytes()
    results.write_bytes(data[: len(data) - 40])  # killed while writing its last line
    proc = _sal("merge", *folders, "-o", str(tmp_path / "merged"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "rows 5-5 are missing" in proc.stderr and "ends in a torn line" in proc.stderr
    assert results.read_bytes() == data[: len(data) - 40]  # shards are never modified
    assert _sal("merge", *folders, "-o", str(tmp_path / "merged"), "--allow-partial", cwd=tmp_path).returncode == 0
    assert [r["idx"] for r in _records(tmp_path / "merged")] == [0, 1, 2, 3, 4]


def test_bad_merge_inputs_are_one_line_and_exit_2(shards, tmp_path):
    (tmp_path / "empty").mkdir()
    for args, expected in (
        ([str(tmp_path / "empty")], "is not a run folder: `results.jsonl` is missing"),
        ([str(tmp_path / "nothing-*")], "matches no folder"),
        ([str(shards / "shard-0-of-3")], "needs `--output-dir`"),
        ([], "give shard folders or `--from-hub REPO`"),
    ):
        proc = _sal("merge", *args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and expected in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
