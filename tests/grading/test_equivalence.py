"""The grader table: reference answers against model answers that must, or must NOT, match.

Each row is (reference as the dataset stores it, extracted model answer, expected). The
reference goes through `normalize_gold` first, as `sal evaluate` does.
"""

from __future__ import annotations

import threading

import pytest

from sal_cli.grading.equivalence import canonical, equivalent, group_answers
from sal_cli.grading.extract import normalize_gold

PAIRS = [
    # reference types of the bundled sets: AIME "025", AIME 2025 ints, AMC floats, GSM8K `####`
    ("025", "25", True),
    (70, "70", True),
    (27.0, "27", True),
    (27.0, "27.0", True),
    ("Janet sells 1,000 eggs.\n#### 1,000", "1000", True),
    ("#### 18", "18.00", True),
    ("18", r"\$18", True),
    (r"\$18.90", "18.9", True),
    # integers and negatives
    ("3", "4", False),
    ("-5", "5", False),
    ("-5", "-5", True),
    ("-256", "256", False),
    ("0", "-0", True),
    ("1000000", "1000001", False),
    ("2", "2.000001", False),
    # fractions and decimals
    (r"-\frac{35}{9}", "-35/9", True),
    (r"-\frac{35}{9}", r"\frac{35}{9}", False),
    (r"\frac{14}{3}", r"\dfrac{14}{3}", True),
    (r"\frac{14}{3}", "4.6666667", True),
    (r"\frac{14}{3}", "4.67", False),
    (r"\frac{1}{2}", "0.5", True),
    ("0.5", r"\frac12", True),
    (r"\frac43", r"\frac{4}{3}", True),
    (r"\frac 59", "5/9", True),
    (r"\frac{3}{56}", r"\frac{3}{65}", False),
    ("1.25", r"\frac{5}{4}", True),
    ("1.25", "1.250", True),
    ("0.15", "0.150", True),
    (".35625", "0.35625", True),
    ("3.21", "3.2", False),
    (r"1\frac{4}{5}", r"\frac95", True),
    (r"137 \frac{1}{2}", "137.5", True),
    (r"\frac{2}{1005}", r"\frac{4}{2010}", True),
    (r"-\frac{24}{25}", "-0.96", True),
    # roots and pi
    (r"3\sqrt{13}", r"\sqrt{117}", True),
    (r"11\sqrt2", r"11\sqrt{2}", True),
    (r"\frac{\sqrt{3}}{3}", r"\frac{1}{\sqrt{3}}", True),
    (r"2\sqrt{5}", r"\sqrt{20}", True),
    (r"2\sqrt{5}", r"\sqrt{5}", False),
    (r"-\sqrt{3}", r"-\sqrt3", True),
    (r"\sqrt{53}", "7.28", False),
    (r"1+2\sqrt{3}", r"2\sqrt{3}+1", True),
    (r"\pi", r"\pi", True),
    (r"\pi", "3.14159", False),
    (r"-\frac{\pi}{6}", r"-\pi/6", True),
    (r"288 \pi", r"288\pi", True),
    (r"7\pi", "21.99", False),
    (r"18+2\pi", r"2\pi+18", True),
    (r"\frac{20000}{\pi}", r"20000/\pi", True),
    # degrees and percentages
    (r"90^\circ", "90", True),
    (r"90^\circ", r"90^{\circ}", True),
    (r"30^\circ", r"\frac{\pi}{6}", False),
    (r"\frac{270}7\text{ degrees}", r"\frac{270}{7}", True),
    (r"145^\circ", r"35^\circ", False),
    (r"50\%", "50", True),
    (r"50\%", "0.5", True),
    (r"12\%", r"13\%", False),
    # intervals
    ("(3,4]", "(3, 4]", True),
    ("(3,4]", "(3,4)", False),
    (r"(-\infty, 0]", r"(-\infty,0]", True),
    (r"(2,\infty)", r"(2, \infty)", True),
    (r"(-\infty, 2) \cup (3, \infty)", r"(3,\infty)\cup(-\infty,2)", True),
    (r"x \in [-2,7]", "[-2,7]", True),
    (r"\left[ \frac{\pi^2}{8}, \frac{5 \pi^2}{4} \right]", r"[\pi^2/8, 5\pi^2/4]", True),
    (r"(0,9) \cup (9,36)", "(0,36)", False),
    # sets and lists of solutions
    (r"\{1\pm\sqrt{5},-2\}", r"-2, 1+\sqrt5, 1-\sqrt5", True),
    (r"1 \pm \sqrt{19}", r"1+\sqrt{19}, 1-\sqrt{19}", True),
    ("1,-2", "-2, 1", True),
    ("3, 5, 7", "7,5,3", True),
    ("3, 5, 7", "3, 5", False),
    ("-2,1", "-2", False),
    (r"\{5\}", "5", True),  # a set of one is its element
    ("(3,4)", "3", False),  # a number is never an interval, tuple, matrix or letter
    # tuples
    ("(6,31,-1)", "(6, 31, -1)", True),
    ("(6,31,-1)", "(6,-1,31)", False),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3, \pi/2)", True),
    ("(15,-29)", "(15, -29)", True),
    ("(1,-16,-4,43)", "(1,-16,-4,42)", False),
    ("(-2,1)", "(1,-2)", False),
    # matrices and vectors
    (r"\begin{pmatrix} -1/3 \\ 2/3 \\ 5/3 \end{pmatrix}", r"\begin{pmatrix} -\frac13 \\ \frac23 \\ \frac53 \end{pmatrix}", True),
    (r"\begin{pmatrix} -1 & 0 \\ 0 & -1 \end{pmatrix}", r"\begin{pmatrix}-1&0\\0&-1\end{pmatrix}", True),
    (r"\begin{pmatrix} -2 \\ -14 \\ -7 \end{pmatrix}", r"\begin{pmatrix} -2 \\ 14 \\ -7 \end{pmatrix}", False),
    (r"\begin{pmatrix} 1/5 \\ -18/5 \end{pmatrix}", r"\begin{pmatrix} 0.2 \\ -3.6 \end{pmatrix}", True),
    (r"\begin{pmatrix} -7 \\ 16 \\ 5 \end{pmatrix}", r"-\begin{pmatrix} -7 \\ 16 \\ 5 \end{pmatrix}", False),
    # units
    (r"5.4 \text{ cents}", "5.4", True),
    (r"5.4 \text{ cents}", "4.5", False),
    (r"864 \mbox{ inches}^2", "864", True),
    (r"15\mbox{ cm}^2", "15", True),
    # equations and assignments
    ("x=5", "5", True),
    ("5", "x=5", True),
    ("x = 9", "85", False),
    ("85", "x = 9", False),
    ("y = 2x + 3", "2x+3", True),
    ("y = -2x", "y=-2x", True),
    ("y = 2x + 3", "y = 2x - 3", False),
    ("5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0", True),
    # text answers and multiple choice
    (r"\text{Evelyn}", "Evelyn", True),
    (r"\text{Evelyn}", "Navin", False),
    (r"\text{east}", "East", True),
    (r"\text{(C)}", "C", True),
    (r"\text{(C)}", "(C)", True),
    (r"\text{(C)}", r"\text{(B)}", False),
    (r"\text{(C)}", "3", False),
    (r"\text{even}", r"\text{odd}", False),
    (r"\text{ellipse}", "ellipse", True),
    # thousands separators
    (r"10,\!080", "10080", True),
    (r"11,\! 111,\! 111,\! 100", "11111111100", True),
    ("58,500", "58500", True),
    (r"\$32,\!348", "32,348", True),
    ("1,000", "1000", True),
    ("58,500", "58, 500", False),  # with a space it is a list of two numbers
    # scientific notation
    ("1200", "1.2e3", True),
    ("1200", r"1.2 \times 10^3", True),
    ("0.0000672", "6.72e-5", True),
    (".0000672", r"6.72\times 10^{-5}", True),
    ("1200", "1.2e4", False),
    # decimal commas and a stray backslash (sal's readings; see the test below)
    ("1,22", "1.22", True),
    ("0,111", "0.111", True),
    ("1000.99", "1000,99", True),
    ("1,22", "1.23", False),
    ("-2,1", "-2.1", False),  # MATH's list of two roots
    ("185", "185\\", True),
    ("185\\", "185\\", True),
    # relations and matrices written differently
    ("x >= 5", "x \\geq 5", True),
    ("x \\neq 3", "x != 3", True),
    ("x \\leq 5", "5 \\geq x", True),
    ("x > 5", "x < 5", False),
    ("\\begin{pmatrix}0&0\\\\0&1\\end{pmatrix}", "\\begin{bmatrix} 0 & 0 \\\\ 0 & 1 \\end{bmatrix}", True),
    ("\\begin{pmatrix}1 & 2 \\\\3 & 4\\end{pmatrix}", "\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]", True),
    # several answers
    ("1, 2", "1,2", True),
    ("1, 2, 3", "\\{1,2,3\\}", True),
    # complex numbers
    ("6 - 5i", "6-5i", True),
    ("1+274i", "274i+1", True),
    ("-2 + 7i", "-2-7i", False),
    # expressions and bases
    ("x^3+3x-6", "x^3 + 3x - 6", True),
    ("2k+2", "2(k+1)", True),
    ("(a+5)(b+2)", "(b+2)(a+5)", True),
    ("6r^2-4r-24", "2(3r^2-2r-12)", True),
    ("8n^2 + 4n + 1", "8n^2+4n-1", False),
    ("x^8 + x^7 + x^6 + x^5 + x^4 + x^3 + x^2 + x + 1", r"\frac{x^9-1}{x-1}", True),
    (r"\frac{11+9a}{20}", r"\frac{9a+11}{20}", True),
    (r"\cot x", r"\frac{\cos x}{\sin x}", True),
    (r"\infty", r"\infty", True),
    ("52_8", "52_8", True),
    ("4210_{5}", "4210_5", True),
    ("2516_8", "2516", True),  # the base subscript may be left out
]


