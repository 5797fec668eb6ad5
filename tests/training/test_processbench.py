"""ProcessBench metric on hand-made rows whose answers are worked out by hand."""

from __future__ import annotations

import json

import pytest

from sal_cli.errors import SalError
from sal_cli.training.processbench import Sample, first_error, load_samples, report, split_metrics

# Scores chosen so that at threshold 0.5 the predictions are the comments' values.
ROWS = [
    # split "a": 2 erroneous rows (1 found), 2 correct rows (both found)
    ("a", [0.9, 0.2, 0.1], 1),  # predicted 1: hit
    ("a", [0.9, 0.8, 0.3], 1),  # predicted 2: miss (found too late)
    ("a", [0.9, 0.9], -1),  # predicted -1: hit
    ("a", [0.6, 0.5], -1),  # 0.5 is not below 0.5: predicted -1, hit
    # split "b": every row correct, every one predicted correct
    ("b", [0.7], -1),
    ("b", [0.99, 0.51], -1),
    # split "c": every row erroneous, every one missed
    ("c", [0.9, 0.9], 0),
    ("c", [0.1, 0.9], 1),  # predicted 0: flagged too early
]


def _inputs(rows=ROWS):
    samples = [Sample(split, "p", [f"s{i}" for i in range(len(scores))], label) for split, scores, label in rows]
    return samples, [scores for _, scores, _ in rows]


def test_first_error_threshold_edges():
    assert first_error([0.9, 0.4, 0.1], 0.5) == 1
    assert first_error([0.5, 0.5], 0.5) == -1  # equal passes
    assert first_error([0.2], 0.0) == -1  # nothing is below 0
    assert first_error([0.999, 1.0], 1.0) == 0  # everything under 1 is flagged
    assert first_error([1.0, 1.0], 1.0) == -1
    assert first_error([], 0.5) == -1


def test_split_metrics_match_hand_computed_values():
    samples, scores = _inputs()
    result = report(samples, scores, 0.5, ["a", "b", "c", "empty"])
    a, b, c, empty = result.splits
    assert (a.samples, a.erroneous, a.correct) == (4, 2, 2)
    assert a.error_acc == 0.5 and a.correct_acc == 1.0 and a.f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert (b.erroneous, b.correct, b.error_acc, b.correct_acc, b.f1) == (0, 2, None, 1.0, None)  # all correct
    assert (c.erroneous, c.correct, c.error_acc, c.correct_acc, c.f1) == (2, 0, 0.0, None, None)  # all wrong
    assert (empty.samples, empty.error_acc, empty.correct_acc, empty.f1) == (0, None, None, None)
    assert result.average_f1 == pytest.approx(2 / 3)  # only split "a" has an F1


def test_f1_is_zero_when_both_accuracies_are():
    metrics = split_metrics("x", [0, -1], [-1, 0])
    assert (metrics.error_acc, metrics.correct_acc, metrics.f1) == (0.0, 0.0, 0.0)


def test_threshold_moves_predictions_both_ways():
    samples, scores = _inputs()
    strict = report(samples, scores, 1.0, ["a"]).splits[0]  # every step below 1: all flagged at step 0
    assert (strict.error_acc, strict.correct_acc) == (0.0, 0.0)
    lenient = report(samples, scores, 0.0, ["a"]).splits[0]  # nothing flagged
    assert (lenient.error_acc, lenient.correct_acc) == (0.0, 1.0)
    low = report(samples, scores, 0.25, ["a"]).splits[0]  # row 1 now predicted 1, row 2 predicted -1
    assert (low.error_acc, low.correct_acc) == (0.5, 1.0)


def test_report_to_dict_is_json_ready():
    samples, scores = _inputs()
    data = json.loads(json.dumps(report(samples, scores, 0.5, ["a", "b"]).to_dict()))
    assert data["threshold"] == 0.5 and [s["split"] for s in data["splits"]] == ["a", "b"]
    assert data["splits"][1]["f1"] is None and data["average_f1"] == pytest.approx(2 / 3)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_a_file_is_one_split_named_after_it(tmp_path):
    data = _write(tmp_path / "gsm8k.jsonl", [{"problem": "p", "steps": ["a", "b"], "label": 1, "id": "x"}])
    (sample,) = load_samples(data, [])
    assert (sample.split, sample.steps, sample.label) == ("gsm8k", ["a", "b"], 1)


def test_a_split_column_names_splits_and_split_filters(tmp_path):
    rows = [{"problem": "p", "steps": ["a"], "label": -1, "split": name} for name in ("math", "gsm8k", "math")]
    data = _write(tmp_path / "pb.jsonl", rows)
    assert [s.split for s in load_samples(data, [])] == ["math", "gsm8k", "math"]
    assert [s.split for s in load_samples(data, ["gsm8k"])] == ["gsm8k"]
    with pytest.raises(SalError, match="has no split `omnimath`") as info:
        load_samples(data, ["omnimath"])
    assert "math, gsm8k" in info.value.hint


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"problem": "p", "steps": ["a"], "label": 1}, "row 1 (split `pb`): `label` must be -1 or a step index below 1, got 1"),
        ({"problem": "p", "steps": "a", "label": -1}, "row 1 (split `pb`): `steps` must be a list of step texts"),
        ({"problem": "p", "steps": ["a"], "label": True}, "`label` must be -1 or a step index below 1, got True"),
        ({"problem": "p", "label": -1}, "row 1 (split `pb`): has no `steps`"),
    ],
)
def test_bad_rows_name_the_row(tmp_path, row, expected):
    data = _write(tmp_path / "pb.jsonl", [{"problem": "p", "steps": ["a"], "label": 0}, row])
    with pytest.raises(SalError, match="row") as info:
        load_samples(data, [])
    assert expected in info.value.message


def test_file_without_steps_column_names_the_column(tmp_path):
    data = _write(tmp_path / "pb.jsonl", [{"problem": "p", "label": -1}])
    with pytest.raises(SalError) as info:
        load_samples(data, [])
    assert "has no column `steps`" in info.value.message and "`steps` (a list of step texts)" in info.value.hint
