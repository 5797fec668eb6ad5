"""`sal score`: re-score saved completions with a PRM, or re-aggregate stored step scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sal_cli.cli import _options as o
from sal_cli.cli._options import prm_protocol

EPILOG = """Examples:

  sal score runs/smollm2/math500/best_of_n-n4 --prm Qwen/Qwen2.5-Math-PRM-7B -o runs/rescored/qwen-prm

  sal score runs/exp/merged --agg-strategy min          # seconds: no model, stored step scores

  sal score results.jsonl --prm ./my-prm --set verifier.batch_size=16
"""


def score(
    source: Annotated[str, typer.Argument(help="A run folder, or a results file with `problem` and `completions`.")],
    profile: o.ProfileOpt = None,
    set_: o.SetOpt = None,
    prm: Annotated[Optional[str], typer.Option("--prm", help="PRM hub id or local folder to score with.")] = None,
    agg_strategy: Annotated[
        Optional[str], typer.Option("--agg-strategy", help="Step scores to one score: `last`, `min`, `prod`, `mean`.")
    ] = None,
    output_dir: o.OutputDirOpt = None,
    overwrite: o.OverwriteOpt = False,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    push_to_hub: o.PushOpt = None,
) -> None:
    """Score the completions of a run again, into a new run (the source is never modified).

    With `--prm` (or `-p` naming a PRM profile) every completion is scored step by step anew;
    with only `--agg-strategy` the stored step scores are re-aggregated, which takes seconds.
    The new run has the source's columns with new `scores`, `agg_scores`, `pred` and voting
    columns, resumes like any run, and `sal evaluate` reads it.
    """
    from sal_cli import profiles, runner
    from sal_cli.cli._run import push, quiet_libraries
    from sal_cli.data.store import slug
    from sal_cli.errors import SalError
    from sal_cli.rescore import Rescorer, read_source

    src = read_source(source)
    rescoring = prm is not None or profile is not None
    if not rescoring and agg_strategy is None:
        raise SalError("`sal score` needs a PRM or an aggregation", hint="pass `--prm NAME|PATH`, or `--agg-strategy min`")
    if not rescoring and not src.has_scores:
        raise SalError(f"`{source}` has no step `scores` to re-aggregate", hint="score it with `--prm NAME|PATH`")
    base = profile or (str(src.run_toml) if src.run_toml else None)
    flags = {"verifier.prm": (prm, "--prm"), "verifier.protocol": (prm_protocol(prm, set_), "--prm"),
             "verifier.agg_strategy": (agg_strategy, "--agg-strategy")}
    config = profiles.resolve(base, set_ or (), flags).config
    what = slug(config.verifier.prm.removeprefix("embedded:")) if rescoring else "stored-scores"
    folder = Path(output_dir) if output_dir else src.path.parent / f"{src.path.stem}.scored-{what}-{config.verifier.agg_strategy}"
    if folder.resolve() == src.path.resolve():
        raise SalError("`sal score` never writes into its source", hint="pick another `--output-dir`")
    config.output.dir = str(folder)
    if not verbose:
        quiet_libraries()

    def make_solver(reporter):
        model = None
        if rescoring:
            from sal_cli.prms import load_prm

            model = load_prm(config.verifier)
        return Rescorer(model, config, max(src.n, config.sampling.n if src.run_toml else src.n))

    outcome = runner.run("score", config, folder, make_solver, overwrite=overwrite, quiet=quiet, verbose=verbose,
                         selection=(src.problems, src.dataset_rows))
    push(outcome.folder, push_to_hub, overwrite)
    typer.echo(str(outcome.folder))
