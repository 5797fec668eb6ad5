"""Slurm: one sbatch array job over a launch's shards, and a dependent job that merges and evaluates.

Task i of the array runs `sal <command> -p BASE/launch.toml --shard i/N -o BASE/shard-i`; the
merge job (`afterok` on the array) runs `sal merge` and `sal evaluate`. Scripts are rendered by
pure functions; every Slurm command goes through `Slurm.run`, which tests replace.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

from sal_cli.data.merge import ranges
from sal_cli.errors import RUN_FAILED, RunFailure, SalError
from sal_cli.progress import note
from sal_cli.scale import plan
from sal_cli.scale.plan import Launch

POLL_SECONDS = 5.0


@dataclass
class SlurmOptions:
    """What the scripts ask of the scheduler; unset values are left to the cluster's defaults."""

    job_name: str = ""
    partition: str | None = None
    time: str | None = None
    gpus_per_task: int | None = None  # shard tasks only: the merge job needs no GPU
    cpus_per_task: int | None = None
    sbatch_args: list[str] = field(default_factory=list)  # extra `#SBATCH` lines, e.g. `--account=lab`

    def __post_init__(self) -> None:
        for arg in self.sbatch_args:
            if not arg.startswith("-"):
                raise SalError(f"`--sbatch-arg {arg}` must be an sbatch option", hint="e.g. `--sbatch-arg=--account=lab`")
        for name in ("gpus_per_task", "cpus_per_task"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise SalError(f"`--{name.replace('_', '-')}` must be >= 0, got {value}")

    def over(self, recorded: dict) -> "SlurmOptions":
        """These options, with the ones a resubmission leaves unset taken from `recorded`."""
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in recorded.items() if k in known}
        values.update({k: v for k, v in asdict(self).items() if v not in (None, "", [])})
        return SlurmOptions(**values)


@dataclass(frozen=True)
class Worker:
    """How a task starts sal: the program, the environment it exports, the folder it runs in."""

    program: list[str]
    env: dict[str, str]
    workdir: Path


def array_spec(indices: list[int]) -> str:
    """`[0, 1, 2, 5, 7, 8]` -> `0-2,5,7-8` (sbatch's `--array=` syntax)."""
    return ",".join(str(lo) if hi == lo + 1 else f"{lo}-{hi - 1}" for lo, hi in ranges(sorted(indices)))


def array_script(launch: Launch, indices: list[int], options: SlurmOptions, worker: Worker) -> str:
    """The array job: task i runs shard i into `BASE/shard-i`, logging to `BASE/logs/shard-i.out`."""
    task = '"$SLURM_ARRAY_TASK_ID"'
    base = shlex.quote(str(launch.base))
    header = _header(job_name(launch, options), f"{launch.logs}/shard-%a.out", options, worker, gpus=True)
    return "\n".join([
        *header, f"#SBATCH --array={array_spec(indices)}",
        f"# sal launch: shard $SLURM_ARRAY_TASK_ID of {launch.shards}, settings in {launch.profile}",
        *_body(worker, options.cpus_per_task),
        f"exec {_command(worker.program)} {launch.command} -p {shlex.quote(str(launch.profile))} "
        f"--shard {task}/{launch.shards} -o {base}/shard-{task} -q",
        "",
    ])


def merge_script(launch: Launch, options: SlurmOptions, worker: Worker) -> str:
    """The job that merges every shard into `BASE/merged` (after a coverage check) and grades it."""
    base = shlex.quote(str(launch.base))
    merged = shlex.quote(str(launch.merged))
    header = _header(f"{job_name(launch, options)}-merge", f"{launch.logs}/merge-%j.out", options, worker, gpus=False)
    return "\n".join([
        *header, "#SBATCH --kill-on-invalid-dep=yes",
        f"# sal launch: merge the {launch.shards} shards of {launch.base} and evaluate the result",
        *_body(worker, options.cpus_per_task),
        f"{_command(worker.program)} merge {base}/shard-* -o {merged} --overwrite",
        f"exec {_command(worker.program)} evaluate {merged} -q",
        "",
    ])


