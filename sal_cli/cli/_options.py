"""Options shared by the run commands, declared once so every flag reads the same everywhere."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

ProfileOpt = Annotated[
    Optional[str], typer.Option("--profile", "-p", help="Profile name or TOML path, e.g. `qwen2.5-1.5b/beam_search`.")
]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override one setting, e.g. `--set sampling.temperature=0.6` (repeatable)."),
]
DatasetOpt = Annotated[
    Optional[str], typer.Option("--dataset", help="Bundled name (`math500`, `gsm8k`, ...), local file or hub name.")
]
StartOpt = Annotated[Optional[int], typer.Option("--start", help="First dataset row (0-based).")]
EndOpt = Annotated[Optional[int], typer.Option("--end", help="Row after the last one (exclusive).")]
NumSamplesOpt = Annotated[Optional[int], typer.Option("--num-samples", help="Keep the first k rows of the slice.")]
ShardOpt = Annotated[Optional[str], typer.Option("--shard", help="Run part i of N (0-based), e.g. `0/4`.")]
NOpt = Annotated[Optional[int], typer.Option("--n", "-n", help="Completions per problem (the compute budget).")]
BackendOpt = Annotated[Optional[str], typer.Option("--backend", help="`auto`, `vllm` or `transformers`.")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="Hub id or local folder of the generator.")]
OutputDirOpt = Annotated[
    Optional[str], typer.Option("--output-dir", "-o", help="The run folder (default: derived under `output.root`).")
]
TemperatureOpt = Annotated[Optional[float], typer.Option("--temperature", "-t", help="Sampling temperature (0 = greedy).")]
MaxTokensOpt = Annotated[Optional[int], typer.Option("--max-tokens", help="Most new tokens per completion.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Base seed; every sample's seed derives from it and the row id.")]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Delete this run's earlier results and start fresh.")]
PushOpt = Annotated[
    Optional[str],
    typer.Option("--push-to-hub", help="Push the finished run to this Hub dataset repo, as a revision named from its settings."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display; one summary line for logs.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show the libraries' own warnings and notices (else in the run's `library.log`).")
]
ApproachOpt = Annotated[Optional[str], typer.Option("--approach", "-a", help="`best_of_n`, `beam_search` or `dvts`.")]
PrmOpt = Annotated[Optional[str], typer.Option("--prm", help="PRM hub id or local folder (`verifier.prm`).")]
BeamWidthOpt = Annotated[Optional[int], typer.Option("--beam-width", help="Candidates per beam per round; must divide n.")]
AggStrategyOpt = Annotated[
    Optional[str], typer.Option("--agg-strategy", help="Step scores to one score: `last`, `min`, `prod`, `mean`.")
]
NumIterationsOpt = Annotated[Optional[int], typer.Option("--num-iterations", help="Most rounds of beam search / DVTS.")]


def run_flags(
    *,
    dataset: str | None,
    start: int | None,
    end: int | None,
    num_samples: int | None,
    shard: str | None,
    n: int | None,
    backend: str | None,
    model: str | None,
    output_dir: str | None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    seed: int | None = None,
) -> dict[str, tuple[object, str]]:
    """The shared flags as `{"section.key": (value, "--flag")}` for `profiles.resolve`."""
    return {
        "data.dataset": (dataset, "--dataset"),
        "data.start": (start, "--start"),
        "data.end": (end, "--end"),
        "data.num_samples": (num_samples, "--num-samples"),
        "data.shard": (shard, "--shard"),
        "sampling.n": (n, "--n"),
        "generator.backend": (backend, "--backend"),
        "generator.model": (model, "--model"),
        "output.dir": (output_dir, "--output-dir"),
        "sampling.temperature": (temperature, "--temperature"),
        "sampling.max_tokens": (max_tokens, "--max-tokens"),
        "sampling.seed": (seed, "--seed"),
    }


def prm_protocol(prm: str | None, sets: list[str] | None) -> str | None:
    """`--prm` names another model, so the profile's protocol no longer applies: detect it
    (`auto`) unless `--set verifier.protocol=...` says which."""
    if prm is None or any(item.replace(" ", "").startswith("verifier.protocol=") for item in sets or ()):
        return None
    return "auto"


def search_flags(
    *,
    approach: str | None,
    prm: str | None,
    sets: list[str] | None,
    beam_width: int | None,
    agg_strategy: str | None,
    num_iterations: int | None,
) -> dict[str, tuple[object, str]]:
    """`sal search`'s own flags, in the form of `run_flags`."""
    return {
        "search.approach": (approach, "--approach"),
        "verifier.prm": (prm, "--prm"),
        "verifier.protocol": (prm_protocol(prm, sets), "--prm"),
        "search.beam_width": (beam_width, "--beam-width"),
        "verifier.agg_strategy": (agg_strategy, "--agg-strategy"),
        "search.num_iterations": (num_iterations, "--num-iterations"),
    }
