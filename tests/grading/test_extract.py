"""Answer extraction from completions and reference normalisation, on literal texts.

Without a box, the answer is what math-verify's extraction reads; the cases below where
sal reads more than math-verify each show what the library alone returns.
"""

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
    ("The answer is x = 5.", "5"),
    ("so x = 18.", "18"),
    ("Adding them, the total is 1,000.", "1000"),
    ("So the final answer is 6, which is equal to $\\frac{1}{6}$, which is", "6"),
    ("= -3.5$", "-3.5"),
    ("\\[ x = 12 \\]", "x = 12"),
    ("**42**", "42"),
    # math-verify's extraction: the last LaTeX, "Final Answer:", an answer followed by junk
    ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5"),
    ("Final Answer: The largest $n$ is 34.", "34"),
    ("Therefore, the probability is 2/3. <|im_start|>user", "2/3"),
    ("There are 12 sequences. I hope it is correct. <|im_start|>user", "12"),
    ("not it's not 10 it's 1,000.99m²", "1000.99"),
    ("Soucis : 2,74 $ a..", "2.74"),
    ("$28$ %", "28"),  # math-verify keeps the percent in its value, not in the text (28\\% matches 28)
    ("I think we should compute 3 + 4 and then", "3 + 4"),  # not cut off: math-verify reads on
    # a "final answer is" after the last box wins, as in math-verify
    ("so $\\boxed{255}$. Final Answer: The final answer is $10,455$. I hope it is correct.", "10,455"),
    # several boxes that only separators keep apart are one answer
    ("\\boxed{1},\\boxed{2},\\boxed{3}", "1, 2, 3"),
    ("are: \\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", "-2, 1"),
    ("$\\boxed{(1, 2)}, \\boxed{(2, 1)}$", "(1, 2), (2, 1)"),
    ("A guess \\boxed{5}, but no. So the answer is \\boxed{7}.", "7"),  # prose between: the last box
    # a bare answer or one formula is its own answer
    ("x^2 + 2*x + 1", "x^2 + 2*x + 1"),
    ("185\\", "185\\"),
    ("f(x) = x^2", "f(x) = x^2"),
    ("\\text{odd}", "\\text{odd}"),
    ("$1 - \\frac{1}{\\mathrm{e}}$", "1 - \\frac{1}{\\mathrm{e}}"),
    ("$5 \\text{ cm}.$", "5 \\text{ cm}"),
]
NO_ANSWER = [
    "\\boxed{12",  # cut off inside the box
    "the answer is obtained by adding both sides",
    "I give up",
    "AZYUK2A",
    "",
]


@pytest.mark.parametrize(("text", "answer"), COMPLETIONS)
def test_extracts_the_final_answer(text, answer):
    assert extract_answer(text) == answer


# a real SmolLM2 completion (GSM8K, reference 15) that never answers
RAMBLING = (
    "That's a classic lateral thinking problem. To solve it, you need to consider the quarter-liquid portion of "
    "your original 10-liter water and add it to the 15-liter pineapple drink.\n\nThe key to this problem lies in "
    "understanding that you can't add a fraction of a liter of water to a fraction of a liter without losing whole "
    "liters.\n\nBy breaking down the problem into smaller, more manageable parts, you've gained a strong "
    "understanding of math and problem-solving."
)


def test_math_verify_alone_falls_short_where_sal_reads_more():
    """Each hand-written rule of extract.py, against what math-verify's parse returns."""
    from math_verify import parse

    assert parse("x^2 + 2*x + 1")[-1] == "1"  # a bare expression: math-verify reads its last number
    assert parse("$1 - \\frac{1}{\\mathrm{e}}$")[0] == 1  # one formula: 0.9 reads `1 - \\frac{1}{`
    assert parse("The answer is Evelyn.") == []  # a word answer
    assert parse("A guess \\boxed{5}, but no. So the answer is \\boxed{7}.")[-1] == "5,7"  # joins every box
    assert parse(RAMBLING)[-1] == "15" and extract_answer(RAMBLING) is None  # any number, anywhere


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
     ("Janet ... #### 1,000", "1000"), ("\\boxed{5}", "5"), ("$\\frac{1}{2}$", "\\frac{1}{2}"),
     ("$\\boxed{1}\\boxed{2}$", "1, 2"), ("$125$ miles", "125"), ("So $x=1/5$, or $\\boxed{20}$ percent.", "20"),
     ("1,22", "1,22"), ("x \\in [-2,7]", "x \\in [-2,7]")],
)
def test_normalize_gold(value, expected):
    assert normalize_gold(value) == expected
