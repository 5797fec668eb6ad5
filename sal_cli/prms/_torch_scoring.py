"""The transformers side of PRM scoring: `TorchScorer` (common prefix once, KV cache kept between calls) and torch helpers.

The solutions of one problem share the PRM prompt, the problem and, in a search, most of
their path. `TorchScorer` runs that common prefix once, then every row's own suffix on top
of a copy of its KV cache, so a beam search round costs the new steps rather than whole
solutions again. Rows of unlike lengths go on in separate forwards (each on its own copy of
the prefix cache), so padding never costs more than a quarter of the real tokens: on a CPU,
where a forward is compute-bound, padded tokens cost as much as real ones. Rows are matched
to kept caches on token ids, so reuse is exact for every protocol.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sal_cli.prms._layout import Encoded
from sal_cli.prms._scoring import StepScorer


MIN_SHARED = 16  # a shorter common prefix is not worth a separate forward pass
PAD_WASTE = 0.25  # rows of unlike lengths go in separate forwards rather than pad one past this


@dataclass
class _Prefix:
    """Tokens already run through the model: their length, P at their score positions, and
    `copies(n)`, a fresh KV cache of them for a batch of n rows (None: nothing shared)."""

    length: int = 0
    probs: dict[int, float] = field(default_factory=dict)
    copies: Callable[[int], Any] = lambda n: None


class TorchScorer(StepScorer):
    """A transformers model: `states(ids, mask, positions, past, keep)` gives one vector per
    token (and the KV cache when `keep`), `head(vectors)` (float32, only at score positions)
    one probability per vector. `keep_gib` of KV cache is kept from one `score()` call to the
    next (0: none)."""

    def __init__(
        self,
        name: str,
        layout: Any,
        max_len: int,
        batch_size: int,
        pad_id: int,
        states: Callable[..., Any],
        head: Callable[[Any], Any],
        keep_gib: float = 0.0,
    ):
        from sal_cli.prms._loading import device

        super().__init__(name, layout, max_len, batch_size)
        self.device = device()
        self.pad_id = pad_id
        self.states = states
        self.head = head
        self.keep_bytes = int(keep_gib * 2**30)
        self.reused = 0  # tokens whose KV cache came from the previous call
        self._kept: dict[tuple[int, ...], _Prefix] = {}  # the previous call's rows, by their ids
        self._keeping: dict[tuple[int, ...], _Prefix] = {}
        self._keeping_bytes = 0

    def score(self, problems: Sequence[str], steps: Sequence[Sequence[str]]) -> list[list[float]]:
        self._keeping, self._keeping_bytes = {}, 0
        try:
            return super().score(problems, steps)
        finally:
            self._kept, self._keeping = self._keeping, {}

    def _forward(self, batch: list[Encoded]) -> list[list[float]]:
        import torch

        scores: list[list[float]] = [[] for _ in batch]
        by_prefix: dict[tuple[int, ...] | None, list[int]] = {}
        for row, enc in enumerate(batch):
            by_prefix.setdefault(self._kept_prefix(enc), []).append(row)
        with torch.inference_mode():
            for key, rows in by_prefix.items():
                part = [batch[row] for row in rows]
                prefix = self._kept[key] if key else self._common(part)
                self.reused += prefix.length * len(part) if key else 0
                for row, row_scores in zip(rows, self._on_prefix(prefix, part)):
                    scores[row] = row_scores
        return scores

    def _kept_prefix(self, enc: Encoded) -> tuple[int, ...] | None:
        """The longest row of the previous call that `enc` extends (a search's parent beam)."""
        for length in sorted({len(key) for key in self._kept}, reverse=True):
            key = tuple(enc.ids[:length])
            if length < len(enc.ids) and key in self._kept:
                probs = self._kept[key].probs
                if all(mark in probs for mark in enc.marks if mark < length):
                    return key
        return None

    def _common(self, part: list[Encoded]) -> _Prefix:
        """The rows' common prefix run once, when it is long enough to be worth it."""
        import torch

        shared = _common_prefix(part) if len(part) > 1 else 0
        shared = min([shared] + [enc.marks[-1] for enc in part])  # every row runs (and is kept) from its last mark
        if shared < MIN_SHARED:
            return _Prefix()
        at = self.device
        one = torch.tensor([part[0].ids[:shared]], device=at)
        states, past = self.states(one, torch.ones_like(one), torch.arange(shared, device=at)[None], None, True)
        marks = sorted({mark for enc in part for mark in enc.marks if mark < shared})
        probs = self.head(states[0, marks].float()).tolist() if marks else []

        def copies(n: int) -> Any:
            cache = copy.deepcopy(past)
            cache.batch_repeat_interleave(n)
            return cache

        return _Prefix(shared, dict(zip(marks, probs)), copies)

    def _on_prefix(self, prefix: _Prefix, part: list[Encoded]) -> list[list[float]]:
        """Scores of rows that all start with `prefix`: their suffixes in groups of similar
        length, each group on its own copy of the prefix's cache."""
        import torch

        scores: list[list[float]] = [[] for _ in part]
        todo = []
        for i, enc in enumerate(part):
            if enc.marks[-1] < prefix.length:  # seen whole before: nothing to run
                scores[i] = [prefix.probs[mark] for mark in enc.marks]
            else:
                todo.append(i)
        for group in _similar_lengths([len(part[i].ids) - prefix.length for i in todo]):
            group = [todo[j] for j in group]
            encs = [part[i] for i in group]
            states, cache = self._suffix_states(encs, prefix.length, prefix.copies(len(encs)))
            picked = [states[i, mark - prefix.length] for i, enc in enumerate(encs) for mark in enc.marks if mark >= prefix.length]
            probs = iter(self.head(torch.stack(picked).float()).tolist())
            for i, enc in zip(group, encs):
                scores[i] = [prefix.probs[mark] if mark < prefix.length else next(probs) for mark in enc.marks]
            self._keep(encs, [scores[i] for i in group], cache)
        return scores

    def _suffix_states(self, part: list[Encoded], shared: int, cache: Any) -> tuple[Any, Any]:
        """Hidden states of each row's tokens after the `shared` prefix, right-padded to the
        longest, and the KV cache of the whole rows when they may be kept."""
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
        return self.states(ids.to(at), mask.to(at), positions.to(at), cache, self._keeping_bytes < self.keep_bytes)

    def _keep(self, part: list[Encoded], scores: list[list[float]], cache: Any) -> None:
        """Keep each row's KV cache up to its last score position (what a child beam shares)
        for the next call, while the budget lasts. Only caches that hold every position
        (plain layers, or sliding-window ones not yet past their window) can be cut by row."""
        if cache is None:
            return
        total = max(len(enc.ids) for enc in part)
        if not all(getattr(layer, "keys", None) is not None and layer.keys.shape[-2] == total for layer in cache.layers):
            return
        windows = [getattr(layer, "sliding_window", None) for layer in cache.layers]
        for row, (enc, row_scores) in enumerate(zip(part, scores)):
            end = enc.marks[-1] + 1
            kv = [(layer.keys[row : row + 1, :, :end].clone(), layer.values[row : row + 1, :, :end].clone())
                  for layer in cache.layers]
            size = sum(k.nbytes + v.nbytes for k, v in kv)
            if self._keeping_bytes + size > self.keep_bytes:
                return
            self._keeping_bytes += size
            self._keeping[tuple(enc.ids[:end])] = _Prefix(end, dict(zip(enc.marks, row_scores)), _expander(kv, windows))

    def close(self) -> None:
        self.states = self.head = None
        self._kept = self._keeping = {}
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _expander(kv: list[tuple[Any, Any]], windows: list[int | None]) -> Callable[[int], Any]:
    """`copies(n)` for a kept row: a new cache (same layer kinds) holding its keys and values n times."""

    def copies(n: int) -> Any:
        import torch
        from transformers.cache_utils import DynamicCache

        return DynamicCache(ddp_cache_data=[
            (k.expand(n, -1, -1, -1), v.expand(n, -1, -1, -1)) + (() if w is None else (torch.tensor(w),))
            for (k, v), w in zip(kv, windows)
        ])

    return copies


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
