"""`sal search` end to end: every strategy writes complete records; resume after a kill;
the embedded SmolLM2 (generator and LLM-judge PRM) on both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from run_files import records as _records
from test_generate import _kill_midway

APPROACHES = ["best_of_n", "beam_search", "dvts", "collective_backtrack", "independent_backtrack"]


def _judge(model: Path) -> list[str]:
    return ["--prm", str(model), "--set", "verifier.protocol=llm-judge"]


@pytest.mark.parametrize("approach", APPROACHES)
def test_every_strategy_writes_complete_records(sal, tiny_model, tmp_path, approach):
    out = tmp_path / approach
    code, stdout, err = sal(
        "search", "-a", approach, "--model", str(tiny_model), *_judge(tiny_model), "--backend", "transformers",
        "--num-samples", "2", "-n", "4", "--beam-width", "2", "--max-tokens", "24", "--num-iterations", "3",
        "--set", "search.k_tokens=8", "--set", "search.max_steps=3", "-o", str(out), "-q",
    )
    assert code == 0, err
    assert stdout.strip() == str(out)
    records = _records(out)
    assert [r["idx"] for r in records] == [0, 1]
    for record in records:
        n = len(record["completions"])
        assert (n == 4) if approach in APPROACHES[:3] else (1 <= n <= 4)
        for key in ("completion_tokens", "scores", "agg_scores", "temperatures", "finished", "finish_reasons", "groups"):
            assert len(record[key]) == n, key
        assert all(0 <= t <= 24 for t in record["completion_tokens"])  # a search that never passed reports its root
        assert record["total_tokens"] >= max(record["completion_tokens"]) and record["total_tokens"] > 0
        assert all(0.0 <= s <= 1.0 for steps in record["scores"] for s in steps)
        assert record["pred"] in record["completions"]
        assert {f"pred_{rule}@{k}" for rule in ("weighted", "maj", "naive") for k in (1, 2, 4)} <= set(record)
        assert record["problem"] and record["answer"]  # the dataset's own columns are kept
    if approach == "dvts":
        assert records[0]["groups"] == [0, 0, 1, 1]
    if approach.endswith("backtrack"):
        assert {"steps", "retries", "backtracks", "jumps"} <= set(records[0]["search_stats"])
    run_toml = (out / "run.toml").read_text()
    assert f'approach = "{approach}"' in run_toml


def _start(tiny_model: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "sal_cli", "search", "-a", "beam_search", "--model", str(tiny_model), *_judge(tiny_model),
           "--backend", "transformers", "--num-samples", "8", "-n", "2", "--beam-width", "1", "--max-tokens", "32",
           "--num-iterations", "3", "--set", "generator.batch_size=1", "-o", str(out), "-q"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 130)])
def test_killed_search_completes_on_rerun_with_every_problem_once(tiny_model, tmp_path, sig, code):
    out = tmp_path / "run"
    proc = _start(tiny_model, out)
    err = _kill_midway(proc, out, sig)
    assert proc.returncode == code, err
    before = _records(out)
    assert 2 <= len(before) < 8
    rerun = _start(tiny_model, out)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    after = _records(out)
    assert sorted(r["idx"] for r in after) == list(range(8))
    assert after[: len(before)] == before  # finished problems are kept as they were


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["vllm", "transformers"])
def test_embedded_default_searches_with_each_strategy(tmp_path, backend):
    if backend == "vllm":
        pytest.importorskip("vllm")
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    problems = 2 if backend == "vllm" else 1  # the transformers decode loop is the slow one on 2 cores
    for approach in ("best_of_n", "beam_search", "dvts"):
        out = tmp_path / f"{backend}-{approach}"
        cmd = [sys.executable, "-m", "sal_cli", "search", "-a", approach, "--backend", backend, "--num-samples",
               str(problems), "-n", "4", "--beam-width", "2", "--max-tokens", "64", "--num-iterations", "3",
               "-o", str(out), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        assert proc.returncode == 0, proc.stderr
        records = _records(out)
        assert len(records) == problems and all(len(r["completions"]) == 4 for r in records)
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "complete" and summary["completion_tokens"] > 0
        settings = (out / "run.toml").read_text()
        assert 'prm = "embedded:smollm2-135m"' in settings and 'protocol = "llm-judge"' in settings


@pytest.mark.slow
def test_embedded_default_backtracking_searches_evaluate_next_to_best_of_n(tmp_path):
    folders = []
    for approach in ("collective_backtrack", "independent_backtrack", "best_of_n"):
        out = tmp_path / approach
        cmd = [sys.executable, "-m", "sal_cli", "search", "-a", approach, "--backend", "transformers", "--num-samples", "1",
               "-n", "2", "--max-tokens", "48", "--set", "search.k_tokens=24", "--set", "search.max_steps=3",
               "-o", str(out), "-q"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        folders.append(str(out))
    proc = subprocess.run([sys.executable, "-m", "sal_cli", "evaluate", *folders, "-o", str(tmp_path / "cmp"),
                           "--format", "json", "-q"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["runs"]
    assert [run["approach"] for run in runs] == ["collective_backtrack", "independent_backtrack", "best_of_n"]
    assert all(run["tokens"] for run in runs)  # accuracy against tokens, for every strategy
    assert (tmp_path / "cmp" / "comparison-tokens.png").is_file()
    for folder in folders[:2]:
        stats = [r["search_stats"] for r in _records(Path(folder))]
        assert all({"steps", "retries", "backtracks", "jumps"} <= set(s) for s in stats)
