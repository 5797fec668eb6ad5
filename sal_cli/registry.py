"""The plug-ins by name: search strategies and PRM protocols, each name -> `module:attribute`.

The single list both ways: `config` validates `search.approach` and `verifier.protocol`
against it, `--help` and the docs list it, and `search.make_strategy` / `prms.load_prm`
import the named module only when a run uses it (so this module, like `config`, imports
nothing heavy). A new strategy is one module whose class has `from_config(config)` and one
line in `STRATEGIES`; a new PRM protocol is one module with `load(cfg, source)` and one line
in `PRM_PROTOCOLS`.
"""

from __future__ import annotations

import importlib
from typing import Any

STRATEGIES: dict[str, str] = {
    "best_of_n": "sal_cli.search.best_of_n:BestOfN",
    "beam_search": "sal_cli.search.beam_search:BeamSearch",
    "dvts": "sal_cli.search.dvts:DVTS",
    "collective_backtrack": "sal_cli.search.collective_backtrack:CollectiveBacktrack",
    "independent_backtrack": "sal_cli.search.independent_backtrack:IndependentBacktrack",
}

PRM_PROTOCOLS: dict[str, str] = {
    "math-shepherd": "sal_cli.prms.math_shepherd:load",
    "rlhflow": "sal_cli.prms.rlhflow:load",
    "skywork": "sal_cli.prms.skywork:load",
    "qwen-prm": "sal_cli.prms.qwen_prm:load",
    "token-classification": "sal_cli.prms.token_classification:load",
    "llm-judge": "sal_cli.prms.llm_judge:load",
}


def names(registry: dict[str, str]) -> str:
    """`a`, `b` or `c`: the names of a registry for help texts and errors."""
    quoted = [f"`{name}`" for name in registry]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)


def load(registry: dict[str, str], name: str) -> Any:
    """Import the plug-in `name` of `registry` (its module is imported only now)."""
    module, attribute = registry[name].split(":")
    return getattr(importlib.import_module(module), attribute)
