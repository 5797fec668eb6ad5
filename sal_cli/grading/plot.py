"""Accuracy against the budget n (log2 axis): the figure of the test-time compute blog post.

One run: one panel, a line per voting rule. Several runs: a panel per voting rule, a line
per run label, so best-of-N, beam search and DVTS compare directly; runs that share a
label (beam search at n = 4, 16, 64) join into one line. Shaded bands are +/- std over
subset seeds. With `x="tokens"` the x axis is the mean number of tokens generated per
problem instead of n, so searches that spend compute differently (backtracking, lookahead,
pruned beams) compare at equal cost. matplotlib is imported here only, headless (Agg).
"""

from __future__ import annotations

from pathlib import Path

from sal_cli.grading.metrics import Metrics

RULES = ("naive", "weighted", "maj", "pass")
TITLES = {"naive": "naive@n (best PRM score)", "weighted": "weighted@n (summed PRM score)", "maj": "maj@n (majority)",
          "pass": "pass@n (any correct)"}


def plot_accuracy(curves: list[tuple[str, Metrics]], path: Path, title: str = "", x: str = "n") -> None:
    """Write the PNG for (label, metrics) pairs (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(label for label, _ in curves))
    rules = [r for r in RULES if any(name.startswith(f"{r}@") for _, m in curves for name in m.names)]
    if len(labels) == 1:  # (panel title, [(line name, its runs, its rule)])
        panels = [(title, [(rule, curves, rule) for rule in rules])]
    else:
        panels = [(TITLES[rule], [(label, [c for c in curves if c[0] == label], rule) for label in labels])
                  for rule in rules]
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.3 * rows), squeeze=False)
    ks = sorted({k for _, m in curves for k in m.ks})
    for ax, (heading, lines) in zip(axes.flat, panels):
        top = 10.0
        for name, runs, rule in lines:
            xs, mean, std = _points(runs, rule, x)
            if xs:
                ax.plot(xs, mean, marker="o", label=name)
                ax.fill_between(xs, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.2)
                top = max(top, *(m + s + 5 for m, s in zip(mean, std)))
        ax.set_xscale("log", base=2)
        if x == "n":
            ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_ylim(0, min(100, top))
        xlabel = "generations per problem (n)" if x == "n" else "tokens generated per problem (mean)"
        ax.set(title=heading, xlabel=xlabel, ylabel="accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _points(curves: list[tuple[str, Metrics]], rule: str, x: str = "n") -> tuple[list[float], list[float], list[float]]:
    """(x, accuracy %, std %) of one rule over the given runs, by increasing x (k or tokens)."""
    points: dict[float, tuple[float, float]] = {}
    for _, metrics in curves:
        for k in metrics.ks:
            name = f"{rule}@{k}"
            if name in metrics.overall.accuracy and (x == "n" or metrics.tokens):
                at = k if x == "n" else metrics.tokens[k]
                points[at] = (100 * metrics.overall.accuracy[name], 100 * metrics.overall.std[name])
    ks = sorted(points)
    return ks, [points[k][0] for k in ks], [points[k][1] for k in ks]
