"""Typed settings: the schema every profile, `--set` and CLI flag is checked against.

Each TOML section maps to one dataclass below; `RunConfig` holds them all. Fields are
normalised and range-checked in `__post_init__`; checks that need a loaded model (context
length, the PRM's step token) happen in the adapters' `verify()`.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

from sal_cli import registry

BACKENDS = ("auto", "vllm", "transformers")
DTYPES = ("auto", "bfloat16", "float16", "float32")
APPROACHES = tuple(registry.STRATEGIES)
BACKTRACK_AGGS = ("last", "mean", "ema", "mean_step", "mean_last", "mean_only_final")
AGG_STRATEGIES = ("last", "min", "prod", "mean")
PRM_PROTOCOLS = ("auto", *registry.PRM_PROTOCOLS)
PRM_BACKENDS = ("transformers", "vllm")


class ConfigValueError(ValueError):
    """A field holds a value outside its valid range; `key` names the field."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigValueError(key, message)


@dataclass
class GeneratorConfig:
    """`[generator]`: the LLM that writes solutions.

    Parameters:
        model: hub id or local folder; `"embedded:smollm2-135m"` is the bundled SmolLM2-135M-Instruct.
        backend: `"auto"` (vLLM when importable), `"vllm"` or `"transformers"`.
        dtype: weights dtype; `"auto"` is bfloat16 on a GPU or on a CPU with bf16 instructions
            (AVX512-BF16, AMX), else float32 (what it chose is in `run.toml`'s `[machine]`).
        revision: hub revision of the model; empty for the default branch.
        trust_remote_code: run the model repository's own code (only when you trust it).
        max_model_len: context length for vLLM (prompt + completion); 0 = the model's.
        gpu_memory_utilization: fraction of GPU memory vLLM may use (GPU only).
        enable_prefix_caching: vLLM shares the KV cache of common prefixes (siblings, beams).
        batch_size: problems sent to the generator per call; each is saved when its batch ends.
        max_num_seqs: most sequences decoded at once (vLLM's `max_num_seqs`, the transformers
            backend's rows per batch); 0 = the backend's default (vLLM 256, transformers 16).
        system_prompt: system message put before every problem; empty for none.
        custom_chat_template: `"none"` (the tokenizer's own), `"llama3"` (the seed's Llama-3
            template: "Cutting Knowledge Date" / "Today Date" header, system message trimmed)
            or a Jinja template string.
        chat_date: the "Today Date" the `llama3` template writes (and any template reading
            `date_string`), e.g. `"26 Jul 2024"`; fixed so prompts do not change with the day
            (the seed wrote the day the run started).
    """

    model: str = "embedded:smollm2-135m"
    backend: str = "auto"
    dtype: str = "auto"
    revision: str = ""
    trust_remote_code: bool = False
    max_model_len: int = 4096
    gpu_memory_utilization: float = 0.9
    enable_prefix_caching: bool = True
    batch_size: int = 32
    max_num_seqs: int = 0
    system_prompt: str = ""
    custom_chat_template: str = "none"
    chat_date: str = "26 Jul 2024"

    def __post_init__(self) -> None:
        check(bool(self.model.strip()), "model", "must not be empty")
        check(bool(self.chat_date.strip()), "chat_date", "must not be empty, e.g. `26 Jul 2024`")
        check(self.backend in BACKENDS, "backend", f"must be one of {', '.join(BACKENDS)}")
        check(self.dtype in DTYPES, "dtype", f"must be one of {', '.join(DTYPES)}")
        check(self.max_model_len >= 0, "max_model_len", "must be >= 0 (0 = the model's own)")
        check(0 < self.gpu_memory_utilization <= 1, "gpu_memory_utilization", "must be in (0, 1]")
        check(self.batch_size >= 1, "batch_size", "must be >= 1")
        check(self.max_num_seqs >= 0, "max_num_seqs", "must be >= 0 (0 = the backend's default)")


@dataclass
class SamplingConfig:
    """`[sampling]`: how each completion is drawn.

    Parameters:
        n: completions per problem (the test-time compute budget).
        temperature: 0 is greedy decoding.
        top_p: nucleus sampling mass; 1.0 turns it off.
        max_tokens: most new tokens per completion.
        seed: base random seed; problem i samples with seed + i, so resumed runs draw the same.
    """

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 2048
    seed: int = 0

    def __post_init__(self) -> None:
        check(self.n >= 1, "n", "must be >= 1")
        check(self.temperature >= 0, "temperature", "must be >= 0 (0 = greedy)")
        check(0 < self.top_p <= 1, "top_p", "must be in (0, 1]")
        check(self.max_tokens >= 1, "max_tokens", "must be >= 1")
        check(self.seed >= 0, "seed", "must be >= 0")


