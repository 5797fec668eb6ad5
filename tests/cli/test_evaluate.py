"""`sal evaluate` end to end on constructed runs whose right answers are known by hand:
outputs, numbers, overlays, the grade cache, results left untouched, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

B = "\\boxed{{{}}}".format


def write_run(folder: Path, records: list[dict], command: str = "search", toml: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "summary.json").write_text(json.dumps({"command": command}))
    (folder / "run.toml").write_text(toml)
    return folder


def search_record(idx, answer, completions, scores, groups, level, subject, tokens=None, total=None):
    tokens = tokens or [10] * len(completions)
    return {"idx": idx, "problem": f"p{idx}", "answer": answer, "level": level, "subject": subject,
            "completions": completions, "completion_tokens": tokens, "scores": [[s] for s in scores],
            "agg_scores": scores, "groups": groups, "total_tokens": total or sum(tokens)}


# Four problems, n = 4, DVTS with two subtrees of two leaves (groups [0, 0, 1, 1]).
DVTS = [
    # maj: 5 (x2, both in subtree 0) vs 6 (x1) -> right; naive: 0.9 is "6" -> wrong; weighted 5: 0.5 < 6 + none
    search_record(0, "5", [B(5), B("5.0"), B(6), "I give up"], [0.2, 0.3, 0.9, 0.95], [0, 0, 1, 1], 1, "Algebra"),
    # maj tie 2-2 goes to the first answer (1/2, right); weighted 3: 0.8 > 0.7 -> wrong; naive 0.6 -> right
    search_record(1, "\\frac{1}{2}", [B("0.5"), B("\\frac12"), B(3), B(3)], [0.6, 0.1, 0.5, 0.3], [0, 0, 1, 1], 2,
                  "Geometry"),
    # no completion has an answer
    search_record(2, "7", ["no idea", "I give up", "not sure", "let me think"], [0.5] * 4, [0, 0, 1, 1], 1, "Algebra"),
    # all right: AIME-style zero-padded reference
    search_record(3, "025", [B(25), B(25), B("25"), "so it is 25."], [0.4, 0.4, 0.4, 0.4], [0, 0, 1, 1], 3,
                  "Algebra", tokens=[5, 5, 5, 5], total=60),
]


@pytest.fixture
def dvts_run(tmp_path):
    return write_run(tmp_path / "dvts", DVTS, toml='[search]\napproach = "dvts"\nbeam_width = 2\n')


def test_evaluate_reports_hand_computed_numbers(sal, dvts_run):
    before = (dvts_run / "results.jsonl").read_bytes()
    code, out, err = sal("evaluate", str(dvts_run), "--format", "json", "--seeds", "3")
    assert code == 0, err
    metrics = json.loads(out)
    overall = metrics["overall"]
    assert metrics["ks"] == [2, 4]  # subtrees of 2: no budget of 1
    assert overall["maj@4"] == pytest.approx(3 / 4)  # problems 0, 1, 3
    assert overall["naive@4"] == pytest.approx(2 / 4)  # problems 1, 3
    assert overall["weighted@4"] == pytest.approx(1 / 4)  # problem 3 only
    assert overall["pass@4"] == pytest.approx(3 / 4)
    assert overall["pass@2"] == pytest.approx((0.5 + 0.5 + 0 + 1) / 4)  # 0, 1: one subtree of two is right
    assert metrics["std"]["maj@4"] == 0.0
    assert metrics["no_answer"]["maj@4"] == pytest.approx(1 / 4)
    assert metrics["summary"]["maj@4"] == {"num_entries": 4, "correct": 0.75, "no_answer": 0.25}
    assert metrics["by_level"]["1"]["overall"]["maj@4"] == pytest.approx(1 / 2)
    assert metrics["by_subject"]["Geometry"]["num_entries"] == 1
    assert metrics["tokens"]["4"] == pytest.approx((40 + 40 + 40 + 60) / 4)  # problem 3's pruned tokens count
    assert metrics["completions_no_answer"] == pytest.approx(5 / 16)
    for name in ("metrics.json", "metrics.csv", "grades.jsonl", "accuracy.png"):
        assert (dvts_run / name).stat().st_size > 0, name
    grades = [json.loads(line) for line in (dvts_run / "grades.jsonl").read_text().splitlines()]
    assert grades[0]["answers"] == ["5", "5.0", "6", None] and grades[0]["correct"] == [True, True, False, False]
    assert grades[3]["gold"] == "25" and grades[3]["answers"][3] == "25"
    assert (dvts_run / "results.jsonl").read_bytes() == before
    assert "accuracy % by budget n" in err and "Algebra" in err


def test_second_evaluation_reuses_grades(sal, dvts_run, monkeypatch):
    assert sal("evaluate", str(dvts_run), "-q")[0] == 0
    import sal_cli.grading.grader as grader

    monkeypatch.setattr(grader, "grade_all", lambda *a, **k: pytest.fail("graded again"))
    code, _, err = sal("evaluate", str(dvts_run), "-q", "--seeds", "2")
    assert code == 0, err
    assert err.startswith("evaluate: dvts: 4 problems") and "maj@4 75.0%" in err


def test_overlay_of_several_runs(sal, dvts_run, tmp_path):
    greedy = [{"idx": i, "answer": r["answer"], "completions": r["completions"][:1], "completion_tokens": [7],
               "finish_reasons": ["stop"]} for i, r in enumerate(DVTS)]
    greedy[3]["completions"], greedy[3]["finish_reasons"] = ["so it is 25"], ["length"]  # cut off: no answer
    gen = write_run(tmp_path / "greedy", greedy, "generate", "[sampling]\nn = 1\ntemperature = 0.0\n")
    code, out, err = sal("evaluate", str(dvts_run), str(gen), "--format", "json", "-o", str(tmp_path / "cmp"))
    assert code == 0, err
    runs = json.loads(out)["runs"]
    assert [r["label"] for r in runs] == ["dvts", "generate"]
    assert runs[1]["overall"] == {"maj@1": 0.5, "pass@1": 0.5, "greedy": 0.5}  # problems 0 and 1
    assert runs[1]["no_answer"]["greedy"] == 0.5
    assert {p.name for p in (tmp_path / "cmp").iterdir()} == {"comparison.png", "comparison-tokens.png", "comparison.csv", "comparison.json"}
    assert (gen / "metrics.json").exists()


def test_a_seed_style_file_evaluates_with_groups(sal, tmp_path):
    rows = [{"problem": "p", "answer": 27.0, "completions": [B(27), B(3), B(27), B(3)], "scores": [[0.1, 0.9], [0.8], [0.2], [0.1]]}]
    path = tmp_path / "seed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = sal("evaluate", str(path), "--format", "json", "--group-size", "2", "--no-plot")
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["ks"] == [2, 4]
    assert metrics["overall"]["naive@4"] == 1.0  # last-step scores: 0.9 for the first "27"
    assert (tmp_path / "seed-eval" / "metrics.json").exists()


def test_a_parquet_file_evaluates_with_n_and_answer_column(sal, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {"question": ["q0", "q1"], "final": ["025", "x=2"], "completions": [[B(25), B(24)], [B(2), B(3)]]}
    pq.write_table(pa.table(rows), tmp_path / "runs.parquet")
    code, out, err = sal("evaluate", str(tmp_path / "runs.parquet"), "--answer-column", "final", "--n", "1",
                         "--format", "json", "--no-plot", "-q")
    assert code == 0, err
    assert json.loads(out)["overall"] == {"maj@1": 1.0, "pass@1": 1.0}


def bad(tmp_path: Path, name: str, records) -> str:
    """A folder named `name` holding `records` (no results file when None)."""
    folder = tmp_path / name
    folder.mkdir()
    if records is not None:
        (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(folder)


def text_file(tmp_path: Path) -> str:
    path = tmp_path / "notes.txt"
    path.write_text("x")
    return str(path)


BAD = {
    "missing folder": (lambda t: str(t / "nowhere"), "does not exist"),
    "folder without results": (lambda t: bad(t, "empty", None), "has no `results.jsonl`"),
    "no records": (lambda t: bad(t, "blank", []), "has no result records"),
    "no completions": (lambda t: bad(t, "nocomp", [{"idx": 0, "answer": "1"}]), "has no `completions` list"),
    "no gold column": (lambda t: bad(t, "nogold", [{"idx": 0, "completions": ["x"]}]), "has no reference answer column"),
    "unsupported file": (text_file, "is not a run folder"),
    "duplicate idx": (lambda t: bad(t, "twice", [{"idx": 0, "answer": "1", "completions": ["x"]}] * 2),
                      "more than one record for idx 0"),
    "bad scores": (lambda t: bad(t, "scores", [{"idx": 0, "answer": "1", "completions": ["x"], "agg_scores": [1, 2]}]),
                   "scores must have one value per completion"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_clear_line(sal, tmp_path, case):
    make, message = BAD[case]
    code, out, err = sal("evaluate", make(tmp_path))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err.splitlines()[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [(["--seeds", "0"], "`--seeds` must be >= 1"),
                                               (["--format", "yaml"], "`--format` must be"),
                                               (["--n", "9"], "fewer than `--n` 9")])
def test_bad_options(sal, dvts_run, args, message):
    code, _, err = sal("evaluate", str(dvts_run), *args)
    assert code == 2 and message in err


def test_evaluate_help_imports_nothing_heavy():
    code = ("import sys, sal_cli.cli.app, sal_cli.cli.evaluate, sal_cli.grading.voting; "
            "print([m for m in ('math_verify', 'sympy', 'matplotlib', 'numpy', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
