"""Stepwise rows -> token ids and per-token labels, laid out exactly like TRL's PRM trainer.

The `token-classification` PRM protocol reads a saved model with the same layout, so
training and inference agree token for token:

    [BOS] prompt | step 1 + separator | step 2 + separator | ...
    labels: -100 everywhere except the last token of each "step + separator", which
    holds that step's label (1 = correct, 0 = wrong).

Each piece is tokenised on its own (`add_special_tokens=False`) and the ids are joined,
rather than tokenising the joined text: that is TRL's layout, and it keeps each step's
last token at a known place. Example with a word-level tokenizer and separator `"\\n"`:

    prompt "2+2?"  completions ["2+2=4", "so 5"]  labels [True, False]
    input_ids: BOS 2+2? 2+2=4 \\n so 5 \\n
    labels:    -   -    -     1  -  -  0
"""

from __future__ import annotations

from typing import Any

IGNORE = -100  # the label torch's cross-entropy skips


def tokenize_row(
    row: dict[str, Any],
    tokenizer: Any,
    separator_ids: list[int],
    max_length: int = 0,
    max_completion_length: int = 0,
    last_step_only: bool = False,
) -> dict[str, list[int]]:
    """`input_ids` and `labels` of one row; lengths of 0 mean no truncation (cut at the end)."""
    prompt_ids, *step_ids = tokenizer([row["prompt"], *row["completions"]], add_special_tokens=False)["input_ids"]
    if tokenizer.bos_token_id is not None:
        prompt_ids = [tokenizer.bos_token_id, *prompt_ids]
    last = len(step_ids) - 1
    completion_ids: list[int] = []
    completion_labels: list[int] = []
    for index, (ids, label) in enumerate(zip(step_ids, row["labels"])):
        ids = [*ids, *separator_ids]
        kept = int(label) if index == last or not last_step_only else IGNORE
        completion_ids += ids
        completion_labels += [IGNORE] * (len(ids) - 1) + [kept]
    if max_completion_length:
        completion_ids, completion_labels = completion_ids[:max_completion_length], completion_labels[:max_completion_length]
    input_ids = prompt_ids + completion_ids
    labels = [IGNORE] * len(prompt_ids) + completion_labels
    if max_length:
        input_ids, labels = input_ids[:max_length], labels[:max_length]
    return {"input_ids": input_ids, "labels": labels}


def has_label(labels: list[int]) -> bool:
    """A row whose labelled tokens were all cut off teaches nothing (and makes a NaN loss)."""
    return any(label != IGNORE for label in labels)
