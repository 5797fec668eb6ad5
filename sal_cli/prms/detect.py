"""Which protocol a PRM's saved files call for (`verifier.protocol = "auto"`), and `sal_prm.json`.

Rules, first match wins:

1. `sal_prm.json` in the model folder (what `sal train-prm` writes): its `protocol`.
2. `config.json` names `Qwen2ForProcessRewardModel` (in `architectures` or an `auto_map`
   class): `qwen-prm` (Qwen2.5-Math-PRM-7B/72B and their fine-tunes).
3. `architectures` names `Qwen2ForPrmModel`: `skywork` (Skywork o1 Open PRM 1.5B/7B).
4. an architecture ending in `ForTokenClassification` with 2 labels: `token-classification`.

A plain causal LM matches nothing: Math-Shepherd, RLHFlow and any chat model (llm-judge) are
saved alike, so their protocol must be named. Nothing here looks at the model's name.
"""

from __future__ import annotations

from typing import Any

from sal_cli import registry
from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._loading import read_json

MANIFEST = "sal_prm.json"
"""A JSON object saved beside a PRM's weights, e.g. `{"protocol": "token-classification",
"step_separator": "\\n", "base_model": "...", "sal_version": "..."}`; `protocol` is required,
`step_separator` is read by `token-classification`, other keys are informative."""


def read_manifest(cfg: VerifierConfig, source: str) -> dict[str, Any] | None:
    """The PRM's `sal_prm.json`, checked; None when it has none."""
    data = read_json(cfg, source, MANIFEST, required=False)
    if data is None:
        return None
    protocol = data.get("protocol")
    names = list(registry.PRM_PROTOCOLS)
    if protocol not in names:
        raise SalError(
            f"`{MANIFEST}` of PRM `{cfg.prm}` has protocol {protocol!r}",
            hint=f"`protocol` must be one of {', '.join(names)}",
        )
    separator = data.get("step_separator", "\n")
    if not isinstance(separator, str) or not separator:
        raise SalError(f"`{MANIFEST}` of PRM `{cfg.prm}` has step_separator {separator!r}", hint="it must be a non-empty string")
    return data


def detect(config: dict[str, Any], manifest: dict[str, Any] | None) -> tuple[str, str] | None:
    """(protocol, the evidence in words) from the saved files, or None when they do not tell."""
    if manifest is not None:
        return manifest["protocol"], f"from its `{MANIFEST}`"
    architectures = list(config.get("architectures") or [])
    classes = architectures + [str(path).rsplit(".", 1)[-1] for path in (config.get("auto_map") or {}).values()]
    if "Qwen2ForProcessRewardModel" in classes:
        return "qwen-prm", "a Qwen2ForProcessRewardModel"
    if "Qwen2ForPrmModel" in architectures:
        return "skywork", "a Qwen2ForPrmModel (Skywork PRM)"
    token_classifier = next((a for a in architectures if a.endswith("ForTokenClassification")), None)
    if token_classifier and num_labels(config) == 2:
        return "token-classification", f"a {token_classifier} with 2 labels"
    return None


def num_labels(config: dict[str, Any]) -> int:
    """Labels of a classifier's `config.json` (`id2label` wins, as in transformers)."""
    return len(config.get("id2label") or {}) or int(config.get("num_labels", 2))


def choose_protocol(cfg: VerifierConfig, source: str) -> str:
    """`verifier.protocol`, with `auto` resolved; files that name a protocol win over a setting they rule out."""
    from sal_cli.progress import note

    config = read_json(cfg, source, "config.json")
    found = detect(config, read_manifest(cfg, source))
    if found is None:
        if cfg.protocol != "auto":
            return cfg.protocol
        kind = ", ".join(config.get("architectures") or ["no architecture"])
        raise SalError(
            f"cannot tell how to read PRM `{cfg.prm}` ({kind}, no `{MANIFEST}`)",
            hint="set `verifier.protocol`: `rlhflow` (RLHFlow PRMs), `math-shepherd` (Math-Shepherd) "
            "or `llm-judge` (any chat model), e.g. `--set verifier.protocol=rlhflow`",
        )
    protocol, evidence = found
    if cfg.protocol == "auto":
        note(f"PRM `{cfg.prm}`: protocol `{protocol}` ({evidence})")
    elif cfg.protocol != protocol:
        note(f"PRM `{cfg.prm}`: protocol `{protocol}` ({evidence}), not `{cfg.protocol}` as set")
    return protocol
