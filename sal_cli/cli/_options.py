"""Options shared by the commands, declared once so every flag reads the same everywhere.

A flag that sets one setting carries its key (`keyed`), so a command collects the settings
its flags give with `settings_flags(command, locals())` instead of listing them again.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Callable, Optional

import typer

from sal_cli import registry

_KEYS: dict[int, tuple[str, str]] = {}  # id of a keyed option -> (settings key, its flag)


def keyed(key: str, type_: Any, *names: str, help: str) -> Any:
    """An optional flag that sets `key` (`section.key`) when given."""
    option = typer.Option(*names, help=help)
    _KEYS[id(option)] = (key, names[0])
    return Annotated[Optional[type_], option]


ProfileOpt = Annotated[
    Optional[str], typer.Option("--profile", "-p", help="Profile name or TOML path (`sal profiles list` names them).")
]
SetOpt = Annotated[
    Optional[list[str]],
    typer.Option("--set", help="Override one setting of the profile, `SECTION.KEY=VALUE` (repeatable)."),
]
DatasetOpt = keyed(
    "data.dataset", str, "--dataset", help="Bundled name (`math500`, `gsm8k`, ...), local file or hub name."
)
StartOpt = keyed("data.start", int, "--start", help="First dataset row (0-based).")
EndOpt = keyed("data.end", int, "--end", help="Row after the last one (exclusive).")
NumSamplesOpt = keyed("data.num_samples", int, "--num-samples", help="Keep the first k rows of the slice.")
ShardOpt = keyed("data.shard", str, "--shard", help="Run part i of N (0-based), e.g. `0/4`.")
NOpt = keyed("sampling.n", int, "--n", "-n", help="Completions per problem (the compute budget).")
BackendOpt = keyed("generator.backend", str, "--backend", help="`auto`, `vllm` or `transformers`.")
ModelOpt = keyed("generator.model", str, "--model", "-m", help="Hub id or local folder of the generator.")
OutputDirOpt = keyed(
    "output.dir", str, "--output-dir", "-o", help="The run folder (default: derived under `output.root`)."
)
TemperatureOpt = keyed("sampling.temperature", float, "--temperature", "-t", help="Sampling temperature (0 = greedy).")
MaxTokensOpt = keyed("sampling.max_tokens", int, "--max-tokens", help="Most new tokens per completion.")
SeedOpt = keyed("sampling.seed", int, "--seed", help="Base seed; every sample's seed derives from it and the row id.")
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="Delete this run's earlier results and start fresh.")]
PushOpt = Annotated[
    Optional[str],
    typer.Option("--push-to-hub", help="Push the finished run to this Hub dataset repo, as a revision named from its settings."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress display; one summary line for logs.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show the libraries' own warnings and notices (else in the run's `library.log`).")
]
ApproachOpt = keyed(
    "search.approach", str, "--approach", "-a", help=f"Search strategy: {registry.names(registry.STRATEGIES)}."
)
PrmOpt = keyed("verifier.prm", str, "--prm", help="PRM hub id or local folder (`verifier.prm`).")
BeamWidthOpt = keyed("search.beam_width", int, "--beam-width", help="Candidates per beam per round; must divide n.")
AggStrategyOpt = keyed(
    "verifier.agg_strategy", str, "--agg-strategy", help="Step scores to one score: `last`, `min`, `prod`, `mean`."
)
NumIterationsOpt = keyed("search.num_iterations", int, "--num-iterations", help="Most rounds of beam search / DVTS.")


def prm_protocol(prm: str | None, sets: list[str] | None) -> str | None:
    """`--prm` names another model, so the profile's protocol no longer applies: detect it
    (`auto`) unless `--set verifier.protocol=...` says which."""
    if prm is None or any(item.replace(" ", "").startswith("verifier.protocol=") for item in sets or ()):
        return None
    return "auto"


def settings_flags(command: Callable, values: dict[str, Any]) -> dict[str, tuple[object, str]]:
    """The settings the keyed flags of `command` give, as `{"section.key": (value, "--flag")}`
    for `profiles.resolve`; `values` are the command's arguments (`locals()` on entry).
    `--prm` also resets `verifier.protocol` (see `prm_protocol`)."""
    flags: dict[str, tuple[object, str]] = {}
    for name, parameter in inspect.signature(command, eval_str=True).parameters.items():
        for meta in getattr(parameter.annotation, "__metadata__", ()):
            if id(meta) in _KEYS:
                key, flag = _KEYS[id(meta)]
                flags[key] = (values[name], flag)
                if key == "verifier.prm":
                    flags["verifier.protocol"] = (prm_protocol(values[name], values.get("set_")), flag)
    return flags
