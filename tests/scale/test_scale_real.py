"""The real thing: `sal launch` on a one-node Slurm cluster and on a local Ray cluster, on the
embedded default. Each merged run must hold every row once and equal the single-machine run
of the same profile and seed; a partial shard is resubmitted alone, and a killed Ray actor's
shard is retried without duplicating a row."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TINY, records


def _launch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sal_cli", "launch", *args], env=env, capture_output=True, text=True,
                          timeout=1200)


def _logs(base: Path) -> str:
    return "".join(f"\n== {path.name}\n{path.read_text()}" for path in sorted((base / "logs").glob("*")))


def _check_merged(base: Path, reference: list[dict], shards: int) -> None:
    for index in range(shards):
        ids = [r["idx"] for r in records(base / f"shard-{index}")]
        assert len(ids) == len(set(ids)), f"shard {index} holds a row twice: {ids}"
    merged = records(base / "merged")
    assert [r["idx"] for r in merged] == [0, 1, 2, 3]
    assert [sorted(r) for r in merged] == [sorted(r) for r in reference]  # same columns
    assert merged == reference  # same problems, same completions and scores
    summary = json.loads((base / "merged" / "summary.json").read_text())
    assert summary["status"] == "complete" and len(summary["merged_from"]) == shards
    assert (base / "merged" / "metrics.json").is_file()  # evaluated


@pytest.mark.slow
@pytest.mark.slurm
def test_slurm_array_merges_into_the_single_machine_run_and_resubmits_a_partial_shard(slurm_cluster, reference_run,
                                                                                      tmp_path):
    base = tmp_path / "exp"
    started = time.monotonic()
    proc = _launch("slurm", "--shards", "3", "-o", str(base), *TINY, "--cpus-per-task", "1", "--wait", "-q",
                   env=slurm_cluster.env)
    assert proc.returncode == 0, proc.stderr + _logs(base)
    print(f"\nslurm launch: {time.monotonic() - started:.0f}s\n{proc.stderr}")
    assert proc.stdout.strip() == str(base / "merged")
    assert "submitted array job" in proc.stderr and "merged and evaluated" in proc.stderr
    _check_merged(base, reference_run, 3)
    assert "coverage: complete" in (base / "logs").joinpath(
        f"merge-{json.loads((base / 'launch.json').read_text())['submissions'][0]['merge_job']}.out").read_text()

    results = base / "shard-0" / "results.jsonl"  # shard 0 preempted after its first row
    results.write_text(results.read_text().splitlines(keepends=True)[0])
    started = time.monotonic()
    proc = _launch("slurm", "--resubmit", str(base), "--wait", "-q", env=slurm_cluster.env)
    assert proc.returncode == 0, proc.stderr + _logs(base)
    print(f"slurm resubmit: {time.monotonic() - started:.0f}s\n{proc.stderr}")
    submissions = json.loads((base / "launch.json").read_text())["submissions"]
    assert [s["shards"] for s in submissions] == [[0, 1, 2], [0]]
    assert "#SBATCH --array=0\n" in (base / "slurm" / "2-shards.sbatch").read_text()
    assert "resuming" in (base / "logs" / "shard-0.out").read_text()
    _check_merged(base, reference_run, 3)


@pytest.mark.slow
def test_ray_retries_a_killed_actors_shard_and_merges_into_the_single_machine_run(reference_run, tmp_path):
    pytest.importorskip("ray")
    base = tmp_path / "exp"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "sal_cli", "launch", "ray", "--shards", "2", "--actors", "2",
                             "-o", str(base), *TINY, "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = _shard_half_done(base, proc)
    pid = int(re.findall(r"pid (\d+)", (base / "logs" / f"shard-{victim}.out").read_text())[-1])
    os.kill(pid, signal.SIGKILL)  # the actor's worker process, mid-shard
    out, err = proc.communicate(timeout=1200)
    assert proc.returncode == 0, err + _logs(base)
    print(f"\nray launch: {time.monotonic() - started:.0f}s, killed shard {victim}'s actor (pid {pid})\n{err}")
    assert out.strip() == str(base / "merged")
    log = (base / "logs" / f"shard-{victim}.out").read_text()
    assert "actor restarted after a crash" in log and "resuming" in log
    assert f"shard {victim}: 1 solved, 1 already saved (actor restarted)" in err
    _check_merged(base, reference_run, 2)


def _shard_half_done(base: Path, proc: subprocess.Popen) -> int:
    """The first shard seen with one of its two rows saved."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1]
        for index in (0, 1):
            results = base / f"shard-{index}" / "results.jsonl"
            if results.is_file() and results.read_text().count("\n") == 1:
                return index
        time.sleep(0.1)
    raise AssertionError("no shard got half done")
