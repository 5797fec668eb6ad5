"""`math-shepherd`: Math-Shepherd (peiyi9979/math-shepherd-mistral-7b-prm), a step tag after each step.

Input, one sequence per solution (the tokenizer adds its BOS), steps joined by a blank line
the way search-and-learn lays them out (it also puts the generator's system prompt before the
problem; the model card does not, and neither does sal):

    {problem} {step 1} ки\\n\\n{step 2} ки\\n\\n...{step n} ки

Score of step k: at the k-th ` ки` token, the softmax over the logits of the ` +` and ` -`
tokens (what the model learned to write in the tag's place), probability of ` +`.
"""

from __future__ import annotations

from typing import Any, Sequence

from sal_cli.config import VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms._causal import load_causal
from sal_cli.prms._layout import Encoded, encode_marked, token_span
from sal_cli.prms._torch_scoring import TorchScorer

NAME = "math-shepherd"
TAG = " ки"


class ShepherdLayout:
    def __init__(self, tokenizer: Any, prm: str):
        self.tokenizer = tokenizer
        self.tag_id, plus, minus = (_one_token(tokenizer, word, prm) for word in (TAG, " +", " -"))
        self.candidates = ([plus], [minus])

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        pieces = [f"{problem} {steps[0]}", *(f"\n\n{step}" for step in steps[1:]), ""]
        return encode_marked(self.tokenizer, pieces, TAG, expect={self.tag_id}, add_special_tokens=True)


def _one_token(tokenizer: Any, word: str, prm: str) -> int:
    """The id `word` gets after a word of text; it must be one token there."""
    text = "1" + word
    token = token_span(tokenizer, text, 1, len(text))
    if token is None:
        raise SalError(
            f"`{word.strip()}` is not a single token in the tokenizer of PRM `{prm}`, so it cannot be read as `{NAME}`",
            hint="math-shepherd needs Math-Shepherd's tokenizer (Mistral's, where ` ки` is one token); check `verifier.protocol`",
        )
    return token


def load(cfg: VerifierConfig, source: str) -> TorchScorer:
    return load_causal(NAME, cfg, source, lambda tokenizer: ShepherdLayout(tokenizer, cfg.prm))
