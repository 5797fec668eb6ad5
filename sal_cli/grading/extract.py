r"""Final answers out of completions, and reference answers in one comparable form.

A completion's answer is, in order of trust:

1. the content of its last complete `\boxed{...}` or `\fbox{...}` (braces matched, so
   `\boxed{\frac{1}{2}}` keeps its fraction; a box cut off by `max_tokens` is skipped);
2. the text after its last "final answer is" / "the answer is" / "answer:" phrase (the
   `$...$` right after it, or the rest of the sentence);
3. a number the completion ends with ("... so she pays 18 dollars." does not end with
   one, "... = 18." does).

Only the box counts in a completion cut off by the token budget.

Nothing found is `None` (counted as `no_answer`), never `""`, so that "no answer" can
never win a vote or match an empty reference.
"""

from __future__ import annotations

import re
from typing import Any

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
_PHRASE = re.compile(r"(?i)(?:final answer|the answer|\banswer)\s*(?:is\b\s*:?|:)\s*")
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_SENTENCE_END = re.compile(r"\n|\.(?:\s|$)|I hope", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(r"(?<![\w.,^_/{}+-])(?<![^*]\*)(-?\d+(?:,\d{3})*(?:\.\d+)?)(?:\s*(?:\$|\\\]|\\\)|\*\*|\.))*\s*$")
_NUMBER_THEN_WORDS = re.compile(r"\s*\\?\$?(-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?),?\s+[A-Za-z]")
_INT_LIKE = re.compile(r"[+-]?\d+(?:\.0*)?")
_DECORATION = " \t\n$.:"


def extract_answer(text: str, cut_off: bool = False) -> str | None:
    """The final answer of one completion (see the module docstring), or None.

    A completion `cut_off` by the token budget counts only with a complete box: the last
    number or "answer is" of a text that stops mid-thought is not its answer.
    """
    for find in (_last_box,) if cut_off else (_last_box, _after_phrase, _trailing_number):
        answer = find(text)
        if answer:
            return answer
    return None


def normalize_gold(value: Any) -> str:
    """A reference answer as text that compares like the answers models write.

    Integers and integral floats lose their decimals (AMC's `27.0` is `27`), zero-padded
    integers lose their zeros (AIME's `025` is `25`), a GSM8K worked solution keeps only
    what follows `####`, and a boxed reference keeps only the box's content.
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip().replace(",", "")
    if _BOX.search(text):
        text = _last_box(text) or text
    text = text.strip(" $")
    if _INT_LIKE.fullmatch(text):
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("+-").split(".")[0].lstrip("0") or "0"
        return sign + digits if digits != "0" else "0"
    return text


def _last_box(text: str) -> str | None:
    """Content of the last complete `\\boxed`/`\\fbox`; earlier ones if the last is cut off."""
    for match in reversed(list(_BOX.finditer(text))):
        content = _box_content(text, match.end())
        if content is not None and content.strip(_DECORATION):
            return content.strip(_DECORATION)
    return None


def _box_content(text: str, start: int) -> str | None:
    """`{...}` at `start` with braces matched (escaped `\\{` `\\}` do not count), or the
    single token of `\\boxed 5`; None when the braces never close."""
    rest = text[start:]
    if not rest.lstrip(" ").startswith("{"):
        token = rest.strip().split(maxsplit=1)
        return token[0].split("$")[0] if token and rest[:1] == " " else None
    i = start + len(rest) - len(rest.lstrip(" ")) + 1
    depth, begin = 1, i
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[begin:i]
        i += 1
    return None


def _after_phrase(text: str) -> str | None:
    """What follows the last "final answer is"-like phrase: its `$...$`, or its sentence."""
    matches = list(_PHRASE.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :]
    math = _MATH.match(rest)
    if math:
        candidate = next(group for group in math.groups() if group is not None)
    else:
        end = _SENTENCE_END.search(rest)
        candidate = rest[: end.start()] if end else rest
        number = _NUMBER_THEN_WORDS.match(candidate)  # "18 dollars" -> "18"
        candidate = number.group(1) if number else candidate
    candidate = candidate.strip(_DECORATION + "*")
    looks_like_math = any(c.isdigit() for c in candidate) or "\\" in candidate or len(candidate.split()) == 1
    return candidate if candidate and len(candidate) <= 80 and looks_like_math else None


def _trailing_number(text: str) -> str | None:
    match = _TRAILING_NUMBER.search(text[-200:])
    return match.group(1) if match else None
