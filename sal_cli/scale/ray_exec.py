"""Ray: a launch's shards run by Ray actors, each loading its generator and PRM once.

An actor runs the shards given to it in process, into the same `BASE/shard-i` folders a Slurm
task writes, logging to `BASE/logs/shard-i.out`. Ray restarts a killed actor (`max_restarts`)
and retries its shard (`max_task_retries`); the run store resumes the shard, so no row is
solved or written twice. `ray` is imported only here, inside functions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from dataclasses import asdict, dataclass
from typing import Any

from sal_cli.errors import RunFailure, SalError
from sal_cli.progress import note
from sal_cli.scale import plan
from sal_cli.scale.plan import Launch

INSTALL_HINT = "`pip install 'sal-cli[ray]'`"
OBJECT_STORE_BYTES = 200 * 1024**2  # a local cluster only passes small results around


@dataclass
class RayOptions:
    """Where the actors run and what each one holds.

    Parameters:
        address: an existing cluster (`auto` or `HOST:PORT`); empty = start a local one.
        actors: how many actors share the shards; 0 = as many as the cluster fits.
        num_cpus: CPUs each actor reserves.
        num_gpus: GPUs each actor reserves; None = 1 on a cluster with GPUs, else 0.
        retries: restarts of a killed actor, and retries of its shard.
    """

    address: str = ""
    actors: int = 0
    num_cpus: float = 1.0
    num_gpus: float | None = None
    retries: int = 3

    def __post_init__(self) -> None:
        for flag, value, low in (("--actors", self.actors, 0), ("--retries", self.retries, 0), ("--num-gpus", self.num_gpus, 0)):
            if value is not None and value < low:
                raise SalError(f"`{flag}` must be >= {low}, got {value:g}")
        if self.num_cpus <= 0:
            raise SalError(f"`--num-cpus` must be > 0, got {self.num_cpus:g}")


def run_shard(launch: Launch, index: int, engines: dict) -> Any:
    """Run (or resume) shard `index` in this process, as `sal <command> -p BASE/launch.toml
    --shard i/N -o BASE/shard-i` would, reusing the models in `engines`."""
    from sal_cli import profiles, runs

    folder = launch.shard_folder(index)
    flags = {"data.shard": (f"{index}/{launch.shards}", "--shard"), "output.dir": (str(folder), "--output-dir")}
    config = profiles.resolve(str(launch.profile), (), flags).config
    return runs.run_command(launch.command, config, overwrite=False, quiet=True, engines=engines)


class ShardWorker:
    """The Ray actor (`ray.remote` wraps it in `run_shards`): the shards of one launch, one copy of the models."""

    def __init__(self, base: str, workdir: str):
        os.chdir(workdir)  # relative dataset paths mean what they meant where the launch started
        self.launch = plan.load(base)
        self.engines: dict = {}

    def run_shard(self, index: int) -> dict[str, Any]:
        """Run shard `index`, logging to its file; counts, or `error` for a failure that a retry
        would not fix (bad settings, an interrupt)."""
        import ray

        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        self.launch.logs.mkdir(exist_ok=True)
        with self.launch.shard_log(index).open("a", encoding="utf-8") as log, contextlib.redirect_stderr(log):
            note(f"shard {index}/{self.launch.shards} on {socket.gethostname()} pid {os.getpid()}"
                 + (" (actor restarted after a crash)" if restarted else ""))
            try:
                outcome = run_shard(self.launch, index, self.engines)
            except SalError as exc:
                note(exc.render())
                return {"index": index, "error": exc.message}
        return {"index": index, "solved": outcome.solved, "skipped": outcome.skipped, "restarted": restarted}


def run_shards(launch: Launch, indices: list[int], options: RayOptions, quiet: bool) -> None:
    """Run the shards `indices` on Ray actors (recorded in `launch.json`); RunFailure naming
    the shards that failed, once every other shard has finished."""
    ray = require_ray()
    plan.record(launch, {"executor": "ray", "shards": indices, "options": asdict(options)})
    with contextlib.redirect_stdout(sys.stderr):  # Ray reports retries on stdout, which carries only data
        failed = _run_on_actors(ray, launch, indices, options, quiet)
    if failed:
        first = min(failed)
        raise RunFailure(f"shards {', '.join(map(str, sorted(failed)))} failed (shard {first}: {failed[first]})",
                         hint=f"finished problems are saved (logs in `{launch.logs}`); "
                              f"`sal launch ray --resubmit {launch.base}` runs what is left")


def _run_on_actors(ray, launch: Launch, indices: list[int], options: RayOptions, quiet: bool) -> dict[int, str]:
    """The shards that failed, with why."""
    from sal_cli.scale.progress import ShardProgress

    _connect(ray, options.address)
    try:
        resources = ray.cluster_resources()
        gpus = options.num_gpus if options.num_gpus is not None else float(bool(resources.get("GPU")))
        fit = _fit(resources, options.num_cpus, gpus)
        if options.actors > fit:  # an actor that cannot start would hold its shards forever
            note(f"the cluster holds {fit} actors of {options.num_cpus:g} CPU and {gpus:g} GPU at once, not {options.actors}")
        count = min(options.actors or fit, fit, len(indices))
        actor = ray.remote(ShardWorker).options(num_cpus=options.num_cpus, num_gpus=gpus,
                                                max_restarts=options.retries, max_task_retries=options.retries)
        workers = [actor.remote(str(launch.base), os.getcwd()) for _ in range(count)]
        note(f"{count} Ray actors ({options.num_cpus:g} CPU, {gpus:g} GPU each) for shards "
             f"{', '.join(map(str, indices))} of {launch.shards}; logs in `{launch.logs}`")
        calls = {workers[k % count].run_shard.remote(index): index for k, index in enumerate(indices)}
        failed: dict[int, str] = {}
        with ShardProgress("sal launch ray", launch.shards, quiet) as progress:
            progress.update(plan.complete_shards(launch))
            while calls:
                [ready], _ = ray.wait(list(calls), num_returns=1)
                index = calls.pop(ready)
                try:
                    result = ray.get(ready)
                except ray.exceptions.RayError as exc:  # the actor died more often than `retries`
                    result = {"error": str(exc).strip().splitlines()[0]}
                if "error" in result:
                    failed[index] = result["error"]
                progress.update(plan.complete_shards(launch), _status(index, result))
        return failed
    finally:
        ray.shutdown()


def _status(index: int, result: dict[str, Any]) -> str:
    if "error" in result:
        return f"shard {index} failed"
    resumed = f", {result['skipped']} already saved" if result["skipped"] else ""
    return f"shard {index}: {result['solved']} solved{resumed}" + (" (actor restarted)" if result["restarted"] else "")


def _fit(resources: dict[str, float], cpus: float, gpus: float) -> int:
    """Actors the cluster holds at once: by GPUs when actors take GPUs, else by CPUs."""
    have, need = (resources.get("GPU", 0.0), gpus) if gpus else (resources.get("CPU", 1.0), cpus)
    return max(1, int(have // need))


def require_ray():
    """`ray`, or a one-line error with the install command (checked before BASE is written)."""
    try:
        import ray
    except ImportError:
        raise SalError("the Ray executor needs `ray`, which is not installed", hint=INSTALL_HINT) from None
    return ray


def _connect(ray, address: str) -> None:
    """Join the cluster at `address`, or start a local one (no dashboard, a small object store)."""
    common = {"runtime_env": {"env_vars": plan.carried_env(os.environ)}, "log_to_driver": False,
              "logging_level": logging.WARNING}
    try:
        if address:
            ray.init(address=address, **common)
        else:
            ray.init(address="local", include_dashboard=False, object_store_memory=OBJECT_STORE_BYTES, **common)
    except ConnectionError as exc:
        raise SalError(f"cannot reach the Ray cluster at `{address}`: {str(exc).splitlines()[0]}",
                       hint="start one with `ray start --head`, or leave out `--ray-address` to start a local one") from None
