"""`sal score`: re-score saved completions with a PRM, or re-aggregate stored step scores."""

from __future__ import annotations

from typing import Annotated

import typer

from sal_cli.cli import _options as o

EPILOG = """Examples:

  sal score runs/smollm2/math500/best_of_n-n4 --prm Qwen/Qwen2.5-Math-PRM-7B -o runs/rescored/qwen-prm

  sal score runs/exp/merged --agg-strategy min          # seconds: no model, stored step scores

  sal score results.jsonl --prm ./my-prm --set verifier.batch_size=16
"""


def score(
    source: Annotated[str, typer.Argument(help="A run folder, or a results file with `problem` and `completions`.")],
    profile: o.ProfileOpt = None,
    set_: o.SetOpt = None,
    prm: o.PrmOpt = None,
    agg_strategy: o.AggStrategyOpt = None,
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
    from sal_cli import profiles, runs
    from sal_cli.cli._run import push
    from sal_cli.errors import SalError
    from sal_cli.rescore import read_source

    flags = o.settings_flags(score, locals())
    src = read_source(source)
    rescoring = prm is not None or profile is not None
    if not rescoring and agg_strategy is None:
        raise SalError("`sal score` needs a PRM or an aggregation", hint="pass `--prm NAME|PATH`, or `--agg-strategy min`")
    if not rescoring and not src.has_scores:
        raise SalError(f"`{source}` has no step `scores` to re-aggregate", hint="score it with `--prm NAME|PATH`")
    base = profile or (str(src.run_toml) if src.run_toml else None)
    config = profiles.resolve(base, set_ or (), flags).config
    outcome = runs.run_score(src, config, rescore=rescoring, output_dir=output_dir, overwrite=overwrite, quiet=quiet,
                           verbose=verbose)
    push(outcome.folder, push_to_hub, overwrite)
    typer.echo(str(outcome.folder))
