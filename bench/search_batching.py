"""Beam search batched across problems (sal's engine) vs one problem at a time (the seed's
way), in one process on the same loaded generator and PRM, and the generator's share of
wall time.

    python bench/search_batching.py [--problems 10] [--n 4] [--beam-width 2] [--backend vllm]

Both runs search the same problems with the same seeds, so they do the same work; the
ratio of their wall times is what batching across problems buys. Defaults: the embedded
SmolLM2 as generator and as LLM-judge PRM (the CPU demo).

It first measures the ceiling: the generator alone decoding one problem's n sequences vs
every problem's at once. Where decoding is compute-bound (a small model on a few CPU
cores) that ratio is near 1 and no engine can batch its way past it; on a GPU it is large.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")

from sal_cli.data.datasets import load_problems  # noqa: E402
from sal_cli.generators.base import SamplingSpec  # noqa: E402
from sal_cli.generators import load_generator  # noqa: E402
from sal_cli.prms import load_prm  # noqa: E402
from sal_cli.profiles import resolve  # noqa: E402
from sal_cli.search import make_strategy  # noqa: E402
from sal_cli.search.engine import Engine, EngineSettings, RoundStats  # noqa: E402


class Clock:
    """Adds up generator and PRM seconds reported by the engine after each round."""

    def __init__(self):
        self.gen = self.prm = 0.0
        self.rounds = self.prm_tokens = 0

    def __call__(self, stats: RoundStats) -> None:
        self.gen += stats.gen_seconds
        self.prm += stats.prm_seconds
        self.prm_tokens += stats.prm_tokens
        self.rounds += 1


def search(config, generator, prm, problems, batch_size: int) -> tuple[float, Clock, int]:
    config.generator.batch_size = batch_size
    clock = Clock()
    engine = Engine(make_strategy(config), generator, prm, EngineSettings.from_config(config), on_round=clock)
    started = time.monotonic()
    tokens = sum(out.stats["total_tokens"] for _, out in engine.solve(problems))
    return time.monotonic() - started, clock, tokens


def decode_rate(generator, config, problems, n: int) -> float:
    """Generator tokens/s sampling `n` sequences of 128 tokens for each of `problems` at once."""
    prompts = [generator.format_prompt(p.problem, config.generator.system_prompt) for p in problems]
    spec = SamplingSpec(n=n, temperature=0.8, max_tokens=128, seed=0)
    started = time.monotonic()
    tokens = sum(e.num_tokens for row in generator.extend(prompts, spec) for e in row)
    return tokens / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=10)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--beam-width", type=int, default=2)
    parser.add_argument("--num-iterations", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--backend", default="vllm")
    args = parser.parse_args()

    config = resolve("cpu-demo", [
        "search.approach=beam_search", f"search.beam_width={args.beam_width}", f"sampling.n={args.n}",
        f"search.num_iterations={args.num_iterations}", f"sampling.max_tokens={args.max_tokens}",
        f"generator.backend={args.backend}", f"data.num_samples={args.problems}",
    ]).config
    problems = load_problems(config.data)
    generator = load_generator(config.generator, seed=config.sampling.seed)
    prm = load_prm(config.verifier)
    search(config, generator, prm, problems[:1], 1)  # warm-up
    alone, together = (decode_rate(generator, config, batch, args.n) for batch in (problems[:1], problems))
    print(f"generator alone: {args.n} sequences at a time {alone:.0f} tok/s, {args.n * len(problems)} at a time "
          f"{together:.0f} tok/s: batching can gain at most {together / alone:.2f}x here")
    print(f"beam search, {len(problems)} MATH-500 problems, n={args.n}, beam_width={args.beam_width}, "
          f"{args.num_iterations} rounds max, backend={generator.name}, PRM={config.verifier.protocol}")
    rows = {}
    for name, batch in (("one problem at a time", 1), ("batched across problems", len(problems))):
        reused = getattr(prm, "reused", 0)
        seconds, clock, tokens = search(config, generator, prm, problems, batch)
        reused = getattr(prm, "reused", 0) - reused
        rows[name] = seconds
        print(f"{name:>24}: {seconds:7.1f}s wall, {clock.rounds:3d} rounds, {tokens} tokens generated, "
              f"generator {100 * clock.gen / seconds:.0f}% / PRM {100 * clock.prm / seconds:.0f}% "
              f"/ engine {100 * (1 - (clock.gen + clock.prm) / seconds):.1f}% of wall time, "
              f"PRM read {clock.prm_tokens} tokens ({clock.prm_tokens / clock.prm:.0f}/s), "
              f"{reused} of them from the previous round's cache")
    print(f"speed-up of batching: {rows['one problem at a time'] / rows['batched across problems']:.2f}x")


if __name__ == "__main__":
    main()
