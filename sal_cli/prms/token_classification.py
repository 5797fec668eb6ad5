"""`token-classification`: PRMs trained with TRL's PRMTrainer (what `sal train-prm` writes).

An `AutoModelForTokenClassification` with 2 labels. Input laid out exactly like TRL's
`PRMTrainer.tokenize_row` (no chat template):

    [BOS if the tokenizer has one] ids(problem) ids(step 1) ids(sep) ids(step 2) ids(sep) ... ids(step n) ids(sep)

Score of step k: P(label 1) at the last token of `step k + sep`, the token TRL labels.
The separator is `verifier.step_separator`, else the one in the model's `sal_prm.json`,
else `"\\n"` (TRL's default). Runs on transformers or vLLM (`verifier.backend`).
"""

from __future__ import annotations

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._layout import SeparatedLayout
from sal_cli.prms._loading import load_model, load_tokenizer, max_length, read_json
from sal_cli.prms._scoring import StepScorer
from sal_cli.prms._torch_scoring import TorchScorer, classifier_head, pad_id, token_states
from sal_cli.prms.detect import MANIFEST, num_labels, read_manifest

NAME = "token-classification"


def step_separator(cfg: VerifierConfig, source: str) -> str:
    manifest = read_manifest(cfg, source) or {}
    return cfg.step_separator or manifest.get("step_separator") or "\n"


def load(cfg: VerifierConfig, source: str) -> StepScorer:
    from transformers import AutoModelForTokenClassification

    config = read_json(cfg, source, "config.json")
    if num_labels(config) != 2:
        raise SalError(
            f"PRM `{cfg.prm}` is a classifier with {num_labels(config)} labels; `{NAME}` needs 2 (step wrong, step right)",
            hint=f"check `verifier.protocol`, or the model's `{MANIFEST}`",
        )
    tokenizer = load_tokenizer(cfg, source)
    separator = step_separator(cfg, source)
    separator_ids = tokenizer(separator, add_special_tokens=False)["input_ids"]
    if not separator_ids:
        raise SalError(f"step separator {separator!r} has no tokens for PRM `{cfg.prm}`", hint="set `verifier.step_separator`")
    layout = SeparatedLayout(tokenizer, separator_ids)
    if cfg.backend == "vllm":
        from sal_cli.prms._vllm import VllmScorer

        return VllmScorer(NAME, layout, cfg, source, max_length(cfg, config))
    model = load_model(AutoModelForTokenClassification, cfg, source)
    return TorchScorer(
        NAME, layout, max_length(cfg, config), cfg.batch_size, pad_id(tokenizer), token_states(model), classifier_head(model),
        keep_gib=cfg.reuse_cache_gib,
    )
