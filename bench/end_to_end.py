"""Whole runs of `sal search` through the code path the CLI takes, timed part by part.

    python bench/end_to_end.py [--workload best_of_n|beam_search|dvts|all] [--dtype auto]
                               [--mode both|batched|one] [--prm token-classification|llm-judge]

Workloads (issue 17), all on the embedded SmolLM2-135M-Instruct generator (vLLM when
installed), temperature 0.8, seed 0, max_tokens 512, every step scored:

- best_of_n: n=4 on the first 10 MATH-500 problems;
- beam_search and dvts: n=4, beam_width 2, num_iterations 5 on the first 5 problems, run
  batched across problems and then one problem at a time (`generator.batch_size = 1`) on
  the same loaded models; their ratio is what batching buys.

The PRM is SmolLM2-135M as an `AutoModelForTokenClassification` in TRL's layout (separator
"\\n\\n", a seeded random 2-label head: the cost of scoring is what is measured, not its
quality), saved once under `~/.cache/sal/bench/`; `--prm llm-judge` uses the default judge.

For each run it prints wall time and its parts: loading the models, the generator, the PRM
and the rest (engine, records, writing), plus tokens generated and PRM tokens read. Whole
runs take minutes on 2 CPU cores: pick one workload with `--workload`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sal_cli.runs import run_search  # noqa: E402
from sal_cli.generators import cpu  # noqa: E402
from sal_cli.generators.models import cache_dir, resolve_model  # noqa: E402
from sal_cli.profiles import resolve  # noqa: E402

WORKLOADS = {
    "best_of_n": (10, ["search.approach=best_of_n"]),
    "beam_search": (5, ["search.approach=beam_search", "search.beam_width=2", "search.num_iterations=5"]),
    "dvts": (5, ["search.approach=dvts", "search.beam_width=2", "search.num_iterations=5"]),
}


def trl_prm() -> Path:
    """SmolLM2-135M with a seeded random token-classification head, TRL's layout, made once."""
    folder = cache_dir() / "bench" / "smollm2-135m-token-classification"
    if (folder / "sal_prm.json").is_file():
        return folder
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    source = resolve_model("embedded:smollm2-135m")
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(source, num_labels=2, dtype=torch.bfloat16)
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    (folder / "sal_prm.json").write_text(json.dumps({"protocol": "token-classification", "step_separator": "\n\n"}))
    return folder


def config_for(workload: str, args) -> object:
    problems, sets = WORKLOADS[workload]
    sets = sets + [f"data.num_samples={problems}", "sampling.n=4", "sampling.temperature=0.8", "sampling.seed=0",
                   "sampling.max_tokens=512", f"generator.dtype={args.dtype}", f"verifier.dtype={args.dtype}"]
    if args.prm == "token-classification":
        sets += [f"verifier.prm={trl_prm()}", "verifier.protocol=token-classification", 'verifier.step_separator="\n\n"']
    return resolve("cpu-demo", sets).config


def run(config, folder: Path, engines: dict) -> dict:
    started = time.monotonic()
    config.output.dir = str(folder)
    outcome = run_search(config, overwrite=True, quiet=True, engines=engines)
    wall = time.monotonic() - started
    parts = outcome.load_seconds + outcome.generator_seconds + outcome.prm_seconds
    return {"wall": wall, "load": outcome.load_seconds, "generator": outcome.generator_seconds,
            "prm": outcome.prm_seconds, "elsewhere": wall - parts, "tokens": outcome.tokens,
            "prm_tokens": outcome.prm_tokens}


def show(name: str, row: dict) -> None:
    print(f"{name:>30}: wall {row['wall']:6.1f}s = load {row['load']:5.1f}s + generator {row['generator']:6.1f}s "
          f"+ PRM {row['prm']:5.1f}s + elsewhere {row['elsewhere']:5.1f}s; {row['tokens']} tokens generated "
          f"({row['tokens'] / max(row['wall'] - row['load'], 1e-9):.1f}/s after load), {row['prm_tokens']} PRM tokens",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="all", choices=[*WORKLOADS, "all"])
    parser.add_argument("--mode", default="both", choices=["both", "batched", "one"],
                        help="beam_search/dvts: batched across problems, one problem at a time, or both")
    parser.add_argument("--dtype", default="auto", choices=["auto", "bfloat16", "float32"])
    parser.add_argument("--prm", default="token-classification", choices=["token-classification", "llm-judge"])
    args = parser.parse_args()

    gpu = cpu.on_gpu()
    print(f"machine: {'GPU' if gpu else f'CPU, {cpu.cores()} cores'}, bf16 instructions: {cpu.has_bf16()}, "
          f"dtype {args.dtype} -> {cpu.resolve_dtype(args.dtype, gpu)}, load average {os.getloadavg()[0]:.1f}", flush=True)
    out = Path(tempfile.mkdtemp(prefix="sal-e2e-"))
    for workload in WORKLOADS if args.workload == "all" else [args.workload]:
        config = config_for(workload, args)
        print(f"{workload}: {config.data.num_samples} MATH-500 problems, n={config.sampling.n}, "
              f"PRM {config.verifier.protocol}", flush=True)
        engines: dict = {}
        modes = ["batched"] if workload == "best_of_n" else {"both": ["batched", "one"]}.get(args.mode, [args.mode])
        rows = {}
        for mode in modes:
            config.generator.batch_size = 1 if mode == "one" else 32
            rows[mode] = run(config, out / workload / mode, engines)
            show("one problem at a time" if mode == "one" else "batched across problems", rows[mode])
        if len(rows) == 2:
            ratio = rows["batched"]["wall"] - rows["batched"]["load"]
            print(f"{'':>30}  batched / one-at-a-time (after load): "
                  f"{ratio / (rows['one']['wall'] - rows['one']['load']):.2f}", flush=True)
        for engine in engines.values():
            engine.close()
    print(f"load average at the end {os.getloadavg()[0]:.1f} (the machine's other work shares these cores)")


if __name__ == "__main__":
    main()
