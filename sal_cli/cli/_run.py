"""Helpers shared by the run commands: the run folder, quieter libraries, and the engine run."""

from __future__ import annotations

import os
from pathlib import Path

from sal_cli.config import RunConfig
from sal_cli.data.store import run_dir


def output_folder(config: RunConfig, *method: str) -> Path:
    """`output.dir` if given, else `root/<model>/<dataset>/<method...>[/shard-i-of-N]` (kept inside root)."""
    if config.output.dir:
        return Path(config.output.dir).expanduser()
    data = config.data
    parts = [config.generator.model.removeprefix("embedded:"), data.dataset, *method]
    if data.shard:
        parts.append(f"shard-{data.shard_index}-of-{data.shard_count}")
    return run_dir(config.output.root, *parts)


def quiet_libraries() -> None:
    """Keep library chatter (load bars, info logs) off the terminal unless `SAL_DEBUG` is set."""
    if os.environ.get("SAL_DEBUG"):
        return
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("VLLM_CONFIGURE_LOGGING", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def run_search(command: str, config: RunConfig, folder: Path, strategy, *, scored: bool, overwrite: bool, quiet: bool,
               engines: dict | None = None, verbose: bool = False):
    """Run `strategy` through the engine into `folder`; the PRM loads only when `scored`.

    `engines` keeps the loaded generator and PRM for the next call with the same model
    settings (a Ray actor runs several shards with one copy). The dtype and CPU settings
    are chosen for this machine first and recorded in `run.toml`; `verbose` leaves the
    libraries' output on the terminal instead of in the run's `library.log`."""
    from sal_cli import runner
    from sal_cli.generators import cpu, pick_backend

    if not verbose:
        quiet_libraries()
    engines = {} if engines is None else engines
    machine = cpu.prepare(config, pick_backend(config.generator.backend))

    def make_solver(reporter):
        from sal_cli.generators import load_generator
        from sal_cli.search import SearchSolver
        from sal_cli.search.engine import Engine

        if "generator" not in engines:
            engines["generator"] = load_generator(config.generator, seed=config.sampling.seed)
        if scored and "prm" not in engines:
            from sal_cli.prms import load_prm

            engines["prm"] = load_prm(config.verifier)
        prm = engines["prm"] if scored else None
        return SearchSolver(Engine(strategy, engines["generator"], prm, config, on_round=reporter.round), scored)

    return runner.run(command, config, folder, make_solver, overwrite=overwrite, quiet=quiet, verbose=verbose,
                      machine=machine)


def push(folder: Path, repo_id: str | None, overwrite: bool) -> None:
    """`--push-to-hub REPO`: upload the run as a revision named from its settings (a shard's
    with its chunk); an existing revision is replaced only with `--overwrite`."""
    if not repo_id:
        return
    from sal_cli.data import hub_runs
    from sal_cli.data.store import read_settings, read_summary
    from sal_cli.progress import note

    settings, summary = read_settings(folder), read_summary(folder)
    rows = summary.get("rows")
    whole = [0, summary.get("dataset_rows")]
    chunk = tuple(rows) if rows and (settings.get("data", {}).get("shard") or rows != whole) else None
    revision = hub_runs.revision_name(settings, chunk)
    where = hub_runs.push_run(folder, repo_id, revision, hub_runs.default_api(), overwrite=overwrite)
    note(f"pushed `{folder}` to {where}")
