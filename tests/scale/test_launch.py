"""`sal launch` against a fake Slurm (sbatch/squeue answered by a recorder) and fabricated shard
folders: what is written to BASE, what is submitted, resubmission of missing and partial
shards by the coverage check, waiting, and bad input as one line with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sal_cli import profiles
from sal_cli.errors import SalError
from sal_cli.files import toml_dumps, tomllib
from sal_cli.scale import slurm

NEW = ["launch", "slurm", "--shards", "3", "-o", "exp", "--num-samples", "6", "-n", "2", "-q"]


class FakeSlurm:
    """Answers sbatch with increasing job ids and squeue with `queue` (one answer per call, the
    last one repeated); `on_squeue` runs before each squeue answer."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.queue = [""]
        self.on_squeue = None
        self.last_id = 100

    def __call__(self, args: list[str]) -> str:
        self.calls.append(args)
        if args[0] == "sbatch":
            self.last_id += 1
            return f"{self.last_id}\n"
        if self.on_squeue:
            self.on_squeue()
        return self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]

    def scripts(self) -> list[str]:
        return [Path(call[-1]).read_text() for call in self.calls if call[0] == "sbatch"]


@pytest.fixture
def fake_slurm(monkeypatch) -> FakeSlurm:
    fake = FakeSlurm()
    monkeypatch.setattr(slurm, "_run", fake)
    monkeypatch.setattr(slurm, "require_sbatch", lambda: None)
    monkeypatch.setattr(slurm, "POLL_SECONDS", 0)
    return fake


def _shard(base: Path, index: int, rows: range, done: range) -> None:
    """A shard folder as `sal search --shard index/3` leaves it, with the rows `done` saved."""
    settings = {k: v for k, v in tomllib.loads((base / "launch.toml").read_text()).items() if isinstance(v, dict)}
    settings["data"]["shard"] = f"{index}/3"
    folder = base / f"shard-{index}"
    folder.mkdir()
    (folder / "run.toml").write_text(toml_dumps(settings))
    (folder / "results.jsonl").write_text("".join(json.dumps({"idx": i, "completion_tokens": [1]}) + "\n" for i in done))
    status = "complete" if done == rows else "interrupted"
    (folder / "summary.json").write_text(json.dumps({"command": "search", "rows": [rows.start, rows.stop],
                                                      "dataset_rows": 500, "status": status}))


def test_a_launch_writes_its_settings_once_and_submits_the_array_then_the_merge(sal, fake_slurm, tmp_path):
    code, out, err = sal(*NEW, "--partition", "debug", "--sbatch-arg=--account=lab")
    assert code == 0, err
    base = tmp_path / "exp"
    assert out.strip() == str(base / "merged")
    expected = profiles.resolve(None, (), {"data.num_samples": (6, "--num-samples"), "sampling.n": (2, "-n")}).config
    assert profiles.resolve(str(base / "launch.toml")).config == expected  # what every shard runs
    sbatch = [call for call in fake_slurm.calls if call[0] == "sbatch"]
    assert sbatch[0][:2] == ["sbatch", "--parsable"] and sbatch[1][2] == "--dependency=afterok:101"
    shards, merge = fake_slurm.scripts()
    assert "#SBATCH --array=0-2" in shards and "#SBATCH --partition=debug" in shards and "#SBATCH --account=lab" in shards
    assert f"--shard \"$SLURM_ARRAY_TASK_ID\"/3 -o {base}/shard-\"$SLURM_ARRAY_TASK_ID\"" in shards
    assert f"merge {base}/shard-* -o {base}/merged --overwrite" in merge
    info = json.loads((base / "launch.json").read_text())
    assert (info["command"], info["shards"]) == ("search", 3)
    assert [(s["array_job"], s["merge_job"], s["shards"]) for s in info["submissions"]] == [("101", "102", [0, 1, 2])]
    assert info["submissions"][0]["program"] == [sys.executable, "-m", "sal_cli"]
    assert "submitted array job 101: shards 0-2 of 3" in err and "merge job 102 (after 101 succeeds)" in err


