"""`llm-judge`: any chat model as a PRM; it is asked whether each step is right (the CPU demo's PRM).

RLHFlow's layout with a judge's system prompt, so one forward pass scores every step:

    system:    {JUDGE_PROMPT}
    user:      Problem:\\n{problem}\\n\\nStep 1:\\n{step 1}      assistant: Yes
    user:      Step 2:\\n{step 2}                             assistant: Yes
    ...

Score of step k: at the position just before the k-th assistant `Yes`, P(yes) / (P(yes) +
P(no)) from the next-token logits, where P(yes) sums `Yes`, `yes`, ` Yes`, ` yes` (and P(no)
the same spellings of no): each spelling that is one token at the answer's place counts, so
the score does not hinge on one tokenizer's choice of leading space or case.
"""

from __future__ import annotations

from typing import Sequence

from sal_cli.config import VerifierConfig
from sal_cli.prms._causal import load_causal
from sal_cli.prms._layout import PLACEHOLDER
from sal_cli.prms._torch_scoring import TorchScorer
from sal_cli.prms.rlhflow import TurnsLayout

NAME = "llm-judge"
JUDGE_PROMPT = (
    "You check math solutions one step at a time. After each step, answer Yes if the step is "
    "correct and moves the solution forward, or No if it contains a mistake. Answer with one word."
)
YES = ("Yes", "yes", " Yes", " yes")
NO = ("No", "no", " No", " no")


def judge_turns(problem: str, steps: Sequence[str]) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": JUDGE_PROMPT}]
    for k, step in enumerate(steps):
        intro = f"Problem:\n{problem}\n\n" if k == 0 else ""
        messages.append({"role": "user", "content": f"{intro}Step {k + 1}:\n{step}"})
        messages.append({"role": "assistant", "content": PLACEHOLDER})
    return messages


def load(cfg: VerifierConfig, source: str) -> TorchScorer:
    return load_causal(NAME, cfg, source, lambda tokenizer: TurnsLayout(tokenizer, cfg.prm, NAME, judge_turns, YES, NO))
