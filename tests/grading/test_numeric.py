"""The plain-Python reader of simple numeric LaTeX: what it values, and what it leaves to math-verify."""

from __future__ import annotations

import math

import pytest

from sal_cli.grading.numeric import numeric_value


@pytest.mark.parametrize(
    ("text", "value"),
    [("5\\sqrt{2}", 5 * math.sqrt(2)), ("\\frac{3\\sqrt{3}}{4}", 3 * math.sqrt(3) / 4), ("-\\frac{\\pi}{6}", -math.pi / 6),
     ("\\frac12", 0.5), ("\\sqrt2", math.sqrt(2)), ("2^{10}", 1024.0), ("2^{-1}", 0.5), ("18+2\\pi", 18 + 2 * math.pi),
     ("(2)(3)", 6.0), ("2\\cdot3", 6.0), ("1/2/4", 0.125), ("3.5", 3.5), (".5", 0.5), ("\\frac{1}{2}+\\frac13", 5 / 6)],
)
def test_values(text, value):
    assert numeric_value(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    ["2\\frac{1}{2}",  # a mixed number: 2.5 to math-verify, not 2 * 1/2
     "2\\pi r", "x", "50\\%", "90^\\circ", "\\sqrt[3]{8}", "10^{10^{10}}", "2^10", "\\frac{1}{0}", "\\sqrt{-4}",
     "(3,4)", "1,000", "", "e^2", "2^{1/2}"],
)
def test_outside_the_grammar_is_none(text):
    assert numeric_value(text) is None
