"""The `PRM` port over a layout: encode, cut from the left, batch, read one score per step.

Every protocol is a layout (how a solution becomes ids and score positions, see `_layout`)
plus a way to turn the model's output at those positions into probabilities. The loop here
is shared: the solutions of one problem are batched together (`verifier.batch_size` at a
time, sorted so that shared prefixes sit side by side), right-padded, and put back in input
order.

Prefix sharing: the solutions of one problem share the PRM prompt, the problem and, in a
search, most of their path. A transformers scorer runs that common prefix once, then every
row's own suffix on top of a copy of its KV cache, so a beam search round costs the new
steps rather than whole solutions again. Rows of unlike lengths go on in separate forwards
(each on its own copy of the prefix cache), so padding never costs more than a quarter of
the real tokens: on a CPU, where a forward is compute-bound, padded tokens cost as much as
real ones.

Truncation: an input longer than the limit loses tokens from the LEFT, so the newest steps
keep their positions. A step whose position was cut away gets the score of the first step
still scored: a PRM's score at a step judges the whole prefix up to it, and the chance that a
prefix is still correct can only fall as steps are added, so that score is a cautious (lower)
estimate for the steps before it. `last` and `min` aggregate as if the lost steps were absent.
"""

from __future__ import annotations

import copy
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
        results: list[list[float]] = [[] for _ in problems]
        for chunk in self._batches(jobs, problems):
            for (i, _, lost), scores in zip(chunk, self._forward([enc for _, enc, _ in chunk])):
                results[i] = [scores[0]] * lost + scores
            self.tokens += sum(len(enc.ids) for _, enc, _ in chunk)
        return results

    def _batches(self, jobs: list, problems: Sequence[str]) -> list[list]:
        """One problem's solutions per batch (in id order, so prefixes line up), at most
        `batch_size` each; a backend that schedules its own batches gets them all at once."""
        if self.batch_size is None:
            return [jobs] if jobs else []
        by_problem: dict[str, list] = {}
        for job in jobs:
            by_problem.setdefault(problems[job[0]], []).append(job)
        batches = []
        for group in by_problem.values():
            group.sort(key=lambda job: job[1].ids)
            batches += [group[lo : lo + self.batch_size] for lo in range(0, len(group), self.batch_size)]
        return batches

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


MIN_SHARED = 16  # a shorter common prefix is not worth a separate forward pass
PAD_WASTE = 0.25  # rows of unlike lengths go in separate forwards rather than pad one past this


class TorchScorer(StepScorer):
    """A transformers model: `states(ids, mask, positions, past, keep)` gives one vector per
    token (and the KV cache when `keep`), `head(vectors)` (float32, only at score positions)
    one probability per vector."""

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

        shared = _common_prefix(batch) if len(batch) > 1 else 0
        if shared < MIN_SHARED:
            shared = 0
        at = self.device
        scores: list[list[float]] = [[] for _ in batch]
        with torch.inference_mode():
            past, prefix_states = None, None
            if shared:
                one = torch.tensor([batch[0].ids[:shared]], device=at)
                prefix_states, past = self.states(one, torch.ones_like(one), torch.arange(shared, device=at)[None], None, True)
            groups = _similar_lengths([len(enc.ids) - shared for enc in batch])
            for g, rows in enumerate(groups):
                cache = None
                if past is not None:
                    cache = past if g == len(groups) - 1 else copy.deepcopy(past)
                    cache.batch_repeat_interleave(len(rows))
                part = [batch[row] for row in rows]
                states = self._suffix_states(part, shared, cache)
                picked = [
                    prefix_states[0, mark] if mark < shared else states[i, mark - shared]
                    for i, enc in enumerate(part)
                    for mark in enc.marks
                ]
                probs = self.head(torch.stack(picked).float()).tolist()
                for row, enc in zip(rows, part):
                    scores[row], probs = probs[: len(enc.marks)], probs[len(enc.marks) :]
        return scores

    def _suffix_states(self, part: list[Encoded], shared: int, cache: Any) -> Any:
        """Hidden states of each row's tokens after the `shared` prefix, right-padded to the longest."""
        import torch

        at = self.device
        width = max(len(enc.ids) for enc in part) - shared
        ids = torch.full((len(part), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(part), shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for row, enc in enumerate(part):  # right padding: real tokens first
            ids[row, : len(enc.ids) - shared] = torch.tensor(enc.ids[shared:])
            mask[row, : len(enc.ids)] = 1
        positions = (shared + torch.arange(width)).expand(len(part), -1)
        states, _ = self.states(ids.to(at), mask.to(at), positions.to(at), cache, False)
        return states

    def close(self) -> None:
        self.states = self.head = None
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _similar_lengths(lengths: list[int], waste: float = PAD_WASTE) -> list[list[int]]:
    """Row indices grouped so that padding each group to its longest row costs at most `waste`
    of its real tokens: longest first, a row joins the open group while that still holds."""
    groups: list[list[int]] = []
    real = 0
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        group = groups[-1] if groups else None
        if group and lengths[group[0]] * (len(group) + 1) <= (1 + waste) * (real + lengths[row]):
            group.append(row)
            real += lengths[row]
        else:
            groups.append([row])
            real = lengths[row]
    return groups


def _common_prefix(batch: list[Encoded]) -> int:
    """Tokens every row starts with, leaving each row at least one token of its own."""
    first, limit = batch[0].ids, min(len(enc.ids) for enc in batch) - 1
    shared = 0
    while shared < limit and all(enc.ids[shared] == first[shared] for enc in batch):
        shared += 1
    return shared


def token_states(model: Any) -> Callable[..., Any]:
    """Last hidden states of a model's backbone (no LM head: logits over the vocabulary are
    never built), optionally on top of a KV cache `past` and keeping the new cache."""
    backbone = model.base_model

    def states(ids, mask, positions, past=None, keep=False):
        out = backbone(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=past,
                       use_cache=keep or past is not None)
        return out.last_hidden_state, out.past_key_values if keep else None

    return states


def classifier_head(model: Any) -> Callable[[Any], Any]:
    """P(label 1) from a token-classification model's own head, in float32."""
    import torch

    layer = getattr(model, "score", None) or model.classifier
    weight = layer.weight.float()
    bias = layer.bias.float() if layer.bias is not None else torch.zeros(weight.shape[0], device=weight.device)
    return lambda states: positive_class(states @ weight.T + bias)


def positive_class(logits):
    """P(label 1) of a 2-label classifier."""
    return logits.softmax(dim=-1)[:, 1]


def pad_id(tokenizer: Any) -> int:
    """Any real id does for right padding (masked, and after every real token)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return candidate
    return 0
