"""Shared inputs of the PRM tests: solutions of different lengths and settings for a tiny PRM."""

from __future__ import annotations

from pathlib import Path

from sal_cli.config import VerifierConfig

SOLUTIONS = [  # (problem, steps): lengths differ, so batches pad
    ("What is 2 + 3?", ["2 + 3 = 5.", "So the answer is $\\boxed{5}$."]),
    ("Solve x + 1 = 4.", ["Subtract 1 from both sides.", "x = 4 - 1.", "x = 3, so the answer is 3."]),
    ("Compute 7 * 6.", ["7 * 6 = 42, the answer is 42."]),
    ("Is 9 prime?", ["9 = 3 * 3.", "It has a divisor 3.", "So 9 is not prime.", "The answer is no."]),
]
INIT = 0.3  # weight init std of the tiny models: wide, so scores spread away from 0.5


def settings(folder: Path, protocol: str, **values) -> VerifierConfig:
    return VerifierConfig(prm=str(folder), protocol=protocol, dtype="float32", **values)