def job_name(launch: Launch, options: SlurmOptions) -> str:
    return options.job_name or f"sal-{launch.base.name}"


def _header(name: str, output: str, options: SlurmOptions, worker: Worker, *, gpus: bool) -> list[str]:
    lines = ["#!/bin/bash", f"#SBATCH --job-name={shlex.quote(name)}", f"#SBATCH --output={shlex.quote(output)}",
             "#SBATCH --open-mode=append", f"#SBATCH --chdir={shlex.quote(str(worker.workdir))}"]
    if options.partition:
        lines.append(f"#SBATCH --partition={shlex.quote(options.partition)}")
    if options.time:
        lines.append(f"#SBATCH --time={shlex.quote(options.time)}")
    if gpus and options.gpus_per_task:
        lines.append(f"#SBATCH --gpus-per-task={options.gpus_per_task}")
    if options.cpus_per_task:
        lines.append(f"#SBATCH --cpus-per-task={options.cpus_per_task}")
    return lines + [f"#SBATCH {arg}" for arg in options.sbatch_args]


def _body(worker: Worker, threads: int | None) -> list[str]:
    """Strict bash, the carried environment, and as many math threads as CPUs asked for."""
    env = {**worker.env, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
    return ["set -euo pipefail", *(f"export {k}={shlex.quote(v)}" for k, v in env.items())]


def _command(program: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in program)


def require_sbatch() -> None:
    """Fail before anything is written where jobs cannot be submitted."""
    if shutil.which("sbatch") is None:
        raise _not_installed("sbatch")


def _not_installed(tool: str) -> SalError:
    return SalError(f"`{tool}` is not on PATH: this is not a Slurm login node",
                    hint="run where Slurm is installed, print the scripts with `--dry-run`, or use `sal launch ray`")


def _run(args: list[str]) -> str:
    """Run one Slurm command; its stdout, or a one-line error."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise _not_installed(args[0]) from None
    except subprocess.TimeoutExpired:
        raise SalError(f"`{args[0]}` did not answer within 120s", hint="the Slurm controller may be down or busy; try again",
                       exit_code=RUN_FAILED) from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip() or f"exit code {proc.returncode}").splitlines()[-1]
        raise SalError(f"`{args[0]}` failed: {detail}", hint="check the Slurm options (`--partition`, `--time`, `--sbatch-arg`)")
    return proc.stdout


class Slurm:
    """sbatch and squeue, through one `run(args) -> stdout` that tests replace."""

    def __init__(self, run: Callable[[list[str]], str] | None = None):
        self.run = run or _run

    def submit(self, script: Path, after: str | None = None) -> str:
        """Submit `script` (after job `after` succeeds, when given); the job id."""
        dependency = [f"--dependency=afterok:{after}"] if after else []
        return self.run(["sbatch", "--parsable", *dependency, str(script)]).strip().split(";")[0]

    def queued(self, job_ids: set[str]) -> dict[str, str]:
        """State of every queued or running task of the jobs `job_ids` (`{"12_3": "RUNNING"}`)."""
        if not job_ids:
            return {}
        states = {}
        for line in self.run(["squeue", "--me", "--noheader", "--format=%F|%i|%T"]).splitlines():
            base, _, rest = line.strip().partition("|")
            task, _, state = rest.partition("|")
            if base in job_ids:
                states[task] = state
        return states


def recorded_options(launch: Launch) -> dict:
    """The Slurm options of the launch's last Slurm submission (what a resubmission keeps)."""
    slurm_entries = [entry for entry in plan.submissions(launch) if entry.get("executor") == "slurm"]
    return slurm_entries[-1].get("options", {}) if slurm_entries else {}


def submit(launch: Launch, options: SlurmOptions, worker: Worker, slurm: Slurm) -> dict | None:
    """Submit the pending shards as one array job and the merge job after it; record both in
    `launch.json`. None when nothing is left to do."""
    _refuse_while_queued(launch, slurm)
    indices = plan.pending(launch)
    if not indices and plan.merged_complete(launch):
        note(f"all {launch.shards} shards and the merge are complete in `{launch.base}`")
        return None
    number = len(plan.submissions(launch)) + 1
    scripts = launch.base / "slurm"
    scripts.mkdir(exist_ok=True)
    launch.logs.mkdir(exist_ok=True)
    entry = {"executor": "slurm", "shards": indices, "array_job": None, "merge_job": None, "program": worker.program,
             "options": asdict(options)}
    try:
        if indices:
            path = scripts / f"{number}-shards.sbatch"
            path.write_text(array_script(launch, indices, options, worker), encoding="utf-8")
            entry["array_job"] = slurm.submit(path)
        path = scripts / f"{number}-merge.sbatch"
        path.write_text(merge_script(launch, options, worker), encoding="utf-8")
        entry["merge_job"] = slurm.submit(path, after=entry["array_job"])
    finally:  # a job that was submitted is recorded, even when the next sbatch failed
        if entry["array_job"] or entry["merge_job"]:
            plan.record(launch, entry)
    array_job, merge_job = entry["array_job"], entry["merge_job"]
    if array_job:
        note(f"submitted array job {array_job}: shards {array_spec(indices)} of {launch.shards}, "
             f"logs in `{launch.logs}`")
    note(f"submitted merge job {merge_job}" + (f" (after {array_job} succeeds)" if array_job else ""))
    return entry


def _refuse_while_queued(launch: Launch, slurm: Slurm) -> None:
    """Two runs of one shard would append to the same folder: nothing is submitted while a
    job of this launch is still in the queue."""
    jobs = {str(job) for entry in plan.submissions(launch) for job in (entry.get("array_job"), entry.get("merge_job")) if job}
    queued = slurm.queued(jobs)
    if queued:
        task, state = sorted(queued.items())[0]
        raise SalError(f"job {task} of `{launch.base}` is still {state.lower()}",
                       hint=f"wait for it, or cancel it with `scancel {task.split('_')[0]}`, then resubmit")


def queue_status(queued: dict[str, str], array_job: str | None, merge_job: str) -> str:
    """`2 running, 1 pending · merge pending` from squeue's tasks (`12_3`, `12_[4-7]`) and states."""
    counts = Counter()
    for task, state in queued.items():
        if array_job and task.startswith(f"{array_job}_"):
            _, _, spec = task.partition("_")
            counts[state.lower()] += sum(hi - lo + 1 for lo, hi in _spans(spec.strip("[]")))
    parts = [", ".join(f"{n} {state}" for state, n in sorted(counts.items()))] if counts else []
    if merge_job in queued:
        parts.append(f"merge {queued[merge_job].lower()}")
    return " · ".join(parts)


def _spans(spec: str) -> list[tuple[int, int]]:
    """`0-2,5%2` -> [(0, 2), (5, 5)] (a `%` throttle is dropped)."""
    spans = []
    for part in spec.split("%")[0].split(","):
        lo, _, hi = part.partition("-")
        spans.append((int(lo), int(hi or lo)))
    return spans


def wait(launch: Launch, entry: dict, slurm: Slurm, quiet: bool) -> None:
    """Poll squeue until the jobs of `entry` leave the queue, showing shards complete; then
    check that the merge was written."""
    from sal_cli.scale.progress import ShardProgress

    jobs = {job for job in (entry["array_job"], entry["merge_job"]) if job}
    with ShardProgress("sal launch slurm", launch.shards, quiet) as progress:
        while True:
            queued = slurm.queued(jobs)
            progress.update(plan.complete_shards(launch), queue_status(queued, entry["array_job"], entry["merge_job"]))
            if not queued:
                break
            time.sleep(POLL_SECONDS)
    if plan.merged_complete(launch):
        note(f"merged and evaluated: `{launch.merged}`")
        return
    left = plan.pending(launch)
    where = f"`{launch.shard_log(left[0])}`" if left else f"`{launch.logs}/merge-{entry['merge_job']}.out`"
    what = f"shards {array_spec(left)} did not finish" if left else "the merge job failed"
    raise RunFailure(f"{what}: see {where}",
                     hint=f"finished problems are saved; `sal launch slurm --resubmit {launch.base}` runs what is left")
