"""Bad input: one clear `error:` line (plus an optional hint), exit code 2, no traceback,
and no model is loaded. Each case is what a user could plausibly type."""

from __future__ import annotations

import json

import pytest

CASES = {
    "unknown profile": (["-p", "llama-1b-beam"], "unknown profile `llama-1b-beam`"),
    "missing profile file": (["-p", "nowhere/missing.toml"], "does not exist"),
    "bad toml": (["-p", "{bad_toml}"], "is not valid TOML"),
    "unknown key": (["-p", "{unknown_key}"], "unknown key `sampling.temprature`"),
    "unknown section": (["-p", "{unknown_section}"], "unknown key `sampler`"),
    "wrong type": (["-p", "{wrong_type}"], "`sampling.n` in"),
    "out of range": (["-p", "{out_of_range}"], "`sampling.top_p` (1.5) must be in (0, 1]"),
    "extends loop": (["-p", "{loop}"], "loop"),
    "set without equals": (["--set", "sampling.n"], "must look like `section.key=value`"),
    "set unknown key": (["--set", "sampling.beams=4"], "unknown key `sampling.beams`"),
    "set wrong type": (["--set", "sampling.n=abc"], "must be an integer"),
    "set out of range": (["--set", "sampling.temperature=-1"], "`sampling.temperature` (-1.0) must be >= 0"),
    "n zero": (["-n", "0"], "`sampling.n` (0) must be >= 1"),
    "bad backend": (["--backend", "tensorrt"], "`generator.backend` ('tensorrt') must be one of"),
    "greedy with n": (["--greedy", "-n", "4"], "`--greedy` means n=1"),
    "shard out of range": (["--shard", "4/4"], "must look like `i/N`"),
    "shard not a fraction": (["--shard", "half"], "must look like `i/N`"),
    "end before start": (["--start", "5", "--end", "3"], "`data.end` (3) must be > start (5)"),
    "start past end": (["--start", "600"], "is past the end of the dataset (500 rows)"),
    "empty shard": (["--num-samples", "2", "--shard", "3/4"], "is empty"),
    "unknown dataset": (["--dataset", "math5000"], "unknown dataset `math5000`"),
    "missing dataset file": (["--dataset", "nowhere.jsonl"], "does not exist"),
    "bad jsonl line": (["--dataset", "{bad_jsonl}"], "line 2 is not valid JSON"),
    "missing problem column": (["--dataset", "{no_problem_column}"], "has no column `problem`"),
    "wrong column setting": (["--set", "data.problem_column=question"], "has no column `question`"),
    "hub dataset offline": (["--dataset", "HuggingFaceH4/MATH-500"], "is not in the local cache"),
    "missing model folder": (["--model", "./models/missing"], "does not exist"),
    "model folder without config": (["--model", "{empty_dir}"], "has no `config.json`"),
    "unknown embedded model": (["--model", "embedded:gpt5"], "unknown embedded model"),
    "output dir is a file": (["-o", "{a_file}"], "is a file, not a folder"),
    "resume with other settings": (["-o", "{other_run}", "--num-samples", "1"], "holds a run with other settings"),
}


@pytest.fixture
def files(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    other_run = tmp_path / "other-run"
    other_run.mkdir()
    (other_run / "run.toml").write_text('[sampling]\nn = 64\n')
    (other_run / "results.jsonl").write_text(json.dumps({"idx": 0, "completions": ["x"]}) + "\n")
    (tmp_path / "empty").mkdir()
    return {
        "bad_toml": write("bad.toml", "[sampling\nn = 4\n"),
        "unknown_key": write("typo.toml", "[sampling]\ntemprature = 0.5\n"),
        "unknown_section": write("section.toml", "[sampler]\nn = 4\n"),
        "wrong_type": write("type.toml", '[sampling]\nn = "four"\n'),
        "out_of_range": write("range.toml", "[sampling]\ntop_p = 1.5\n"),
        "loop": write("loop.toml", 'extends = "loop.toml"\n'),
        "bad_jsonl": write("bad.jsonl", '{"problem": "1+1", "answer": "2"}\n{"problem": \n'),
        "no_problem_column": write("cols.jsonl", '{"question": "1+1", "answer": "2"}\n'),
        "empty_dir": str(tmp_path / "empty"),
        "a_file": write("occupied", "x"),
        "other_run": str(other_run),
    }


SEARCH_CASES = {
    "beam width does not divide n": (["-a", "beam_search", "-n", "6", "--beam-width", "4"],
                                     "`search.beam_width` (4) must divide `sampling.n` (6)"),
    "unknown approach": (["-a", "beam-search"], "`search.approach` ('beam-search') must be one of"),
    "unknown aggregation": (["--agg-strategy", "median"], "`verifier.agg_strategy` ('median') must be one of"),
    "unknown prm protocol": (["--set", "verifier.protocol=shepherd"], "`verifier.protocol` ('shepherd') must be one of"),
    "ratios without temperatures": (["--set", "search.temperature_ratios=[1, 2]"], "must have one ratio per temperature"),
    "temperatures not numbers": (["--set", 'search.temperatures=["hot"]'], "must be a list of numbers"),
    "negative prm cache": (["--set", "verifier.reuse_cache_gib=-1"], "`verifier.reuse_cache_gib` (-1.0) must be >= 0"),
}


@pytest.mark.parametrize(
    ("command", "name"),
    [("generate", name) for name in CASES] + [("search", name) for name in [*CASES, *SEARCH_CASES] if name != "greedy with n"],
)
def test_bad_input_is_one_clear_line_and_exit_2(command, name, sal, files, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    args, expected = {**CASES, **SEARCH_CASES}[name]
    args = [a.format(**files) for a in args]
    code, out, err = sal(command, "--backend", "transformers", *args) if "--backend" not in args else sal(command, *args)
    assert code == 2, err
    assert err.startswith("error: "), err
    first_line = err.splitlines()[0]
    assert expected in first_line, err
    assert "Traceback" not in err and out == ""


def test_there_are_at_least_20_cases():
    assert len(CASES) + len(SEARCH_CASES) >= 20


def test_profiles_show_reports_errors_the_same_way(sal):
    code, _, err = sal("profiles", "show", "nope")
    assert code == 2 and err.startswith("error: unknown profile `nope`")
