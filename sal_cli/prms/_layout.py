"""How one solution becomes model input: token ids plus the positions that score its steps.

Two ways to build them, shared by every protocol:

- marked text (math-shepherd, rlhflow, llm-judge, qwen-prm): the whole text is tokenized at
  once, as the model saw it in training, and a mark string (` ки`, `+`, `Yes`, `<extra_0>`)
  stands where each step is scored; character offsets find the mark's token, so no id is
  searched for and text that happens to contain the mark cannot add a score. Chat layouts
  render the template with a placeholder where each mark goes, then put the marks in.
- separated steps (skywork, token-classification): ids are concatenated piece by piece
  (prompt, then each step followed by the separator ids), the way those PRMs were trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sal_cli.errors import RunFailure, SalError

PLACEHOLDER = "\ue000"  # a private-use character: stands where a mark goes in a chat render


@dataclass
class Encoded:
    """Model input for one solution: `marks[k]` is the position whose output scores step k."""

    ids: list[int]
    marks: list[int]


def token_span(tokenizer: Any, text: str, start: int, end: int, add_special_tokens: bool = False) -> int | None:
    """The id of the one token that holds exactly the characters `text[start:end]` (spaces aside), else None."""
    enc = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    (index,) = _tokens_holding(enc["offset_mapping"], [end - 1])
    if index is None:
        return None
    first = len(text[start:end]) - len(text[start:end].lstrip())
    tok_start, tok_end = enc["offset_mapping"][index]
    inside = tok_start <= start + first and tok_end >= end
    before = text[tok_start : start + first].strip()  # the token may take a space, not a word
    return enc["input_ids"][index] if inside and not before else None


def encode_marked(
    tokenizer: Any, pieces: Sequence[str], mark: str, *, expect: set[int], shift: int = 0, add_special_tokens: bool = False
) -> Encoded:
    """Tokenize `pieces[0] + mark + pieces[1] + ... + mark + pieces[-1]`; one score position per mark.

    The position is the token holding the mark's last character, moved by `shift` (-1: the token
    before it, whose next-token logits predict the mark). That token must be one of `expect`.
    """
    text, ends = "", []
    for piece in pieces[:-1]:
        text += piece + mark
        ends.append(len(text) - 1)
    text += pieces[-1]
    enc = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), enc["offset_mapping"]
    marks = []
    for k, index in enumerate(_tokens_holding(offsets, ends)):
        if index is None or ids[index] not in expect:
            raise RunFailure(
                f"step {k + 1} of a solution: `{mark.strip()}` did not become its own token",
                hint="the step text merges with the mark; please report this with the solution text",
            )
        marks.append(index + shift)
    return Encoded(ids, marks)


def render_chat(tokenizer: Any, messages: list[dict[str, str]], count: int, prm: str) -> list[str]:
    """The chat template's text split at the `PLACEHOLDER`s the messages hold (`count` of them)."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    pieces = text.split(PLACEHOLDER)
    if len(pieces) != count + 1:
        raise SalError(
            f"the chat template of PRM `{prm}` changes message text, so step positions cannot be found",
            hint="use a tokenizer whose chat template inserts message content as it is",
        )
    return pieces


def clean(text: str) -> str:
    """Message text with the placeholder character replaced (it cannot occur in real solutions anyway)."""
    return text.replace(PLACEHOLDER, "\ufffd")


def require_chat_template(tokenizer: Any, prm: str, protocol: str) -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise SalError(
            f"PRM `{prm}` has no chat template, which protocol `{protocol}` needs",
            hint="use a chat model, or save a tokenizer with a `chat_template`",
        )


class SeparatedLayout:
    """`[BOS] + ids(problem + prompt_suffix)`, then for each step `ids(step) + separator`;
    each step is scored at its separator's last token (skywork, token-classification)."""

    def __init__(self, tokenizer: Any, separator: list[int], prompt_suffix: str = ""):
        self.tokenizer = tokenizer
        self.separator = separator
        self.prompt_suffix = prompt_suffix
        self.bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        ids = self.bos + self._ids(problem + self.prompt_suffix)
        marks = []
        for step in steps:
            ids += self._ids(step) + self.separator
            marks.append(len(ids) - 1)
        return Encoded(ids, marks)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


def _tokens_holding(offsets: Sequence[Sequence[int]], chars: Sequence[int]) -> list[int | None]:
    """For each character index (ascending), the last token whose span holds it; one pass over the tokens."""
    found: list[int | None] = []
    index = 0
    for char in chars:
        while index < len(offsets) and not _holds(offsets[index], char):
            index += 1
        if index == len(offsets):
            found.append(None)
            continue
        while index + 1 < len(offsets) and _holds(offsets[index + 1], char):
            index += 1  # byte-level pieces of one character share its span: take the last
        found.append(index)
    return found


def _holds(span: Sequence[int], char: int) -> bool:
    return span[0] <= char < span[1]