@pytest.mark.parametrize(("gold", "pred", "expected"), PAIRS, ids=[f"{g}|{p}" for g, p, _ in PAIRS])
def test_grader_table(gold, pred, expected):
    assert equivalent(normalize_gold(gold), pred) is expected


def test_table_is_large_and_has_both_outcomes():
    assert len(PAIRS) >= 80
    assert sum(not e for *_, e in PAIRS) >= 30  # pairs that must NOT match


def test_canonical_drops_only_what_never_changes_meaning():
    assert canonical(r"\left( 3, \frac{\pi}{2} \right)") == r"(3, \frac{\pi}{2})"
    assert canonical("58, 500") != canonical("58,500")  # a list is not a number
    assert canonical(r"\cot x") == r"\cot x"  # a command keeps the space before its argument
    assert canonical(r"\$18.90") == "18.90"
    assert canonical(r"\text{Evelyn}") == "Evelyn"


def test_math_verify_alone_rejects_what_sal_reads():
    """sal's own readings (a decimal comma, a stray backslash, `\\mathcal{}`) against plain math-verify."""
    from math_verify import parse, verify

    def plain(gold, pred):
        return verify(parse("\\boxed{" + gold + "}"), parse("\\boxed{" + pred + "}"))

    assert not plain("1.22", "1,22") and equivalent("1.22", "1,22")
    assert not plain("1000.99", "1000,99") and equivalent("1000.99", "1000,99")
    assert not plain("185", "185\\") and equivalent("185", "185\\")
    assert not plain("B", "\\mathcal{B}") and equivalent("B", "\\mathcal{B}")


def test_huge_powers_do_not_hang():
    assert equivalent(r"10^{10^{10}}", "5") is False


def test_equivalence_works_outside_the_main_thread():
    """math-verify's signal.alarm fails in threads; there the timeouts are off instead."""
    results = []
    thread = threading.Thread(target=lambda: results.append(equivalent(r"\frac{\sqrt{3}}{3}", r"\frac{\sqrt3}{3.0}")))
    thread.start()
    thread.join()
    assert results == [True]


def test_group_answers_puts_equivalent_answers_in_one_class():
    classes, reps = group_answers(["5", "5.0", None, "x=5", r"\frac{10}{2}", "6", "6"])
    assert classes == [0, 0, -1, 0, 0, 1, 1]
    assert reps == ["5", "6"]
