"""Multi-temperature sampling: which temperature each sample or child uses.

As in the multi-temperature fork of search-and-learn (`sal/utils/temperature.py`,
`get_temperature_assignment`): a budget of `count` samples is split across
`search.temperatures` in proportion to `temperature_ratios`. best_of_n draws n samples so
and interleaves them in its output, so the first k completions (what `pred_*@k` reads) mix
every temperature; beam search and DVTS give the j-th of each beam's beam_width children
temperature j of the split over beam_width, so every beam tries every temperature.
"""

from __future__ import annotations

from sal_cli.config import RunConfig


def temperatures_of(config: RunConfig) -> list[float]:
    """`search.temperatures`, or the single `sampling.temperature`."""
    return list(config.search.temperatures) or [config.sampling.temperature]


def split_n(n: int, temperatures: list[float], ratios: list[float]) -> list[tuple[float, int]]:
    """(temperature, count) pairs whose counts sum to n, proportional to `ratios` (equal if
    empty); remainders go to the largest fractions first, ties to the earlier temperature."""
    weights = ratios or [1.0] * len(temperatures)
    exact = [n * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    return list(zip(temperatures, counts))


def assignment(temperatures: list[float], ratios: list[float], count: int) -> list[float]:
    """The temperature of samples 0..count-1: cycled through the list without ratios (the
    fork's layout), else each temperature's share of `count` in a block."""
    if not ratios:
        return [temperatures[j % len(temperatures)] for j in range(count)]
    return [t for t, share in split_n(count, temperatures, ratios) for _ in range(share)]


def interleaved(temperatures: list[float]) -> list[int]:
    """An order of samples (indices into `temperatures`, one per sample) in which every
    prefix holds each temperature in proportion to its share: sample i of a temperature
    drawn `c` times sits at (i + 0.5) / c, ties in list order. Equal shares give the cycle."""
    seen: dict[float, int] = {}
    ranks = []
    for t in temperatures:
        ranks.append(seen.get(t, 0))
        seen[t] = ranks[-1] + 1
    first = {t: temperatures.index(t) for t in seen}
    key = {i: ((ranks[i] + 0.5) / seen[t], first[t]) for i, t in enumerate(temperatures)}
    return sorted(range(len(temperatures)), key=lambda i: key[i])


def grouped(items: list[tuple[int, float]]) -> list[tuple[int, float, int]]:
    """(parent, temperature) per child -> (parent, temperature, count), in order of first
    appearance: one expansion per group keeps one request per parent at one temperature."""
    counts: dict[tuple[int, float], int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return [(parent, t, count) for (parent, t), count in counts.items()]