def test_resubmit_runs_only_the_missing_and_partial_shards_with_the_recorded_options(sal, fake_slurm, tmp_path):
    assert sal(*NEW, "--partition", "debug", "--time", "1:00:00")[0] == 0
    base = tmp_path / "exp"
    _shard(base, 0, range(0, 2), range(0, 2))
    _shard(base, 2, range(4, 6), range(4, 5))  # preempted after one of its two rows
    (base / "shard-1").mkdir()  # started, nothing saved
    missing = sal("merge", str(base / "shard-0"), str(base / "shard-2"), "--missing")
    assert "rows 2-3 are missing" in missing[2] and "rows 5-5 are missing" in missing[2]
    code, out, err = sal("launch", "slurm", "--resubmit", str(base), "--time", "4:00:00")
    assert code == 0, err
    assert ["squeue", "--me", "--noheader", "--format=%F|%i|%T"] in fake_slurm.calls  # nothing of it still queued
    shards, merge = fake_slurm.scripts()[2:]
    assert "#SBATCH --array=1-2" in shards
    assert "#SBATCH --partition=debug" in shards and "#SBATCH --time=4:00:00" in shards  # kept, and overridden
    assert f"-p {base}/launch.toml" in shards  # the same settings file
    info = json.loads((base / "launch.json").read_text())
    assert [s["shards"] for s in info["submissions"]] == [[0, 1, 2], [1, 2]]
    assert (base / "slurm" / "2-shards.sbatch").is_file() and (base / "slurm" / "1-shards.sbatch").is_file()


def test_resubmit_is_refused_while_a_job_of_the_launch_is_queued(sal, fake_slurm, tmp_path):
    assert sal(*NEW)[0] == 0
    fake_slurm.queue = ["77|77_0|RUNNING\n101|101_[1-2]|PENDING\n102|102|PENDING\n"]
    code, _, err = sal("launch", "slurm", "--resubmit", str(tmp_path / "exp"))
    assert code == 2
    assert "error: job 101_[1-2] of" in err and "is still pending" in err and "`scancel 101`" in err
    assert len(fake_slurm.scripts()) == 2  # nothing new submitted


def test_a_submitted_array_job_is_recorded_even_when_the_merge_job_is_refused(sal, fake_slurm, tmp_path, monkeypatch):
    def sbatch(args):
        if "--dependency=afterok:101" in args:
            raise SalError("`sbatch` failed: Invalid account or account/partition combination specified")
        return FakeSlurm.__call__(fake_slurm, args)

    monkeypatch.setattr(slurm, "_run", sbatch)
    code, _, err = sal(*NEW)
    assert code == 2 and "error: `sbatch` failed: Invalid account" in err
    info = json.loads((tmp_path / "exp" / "launch.json").read_text())
    assert [(s["array_job"], s["merge_job"]) for s in info["submissions"]] == [("101", None)]


def test_only_the_merge_job_is_submitted_when_every_shard_is_complete(sal, fake_slurm, tmp_path):
    assert sal(*NEW)[0] == 0
    base = tmp_path / "exp"
    for index, rows in enumerate((range(0, 2), range(2, 4), range(4, 6))):
        _shard(base, index, rows, rows)
    code, _, err = sal("launch", "slurm", "--resubmit", str(base))
    assert code == 0, err
    assert "--dependency" not in " ".join(fake_slurm.calls[-1]) and "merge" in fake_slurm.scripts()[-1]
    (base / "merged").mkdir()
    (base / "merged" / "summary.json").write_text(json.dumps({"status": "complete"}))
    calls = len(fake_slurm.calls)
    code, _, err = sal("launch", "slurm", "--resubmit", str(base))
    assert code == 0 and "all 3 shards and the merge are complete" in err
    assert all(call[0] == "squeue" for call in fake_slurm.calls[calls:])


def test_the_same_launch_again_reuses_base_and_other_settings_are_refused(sal, fake_slurm, tmp_path):
    assert sal(*NEW)[0] == 0
    assert sal(*NEW)[0] == 0
    code, _, err = sal(*NEW[:-1], "--seed", "3")
    assert code == 2 and "holds another launch: `sampling.seed` differ" in err and "--resubmit" in err
    code, _, err = sal(*NEW[:3], "4", *NEW[4:])
    assert code == 2 and "`--shards` (3 there) differ" in err


