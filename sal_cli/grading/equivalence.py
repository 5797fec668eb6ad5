r"""Whether two answers are the same mathematical object, and answers grouped by it.

math-verify decides: `verify(parse(gold), parse(pred))`, gold first, because it is
asymmetric (a gold `x=5` accepts `5`; an interval gold accepts an inequality). Cheap
checks run before it, so that 500 problems x 256 completions grade in seconds, and every
decision is cached by (gold, pred) pair:

- the same text once spacing, `\left`/`\right`, `\dfrac`, `$` and a wrapping `\text{}`
  are dropped is the same answer, without parsing;
- plain numbers (integers, decimals, `a/b`, `\frac{a}{b}`, `1,000`, `1.2e3`) that are
  equal are the same; integers and fractions that differ are not;
- two values further apart than math-verify's tolerance (6 decimals; 1e-6 relative for
  large values) are not the same: numeric answers are valued in plain Python
  (`numeric.py`) or by sympy, expressions in variables at one fixed point;
- a number is never a tuple, a set of two or more, an interval, a matrix or a letter.

A match is always exact or math-verify's; the shortcuts only rule matches out.

Two readings math-verify does not have are added, each only able to accept a match:
a number with a decimal comma (`1,22`, `0,111`, `1000,99`: a comma not followed by exactly
three digits) equals the same number with a dot, and a stray trailing backslash (`185\\`)
is dropped. Timeouts: see `library.py`. Answers longer than `MAX_CHARS` are rambling, not
math, and are compared as text only.
"""

from __future__ import annotations

import cmath
import math
import re
import zlib
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

from sal_cli.grading.library import math_verify, timeout
from sal_cli.grading.numeric import numeric_value

MAX_CHARS = 300  # longer "answers" are rambling text, not math: compared as text only
_SPACING = re.compile(r"\\left|\\right|(?<!\\)\\[!,;: ]|\\?\$|(?<!,)(?:\s+(?![A-Za-z])|(?<![A-Za-z])\s+)")
_WRAPPER = re.compile(r"\\(?:text|textbf|mathrm|mbox|mathbf|mathcal)\{([^{}]*)\}")
_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FRACTION = re.compile(r"([+-]?)(?:\\frac\{(\d+)\}\{(\d+)\}|\\frac(\d)(\d)|(\d+)/(\d+))")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL_COMMA = re.compile(r"\d+,(?:\d{1,2}|\d{4,})|0,\d+")  # not `-2,1`: a list of roots in MATH
_ASSIGNMENT = re.compile(r"[A-Za-z]=([^=<>]+)")
_DEGREES = re.compile(r"\^\{?\\circ\}?$")
_SCIENTIFIC = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+))[eE]([+-]?\d+)")


def canonical(text: str) -> str:
    """`text` without what never changes an answer's meaning: `$`, `\\left`, spacing
    commands and spaces, except between two letters (`\\cot x`) and after a comma
    (`58, 500` is a list, `58,500` a number)."""
    text = _SPACING.sub("", text).replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").rstrip(".")
    if text.endswith("\\") and (len(text) - len(text.rstrip("\\"))) % 2:
        text = text[:-1]  # `185\`: a stray backslash, not a `\\` line break
    whole = _WRAPPER.fullmatch(text)
    return whole.group(1) if whole else text


def equivalent(gold: str, pred: str) -> bool:
    """True when `pred` is the same answer as `gold` (see the module docstring)."""
    return _equivalent(gold, pred)


def group_answers(answers: Sequence[str | None]) -> tuple[list[int], list[str]]:
    """Class id per answer (-1 for None) and each class's first answer (its representative).

    Answers are taken in order; each joins the first class whose representative it is
    equivalent to (the representative as gold), else starts a class. Only distinct texts
    are compared, so 256 answers with 12 distinct values cost at most 66 comparisons.
    """
    representatives: list[str] = []
    class_of: dict[str, int] = {}
    classes = []
    for answer in answers:
        if answer is None:
            classes.append(-1)
            continue
        if answer not in class_of:
            found = next((c for c, rep in enumerate(representatives) if _equivalent(rep, answer)), None)
            if found is None:
                found = len(representatives)
                representatives.append(answer)
            class_of[answer] = found
        classes.append(class_of[answer])
    return classes, representatives


@lru_cache(maxsize=1 << 18)
def _equivalent(gold: str, pred: str) -> bool:
    a, b = _canonical(gold), _canonical(pred)
    if a == b:
        return True
    if len(a) > MAX_CHARS or len(b) > MAX_CHARS:
        return False
    if _decimal_comma(a) == b or _decimal_comma(b) == a:
        return True
    exact_a, exact_b = _plain_number(a), _plain_number(b)
    if exact_a is not None and exact_b is not None:
        if exact_a[0] == exact_b[0]:
            return True
        if not (exact_a[1] or exact_b[1]):  # two integers or fractions: exact arithmetic decides
            return False
    value_a, value_b = _value(gold), _value(pred)
    if value_a is not None and value_b is not None and _far_apart(value_a, value_b):
        return False
    kinds = {_kind(gold), _kind(pred)}
    if "number" in kinds and kinds & {"collection", "letter"}:
        return False  # math-verify never equates a number with a tuple, set, interval, matrix or letter
    return _verify(gold, pred)


