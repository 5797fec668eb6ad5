"""`sal generate` end to end on real models: outputs, resume, kill and re-run, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_files import records as _records


def test_generate_writes_seed_compatible_records_and_resumes(sal, tiny_model, tmp_path):
    out = tmp_path / "run"
    common = ["generate", "--model", str(tiny_model), "--backend", "transformers", "--dataset", "gsm8k",
              "-n", "2", "--max-tokens", "8", "-o", str(out), "--quiet"]
    args = [*common, "--num-samples", "3"]
    code, stdout, err = sal(*args)
    assert code == 0, err
    assert stdout.strip() == str(out)
    records = _records(out)
    assert [r["idx"] for r in records] == [0, 1, 2]
    first = records[0]
    assert {"question", "answer", "solution", "completions", "completion_tokens", "finish_reasons"} <= set(first)
    assert first["answer"] == "18" and len(first["completions"]) == 2 and first["completion_tokens"] == [8, 8]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["problems_done"] == 3 and summary["completion_tokens"] == 48

    code, _, err = sal(*common, "--num-samples", "5")  # extend the slice: resume
    assert code == 0, err
    assert "3 of 5 problems already done" in err
    assert [r["idx"] for r in _records(out)] == [0, 1, 2, 3, 4]
    code, _, err = sal(*args)
    assert code == 0 and "already done" in err and len(_records(out)) == 5


def test_greedy_is_reproducible_and_run_toml_replays_it(sal, tiny_model, tmp_path):
    base = ["generate", "--model", str(tiny_model), "--backend", "transformers", "--num-samples", "2", "--greedy",
            "--max-tokens", "6", "-q"]
    assert sal(*base, "-o", str(tmp_path / "a"))[0] == 0
    code, _, err = sal("generate", "-p", str(tmp_path / "a" / "run.toml"), "-o", str(tmp_path / "b"), "-q")
    assert code == 0, err
    strip = lambda rs: [r["completions"] for r in rs]  # noqa: E731
    assert strip(_records(tmp_path / "a")) == strip(_records(tmp_path / "b"))


def test_default_output_folder_is_named_after_model_dataset_and_shard(sal, tiny_model, tmp_path):
    code, stdout, err = sal("generate", "--model", str(tiny_model), "--backend", "transformers", "--dataset", "aime24",
                            "--shard", "1/10", "--greedy", "--max-tokens", "2", "--set", "output.root=out", "-q")
    assert code == 0, err
    folder = Path(stdout.strip())
    assert folder.relative_to(tmp_path.resolve() / "out").parts == (tiny_model.name, "aime24", "generate-n1-t0", "shard-1-of-10")
    assert [r["idx"] for r in _records(folder)] == [3, 4, 5]


def _start(tiny_model: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sal_cli", "generate", "--model", str(tiny_model), "--backend", "transformers",
           "--num-samples", "10", "-n", "2", "--max-tokens", "48", "--set", "generator.batch_size=1", "-o", str(out), "-q"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_lines(out: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    results = out / "results.jsonl"
    while time.monotonic() < deadline:
        if results.exists() and results.read_text().count("\n") >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("run made no progress")


def _kill_midway(proc: subprocess.Popen, out: Path, sig: int) -> str:
    """Send `sig` once two problems are saved; the run's stderr."""
    _wait_for_lines(out, 2, proc)
    os.kill(proc.pid, sig)
    return proc.communicate(timeout=60)[1]


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 130)])
def test_killed_run_completes_on_rerun_with_every_problem_once(tiny_model, tmp_path, sig, code):
    out = tmp_path / "run"
    proc = _start(tiny_model, out)
    err = _kill_midway(proc, out, sig)
    assert proc.returncode == code, err
    if sig == signal.SIGTERM:
        assert "interrupted" in err and "re-run the same command to resume" in err
        assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    partial = len(_records(out))
    assert 2 <= partial < 10
    rerun = _start(tiny_model, out)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "already done" in err
    assert sorted(r["idx"] for r in _records(out)) == list(range(10))
