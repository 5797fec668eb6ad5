"""The differential corpus: sal's grade against the expected verdict of every case.

`tests/grading/corpus/*.jsonl` holds (source, gold, prediction, expected) cases from
math-verify's and NeMo-Skills' published grader tests and from real completions of the
bundled SmolLM2 (see the corpus README); `cut_off` marks a completion that ran out of
tokens, as a run's `finish_reasons` tell `sal evaluate`. A case sal cannot match yet carries `known_miss`
(the reason): the test asserts it still misses, so the count cannot drift silently either
way. `bench/grading.py` prints the same agreement next to plain math-verify's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sal_cli.grading.extract import normalize_gold
from sal_cli.grading.grader import grade_problem

CORPUS = Path(__file__).parent / "corpus"
CASES = [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[f"{c['source']}-{i}" for i, c in enumerate(CASES)])
def test_sal_agrees_with_the_expected_verdict(case):
    graded = grade_problem(normalize_gold(case["gold"]), [case["prediction"]], [case.get("cut_off", False)]).correct[0]
    if case.get("known_miss"):
        assert graded != case["expected"], f"fixed, drop `known_miss`: {case['known_miss']}"
    else:
        assert graded == case["expected"]


def test_corpus_is_large_has_every_source_and_both_verdicts():
    sources = {c["source"] for c in CASES}
    assert {"math-verify", "nemo-skills", "smollm2-135m"} <= sources
    assert len(CASES) >= 300
    assert sum(not c["expected"] for c in CASES) >= 60
    assert sum(bool(c.get("known_miss")) for c in CASES) <= 2
