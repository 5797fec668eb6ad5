"""The generator port: one value object in (`SamplingSpec`), plain results out (`Extension`).

Adapters (vLLM, transformers) implement `Generator.extend(prompts, specs)` and return, for
each prompt in input order, its `spec.n` extensions. The search engine and `sal generate`
depend only on this module, never on torch or vllm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, Union

Prompt = Union[str, Sequence[int]]
"""A prompt is chat-templated text, or its token ids (search extends partial solutions by ids,
so the model sees exactly the tokens it wrote and nothing is re-tokenised)."""


@dataclass(frozen=True)
class SamplingSpec:
    """How to extend one prompt.

    Attributes:
        n: completions to draw (>= 1).
        temperature: 0 is greedy (then `top_p` is reset to 1).
        top_p: nucleus mass in (0, 1]; 1 turns it off.
        max_tokens: most new tokens (>= 1).
        stop: strings that end a completion early (e.g. the step delimiter `"\\n\\n"`).
        include_stop: keep the matched stop string at the end of the text.
        seed: seed for this prompt's samples; the same seed gives the same samples.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    include_stop: bool = True
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        else:
            object.__setattr__(self, "stop", tuple(self.stop))
        if self.temperature == 0:
            object.__setattr__(self, "top_p", 1.0)
        for ok, message in (
            (self.n >= 1, f"n must be at least 1, got {self.n}."),
            (self.temperature >= 0, f"temperature must be non-negative, got {self.temperature}."),
            (0 < self.top_p <= 1, f"top_p must be in (0, 1], got {self.top_p}."),
            (self.max_tokens >= 1, f"max_tokens must be at least 1, got {self.max_tokens}."),
            (all(self.stop), "stop strings must not be empty."),
        ):
            if not ok:
                raise ValueError(message)


@dataclass
class Extension:
    """One completion of one prompt.

    `finish_reason` is `"stop"` (EOS or a stop string) or `"length"` (hit `max_tokens`);
    `stop_reason` is the stop string that matched, `None` for EOS or length. So "stopped at
    the step delimiter" (`stop_reason == "\\n\\n"`) and "finished" (`stop_reason is None`,
    `finish_reason == "stop"`) are told apart.
    """

    text: str
    num_tokens: int
    finish_reason: str
    stop_reason: str | None = None
    token_ids: tuple[int, ...] = ()

    @property
    def finished(self) -> bool:
        """Ended on EOS: the model considers the solution complete."""
        return self.finish_reason == "stop" and self.stop_reason is None


class Generator(Protocol):
    """What the engine needs from an LLM backend."""

    name: str
    max_model_len: int  # the context (prompt + completion) in tokens; the engine's hard budget

    def format_prompt(self, problem: str, system_prompt: str) -> str:
        """The chat-templated prompt text for one problem, ending where the answer starts."""

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` as the model reads it (no special tokens added)."""

    def extend(
        self, prompts: Sequence[Prompt], specs: SamplingSpec | Sequence[SamplingSpec]
    ) -> list[list[Extension]]:
        """For each prompt (in input order) its `spec.n` extensions, each with its token ids."""

    def close(self) -> None:
        """Free the model."""


def per_prompt(specs: SamplingSpec | Sequence[SamplingSpec], count: int) -> list[SamplingSpec]:
    """One spec for all prompts, or one per prompt (checked)."""
    if isinstance(specs, SamplingSpec):
        return [specs] * count
    specs = list(specs)
    if len(specs) != count:
        raise ValueError(f"got {len(specs)} sampling specs for {count} prompts.")
    return specs


def cut_at_stop(text: str, stop: Sequence[str], include: bool) -> tuple[str, str | None]:
    """Cut `text` at the earliest stop string; returns the text and the string matched."""
    best: tuple[int, str] | None = None
    for s in stop:
        at = text.find(s)
        if at != -1 and (best is None or at < best[0]):
            best = (at, s)
    if best is None:
        return text, None
    at, s = best
    return text[: at + len(s)] if include else text[:at], s
