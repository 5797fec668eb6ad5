"""PRM scoring throughput: the llm-judge PRM on the embedded SmolLM2, batch sizes 1 and 8.

Scores the reference solutions of the first MATH-500 problems (split into steps at blank
lines, as the search engine splits them) and prints tokens read per second for each batch
size and their ratio. Each size is timed after one warm-up call. A script, not a test:

    python bench/prm_throughput.py [--problems 16] [--dtype bfloat16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

from sal_cli.config import DataConfig, VerifierConfig
from sal_cli.data.datasets import load_problems
from sal_cli.prms import load_prm, split_steps


def measure(batch_size: int, problems: list[str], steps: list[list[str]], dtype: str, repeats: int) -> float:
    prm = load_prm(VerifierConfig(prm="embedded:smollm2-135m", protocol="llm-judge", batch_size=batch_size, dtype=dtype))
    prm.score(problems[:batch_size], steps[:batch_size])  # warm-up
    read, started = prm.tokens, time.perf_counter()
    for _ in range(repeats):
        prm.score(problems, steps)
    rate = (prm.tokens - read) / (time.perf_counter() - started)
    prm.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16, help="MATH-500 reference solutions to score")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"], help="weights dtype")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over the solutions per batch size")
    args = parser.parse_args()
    rows = load_problems(DataConfig(dataset="math500", num_samples=args.problems))
    problems = [row.problem for row in rows]
    steps = [split_steps(row.row["solution"]) for row in rows]
    print(f"llm-judge on embedded:smollm2-135m ({args.dtype}), {len(rows)} MATH-500 solutions, "
          f"{sum(map(len, steps))} steps, {args.repeats} timed passes")
    rates = {size: measure(size, problems, steps, args.dtype, args.repeats) for size in (1, 8)}
    for size, rate in rates.items():
        print(f"batch_size={size}: {rate:,.0f} tokens/s")
    print(f"ratio (8 / 1): {rates[8] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
