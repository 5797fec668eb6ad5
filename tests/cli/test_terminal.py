"""What the terminal shows: sal's own lines only (libraries' output goes to the run's
`library.log` unless `--verbose`), plain progress lines when stderr is not a terminal, and
`sal profiles list` piped in full."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, sys, warnings
    from pathlib import Path
    from sal_cli.progress import library_output, note
    with library_output(Path(sys.argv[1]) if sys.argv[1] != "-" else None):
        os.write(2, b"[W utils.cpp] NUMA binding notice\\n")
        warnings.warn("a library FutureWarning", FutureWarning)
        print("WARNING vllm: a logger line", file=sys.stderr)
        print("INFO vllm: a line on stdout", flush=True)
        note("sal: a line of our own")
    note("sal: after the run")
    print("data")
""")


@pytest.mark.parametrize("verbose", [False, True])
def test_library_output_goes_to_the_log_unless_verbose(tmp_path, verbose):
    log = tmp_path / "library.log"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "-" if verbose else str(log)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "sal: a line of our own" in proc.stderr and "sal: after the run" in proc.stderr
    noise = ("NUMA binding notice", "FutureWarning", "WARNING vllm")
    if verbose:
        assert all(text in proc.stderr for text in noise) and not log.exists()
        assert proc.stdout == "INFO vllm: a line on stdout\ndata\n"
    else:
        assert not any(text in proc.stderr for text in noise), proc.stderr
        assert proc.stdout == "data\n"
        assert all(text in log.read_text() for text in (*noise, "INFO vllm"))


def test_piped_search_shows_plain_progress_lines(tiny_model, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sal_cli", "search", "--model", str(tiny_model), "--prm", str(tiny_model), "--set",
           "verifier.protocol=llm-judge", "--backend", "transformers", "--num-samples", "2", "-n", "2",
           "--max-tokens", "8", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert [line.split(",")[0] for line in lines[:2]] == ["sal search: 1/2 problems", "sal search: 2/2 problems"]
    assert "tok/s" in lines[0] and "eta " in lines[0]
    assert lines[-1].startswith("search: 2 problems")
    assert len(lines) == 3 and "\x1b[" not in proc.stderr  # no live bar, no colour codes
    assert (out / "library.log").exists()
    summary = json.loads((out / "summary.json").read_text())["last_session"]
    assert summary["generator_seconds"] > 0 and summary["prm_tokens"] > 0 and summary["load_seconds"] > 0


@pytest.mark.slow
def test_vllm_search_keeps_library_warnings_off_stderr(tmp_path):
    pytest.importorskip("vllm")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "sal_cli", "search", "--backend", "vllm", "--num-samples", "1", "-n", "2",
           "--max-tokens", "32", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr and "Loading safetensors" not in proc.stderr, proc.stderr
    assert all(line.startswith(("sal search: ", "search: ")) for line in proc.stderr.splitlines()), proc.stderr
    assert proc.stdout == f"{out}\n"  # vLLM logs to stdout by default: not here
    assert "Loading safetensors checkpoint shards" in (out / "library.log").read_text()  # kept, in the run folder


def test_piped_profiles_list_prints_whole_names(sal):
    code, out, _ = sal("profiles", "list")
    assert code == 0
    assert "llama-3.2-1b/independent_backtrack" in out and "…" not in out
    assert all(line == line.rstrip() for line in out.splitlines())
    code, out, _ = sal("profiles", "list", "--json")
    names = [row["name"] for row in json.loads(out)]
    assert "llama-3.2-1b/beam_search" in names and "cpu-demo" in names