@dataclass
class SearchConfig:
    """`[search]`: the PRM-guided search method (used by `sal search`).

    Parameters:
        approach: `best_of_n`, `beam_search`, `dvts`, `collective_backtrack` or
            `independent_backtrack` (`registry.STRATEGIES`).
        beam_width: candidates each beam proposes per round; must divide `sampling.n`.
        num_iterations: most rounds of beam search / DVTS; the last one generates to the end.
        lookahead: greedy steps added to each candidate before it is scored (0 = none).
        step_delimiter: text that ends one reasoning step (kept as part of the step).
        filter_duplicates: drop candidates whose text repeats another in the same pool.
        sort_completed: order finished beams by score before padding the output to n.
        temperatures: sample with several temperatures, e.g. `[0.6, 0.8, 1.0]`; empty =
            `sampling.temperature` only. best_of_n splits n by `temperature_ratios` and
            interleaves the temperatures in its output (so the first k completions mix
            them); beam search and DVTS give the j-th of each beam's beam_width children
            temperature j of the same split over beam_width, so every beam tries every
            temperature (the multi-temperature fork of search-and-learn).
        temperature_ratios: share drawn at each temperature; empty = equal.
        answer_marker: text that marks a final answer: DVTS closes a subtree and the
            backtracking searches finish a branch when it appears.
        max_tokens_per_step: `sampling.max_tokens` caps each step (or chunk) instead of the
            whole solution, so only the context caps a solution (the seeds); false = sal.
        whitespace_step_ends: a step of only whitespace ends the solution (`empty`); false =
            only a step with no text does (the seed's beam search and DVTS).

    Backtracking searches (`collective_backtrack`, `independent_backtrack`; the tt_scale
    "hybrid searcher"): every round each live branch writes a chunk of at most `k_tokens`
    (a stop string may end it sooner); `max_finished_branches` finished branches end the search.
        k_tokens: most tokens of one chunk.
        warmup: the first round's chunks may be 2 x k_tokens long.
        stop_strings: strings that end a chunk, e.g. `["\\n## Step"]` (kept at the chunk's
            end; the PRM scores the text before it); empty = `step_delimiter`.
        max_finished_branches: finished branches that end the search; 0 = `sampling.n`.
        tau: a branch passes when its score is above this threshold.
        backtrack_agg: the score tested against `tau`: the `last` step's, the `mean` of all
            steps, `ema` (half the parent's score plus half the last step's), `mean_step`
            (the mean), `mean_last` or `mean_only_final` (the last step's while the branch
            is open, the mean once it finishes).
        max_steps: most rounds.
        max_backtracks: (collective) failed rounds before a jump, counting the first;
            (independent) retries before a branch gives up.
        backtrack: retry failed rounds or branches; false = (collective) a retry grows
            max_total_branches / keeping_branches children per branch, (independent) a
            failed branch is dropped (the best is still rescued when all fail).
        temp_step: temperature added per retry. Collective rounds sample at
            `sampling.temperature + r * temp_step` with r = 1 on a normal round, 2, 3, ...
            on retries (tt_scale's counter); independent branches at `+ retries * temp_step`.
        always_expand: (collective) every round grows max_total_branches children spread over
            the live branches; false = one child per branch, spreading only on retries.
        passing_minimum: (collective) passing branches needed to go on.
        max_total_branches: (collective) children per retry round, spread over the live branches.
        keeping_branches: (collective) best passing branches kept after a good round.
        tau_step: (independent) threshold lowered per retry of a branch.
        expansion_factor: (independent) clones of a failed branch that retry it.
        max_branches: (independent) most live branches.
    """

    approach: str = "best_of_n"
    beam_width: int = 4
    num_iterations: int = 40
    lookahead: int = 0
    step_delimiter: str = "\n\n"
    filter_duplicates: bool = False
    sort_completed: bool = False
    temperatures: list[float] = field(default_factory=list)
    temperature_ratios: list[float] = field(default_factory=list)
    answer_marker: str = "\\boxed{"
    max_tokens_per_step: bool = False
    whitespace_step_ends: bool = True
    k_tokens: int = 256
    warmup: bool = False
    stop_strings: list[str] = field(default_factory=list)
    max_finished_branches: int = 0
    tau: float = 0.6
    backtrack_agg: str = "last"
    max_steps: int = 30
    max_backtracks: int = 3
    backtrack: bool = True
    temp_step: float = 0.1
    always_expand: bool = False
    passing_minimum: int = 3
    max_total_branches: int = 9
    keeping_branches: int = 3
    tau_step: float = 0.05
    expansion_factor: int = 2
    max_branches: int = 6

    def __post_init__(self) -> None:
        check(self.approach in APPROACHES, "approach", f"must be one of {', '.join(APPROACHES)}")
        check(self.answer_marker != "", "answer_marker", "must not be empty")
        check(self.k_tokens >= 1, "k_tokens", "must be >= 1")
        check(0 <= self.tau <= 1, "tau", "must be in [0, 1]")
        check(self.backtrack_agg in BACKTRACK_AGGS, "backtrack_agg", f"must be one of {', '.join(BACKTRACK_AGGS)}")
        for key in ("max_steps", "passing_minimum", "max_total_branches", "keeping_branches", "expansion_factor",
                    "max_branches"):
            check(getattr(self, key) >= 1, key, "must be >= 1")
        check(self.max_backtracks >= 0, "max_backtracks", "must be >= 0")
        check(all(self.stop_strings), "stop_strings", "must not hold an empty string")
        check(self.max_finished_branches >= 0, "max_finished_branches", "must be >= 0 (0 = `sampling.n`)")
        check(self.temp_step >= 0, "temp_step", "must be >= 0")
        check(self.tau_step >= 0, "tau_step", "must be >= 0")
        check(self.beam_width >= 1, "beam_width", "must be >= 1")
        check(self.num_iterations >= 1, "num_iterations", "must be >= 1")
        check(self.lookahead >= 0, "lookahead", "must be >= 0")
        check(self.step_delimiter != "", "step_delimiter", "must not be empty")
        check(all(t >= 0 for t in self.temperatures), "temperatures", "must all be >= 0")
        check(all(r > 0 for r in self.temperature_ratios), "temperature_ratios", "must all be > 0")
        check(
            not self.temperature_ratios or len(self.temperature_ratios) == len(self.temperatures),
            "temperature_ratios",
            f"must have one ratio per temperature ({len(self.temperatures)})",
        )


