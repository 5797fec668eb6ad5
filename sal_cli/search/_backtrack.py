"""What the two backtracking searches share: scores, the chunk request, the finish test, the output.

Both follow the tt_scale "hybrid searcher" (`tt_scale/searcher/collective_backtrack.py`,
`independent_backtrack.py`, both `run`): branches grow by chunks of at most `k_tokens`
(ending at `search.stop_strings`), a branch passes a round when its score clears a
threshold, and `search.max_finished_branches` finished branches end the search.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sal_cli.config import RunConfig, SearchConfig
from sal_cli.search.tree import ANSWER, Expansion, Node, Output


@dataclass(frozen=True)
class BacktrackSettings:
    """The `[search]` settings the backtracking searches read (documented on `SearchConfig`)."""

    k_tokens: int
    warmup: bool
    stop_strings: tuple[str, ...]
    answer_marker: str
    max_finished_branches: int
    tau: float
    backtrack_agg: str
    max_steps: int
    max_backtracks: int
    backtrack: bool
    temp_step: float
    always_expand: bool
    passing_minimum: int
    max_total_branches: int
    keeping_branches: int
    tau_step: float
    expansion_factor: int
    max_branches: int

    @classmethod
    def from_search(cls, search: SearchConfig) -> BacktrackSettings:
        values = {f.name: getattr(search, f.name) for f in fields(cls)}
        return cls(**{**values, "stop_strings": tuple(search.stop_strings)})


class BacktrackSearch:
    """Base of both searches: the budget, the base temperature and the frozen settings."""

    def __init__(self, n: int, temperature: float, settings: BacktrackSettings):
        self.n = n
        self.temperature = temperature
        self.s = settings

    @classmethod
    def from_config(cls, config: RunConfig):
        return cls(config.sampling.n, config.sampling.temperature, BacktrackSettings.from_search(config.search))


@dataclass
class Branch:
    """A live branch: its path, the score it passed with, and its retries so far."""

    node: Node
    score: float = 0.0
    retries: int = 0


def pass_score(kid: Node, parent_score: float, how: str) -> float:
    """The score of an open chunk tested against the threshold (`search.backtrack_agg`):
    the mean of the steps for `mean`/`mean_step`, half the parent's plus half the last
    step's for `ema`, else the last step's."""
    if not kid.scores:
        return 0.0
    if how in ("mean", "mean_step"):
        return sum(kid.scores) / len(kid.scores)
    if how == "ema":
        return 0.5 * parent_score + 0.5 * kid.scores[-1]
    return kid.scores[-1]


def final_score(kid: Node, parent_score: float, how: str) -> float:
    """The score a finished branch keeps: every `mean*` aggregation takes the mean of all
    steps once the branch finishes (tt_scale's `mean_last` / `mean_only_final`)."""
    if how.startswith("mean") and kid.scores:
        return sum(kid.scores) / len(kid.scores)
    return pass_score(kid, parent_score, how)


def chunk(node: Node, n: int, temperature: float, search: BacktrackSettings, first_round: bool) -> Expansion:
    """n chunks from `node`; `search.warmup` doubles the first round's k_tokens."""
    tokens = search.k_tokens * (2 if search.warmup and first_round else 1)
    return Expansion(node, n, round(temperature, 6), max_tokens=tokens, stop=tuple(search.stop_strings))


def finishes(kid: Node, marker: str) -> bool:
    """The chunk ended the branch: EOS, budget, empty chunk, or the answer marker in the chunk."""
    if not kid.done and marker in kid.last_step:
        kid.stop = ANSWER
    return kid.done


def finished_limit(search: BacktrackSettings, n: int) -> int:
    """`search.max_finished_branches`, or n when it is 0."""
    return search.max_finished_branches or n


def output(finished: list[tuple[Node, float]], live: list[Branch], n: int, stats: dict[str, int]) -> Output:
    """The first n finished branches with their branch scores (`pred` is the best, tt_scale's
    winner); with none, the best live branch (left unfinished).

    They form one pool (like a beam search's): a subset of them is not a smaller search, so
    `sal evaluate` reports the run at its own n.
    """
    pairs = finished[:n]
    if not pairs and live:
        best = max(live, key=lambda b: b.score)
        pairs = [(best.node, best.score)]
    return Output([node for node, _ in pairs], groups=[0] * len(pairs), stats=stats,
                  branch_scores=[score for _, score in pairs])
