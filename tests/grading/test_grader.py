"""Grading problems: one problem by hand, worker processes agree with in-process grading,
and saved grades are reused only while the results file is unchanged."""

from __future__ import annotations

import json

from sal_cli.grading.grader import SERIAL_BELOW, grade_all, grade_problem, grade_run
from sal_cli.grading.runs import load_run

B = "\\boxed{{{}}}".format


def test_grade_problem_by_hand():
    graded = grade_problem("\\frac{1}{2}", [B("0.5"), B(3), "no idea", B("\\dfrac12"), "so it is 7"], [False] * 4 + [True])
    assert graded.answers == ["0.5", "3", None, "\\dfrac12", None]  # the last one ran out of tokens
    assert graded.classes == [0, 1, -1, 0, -1]
    assert graded.class_answers == ["0.5", "3"]
    assert graded.class_correct == [True, False]
    assert graded.correct == [True, False, False, True, False]


def test_worker_processes_grade_like_one_process():
    jobs = [(str(i % 7), [B(i % 7), B(i % 5), f"so {i}", "\\boxed{x=" + str(i % 7) + "}"]) for i in range(SERIAL_BELOW + 4)]
    advanced = []
    assert grade_all(jobs, workers=2, advance=advanced.append) == grade_all(jobs, workers=1)
    assert sum(advanced) == len(jobs)


def test_saved_grades_are_reused_until_the_results_change(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()
    results = folder / "results.jsonl"
    results.write_text(json.dumps({"idx": 0, "answer": "2", "completions": [B(2)]}) + "\n")
    first = grade_run(load_run(str(folder)), workers=1)
    assert (folder / "grades.jsonl").exists() and first[0].correct == [True]

    import sal_cli.grading.grader as grader

    monkeypatch.setattr(grader, "grade_all", lambda *a, **k: [grade_problem("2", [B(3)])])
    assert grade_run(load_run(str(folder)), workers=1) == first  # unchanged: from grades.jsonl
    results.write_text(json.dumps({"idx": 0, "answer": "2", "completions": [B(3)]}) + "\n")
    assert grade_run(load_run(str(folder)), workers=1)[0].correct == [False]  # changed: graded again


def test_grades_of_an_older_grader_are_redone(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.jsonl").write_text(json.dumps({"idx": 0, "answer": "34", "completions": ["Final Answer: The largest $n$ is 34."]}) + "\n")
    assert grade_run(load_run(str(folder)), workers=1)[0].correct == [True]
    key = json.loads((folder / ".grades.key").read_text())
    key["grader"] = "2+" + key["grader"].split("+", 1)[1]  # as version 2 wrote it: that answer was not found
    (folder / ".grades.key").write_text(json.dumps(key))
    stale = json.loads((folder / "grades.jsonl").read_text())
    stale.update(answers=[None], classes=[-1], class_answers=[], class_correct=[], correct=[False])
    (folder / "grades.jsonl").write_text(json.dumps(stale) + "\n")
    assert grade_run(load_run(str(folder)), workers=1)[0].correct == [True]
