"""Multi-temperature sampling: which temperature each sample or beam uses.

best_of_n splits n across `search.temperatures` in proportion to `temperature_ratios`
(largest remainders first, ties to the earlier temperature, so the split is deterministic);
beam search and DVTS give beam j the temperature `temperatures[j % len(temperatures)]`.
"""

from __future__ import annotations

from sal_cli.config import RunConfig


def temperatures_of(config: RunConfig) -> list[float]:
    """`search.temperatures`, or the single `sampling.temperature`."""
    return list(config.search.temperatures) or [config.sampling.temperature]


def split_n(n: int, temperatures: list[float], ratios: list[float]) -> list[tuple[float, int]]:
    """(temperature, count) pairs whose counts sum to n, proportional to `ratios` (equal if empty)."""
    weights = ratios or [1.0] * len(temperatures)
    exact = [n * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return list(zip(temperatures, counts))


def cycled(temperatures: list[float], count: int) -> list[float]:
    """The temperature of beams 0..count-1."""
    return [temperatures[j % len(temperatures)] for j in range(count)]
