"""Slurm script rendering and squeue parsing, as pure functions on literal inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sal_cli.errors import SalError
from sal_cli.scale.plan import Launch, carried_env
from sal_cli.scale.slurm import SlurmOptions, Worker, array_script, array_spec, merge_script, queue_status

LAUNCH = Launch(Path("/runs/exp 1"), "search", 4)
WORKER = Worker(["/opt/py/bin/python", "-m", "sal_cli"], {"PYTHONPATH": "/src", "SAL_CACHE": "/cache/sal"}, Path("/home/me"))
OPTIONS = SlurmOptions(partition="gpu", time="12:00:00", gpus_per_task=1, cpus_per_task=8,
                       sbatch_args=["--account=lab", "--mem=64G"])


@pytest.mark.parametrize(("indices", "spec"), [
    ([0], "0"), ([0, 1, 2, 3], "0-3"), ([3, 1, 2], "1-3"), ([0, 1, 2, 5, 7, 8], "0-2,5,7-8"), ([4, 6], "4,6"),
])
def test_array_spec_compresses_runs(indices, spec):
    assert array_spec(indices) == spec


def test_array_script_runs_shard_i_with_the_launch_settings():
    assert array_script(LAUNCH, [1, 2, 3], OPTIONS, WORKER) == """#!/bin/bash
#SBATCH --job-name='sal-exp 1'
#SBATCH --output='/runs/exp 1/logs/shard-%a.out'
#SBATCH --open-mode=append
#SBATCH --chdir=/home/me
#SBATCH --partition=gpu
#SBATCH --time=12:00:00
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=8
#SBATCH --account=lab
#SBATCH --mem=64G
#SBATCH --array=1-3
# sal launch: shard $SLURM_ARRAY_TASK_ID of 4, settings in /runs/exp 1/launch.toml
set -euo pipefail
export PYTHONPATH=/src
export SAL_CACHE=/cache/sal
export OMP_NUM_THREADS=8
exec /opt/py/bin/python -m sal_cli search -p '/runs/exp 1/launch.toml' --shard "$SLURM_ARRAY_TASK_ID"/4 \
-o '/runs/exp 1'/shard-"$SLURM_ARRAY_TASK_ID" -q
""".replace("\\\n", "")


def test_merge_script_merges_then_evaluates_without_gpus():
    script = merge_script(LAUNCH, SlurmOptions(job_name="beam", partition="gpu", gpus_per_task=2), WORKER)
    assert script == """#!/bin/bash
#SBATCH --job-name=beam-merge
#SBATCH --output='/runs/exp 1/logs/merge-%j.out'
#SBATCH --open-mode=append
#SBATCH --chdir=/home/me
#SBATCH --partition=gpu
#SBATCH --kill-on-invalid-dep=yes
# sal launch: merge the 4 shards of /runs/exp 1 and evaluate the result
set -euo pipefail
export PYTHONPATH=/src
export SAL_CACHE=/cache/sal
/opt/py/bin/python -m sal_cli merge '/runs/exp 1'/shard-* -o '/runs/exp 1/merged' --overwrite
exec /opt/py/bin/python -m sal_cli evaluate '/runs/exp 1/merged' -q
"""


def test_unset_options_leave_the_cluster_defaults():
    script = array_script(Launch(Path("/b"), "generate", 2), [0, 1], SlurmOptions(), Worker(["sal"], {}, Path("/w")))
    assert [line for line in script.splitlines() if line.startswith("#SBATCH")] == [
        "#SBATCH --job-name=sal-b", "#SBATCH --output=/b/logs/shard-%a.out", "#SBATCH --open-mode=append",
        "#SBATCH --chdir=/w", "#SBATCH --array=0-1"]
    assert script.splitlines()[-1] == 'exec sal generate -p /b/launch.toml --shard "$SLURM_ARRAY_TASK_ID"/2 -o /b/shard-"$SLURM_ARRAY_TASK_ID" -q'
    assert "OMP_NUM_THREADS" not in script


def test_queue_status_counts_array_tasks_and_names_the_merge_job():
    queued = {"12_0": "RUNNING", "12_3": "RUNNING", "12_[4-6,9%2]": "PENDING", "13": "PENDING"}
    assert queue_status(queued, "12", "13") == "4 pending, 2 running · merge pending"
    assert queue_status({"13": "RUNNING"}, "12", "13") == "merge running"
    assert queue_status({}, None, "13") == ""


def test_a_resubmission_keeps_the_recorded_options_it_does_not_override():
    recorded = {"partition": "gpu", "time": "01:00:00", "sbatch_args": ["--account=lab"], "unknown": 1}
    options = SlurmOptions(time="12:00:00").over(recorded)
    assert (options.partition, options.time, options.sbatch_args) == ("gpu", "12:00:00", ["--account=lab"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sbatch_args": ["account=lab"]}, "must be an sbatch option"),
    ({"gpus_per_task": -1}, "`--gpus-per-task` must be >= 0"),
])
def test_bad_slurm_options_are_refused(kwargs, message):
    with pytest.raises(SalError, match=message):
        SlurmOptions(**kwargs)


def test_workers_get_the_paths_and_caches_but_never_a_token():
    environ = {"PYTHONPATH": "/src", "SAL_CACHE": "/c", "SAL_DEBUG": "1", "HF_HOME": "/hf", "HF_TOKEN": "secret",
               "HOME": "/root", "HF_HUB_OFFLINE": ""}
    assert carried_env(environ) == {"HF_HOME": "/hf", "PYTHONPATH": "/src", "SAL_CACHE": "/c", "SAL_DEBUG": "1"}
