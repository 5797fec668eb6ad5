"""The core of the run commands: one call per command, shared by `cli/` and `scale/`.

Each call takes resolved settings and does the rest: picks the strategy, decides what is
scored, names the run folder, loads the generator and PRM once (into `engines`, which a Ray
actor keeps for its next shard) and runs the solver through `runner.run` (resume, signals,
summary). `cli/` parses flags and renders; `scale/` runs shards; neither builds a run itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sal_cli.config import RunConfig
from sal_cli.data.store import run_dir, slug
from sal_cli.errors import SalError
from sal_cli.rescore import Source
from sal_cli.runner import Outcome
from sal_cli.search.tree import Strategy


def strategy_for(command: str, config: RunConfig) -> Strategy:
    """`sal generate` samples n at `sampling.temperature`; `sal search` runs `search.approach`
    (its cross-field settings checked, so a launch checks them once before any shard runs)."""
    if command == "generate":
        from sal_cli.search.best_of_n import BestOfN

        return BestOfN([(config.sampling.temperature, config.sampling.n)])
    from sal_cli.search import make_strategy

    return make_strategy(config)


def run_generate(config: RunConfig, *, overwrite: bool = False, quiet: bool = False, verbose: bool = False,
                 engines: dict | None = None) -> Outcome:
    """`sal generate`: n samples per problem, no PRM."""
    s = config.sampling
    folder = output_folder(config, f"generate-n{s.n}-t{s.temperature:g}")
    return _run_engine("generate", config, folder, strategy_for("generate", config), scored=False,
                       overwrite=overwrite, quiet=quiet, verbose=verbose, engines=engines)


def run_search(config: RunConfig, *, overwrite: bool = False, quiet: bool = False, verbose: bool = False,
               engines: dict | None = None) -> Outcome:
    """`sal search`: the `search.approach` strategy, every child scored by the PRM."""
    strategy = strategy_for("search", config)
    s = config.sampling
    method = f"{config.search.approach}-n{s.n}-t{s.temperature:g}-seed{s.seed}"
    folder = output_folder(config, config.verifier.prm.removeprefix("embedded:"), method)
    return _run_engine("search", config, folder, strategy, scored=True, overwrite=overwrite, quiet=quiet,
                       verbose=verbose, engines=engines)


def run_command(command: str, config: RunConfig, **options: Any) -> Outcome:
    """`run_generate` or `run_search` by name (a launch's `--command`)."""
    return {"generate": run_generate, "search": run_search}[command](config, **options)


def run_score(source: Source, config: RunConfig, *, rescore: bool, output_dir: str | None = None,
              overwrite: bool = False, quiet: bool = False, verbose: bool = False) -> Outcome:
    """`sal score`: the source's completions scored anew by the PRM (`rescore`), or their
    stored step scores aggregated again, into a new run beside the source (or `output_dir`)."""
    from sal_cli import runner
    from sal_cli.rescore import Rescorer

    what = slug(config.verifier.prm.removeprefix("embedded:")) if rescore else "stored-scores"
    src = source.path
    folder = Path(output_dir) if output_dir else src.parent / f"{src.stem}.scored-{what}-{config.verifier.agg_strategy}"
    if folder.resolve() == src.resolve():
        raise SalError("`sal score` never writes into its source", hint="pick another `--output-dir`")
    config.output.dir = str(folder)
    if not verbose:
        quiet_libraries()

    def make_solver(reporter):
        model = None
        if rescore:
            from sal_cli.prms import load_prm

            model = load_prm(config.verifier)
        n = max(source.n, config.sampling.n if source.run_toml else source.n)
        return Rescorer(model, config, n, batch_size=config.generator.batch_size)

    return runner.run("score", config, folder, make_solver, overwrite=overwrite, quiet=quiet, verbose=verbose,
                      selection=(source.problems, source.dataset_rows))


def run_evaluate(paths: list[str], *, seeds: int = 5, n: int | None = None, answer_column: str | None = None,
                 group_size: int | None = None, output: str | None = None, workers: int | None = None,
                 regrade: bool = False, plot: bool = True, quiet: bool = False) -> tuple[list, list[str]]:
    """`sal evaluate`: grade each run (cached in `grades.jsonl`), write its metrics and plot,
    and with several runs their comparison; returns ([(run, metrics)], labels) to render."""
    from sal_cli.grading import report
    from sal_cli.grading.grader import grade_run
    from sal_cli.grading.metrics import evaluate as compute_metrics
    from sal_cli.grading.runs import load_run

    out = Path(output).expanduser() if output else None
    single = len(paths) == 1
    loaded = [load_run(path, answer_column=answer_column, n=n, group_size=group_size, out_dir=out if single else None)
              for path in paths]  # every input checked before any is graded
    for run in loaded:
        _check_writable(run.out_dir)
    results = []
    for run in loaded:
        graded = grade_run(run, workers=workers or os.cpu_count() or 1, regrade=regrade,
                           bar=report.progress_bar(f"grading {run.label}", quiet))
        results.append((run, compute_metrics(run, graded, seeds)))
    names = report.labels(results)
    for (run, metrics), label in zip(results, names):
        report.write_run(run, metrics)
        if plot:
            title = label if label == run.source.name else f"{label} ({run.source.name})"
            _plot([(label, metrics)], run.out_dir / "accuracy.png", title)
    if not single:
        folder = out or _common_parent([run.out_dir for run, _ in results])
        report.write_comparison(results, names, folder)
        if plot:
            curves = list(zip(names, (metrics for _, metrics in results)))
            _plot(curves, folder / f"{report.COMPARISON}.png")
            if all(metrics.tokens for _, metrics in results):
                _plot(curves, folder / f"{report.COMPARISON}-tokens.png", x="tokens")
    return results, names


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


def _run_engine(command: str, config: RunConfig, folder: Path, strategy, *, scored: bool, overwrite: bool, quiet: bool,
                verbose: bool = False, engines: dict | None = None):
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
        from sal_cli.search.engine import Engine, EngineSettings

        if "generator" not in engines:
            engines["generator"] = load_generator(config.generator, seed=config.sampling.seed)
        if scored and "prm" not in engines:
            from sal_cli.prms import load_prm

            engines["prm"] = load_prm(config.verifier)
        prm = engines["prm"] if scored else None
        engine = Engine(strategy, engines["generator"], prm, EngineSettings.from_config(config), on_round=reporter.round)
        return SearchSolver(engine, scored)

    return runner.run(command, config, folder, make_solver, overwrite=overwrite, quiet=quiet, verbose=verbose,
                      machine=machine)


def _check_writable(folder: Path) -> None:
    hint = "evaluate that run alone with `--output DIR`"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SalError(f"cannot create `{folder}` for the outputs: {exc.strerror}", hint=hint) from None
    if not os.access(folder, os.W_OK):
        raise SalError(f"cannot write the outputs to `{folder}`", hint=hint)


def _common_parent(folders: list[Path]) -> Path:
    """The deepest folder holding all of `folders`; the current one if that is the root."""
    common = Path(os.path.commonpath([f.resolve() for f in folders]))
    return Path.cwd() if common == Path(common.anchor) else common


def _plot(curves, path: Path, title: str = "", x: str = "n") -> None:
    try:
        from sal_cli.grading.plot import plot_accuracy

        plot_accuracy(curves, path, title, x)
    except ImportError:
        raise SalError("drawing `accuracy.png` needs matplotlib (metrics are written)",
                       hint="`pip install matplotlib`, or pass `--no-plot`", exit_code=1) from None
