"""transformers backend: a batched decode loop that drops finished rows as it goes.

`model.generate` keeps computing padded rows until the longest one ends; here a row leaves
the batch (and its KV cache) the moment it hits EOS, a stop string or its token budget.
Each prompt is prefilled once and its KV cache copied to its `n` sample rows, and every
row samples from its own seeded RNG, so results do not depend on how rows were batched.
"""

from __future__ import annotations

from typing import Sequence

from sal_cli.config import GeneratorConfig
from sal_cli.generators import chat
from sal_cli.generators.cpu import resolve_dtype
from sal_cli.generators.base import Extension, Prompt, SamplingSpec, cut_at_stop, per_prompt

DEFAULT_MAX_ROWS = 16  # rows decoded at once when `generator.max_num_seqs` is 0


class TransformersGenerator:
    name = "transformers"

    def __init__(self, cfg: GeneratorConfig, model_path: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.cfg = cfg
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        common = {"revision": cfg.revision or None, "trust_remote_code": cfg.trust_remote_code}
        self.tokenizer = AutoTokenizer.from_pretrained(model_path, **common)
        self.model = AutoModelForCausalLM.from_pretrained(
            model_path, dtype=getattr(torch, resolve_dtype(cfg.dtype, torch.cuda.is_available())), use_safetensors=True, **common
        ).to(self.device)
        self.model.eval()
        self.max_rows = cfg.max_num_seqs or DEFAULT_MAX_ROWS
        self.max_model_len = cfg.max_model_len or getattr(self.model.config, "max_position_embeddings", 1 << 30)
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            eos_ids.add(self.tokenizer.eos_token_id)
        self.eos_ids = eos_ids
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else min(eos_ids, default=0)

    def format_prompt(self, problem: str, system_prompt: str) -> str:
        return chat.render(self.tokenizer, problem, system_prompt, self.cfg.custom_chat_template, self.cfg.chat_date)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def extend(self, prompts: Sequence[Prompt], specs: SamplingSpec | Sequence[SamplingSpec]) -> list[list[Extension]]:
        specs = per_prompt(specs, len(prompts))
        ids = [self.encode(p) if isinstance(p, str) else list(p) for p in prompts]
        rows = [(i, k) for i, spec in enumerate(specs) for k in range(spec.n)]
        results: list[list[Extension]] = [[] for _ in prompts]
        for lo in range(0, len(rows), self.max_rows):
            chunk = rows[lo : lo + self.max_rows]
            for (i, _), extension in zip(chunk, self._decode(chunk, ids, specs)):
                results[i].append(extension)
        return results

    def close(self) -> None:
        del self.model

    def _decode(self, chunk: list[tuple[int, int]], ids: list[list[int]], specs: list[SamplingSpec]) -> list[Extension]:
        torch = self.torch
        unique = sorted({i for i, _ in chunk})
        width = max(len(ids[i]) for i in unique)
        input_ids = torch.full((len(unique), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(unique), width), dtype=torch.long)
        for row, i in enumerate(unique):  # left padding: every prompt ends at the last column
            input_ids[row, width - len(ids[i]) :] = torch.tensor(ids[i])
            mask[row, width - len(ids[i]) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        input_ids, mask, positions = (t.to(self.device) for t in (input_ids, mask, positions))
        rows = [(specs[i], len(ids[i]), _row_rng(torch, specs[i].seed, k, self.device)) for i, k in chunk]
        generated: list[list[int]] = [[] for _ in chunk]
        finish: list[tuple[str, str | None]] = [("length", None)] * len(chunk)
        with torch.inference_mode():
            out = self.model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
            select = torch.tensor([unique.index(i) for i, _ in chunk], device=self.device)
            cache = out.past_key_values
            cache.batch_select_indices(select)  # share each prompt's prefill with its n rows
            logits, mask, next_pos = out.logits[select, -1, :], mask[select], positions[select, -1] + 1
            alive = list(range(len(chunk)))
            while alive:
                tokens = self._sample(logits, [rows[r] for r in alive])
                keep = []
                for slot, r in enumerate(alive):
                    spec, prompt_len, _ = rows[r]
                    token = int(tokens[slot])
                    generated[r].append(token)
                    if token in self.eos_ids:
                        finish[r] = ("stop", None)
                    elif spec.stop and (hit := self._stop_hit(generated[r], spec.stop)):
                        finish[r] = ("stop", hit)
                    elif len(generated[r]) >= spec.max_tokens or prompt_len + len(generated[r]) >= self.max_model_len:
                        finish[r] = ("length", None)
                    else:
                        keep.append(slot)
                if len(keep) < len(alive):
                    index = torch.tensor(keep, dtype=torch.long, device=self.device)
                    if keep:
                        cache.batch_select_indices(index)
                    tokens, mask, next_pos = tokens[index], mask[index], next_pos[index]
                    alive = [alive[slot] for slot in keep]
                if not alive:
                    break
                mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
                out = self.model(
                    input_ids=tokens[:, None],
                    attention_mask=mask,
                    position_ids=next_pos[:, None],
                    past_key_values=cache,
                    use_cache=True,
                )
                logits, next_pos = out.logits[:, -1, :], next_pos + 1
        return [self._extension(generated[r], finish[r], rows[r][0]) for r in range(len(chunk))]

    def _sample(self, logits, rows) -> "object":
        """One token per row: greedy where temperature is 0, else top-p sampling from the row's RNG."""
        torch = self.torch
        logits = logits.float()
        tokens = logits.argmax(dim=-1)
        for slot, (spec, _, rng) in enumerate(rows):
            if spec.temperature == 0:
                continue
            probs = torch.softmax(logits[slot] / spec.temperature, dim=-1)
            if spec.top_p < 1:
                sorted_probs, order = probs.sort(descending=True)
                outside = sorted_probs.cumsum(0) - sorted_probs > spec.top_p
                probs = probs.scatter(0, order, sorted_probs.masked_fill(outside, 0.0))
            tokens[slot] = torch.multinomial(probs, 1, generator=rng)[0]
        return tokens

    def _stop_hit(self, generated: list[int], stop: tuple[str, ...]) -> str | None:
        """Decode only the tail: a stop string can only have appeared in the newest tokens."""
        tail = self.tokenizer.decode(generated[-(max(map(len, stop)) + 2) :], skip_special_tokens=True)
        return next((s for s in stop if s in tail), None)

    def _extension(self, generated: list[int], finish: tuple[str, str | None], spec: SamplingSpec) -> Extension:
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        reason, stop_reason = finish
        if stop_reason is not None:
            text, stop_reason = cut_at_stop(text, spec.stop, spec.include_stop)
        return Extension(text, len(generated), reason, stop_reason, tuple(generated))


def _row_rng(torch, seed: int | None, sample: int, device):
    rng = torch.Generator(device=device)
    if seed is None:
        rng.seed()
    else:
        rng.manual_seed(hash((seed, sample)) & 0x7FFF_FFFF_FFFF_FFFF)
    return rng
