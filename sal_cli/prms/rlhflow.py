"""`rlhflow`: RLHFlow PRMs (e.g. RLHFlow/Llama3.1-8B-PRM-Deepseek-Data), one chat turn per step.

Input, one sequence per solution (all steps scored in one forward pass), rendered with the
model's own chat template:

    user: {problem} {step 1}    assistant: +
    user: {step 2}              assistant: +
    ...
    user: {step n}              assistant: +

Score of step k: at the position just before the k-th assistant `+` (whose next-token
logits predict it), the softmax over the `+` and `-` logits, probability of `+`. Earlier
turns answered `+` are how the model was trained to see a prefix it judged correct.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._causal import load_causal
from sal_cli.prms._layout import PLACEHOLDER, Encoded, clean, encode_marked, render_chat, require_chat_template, token_span
from sal_cli.prms._torch_scoring import TorchScorer

NAME = "rlhflow"

Turns = Callable[[str, Sequence[str]], list[dict[str, str]]]


def rlhflow_turns(problem: str, steps: Sequence[str]) -> list[dict[str, str]]:
    messages = []
    for k, step in enumerate(steps):
        messages.append({"role": "user", "content": f"{problem} {step}" if k == 0 else step})
        messages.append({"role": "assistant", "content": PLACEHOLDER})
    return messages


class TurnsLayout:
    """Each step a user turn, each answered by an assistant turn holding `positive[0]`.

    `candidates` are the token ids the answer words get at an answer's place in the rendered
    chat; a word that is not one token there is skipped, but `positive[0]` (the one written
    into the turns) must be one, and the negative side needs at least one.
    """

    def __init__(self, tokenizer: Any, prm: str, protocol: str, turns: Turns, positive: Sequence[str], negative: Sequence[str]):
        require_chat_template(tokenizer, prm, protocol)
        self.tokenizer, self.prm, self.turns, self.answer = tokenizer, prm, turns, positive[0]
        yes, no = self._answer_tokens(positive), self._answer_tokens(negative)
        missing = positive[0] if yes[0] is None else negative[0] if all(t is None for t in no) else None
        if missing is not None:
            raise SalError(
                f"answer `{missing.strip()}` is not a single token in the chat of PRM `{prm}`, so it cannot be read as `{protocol}`",
                hint="check `verifier.protocol`, or use a tokenizer that reads the answer as one token",
            )
        self.candidates = tuple(list(dict.fromkeys(t for t in side if t is not None)) for side in (yes, no))

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        pieces = self._render(problem, steps)
        return encode_marked(self.tokenizer, pieces, self.answer, expect=set(self.candidates[0]), shift=-1)

    def _render(self, problem: str, steps: Sequence[str]) -> list[str]:
        return render_chat(self.tokenizer, self.turns(clean(problem), [clean(s) for s in steps]), len(steps), self.prm)

    def _answer_tokens(self, words: Sequence[str]) -> list[int | None]:
        """The id of each word at an answer's place in a rendered chat (None: not one token there)."""
        before, after = self._render("1 + 1 = ?", ["1 + 1 = 2."])
        return [token_span(self.tokenizer, before + w + after, len(before), len(before) + len(w)) for w in words]


def load(cfg: VerifierConfig, source: str) -> TorchScorer:
    return load_causal(NAME, cfg, source, lambda tokenizer: TurnsLayout(tokenizer, cfg.prm, NAME, rlhflow_turns, ["+"], ["-"]))