def test_wait_shows_shards_done_until_the_jobs_leave_the_queue(sal, fake_slurm, tmp_path):
    base = tmp_path / "exp"

    def progress():
        polls = sum(call[0] == "squeue" for call in fake_slurm.calls)
        for index, rows in list(enumerate((range(0, 2), range(2, 4), range(4, 6))))[: polls - 1]:
            if not (base / f"shard-{index}").exists():
                _shard(base, index, rows, rows)
        if polls == 4:
            (base / "merged").mkdir()
            (base / "merged" / "summary.json").write_text(json.dumps({"status": "complete"}))

    fake_slurm.on_squeue = progress
    fake_slurm.queue = ["101|101_[0-2]|PENDING\n102|102|PENDING\n", "101|101_1|RUNNING\n101|101_2|RUNNING\n102|102|PENDING\n",
                        "102|102|RUNNING\n", ""]
    code, out, err = sal(*NEW, "--wait")
    assert code == 0, err
    assert "0/3 shards complete · 3 pending · merge pending" in err
    assert "1/3 shards complete · 2 running · merge pending" in err
    assert "2/3 shards complete · merge running" in err and "3/3 shards complete\n" in err and f"merged and evaluated: `{base / 'merged'}`" in err
    assert out.strip() == str(base / "merged")


def test_wait_fails_naming_the_unfinished_shards_and_how_to_resubmit(sal, fake_slurm, tmp_path):
    code, _, err = sal(*NEW, "--wait")
    assert code == 1
    assert "error: shards 0-2 did not finish: see" in err and "shard-0.out" in err
    assert "`sal launch slurm --resubmit" in err


def test_dry_run_prints_both_scripts_and_writes_nothing(sal, tmp_path):
    code, out, err = sal(*NEW, "--dry-run")
    assert code == 0, err
    assert out.count("#!/bin/bash") == 2 and "#SBATCH --array=0-2" in out and "--kill-on-invalid-dep=yes" in out
    assert not (tmp_path / "exp").exists() and "nothing written or submitted" in err
    assert sal("launch", "--executor", "slurm", *NEW[2:], "--dry-run")[1] == out  # the option spelling is the same
    code, out, _ = sal("launch", "ray", *NEW[2:], "--dry-run")
    assert code == 0 and out.splitlines()[1].endswith(f"search -p {tmp_path}/exp/launch.toml --shard 1/3 -o {tmp_path}/exp/shard-1 -q")


BAD = {
    "no executor": (["launch", "--shards", "2", "-o", "x"], "`sal launch` needs an executor"),
    "unknown executor": (["launch", "pbs", "--shards", "2", "-o", "x"], "unknown executor `pbs`"),
    "two executors": (["launch", "slurm", "--executor", "ray"], "name two executors"),
    "zero shards": (["launch", "slurm", "--shards", "0", "-o", "x"], "`--shards` must be >= 1, got 0"),
    "more shards than rows": (["launch", "slurm", "--shards", "4", "--num-samples", "3", "-o", "x"],
                              "`--shards 4` is more than the 3 problems selected"),
    "no output": (["launch", "slurm", "--shards", "2"], "needs `--shards N` and `--output-dir BASE`"),
    "bad command": (["launch", "slurm", "--shards", "2", "-o", "x", "--command", "train"], "`--command` must be search or generate"),
    "bad settings": (["launch", "slurm", "--shards", "2", "-o", "x", "-a", "beam_search", "-n", "4", "--beam-width", "3"],
                     "must divide"),
    "slurm option on ray": (["launch", "ray", "--partition", "gpu"], "`--partition` is a slurm option, not a ray one"),
    "ray option on slurm": (["launch", "slurm", "--ray-address", "auto"], "`--ray-address` is a ray option"),
    "fraction of a gpu on slurm": (["launch", "slurm", "--shards", "2", "-o", "x", "--gpus-per-task", "0.5"],
                                   "`--gpus-per-task` must be a whole number on Slurm"),
    "settings with resubmit": (["launch", "slurm", "--resubmit", "x", "-n", "8"], "`--n` cannot change them"),
    "resubmit of no launch": (["launch", "slurm", "--resubmit", "nowhere"], "holds no launch"),
    "not a launch folder": (["launch", "slurm", "--shards", "2", "-o", "occupied"], "is not empty and holds no `launch.toml`"),
    "negative retries": (["launch", "ray", "--shards", "2", "-o", "x", "--retries", "-1"], "`--retries` must be >= 0"),
    "sbatch missing": (["launch", "slurm", "--shards", "2", "-o", "x"], "`sbatch` is not on PATH"),
    "ray missing": (["launch", "ray", "--shards", "2", "-o", "x"], "the Ray executor needs `ray`"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(sal, tmp_path, monkeypatch, case):
    args, expected = BAD[case]
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no sbatch, squeue
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    code, _, err = sal(*args)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err
    if case == "ray missing":
        assert "hint: `pip install 'sal-cli[ray]'`" in err
