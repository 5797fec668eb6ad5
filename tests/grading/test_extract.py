"""Answer extraction from completions and reference normalisation, on literal texts."""

from __future__ import annotations

import pytest

from sal_cli.grading.extract import extract_answer, normalize_gold

COMPLETIONS = [
    ("So the answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("First \\boxed{3}, then on reflection \\boxed{\\{1,2\\}}", "\\{1,2\\}"),
    ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("\\fbox{42}", "42"),
    ("Hence \\boxed 5$.", "5"),
    ("We get \\boxed{5} and then \\boxed{7", "5"),  # the last box is cut off: the one before counts
    ("The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}"),
    ("Final answer: 18 dollars.", "18"),
    ("The answer is $18 per day.", "18"),
    ("The answer is Evelyn.", "Evelyn"),
    ("The answer is x = 5.", "x = 5"),
    ("so x = 18.", "18"),
    ("Adding them, the total is 1,000.", "1,000"),
    ("So the final answer is 6, which is equal to $\\frac{1}{6}$, which is", "6"),
    ("= -3.5$", "-3.5"),
    ("\\[ x = 12 \\]", "12"),
    ("**42**", "42"),
]
NO_ANSWER = [
    "\\boxed{12",  # cut off inside the box
    "I think we should compute 3 + 4 and then",
    "the answer is obtained by adding both sides",
    "f(x) = x^2",  # an exponent is not an answer
    "x-5",
    "x = 2*3",
    "the roots are 1,2",  # a list, not a trailing number
    "",
]


@pytest.mark.parametrize(("text", "answer"), COMPLETIONS)
def test_extracts_the_final_answer(text, answer):
    assert extract_answer(text) == answer


@pytest.mark.parametrize("text", NO_ANSWER)
def test_no_answer_is_none(text):
    assert extract_answer(text) is None


def test_a_cut_off_completion_counts_only_with_a_box():
    assert extract_answer("The cosine of 360", cut_off=True) is None
    assert extract_answer("So the answer is $f(x", cut_off=True) is None
    assert extract_answer("We get \\boxed{5}, and then", cut_off=True) == "5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("025", "25"), (27.0, "27"), (70, "70"), (0.15, "0.15"), ("27.5", "27.5"), ("-0", "0"), (" 3 ", "3"),
     ("Janet ... #### 1,000", "1000"), ("\\boxed{5}", "5"), ("$\\frac{1}{2}$", "\\frac{1}{2}")],
)
def test_normalize_gold(value, expected):
    assert normalize_gold(value) == expected