@dataclass
class VerifierConfig:
    """`[verifier]`: the process reward model that scores steps (used by `sal search`/`score`).

    Parameters:
        prm: hub id or local folder of the PRM; `"embedded:smollm2-135m"` is the bundled SmolLM2.
        protocol: how the PRM reads steps and gives scores: `math-shepherd`, `rlhflow`,
            `skywork`, `qwen-prm`, `token-classification` (TRL-trained, what `sal train-prm`
            writes), `llm-judge` (any chat model asked whether each step is right), or `auto`
            (from the model's saved files and config). `--prm` on the command line resets it
            to `auto` unless `--set verifier.protocol=...` names one.
        backend: `transformers` (every protocol) or `vllm` (token-classification PRMs that
            vLLM serves as pooling models).
        dtype: weights dtype; `"auto"` as for `generator.dtype`.
        batch_size: sequences scored per forward pass (the seed's `prm_batch_size`).
        max_length: longest input in tokens; longer ones are cut from the left; 0 = the model's.
        revision: hub revision of the PRM; empty for the default branch.
        trust_remote_code: run the PRM repository's own code (only when you trust it).
        step_separator: text put after each step for `token-classification` PRMs; empty = the
            one saved with the model (else `"\n"`).
        agg_strategy: how per-step scores become one score: `last`, `min`, `prod` or `mean`.
        score_trailing_empty_step: a solution ending with the step delimiter also sends an
            empty last step to the PRM (its score counts, e.g. for `last`), as the seed's
            RLHFlow scoring did; false = sal drops it.
        reuse_cache_gib: GiB of the PRM's KV cache kept from one search round to the next,
            so a beam's next round reads only its new step (transformers backend); 0 = off.
    """

    prm: str = "RLHFlow/Llama3.1-8B-PRM-Deepseek-Data"
    protocol: str = "rlhflow"
    backend: str = "transformers"
    dtype: str = "auto"
    batch_size: int = 8
    max_length: int = 0
    revision: str = ""
    trust_remote_code: bool = False
    step_separator: str = ""
    agg_strategy: str = "last"
    score_trailing_empty_step: bool = False
    reuse_cache_gib: float = 2.0

    def __post_init__(self) -> None:
        check(bool(self.prm.strip()), "prm", "must not be empty")
        check(self.protocol in PRM_PROTOCOLS, "protocol", f"must be one of {', '.join(PRM_PROTOCOLS)}")
        check(self.backend in PRM_BACKENDS, "backend", f"must be one of {', '.join(PRM_BACKENDS)}")
        check(self.dtype in DTYPES, "dtype", f"must be one of {', '.join(DTYPES)}")
        check(self.batch_size >= 1, "batch_size", "must be >= 1")
        check(self.max_length >= 0, "max_length", "must be >= 0 (0 = the model's own)")
        check(self.agg_strategy in AGG_STRATEGIES, "agg_strategy", f"must be one of {', '.join(AGG_STRATEGIES)}")
        check(self.reuse_cache_gib >= 0, "reuse_cache_gib", "must be >= 0 (0 = off)")


