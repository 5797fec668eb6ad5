r"""Final answers out of completions, and reference answers in one comparable form.

A completion's answer is what math-verify's own extraction reads, with sal's additions
where a test shows the library alone falls short, in order of trust:

1. its last complete `\boxed{...}` or `\fbox{...}` (braces matched, so `\boxed{\frac{1}{2}}`
   keeps its fraction; a box cut off by `max_tokens` is skipped), together with the boxes
   right before it when only separators stand between them (`\boxed{1}, \boxed{2}` is the
   answer `1, 2`; math-verify joins every box of a text, an early guess with the answer),
   unless a "final answer is" follows the last box (math-verify's first rule, below);
2. the whole text when it is a bare answer (`x^2+2x+1`, `185\`, `\text{odd}`: short, one
   line, no math delimiters and no prose; math-verify reads its last number) or one formula
   (`$1 - \frac{1}{\mathrm{e}}$`, which math-verify 0.9 reads as `1`);
3. what math-verify's extraction (`LatexExtractionConfig` + `ExprExtractionConfig`) reads:
   "final answer is ...", "answer: ...", else the last LaTeX or number of the last
   paragraph (see `_math_verify_answer`), so
   `Final Answer: The largest $n$ is 34.` gives `34` and `... is 2/3. <|im_start|>user`
   gives `2/3`, as the text it read (a text ending in "The final answer is $X$." gives X
   without the scan, as math-verify would read it);
4. a word after "the answer is" (`The answer is Evelyn.`), which math-verify does not read.

Only a box counts in a completion cut off by the token budget.

Nothing found is `None` (counted as `no_answer`), never `""`, so that "no answer" can
never win a vote or match an empty reference.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sal_cli.grading.library import math_verify, timeout

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# what may stand between boxes that together give one answer: `\boxed{1}, \boxed{2}`, `\boxed{-2} \quad
# \text{and} \quad \boxed{1}`; math-verify joins every box of a text, an early guess with the answer
_BOX_GAP = re.compile(r"(?:\s|\$|[,;&]|\\[,;!]|\\q?quad|\\[\[\]()]|\\text\{\s*(?:and|or)?\s*\}|\b(?:and|or)\b)*")
# a bare answer: one short line, no `$`/`\(`/`\[`/box, no words but LaTeX commands (or one word alone)
_MATH_DELIMITER = re.compile(r"(?<!\\)\$|\\[(\[]|\\(?:boxed|fbox)(?![A-Za-z])")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+(?:\{[^{}]*\})?")  # `\text{ cm}`, `\frac`: not prose
_WORD = re.compile(r"[A-Za-z]{2,}")
_BARE_CHARS = 80
_PHRASE_WORD = re.compile(r"(?i)\b(?:final answer|the answer)\s*(?:is\b\s*:?|:)\s*\**([A-Za-z]+)\**\s*(?:\.|$)")
_FINAL_ANSWER = re.compile(r"(?i)final answer")
_FINAL_FORMULA = re.compile(r"(?i)final answer is:?\s*\$([^$]+)\$[.\s]*(?:I hope it is correct\.?\s*)?$")
_I_HOPE = re.compile(r"(?i)I hope")
_ONE_FORMULA = re.compile(r"\$\$([^$]+)\$\$|\$([^$]+)\$|\\\[((?:(?!\\[\]\[]).)+)\\\]|\\\(((?:(?!\\[()]).)+)\\\)", re.DOTALL)
_PARAGRAPH = re.compile(r"\n\s*\n")
_INT_LIKE = re.compile(r"[+-]?\d+(?:\.0*)?")
_DECORATION = " \t\n$.:"


def extract_answer(text: str, cut_off: bool = False) -> str | None:
    """The final answer of one completion (see the module docstring), or None.

    A completion `cut_off` by the token budget counts only with a complete box: the last
    number or "answer is" of a text that stops mid-thought is not its answer.
    """
    boxed, box_end = _last_boxes(text)
    if cut_off:
        return boxed
    if boxed and not _FINAL_ANSWER.search(text, box_end):
        return boxed
    formula = _ONE_FORMULA.fullmatch(text.strip())
    if formula or is_bare(text):
        return _clean(next((g for g in formula.groups() if g), "")) if formula else _clean(text)
    ending = _FINAL_FORMULA.search(text)  # math-verify reads X too; skipping its scan: 40% less CPU (bench)
    if ending and not _I_HOPE.search(text, 0, ending.start()):
        return _clean(ending.group(1))
    return _math_verify_answer(text) or boxed or _phrase_word(text)


def is_bare(text: str) -> bool:
    """True for a bare answer (`x^2+2x+1`, `185\\`, `\\text{odd}`, `Evelyn`): one short line,
    no math delimiters, no prose (words other than LaTeX commands, unless one word alone)."""
    text = text.strip()
    if not 0 < len(text) <= _BARE_CHARS or "\n" in text or _MATH_DELIMITER.search(text):
        return False
    plain = _LATEX_COMMAND.sub(" ", text)
    words = _WORD.findall(plain)
    return not words or plain.strip(" .,:;!?*") == words[0]


def normalize_gold(value: Any) -> str:
    """A reference answer as text that compares like the answers models write.

    Integers and integral floats lose their decimals (AMC's `27.0` is `27`), zero-padded
    integers lose their zeros (AIME's `025` is `25`), a GSM8K worked solution keeps only
    what follows `####`, a reference in `$...$` loses the dollars, and a boxed reference or
    a worked solution keeps only its answer (read like a completion's).
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip().replace(",", "")
    inline = None if _BOX.search(text) else re.fullmatch(r"\$([^$]+)\$", text)
    if inline:
        text = inline.group(1).strip()
    elif not is_bare(text):
        text = extract_answer(text) or text
    if _INT_LIKE.fullmatch(text):
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("+-").split(".")[0].lstrip("0") or "0"
        return sign + digits if digits != "0" else "0"
    return text


def _last_boxes(text: str) -> tuple[str | None, int]:
    """Content of the last complete `\\boxed`/`\\fbox` (earlier ones if the last is cut off),
    joined with the boxes right before it that only separators keep apart; and where it ends."""
    boxes = []  # (start, end, content) of complete, non-empty boxes, last first
    for match in reversed(list(_BOX.finditer(text))):
        found = _box_content(text, match.end())
        if found is None or not found[0].strip(_DECORATION):
            continue
        content, end = found
        if boxes and not _BOX_GAP.fullmatch(text, end, boxes[-1][0]):
            break
        boxes.append((match.start(), end, content.strip(_DECORATION)))
    return ", ".join(content for *_, content in reversed(boxes)) or None, boxes[0][1] if boxes else 0


def _clean(answer: str) -> str | None:
    """An answer without the sentence's full stop or comma (`5 \\text{ cm}.`); `...` stays."""
    answer = answer.strip().strip("*").strip()
    if answer[-1:] in ".," and not answer.endswith(".."):
        answer = answer[:-1].strip()
    return answer or None


def _box_content(text: str, start: int) -> tuple[str, int] | None:
    """(`{...}` at `start` with braces matched, where it ends); escaped `\\{` `\\}` do not
    count; the single token of `\\boxed 5`; None when the braces never close."""
    rest = text[start:]
    if not rest.lstrip(" ").startswith("{"):
        token = rest.strip().split(maxsplit=1)
        if not token or rest[:1] != " ":
            return None
        content = token[0].split("$")[0]
        return content, text.index(content, start) + len(content)
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
                return text[begin:i], i + 1
        i += 1
    return None


def _math_verify_answer(text: str) -> str | None:
    """The text of the answer math-verify's extraction reads in `text`, or None.

    Its anchored rules ("final answer is", "answer:") read the whole text; its fallback (the
    last LaTeX or number anywhere) reads only the last paragraph, where a conclusion stands:
    on the whole of a rambling completion it returns any number the text mentions (a real
    SmolLM2 completion that never answers gives the `15` of "the 15-liter pineapple drink").
    """
    found = math_verify().parse(text, _anchored_configs(), parsing_timeout=timeout())
    if not found:
        found = math_verify().parse(_PARAGRAPH.split(text.strip())[-1], parsing_timeout=timeout())
    return _clean(found[-1]) if found and isinstance(found[-1], str) else None


@lru_cache(maxsize=1)
def _anchored_configs() -> tuple:
    """math-verify's LaTeX and expression extraction, anchored rules only (built once)."""
    mv = math_verify()
    return (mv.LatexExtractionConfig(try_extract_without_anchor=False),
            mv.ExprExtractionConfig(try_extract_without_anchor=False))


def _phrase_word(text: str) -> str | None:
    """A word answer after the last "the answer is" (`Evelyn`, `even`)."""
    matches = list(_PHRASE_WORD.finditer(text))
    return matches[-1].group(1).strip() if matches else None
