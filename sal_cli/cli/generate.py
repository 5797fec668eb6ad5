"""`sal generate`: plain sampling, greedy or n samples per problem, no verifier."""

from __future__ import annotations

from typing import Annotated

import typer

from sal_cli.cli import _options as o
from sal_cli.cli._run import push
from sal_cli.errors import SalError

EPILOG = """Examples:

  sal generate --num-samples 5                       # embedded SmolLM2, 5 MATH-500 problems

  sal generate -p qwen2.5-1.5b --dataset gsm8k -n 16 --shard 0/4

  sal generate --greedy --dataset problems.jsonl --set data.problem_column=question
"""


def generate(
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
    greedy: Annotated[bool, typer.Option("--greedy", help="One greedy completion per problem (n=1, temperature 0).")] = False,
    temperature: o.TemperatureOpt = None,
    max_tokens: o.MaxTokensOpt = None,
    seed: o.SeedOpt = None,
) -> None:
    """Sample completions for each problem with the generator (no verifier).

    Writes `results.jsonl` (one line per problem: the dataset's columns plus `completions`,
    `completion_tokens`, `finish_reasons`), `run.toml` and `summary.json` to the run folder,
    and prints the folder on stdout. Re-running the same command resumes.
    """
    from sal_cli import profiles, runs

    flags = o.settings_flags(generate, locals())
    if greedy:
        if (n or 1) != 1 or (temperature or 0) != 0:
            raise SalError("`--greedy` means n=1 and temperature 0", hint="drop `--greedy`, or `-n`/`--temperature`")
        flags["sampling.n"], flags["sampling.temperature"] = (1, "--n"), (0.0, "--greedy")
    config = profiles.resolve(profile, set_ or (), flags).config
    outcome = runs.run_generate(config, overwrite=overwrite, quiet=quiet, verbose=verbose)
    push(outcome.folder, push_to_hub, overwrite)
    typer.echo(str(outcome.folder))
