r"""The value of a simple numeric LaTeX answer, in plain Python (no sympy).

Parsing LaTeX with math-verify costs 10-50 ms an answer; most answers to math problems are
numbers like `5\sqrt{2}`, `\frac{3\pi}{4}` or `-2^{10}`, whose value alone tells two
different answers apart. This reads only a small, unambiguous grammar: numbers, `+ - * /`,
`\cdot`, `\times`, `\frac`, `\sqrt`, `\pi`, parentheses, braces and small integer powers;
juxtaposition multiplies only before `\sqrt`, `\pi` and `(`. Anything else (a letter, `%`,
`^\circ`, `\sqrt[3]`, a mixed number like `2\frac{1}{2}`) returns None, and the caller
asks math-verify instead. Used only to rule a match out, never to accept one.
"""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\d+\.?\d*|\.\d+|\\[A-Za-z]+|[-+*/^(){}]")
_IMPLICIT = ("\\sqrt", "\\pi", "(")
_MAX_EXPONENT = 64


class _Decline(Exception):
    """The text is outside the grammar."""


def numeric_value(text: str) -> float | None:
    """The value of `text` (canonical: no spaces) if it is a simple numeric expression."""
    tokens = _TOKEN.findall(text)
    if not tokens or "".join(tokens) != text:
        return None
    parser = _Parser(tokens)
    try:
        value = parser.expr()
        if parser.pos != len(tokens) or not math.isfinite(value):
            return None
        return value
    except (_Decline, ZeroDivisionError, OverflowError, ValueError):
        return None


class _Parser:
    """Recursive descent: expr := term (+|- term)*; term := unary ((*|/|implicit) unary)*;
    unary := (+|-) unary | power; power := atom [^ group]; atom := number | \\pi | \\sqrt group
    | \\frac group group | ( expr ) | { expr }; group := { expr } | one digit."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.pos = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Decline
        self.pos += 1
        return token

    def expr(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.unary()
        while True:
            token = self.peek()
            if token in ("*", "/", "\\cdot", "\\times"):
                self.take()
                value = value / self.unary() if token == "/" else value * self.unary()
            elif token in _IMPLICIT:
                value *= self.unary()
            else:
                return value

    def unary(self) -> float:
        if self.peek() in ("+", "-"):
            return -self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> float:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        exponent = self.group()
        if exponent != int(exponent) or abs(exponent) > _MAX_EXPONENT:
            raise _Decline
        return base ** int(exponent)

    def atom(self) -> float:
        token = self.take()
        if token[0].isdigit() or token[0] == ".":
            return float(token)
        if token == "\\pi":
            return math.pi
        if token == "\\sqrt":
            return math.sqrt(self.group())
        if token == "\\frac":
            return self.group() / self.group()
        if token in ("(", "{"):
            value = self.expr()
            self.take(")" if token == "(" else "}")
            return value
        raise _Decline

    def group(self) -> float:
        if self.peek() == "{":
            self.take()
            value = self.expr()
            self.take("}")
            return value
        token = self.take()
        if not token.isdigit():
            raise _Decline
        if len(token) > 1:  # `\frac12`: a group without braces is one digit
            self.tokens[self.pos - 1 : self.pos] = [token[0], token[1:]]
        return float(token[0])
