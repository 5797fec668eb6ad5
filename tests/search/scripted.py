"""A scripted generator and PRM: deterministic texts and scores, and call counters, so
strategy tests can say exactly which beams survive each round.

Tokens are characters (id = `ord`). The script maps a solution prefix to its possible next
steps; sample k of an expansion takes step `k % len(options)`, and greedy continuations
(lookahead, running to the end) take option 0. A step ending in `|` ends the solution (EOS;
the `|` itself is not part of the text); one ending in the delimiter stops there. Keys may
name the problem and the temperature: `"P:prefix@0.6"` wins over `"P:prefix"`, then
`"prefix@0.6"`, then `"prefix"`.
"""

from __future__ import annotations

from sal_cli.generators.base import Extension, SamplingSpec, per_prompt

EOS_MARK = "|"


class ScriptedGenerator:
    name = "scripted"
    max_model_len = 10_000

    def __init__(self, script: dict[str, list[str]], default: str = "end|"):
        self.script = script
        self.default = default
        self.calls: list[list[tuple[str, SamplingSpec]]] = []

    def format_prompt(self, problem: str, system_prompt: str) -> str:
        return f"<{problem}>"

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def extend(self, prompts, specs):
        specs = per_prompt(specs, len(prompts))
        texts = [p if isinstance(p, str) else "".join(map(chr, p)) for p in prompts]
        self.calls.append(list(zip(texts, specs)))
        return [[self._sample(text, spec, k) for k in range(spec.n)] for text, spec in zip(texts, specs)]

    def _options(self, problem: str, prefix: str, temperature: float) -> list[str]:
        for key in (f"{problem}:{prefix}@{temperature:g}", f"{problem}:{prefix}", f"{prefix}@{temperature:g}", prefix):
            if key in self.script:
                return self.script[key]
        return [self.default]

    def _sample(self, prompt: str, spec: SamplingSpec, k: int) -> Extension:
        head, _, prefix = prompt.partition(">")
        text, choice = "", k
        while True:
            options = self._options(head[1:], prefix + text, spec.temperature)
            piece = options[choice % len(options)]
            choice = 0
            if piece.endswith(EOS_MARK):
                return self._ext(text + piece[:-1], spec, eos=True)
            text += piece
            for stop in spec.stop:
                if piece.endswith(stop):
                    return self._ext(text, spec, stop=stop)

    @staticmethod
    def _ext(text: str, spec: SamplingSpec, eos: bool = False, stop: str | None = None) -> Extension:
        if len(text) > spec.max_tokens:
            text = text[: spec.max_tokens]
            return Extension(text, len(text), "length", None, tuple(map(ord, text)))
        reason = "stop" if (eos or stop) else "length"
        return Extension(text, len(text), reason, stop, tuple(map(ord, text)))

    def close(self) -> None:
        pass


class ScriptedPRM:
    """Scores a step by its text (`scores[step]`, else `default`); counts calls and steps."""

    name = "scripted"

    def __init__(self, scores: dict[str, float], default: float = 0.5):
        self.scores = scores
        self.default = default
        self.calls: list[list[tuple[str, list[str]]]] = []
        self.tokens = 0

    def score(self, problems, steps):
        self.calls.append([(p, list(s)) for p, s in zip(problems, steps)])
        self.tokens += sum(len(step) for s in steps for step in s)
        return [[self.scores.get(step, self.default) for step in s] for s in steps]

    def close(self) -> None:
        pass
