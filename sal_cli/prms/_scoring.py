"""The `PRM` port over a layout: encode, cut from the left, batch, read one score per step.

Every protocol is a layout (how a solution becomes ids and score positions, see `_layout`)
plus a way to turn the model's output at those positions into probabilities. The loop here
is shared: solutions are sorted by length so each batch pads little, right-padded, run
`verifier.batch_size` at a time, and put back in input order.

Truncation: an input longer than the limit loses tokens from the LEFT, so the newest steps
keep their positions. A step whose position was cut away gets the score of the first step
still scored: a PRM's score at a step judges the whole prefix up to it, and the chance that a
prefix is still correct can only fall as steps are added, so that score is a cautious (lower)
estimate for the steps before it. `last` and `min` aggregate as if the lost steps were absent.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from sal_cli.errors import SalError
from sal_cli.prms._layout import Encoded
from sal_cli.progress import note


class StepScorer:
    """Shared `score()` loop; subclasses give `_forward(batch) -> scores at each Encoded's marks`."""

    def __init__(self, name: str, layout: Any, max_len: int, batch_size: int | None):
        self.name = name
        self.layout = layout
        self.max_len = max_len
        self.batch_size = batch_size  # None: the backend schedules its own batches (vLLM)
        self.tokens = 0
        self._noted_cut = False

    def score(self, problems: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        if len(problems) != len(steps):
            raise ValueError(f"got {len(problems)} problems and {len(steps)} step lists.")
        jobs = []
        for i, (problem, solution) in enumerate(zip(problems, steps)):
            solution = list(solution)
            while solution and not solution[-1].strip():
                solution.pop()  # a trailing empty step (text ending with its delimiter) is never scored
            if solution:
                jobs.append((i, *self._cut(self.layout.encode(problem, solution))))
        jobs.sort(key=lambda job: -len(job[1].ids))
        results: list[list[float]] = [[] for _ in problems]
        size = self.batch_size or max(len(jobs), 1)
        for lo in range(0, len(jobs), size):
            chunk = jobs[lo : lo + size]
            for (i, _, lost), scores in zip(chunk, self._forward([enc for _, enc, _ in chunk])):
                results[i] = [scores[0]] * lost + scores
            self.tokens += sum(len(enc.ids) for _, enc, _ in chunk)
        return results

    def _cut(self, enc: Encoded) -> tuple[Encoded, int]:
        """`enc` cut to `max_len` from the left, and how many steps lost their position."""
        cut = len(enc.ids) - self.max_len
        if cut <= 0:
            return enc, 0
        kept = [mark - cut for mark in enc.marks if mark >= cut]
        if not kept:
            raise SalError(
                f"`verifier.max_length` ({self.max_len}) leaves no step of a solution with its score position",
                hint="raise `verifier.max_length`, or set it to 0 for the model's own context length",
            )
        if not self._noted_cut:
            note(f"PRM {self.name}: inputs longer than {self.max_len} tokens are cut from the left")
            self._noted_cut = True
        return Encoded(enc.ids[cut:], kept), len(enc.marks) - len(kept)

    def _forward(self, batch: list[Encoded]) -> list[list[float]]:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to free here; model-holding subclasses drop their model."""


class TorchScorer(StepScorer):
    """A transformers model: `states(ids, mask, positions)` gives one vector per token and
    `head(vectors)` (float32, only at score positions) gives one probability per vector."""

    def __init__(
        self,
        name: str,
        layout: Any,
        max_len: int,
        batch_size: int,
        pad_id: int,
        states: Callable[..., Any],
        head: Callable[[Any], Any],
    ):
        from sal_cli.prms._loading import device

        super().__init__(name, layout, max_len, batch_size)
        self.device = device()
        self.pad_id = pad_id
        self.states = states
        self.head = head

    def _forward(self, batch: list[Encoded]) -> list[list[float]]:
        import torch

        width = max(len(enc.ids) for enc in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, enc in enumerate(batch):  # right padding: real tokens sit at positions 0..n-1
            ids[row, : len(enc.ids)] = torch.tensor(enc.ids)
            mask[row, : len(enc.ids)] = 1
        positions = torch.arange(width).expand(len(batch), -1)
        rows = torch.tensor([row for row, enc in enumerate(batch) for _ in enc.marks])
        cols = torch.tensor([mark for enc in batch for mark in enc.marks])
        at = self.device
        with torch.inference_mode():
            states = self.states(ids.to(at), mask.to(at), positions.to(at))
            probs = self.head(states[rows.to(at), cols.to(at)].float()).tolist()
        out, start = [], 0
        for enc in batch:
            out.append(probs[start : start + len(enc.marks)])
            start += len(enc.marks)
        return out

    def close(self) -> None:
        self.states = self.head = None
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def token_states(model: Any) -> Callable[..., Any]:
    """Last hidden states of a model's backbone (no LM head: logits over the vocabulary are never built)."""
    backbone = model.base_model

    def states(ids, mask, positions):
        return backbone(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=False).last_hidden_state

    return states


def token_logits(model: Any) -> Callable[..., Any]:
    """Per-token logits of a token-classification model."""

    def states(ids, mask, positions):
        return model(input_ids=ids, attention_mask=mask, position_ids=positions).logits

    return states


def positive_class(logits):
    """P(label 1) of a 2-label classifier."""
    return logits.softmax(dim=-1)[:, 1]


def pad_id(tokenizer: Any) -> int:
    """Any real id does for right padding (masked, and after every real token)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return candidate
    return 0
