"""`sal score`: re-aggregate stored step scores, re-score with another PRM (here a tiny
TRL-style token-classification PRM found by its `sal_prm.json`), from a run folder or a
results file; the source is never modified and `sal evaluate` reads the result."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from run_files import records as _records

from sal_cli.prms.base import split_steps


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / "results.jsonl").read_bytes()).hexdigest()


@pytest.fixture
def search_run(sal, tiny_model, tmp_path) -> Path:
    out = tmp_path / "source"
    code, _, err = sal("search", "--model", str(tiny_model), "--prm", str(tiny_model), "--set", "verifier.protocol=llm-judge",
                       "--backend", "transformers", "--num-samples", "3", "-n", "4", "--max-tokens", "40", "-o", str(out), "-q")
    assert code == 0, err
    return out


def test_agg_strategy_alone_reaggregates_stored_scores_without_a_model(sal, search_run, tmp_path):
    before = _digest(search_run)
    code, stdout, err = sal("score", str(search_run), "--agg-strategy", "min", "-o", str(tmp_path / "min"), "-q")
    assert code == 0, err
    assert stdout.strip() == str(tmp_path / "min")
    for old, new in zip(_records(search_run), _records(tmp_path / "min")):
        assert new["completions"] == old["completions"] and new["scores"] == old["scores"]
        assert new["agg_scores"] == [min(s) if s else 0.0 for s in old["scores"]]
        best = max(range(4), key=lambda i: (new["agg_scores"][i], -i))
        assert new["pred"] == new["completions"][best]
        assert {"pred_weighted@4", "pred_maj@4", "pred_naive@4"} <= set(new)
    assert _digest(search_run) == before
    assert 'agg_strategy = "min"' in (tmp_path / "min" / "run.toml").read_text()
    assert json.loads((tmp_path / "min" / "summary.json").read_text())["command"] == "score"
    code, _, err = sal("score", str(search_run), "--agg-strategy", "min", "-o", str(tmp_path / "min"), "-q")
    assert code == 0 and "already done" in err  # resumes like any run


def test_rescoring_with_another_prm_keeps_completions_and_evaluates(sal, search_run, trl_dir, tmp_path):
    before = _digest(search_run)
    out = tmp_path / "rescored"
    code, _, err = sal("score", str(search_run), "--prm", str(trl_dir), "--set", "verifier.dtype=float32", "-o", str(out), "-q")
    assert code == 0, err
    old, new = _records(search_run), _records(out)
    assert [r["completions"] for r in new] == [r["completions"] for r in old]
    assert [r["scores"] for r in new] != [r["scores"] for r in old]
    for record in new:
        assert [len(s) for s in record["scores"]] == [len(split_steps(c)) for c in record["completions"]]
    assert 'protocol = "auto"' in (out / "run.toml").read_text()  # found by its sal_prm.json
    assert _digest(search_run) == before
    code, stdout, err = sal("evaluate", str(out), "--format", "json", "-q", "--no-plot")
    assert code == 0, err
    assert set(json.loads(stdout)["overall"]) >= {"naive@4", "weighted@4", "maj@4", "pass@4"}


def test_a_results_file_with_problem_and_completions_can_be_scored(sal, trl_dir, tmp_path):
    source = tmp_path / "seed-results.jsonl"
    rows = [{"problem": "What is 2+2?", "answer": "4", "completions": ["2+2=4.\n\nThe answer is $\\boxed{4}$.", "It is 5."]},
            {"problem": "What is 3*3?", "answer": "9", "completions": ["3*3 = 9, so $\\boxed{9}$."] * 2}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, stdout, err = sal("score", str(source), "--prm", str(trl_dir), "-q")
    assert code == 0, err
    records = _records(Path(stdout.strip()))
    assert [r["idx"] for r in records] == [0, 1]
    assert [len(s) for s in records[0]["scores"]] == [2, 1]
    assert records[1]["pred_maj@2"] == "\\boxed{9}"


def test_score_bad_inputs(sal, tiny_model, search_run, tmp_path):
    code, _, _ = sal("generate", "--model", str(tiny_model), "--backend", "transformers", "--num-samples", "1",
                     "--max-tokens", "4", "-o", str(tmp_path / "gen"), "-q")
    assert code == 0
    for args, expected in (
        ([str(search_run)], "needs a PRM or an aggregation"),
        ([str(tmp_path / "gen"), "--agg-strategy", "min"], "has no step `scores` to re-aggregate"),
        ([str(tmp_path / "missing")], "is neither a run folder nor a dataset file"),
        ([str(search_run), "--agg-strategy", "min", "-o", str(search_run)], "never writes into its source"),
        ([str(search_run), "--agg-strategy", "median"], "`verifier.agg_strategy` ('median') must be one of"),
    ):
        code, out, err = sal("score", *args)
        assert code == 2, err
        assert err.startswith("error: ") and expected in err.splitlines()[0], err