@dataclass
class DataConfig:
    """`[data]`: which problems to run.

    Parameters:
        dataset: bundled short name (`math500`, `gsm8k`, `aime24`, `aime25`, `amc23`), a local
            `.jsonl`/`.json`/`.parquet`/`.csv` file, or a hub dataset name.
        split: split of a hub dataset.
        problem_column: column holding the problem text; empty = the dataset's default.
        answer_column: column holding the reference answer; empty = the dataset's default.
        start: first row (0-based) of the slice.
        end: row after the last one; -1 = to the end.
        num_samples: keep only the first k rows of the slice; -1 = all.
        shard: `"i/N"` runs the i-th (0-based) of N contiguous parts of the slice; empty = all.
    """

    dataset: str = "math500"
    split: str = "test"
    problem_column: str = ""
    answer_column: str = ""
    start: int = 0
    end: int = -1
    num_samples: int = -1
    shard: str = ""

    def __post_init__(self) -> None:
        check(bool(self.dataset.strip()), "dataset", "must not be empty")
        check(self.start >= 0, "start", "must be >= 0")
        check(self.end == -1 or self.end > self.start, "end", f"must be > start ({self.start}) or -1")
        check(self.num_samples == -1 or self.num_samples >= 1, "num_samples", "must be >= 1 or -1")
        _parse_shard(self.shard)

    @property
    def shard_index(self) -> int:
        return _parse_shard(self.shard)[0]

    @property
    def shard_count(self) -> int:
        return _parse_shard(self.shard)[1]


def _parse_shard(text: str) -> tuple[int, int]:
    """`"2/8"` -> (2, 8); `""` -> (0, 1)."""
    if not text:
        return 0, 1
    parts = text.split("/")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        index, count = int(parts[0]), int(parts[1])
        if count >= 1 and 0 <= index < count:
            return index, count
    raise ConfigValueError("shard", f"must look like `i/N` with 0 <= i < N, got `{text}`")


@dataclass
class OutputConfig:
    """`[output]`: where runs are written.

    Parameters:
        root: folder under which run folders are named after model, dataset and method.
        dir: the run folder itself; empty = derived under `root`.
    """

    root: str = "runs"
    dir: str = ""


@dataclass
class RunConfig:
    """Every setting of a run; one attribute per TOML section."""

    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    verifier: VerifierConfig = field(default_factory=VerifierConfig)
    data: DataConfig = field(default_factory=DataConfig)
    output: OutputConfig = field(default_factory=OutputConfig)


@dataclass(frozen=True)
class Schema:
    """What one kind of profile is checked against: a root dataclass whose fields are its sections.

    A profile declares its kind with a top-level `kind = "..."` (absent means `run`), so a
    training profile cannot be passed to a run command by mistake, nor the reverse.
    """

    kind: str
    root: type
    default_profile: str

    @property
    def sections(self) -> dict[str, type]:
        """`{"generator": GeneratorConfig, ...}`, in the root's field order."""
        return typing.get_type_hints(self.root)


RUN_SCHEMA = Schema("run", RunConfig, default_profile="cpu-demo")


def to_dict(config: Any) -> dict[str, dict[str, Any]]:
    """The config (any schema's root) as nested plain values (what `run.toml` stores)."""
    return {f.name: dataclasses.asdict(getattr(config, f.name)) for f in dataclasses.fields(config)}
