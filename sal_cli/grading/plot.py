"""Accuracy against the budget n (log2 axis): the figure of the test-time compute blog post.

One run: one panel, a line per voting rule. Several runs: a panel per voting rule, a line
per run label, so best-of-N, beam search and DVTS compare directly; runs that share a
label (beam search at n = 4, 16, 64) join into one line. Shaded bands are +/- std over
subset seeds. matplotlib is imported here only, headless (Agg).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sal_cli.grading.metrics import Metrics

RULES = ("naive", "weighted", "maj", "pass")
TITLES = {"naive": "naive@n (best PRM score)", "weighted": "weighted@n (summed PRM score)", "maj": "maj@n (majority)",
          "pass": "pass@n (any correct)"}


def plot_accuracy(curves: list[tuple[str, Metrics]], path: Path, title: str = "") -> None:
    """Write the PNG for (label, metrics) pairs (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rules = [r for r in RULES if any(name.startswith(f"{r}@") for _, m in curves for name in m.names)]
    single = len({label for label, _ in curves}) == 1
    panels = [None] if single else rules
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels):
        lines = [(rule, rule) for rule in rules] if single else [(label, panel) for label in dict.fromkeys(l for l, _ in curves)]
        for name, rule in lines:
            ks, mean, std = _points(curves if single else [c for c in curves if c[0] == name], rule)
            if ks:
                ax.plot(ks, mean, marker="o", label=name)
                ax.fill_between(ks, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.2)
        all_ks = sorted({k for _, m in curves for k in m.ks})
        ax.set_xscale("log", base=2)
        ax.set_xticks(all_ks, [str(k) for k in all_ks])
        ax.set_xlabel("number of generations per problem (n)")
        ax.set_title(title if single else TITLES[panel])
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    axes[0][0].set_ylabel("accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _points(curves: list[tuple[str, Metrics]], rule: str) -> tuple[list[int], list[float], list[float]]:
    """(k, accuracy %, std %) of one rule over the given runs, by increasing k."""
    points: dict[int, tuple[float, float]] = defaultdict(tuple)
    for _, metrics in curves:
        for k in metrics.ks:
            name = f"{rule}@{k}"
            if name in metrics.overall.accuracy:
                points[k] = (100 * metrics.overall.accuracy[name], 100 * metrics.overall.std[name])
    ks = sorted(points)
    return ks, [points[k][0] for k in ks], [points[k][1] for k in ks]