def _far_apart(a: complex, b: complex) -> bool:
    """Values math-verify could never call equal (it rounds to 6 decimals at most)."""
    if cmath.isinf(a) or cmath.isinf(b):
        return cmath.isinf(a) != cmath.isinf(b)
    return abs(a - b) > 1e-6 * max(1.0, abs(a), abs(b))


def _decimal_comma(text: str) -> str | None:
    """`1,22` as `1.22`: a comma that cannot be a thousands separator is a decimal one."""
    return text.replace(",", ".") if _DECIMAL_COMMA.fullmatch(text) else None


@lru_cache(maxsize=1 << 16)
def _canonical(text: str) -> str:
    return canonical(text)


@lru_cache(maxsize=1 << 16)
def _plain_number(text: str) -> tuple[Fraction, bool] | None:
    """(exact value, is a decimal) of a plain number in canonical text, else None."""
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if _INT.fullmatch(text):
        return Fraction(int(text)), False
    if _DECIMAL.fullmatch(text):
        return Fraction(text), True
    match = _FRACTION.fullmatch(text)
    if match:
        sign, *parts = match.groups()
        num, den = (int(p) for p in parts if p is not None)
        return (Fraction(-num if sign == "-" else num, den), False) if den else None
    return None


@lru_cache(maxsize=1 << 16)
def _value(text: str) -> complex | None:
    """A number that tells `text` apart from other answers: its value, or for an expression
    in variables its value at one fixed point (equal expressions agree everywhere). None
    where math-verify has rules of its own (relations, sets, tuples, matrices, a bare
    symbol such as a choice letter, `%`) or nothing parses."""
    canon = _canonical(text)
    assignment = _ASSIGNMENT.fullmatch(canon)  # math-verify compares `x=9` with a number by its 9
    number = _DEGREES.sub("", assignment.group(1) if assignment else canon)  # and `90^\circ` as 90
    plain = _plain_number(number)
    if plain is not None:
        return complex(plain[0])
    quick = numeric_value(number)
    if quick is not None:
        return complex(quick)
    parsed = _parse(text)
    sympy = _sympy()
    expr = parsed[0] if parsed else None
    special = (sympy.Symbol, sympy.MatrixExpr)
    if not isinstance(expr, sympy.Expr) or isinstance(expr, special) or expr.has(sympy.UnevaluatedExpr):
        return None
    try:
        point = {symbol: _coordinate(symbol.name) for symbol in expr.free_symbols}
        value = complex(sympy.N(expr.subs(point) if point else expr, 20))
    except OverflowError:
        return complex(math.inf)  # beyond floats (`10^{10^{10}}`): unlike every finite value
    except Exception:  # sympy fails in many ways on odd input (RecursionError, KeyError...): no shortcut
        return None
    return None if cmath.isnan(value) else value


@lru_cache(maxsize=1 << 16)
def _kind(text: str) -> str | None:
    """`number` for a number read without sympy; `collection` for a tuple, set or list of
    two or more, an interval or a matrix; `letter` for a bare symbol (`C`, `\\text{east}`)."""
    canon = _canonical(text)
    if _plain_number(canon) is not None or numeric_value(canon) is not None:
        return "number"
    parsed = _parse(text)
    if not parsed:
        return None
    sympy, expr = _sympy(), parsed[0]
    if isinstance(expr, (sympy.FiniteSet, sympy.Tuple)):
        return "collection" if len(expr) >= 2 else None
    if isinstance(expr, (sympy.Interval, sympy.Union, sympy.MatrixBase)):
        return "collection"
    return "letter" if isinstance(expr, sympy.Symbol) else None


def _coordinate(name: str) -> float:
    """A fixed, name-derived value in [0.5, 2) for a variable, the same in every answer."""
    return 0.5 + 1.5 * (zlib.crc32(name.encode()) % 9973) / 9973


@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> list[Any]:
    if _SCIENTIFIC.fullmatch(text):
        text = _SCIENTIFIC.sub(r"\1\\times10^{\2}", text)
    return math_verify().parse("\\boxed{" + text + "}", parsing_timeout=timeout())


def _verify(gold: str, pred: str) -> bool:
    parsed_gold, parsed_pred = _parse(gold), _parse(pred)
    if not parsed_gold or not parsed_pred:
        return False
    return bool(math_verify().verify(parsed_gold, parsed_pred, timeout_seconds=timeout()))


@lru_cache(maxsize=1)
def _sympy():
    import sympy

    return sympy
