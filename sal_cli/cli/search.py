"""`sal search`: PRM-guided search (every strategy of `registry.STRATEGIES`) with one engine."""

from __future__ import annotations

import typer

from sal_cli.cli import _options as o
from sal_cli.cli._run import push

EPILOG = """Examples:

  sal search --num-samples 5                              # embedded SmolLM2 + LLM-judge PRM, best_of_n

  sal search --approach beam_search --beam-width 2 -n 4 --num-samples 5

  sal search -p llama-3.2-1b/dvts --prm RLHFlow/Llama3.1-8B-PRM-Deepseek-Data --shard 0/8

  sal search -p qwen2.5-1.5b/best_of_n --set 'search.temperatures=[0.6, 0.8, 1.0]' -n 16
"""


def search(
    profile: o.ProfileOpt = None,
    set_: o.SetOpt = None,
    dataset: o.DatasetOpt = None,
    start: o.StartOpt = None,
    end: o.EndOpt = None,
    num_samples: o.NumSamplesOpt = None,
    shard: o.ShardOpt = None,
    n: o.NOpt = None,
    backend: o.BackendOpt = None,
    model: o.ModelOpt = None,
    output_dir: o.OutputDirOpt = None,
    overwrite: o.OverwriteOpt = False,
    quiet: o.QuietOpt = False,
    verbose: o.VerboseOpt = False,
    push_to_hub: o.PushOpt = None,
    temperature: o.TemperatureOpt = None,
    max_tokens: o.MaxTokensOpt = None,
    seed: o.SeedOpt = None,
    approach: o.ApproachOpt = None,
    prm: o.PrmOpt = None,
    beam_width: o.BeamWidthOpt = None,
    agg_strategy: o.AggStrategyOpt = None,
    num_iterations: o.NumIterationsOpt = None,
) -> None:
    """Search for solutions with a generator guided by a process reward model.

    Writes `results.jsonl` (one line per problem: the dataset's columns plus `completions`,
    `scores`, `agg_scores`, `pred`, `pred_weighted@k` / `pred_maj@k` / `pred_naive@k`, token
    counts), `run.toml` and `summary.json` to the run folder, and prints the folder on
    stdout. Re-running the same command resumes.
    """
    from sal_cli import profiles, runs

    flags = o.settings_flags(search, locals())
    config = profiles.resolve(profile, set_ or (), flags).config
    outcome = runs.run_search(config, overwrite=overwrite, quiet=quiet, verbose=verbose)
    push(outcome.folder, push_to_hub, overwrite)
    typer.echo(str(outcome.folder))
