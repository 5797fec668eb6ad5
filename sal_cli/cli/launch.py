"""`sal launch`: run a profile's shards on Slurm (array job + merge job) or on Ray actors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from sal_cli.cli import _options as o
from sal_cli.errors import SalError

EXECUTORS = ("slurm", "ray")
SLURM, RAY = "Slurm", "Ray"  # help panels

EPILOG = """Examples:

  sal launch slurm -p llama-3.2-1b/beam_search --shards 8 -o runs/beam --partition gpu --gpus-per-task 1 --time 12:00:00

  sal launch slurm --shards 3 -o runs/demo --num-samples 6 --dry-run      # print the two sbatch scripts

  sal launch slurm --resubmit runs/beam           # only the missing or partial shards, then a new merge job

  sal launch --executor ray -p llama-3.2-1b/beam_search --shards 8 -o runs/beam --ray-address auto

  sal launch ray --shards 2 -o runs/demo --num-samples 4                  # a local Ray cluster, CPU actors
"""


def launch(
    executor_arg: Annotated[
        Optional[str], typer.Argument(metavar="EXECUTOR", help="`slurm` or `ray` (or name it with `--executor`).")
    ] = None,
    executor: Annotated[Optional[str], typer.Option("--executor", help="`slurm` or `ray`.")] = None,
    shards: Annotated[
        Optional[int], typer.Option("--shards", help="Contiguous parts of the slice; worker i runs `--shard i/N`.")
    ] = None,
    output_dir: Annotated[
        Optional[str],
        typer.Option("--output-dir", "-o", help="The launch folder BASE: `launch.toml`, `shard-i/`, `logs/`, `merged/`."),
    ] = None,
    resubmit: Annotated[
        Optional[str],
        typer.Option("--resubmit", help="Run only the missing or partial shards of the launch in this BASE, then merge."),
    ] = None,
    command: Annotated[Optional[str], typer.Option("--command", help="What each shard runs: `search` (default) or `generate`.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the sbatch scripts (Ray: the shard commands); write and submit nothing.")
    ] = False,
    quiet: o.QuietOpt = False,
    profile: o.ProfileOpt = None,
    set_: o.SetOpt = None,
    dataset: o.DatasetOpt = None,
    start: o.StartOpt = None,
    end: o.EndOpt = None,
    num_samples: o.NumSamplesOpt = None,
    n: o.NOpt = None,
    backend: o.BackendOpt = None,
    model: o.ModelOpt = None,
    temperature: o.TemperatureOpt = None,
    max_tokens: o.MaxTokensOpt = None,
    seed: o.SeedOpt = None,
    approach: o.ApproachOpt = None,
    prm: o.PrmOpt = None,
    beam_width: o.BeamWidthOpt = None,
    agg_strategy: o.AggStrategyOpt = None,
    num_iterations: o.NumIterationsOpt = None,
    gpus: Annotated[
        Optional[float],
        typer.Option("--gpus-per-task", "--num-gpus", help="GPUs per shard worker (Slurm task or Ray actor).", rich_help_panel=f"{SLURM} and {RAY}"),
    ] = None,
    cpus: Annotated[
        Optional[float],
        typer.Option("--cpus-per-task", "--num-cpus", help="CPUs per shard worker (Ray default: 1).", rich_help_panel=f"{SLURM} and {RAY}"),
    ] = None,
    partition: Annotated[Optional[str], typer.Option("--partition", help="Slurm partition.", rich_help_panel=SLURM)] = None,
    time_limit: Annotated[
        Optional[str], typer.Option("--time", help="Time limit of each task, e.g. `12:00:00`.", rich_help_panel=SLURM)
    ] = None,
    sbatch_args: Annotated[
        Optional[list[str]],
        typer.Option("--sbatch-arg", help="Extra `#SBATCH` line for both jobs, e.g. `--sbatch-arg=--account=lab` (repeatable).",
                     rich_help_panel=SLURM),
    ] = None,
    job_name: Annotated[Optional[str], typer.Option("--job-name", help="Default: `sal-<BASE name>`.", rich_help_panel=SLURM)] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Stay and show shards done until the merge job ends.", rich_help_panel=SLURM)
    ] = False,
    ray_address: Annotated[
        Optional[str],
        typer.Option("--ray-address", help="Join this cluster (`auto` or `HOST:PORT`); default: start a local one.",
                     rich_help_panel=RAY),
    ] = None,
    actors: Annotated[
        Optional[int], typer.Option("--actors", help="Actors sharing the shards (default: as many as fit).", rich_help_panel=RAY)
    ] = None,
    retries: Annotated[
        Optional[int], typer.Option("--retries", help="Restarts of a killed actor and retries of its shard (default 3).",
                                    rich_help_panel=RAY),
    ] = None,
) -> None:
    """Run a profile's shards on Slurm or Ray, then merge and evaluate them.

    Resolves the settings once into `BASE/launch.toml`; shard i runs `sal search -p
    BASE/launch.toml --shard i/N -o BASE/shard-i` (log: `BASE/logs/shard-i.out`), and the
    shards are merged into `BASE/merged` (coverage checked as by `sal merge`) and evaluated.
    Slurm: one array job plus a merge job that runs after it succeeds. Ray: actors that load
    the models once and run their shards; a killed actor is restarted and its shard resumed.
    `--resubmit BASE` runs only what is missing or partial. Prints `BASE/merged`.
    """
    from sal_cli.scale import plan, ray_exec, slurm

    kind = _executor(executor_arg, executor)
    flags = o.settings_flags(launch, locals())
    _only_for(kind, "slurm", partition=partition, time=time_limit, sbatch_arg=sbatch_args, job_name=job_name, wait=wait)
    _only_for(kind, "ray", ray_address=ray_address, actors=actors, retries=retries)
    if kind == "slurm":
        options = slurm.SlurmOptions(job_name=job_name or "", partition=partition, time=time_limit,
                                     gpus_per_task=_whole("--gpus-per-task", gpus),
                                     cpus_per_task=_whole("--cpus-per-task", cpus), sbatch_args=sbatch_args or [])
    else:
        options = ray_exec.RayOptions(ray_address or "", actors or 0, 1.0 if cpus is None else cpus, gpus,
                                      3 if retries is None else retries)
    if resubmit:
        fixed = {"--profile": profile, "--set": set_, "--shards": shards, "--output-dir": output_dir, "--command": command,
                 **{flag: value for value, flag in flags.values()}}
        target, config = _resubmission(resubmit, [flag for flag, value in fixed.items() if value is not None]), None
    else:
        config = _settings(profile, set_, flags, command or "search", shards, output_dir)
        target = plan.prepare(output_dir, command or "search", config, shards)
    if not dry_run:  # before anything is written
        (slurm.require_sbatch if kind == "slurm" else ray_exec.require_ray)()
        if config is not None:
            plan.create(target, config)
    if kind == "slurm":
        _on_slurm(target, options, dry_run=dry_run, wait=wait, quiet=quiet)
    else:
        _on_ray(target, options, dry_run=dry_run, quiet=quiet)


def _executor(argument: str | None, option: str | None) -> str:
    if argument and option and argument != option:
        raise SalError(f"`{argument}` and `--executor {option}` name two executors", hint="name one")
    kind = argument or option
    if kind not in EXECUTORS:
        raise SalError(f"unknown executor `{kind}`" if kind else "`sal launch` needs an executor",
                       hint="`sal launch slurm ...` or `sal launch ray ...` (or `--executor slurm|ray`)")
    return kind


def _only_for(kind: str, owner: str, **values) -> None:
    """Refuse options of the other executor, naming the first one given."""
    for name, value in values.items():
        if value not in (None, [], "") and value is not False and kind != owner:
            raise SalError(f"`--{name.replace('_', '-')}` is a {owner} option, not a {kind} one",
                           hint=f"drop it, or use `sal launch {owner}`")


def _resubmission(base: str, given: list[str]):
    """The launch in `base`; its settings are fixed, so no settings option may come along."""
    from sal_cli.scale.plan import load

    if given:
        raise SalError(f"`--resubmit` runs the settings in `{base}/launch.toml`; `{given[0]}` cannot change them",
                       hint="drop it, or start a new launch in another `--output-dir`")
    return load(base)


def _settings(profile, sets, flags, command: str, shards: int | None, output_dir: str | None):
    """The resolved settings of a new launch, checked once here rather than in every worker."""
    from sal_cli import profiles, runs

    if shards is None or not output_dir:
        raise SalError("a new launch needs `--shards N` and `--output-dir BASE`",
                       hint="e.g. `--shards 8 -o runs/exp`, or `--resubmit BASE` to finish an earlier launch")
    config = profiles.resolve(profile, sets or (), flags).config
    if command == "search":
        runs.strategy_for(command, config)  # cross-field checks (beam_width divides n)
    return config


def _on_slurm(target, options, *, dry_run: bool, wait: bool, quiet: bool) -> None:
    from sal_cli.progress import note
    from sal_cli.scale import plan, slurm

    options = options.over(slurm.recorded_options(target))
    worker = slurm.Worker(plan.program(), plan.carried_env(os.environ), Path.cwd())
    if dry_run:
        indices = plan.pending(target)
        if indices:
            typer.echo(slurm.array_script(target, indices, options, worker))
            typer.echo("# then, once that array job has succeeded (--dependency=afterok:<its id>):\n")
        typer.echo(slurm.merge_script(target, options, worker))
        note("dry run: nothing written or submitted")
        return
    client = slurm.Slurm()
    entry = slurm.submit(target, options, worker, client)
    if entry and wait:
        slurm.wait(target, entry, client, quiet)
    typer.echo(str(target.merged))


def _on_ray(target, options, *, dry_run: bool, quiet: bool) -> None:
    import shlex

    from sal_cli import runs
    from sal_cli.grading import report
    from sal_cli.progress import note
    from sal_cli.scale import plan, ray_exec

    indices = plan.pending(target)
    if dry_run:
        for index in indices:
            typer.echo(shlex.join([*plan.program(), *target.shard_args(index)]))
        note(f"dry run: these {len(indices)} shards would run on Ray actors "
             f"({options.address or 'a local cluster'}); nothing written or started")
        return
    if indices:
        ray_exec.run_shards(target, indices, options, quiet)
    summary = plan.merge(target, "ray")
    note(f"merged {target.shards} shards: {summary['problems_done']} problems -> `{target.merged}`")
    report.show(*runs.run_evaluate([str(target.merged)], quiet=quiet), quiet)
    typer.echo(str(target.merged))


def _whole(flag: str, value: float | None) -> int | None:
    """Slurm counts whole GPUs and CPUs."""
    if value is not None and value != int(value):
        raise SalError(f"`{flag}` must be a whole number on Slurm, got {value:g}", hint="fractions work with `sal launch ray`")
    return None if value is None else int(value)
