"""Slow: the real embedded SmolLM2 as a judge, and vLLM's pooling runner against transformers."""

from __future__ import annotations

import pytest
from prm_cases import SOLUTIONS, settings

from sal_cli.config import VerifierConfig
from sal_cli.prms import load_prm, split_steps

PROBLEMS = [problem for problem, _ in SOLUTIONS]
STEPS = [steps for _, steps in SOLUTIONS]


@pytest.mark.slow
def test_smollm2_judges_each_step_of_a_short_solution():
    prm = load_prm(VerifierConfig(prm="embedded:smollm2-135m", protocol="llm-judge", batch_size=2))
    solution = "We need 2 + 3.\n\n2 + 3 = 5.\n\nThe answer is $\\boxed{5}$.\n\n"
    (scores,) = prm.score(["What is 2 + 3?"], [split_steps(solution)])
    assert len(scores) == 3
    assert all(0 < s < 1 for s in scores)
    assert prm.tokens > 0


@pytest.mark.slow
@pytest.mark.parametrize(("folder", "protocol"), [("trl_dir", "token-classification"), ("qwen_dir", "qwen-prm")])
def test_vllm_pooling_gives_the_transformers_scores(folder, protocol, request, monkeypatch):
    pytest.importorskip("vllm")
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB; a tiny model needs no quarter of the RAM
    path = request.getfixturevalue(folder)
    want = load_prm(settings(path, protocol)).score(PROBLEMS, STEPS)
    prm = load_prm(settings(path, protocol, backend="vllm", max_length=256))
    got = prm.score(PROBLEMS, STEPS)
    prm.close()
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=2e-4)
