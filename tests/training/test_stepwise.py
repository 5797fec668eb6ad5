"""Stepwise rows: loading and row checks, TRL's token layout on a word-level mock tokenizer,
and the training folder (resume, settings check)."""

from __future__ import annotations

import json

import pytest

from sal_cli.config import to_dict
from sal_cli.errors import SalError
from sal_cli.training.config import TrainPRMConfig
from sal_cli.training.data import load_stepwise
from sal_cli.training.folder import PRM_CARD, TRAIN_TOML, claim_folder, inspect_folder, last_checkpoint
from sal_cli.training.trainer import IGNORE

pytest.importorskip("trl.experimental.prm")
from trl.experimental.prm import PRMTrainer  # noqa: E402


class WordTokenizer:
    """One id per whitespace-separated word, `\\n` is id 1; BOS is id 0 (or absent)."""

    def __init__(self, bos: bool = True):
        self.vocab = {"\n": 1}
        self.bos_token_id = 0 if bos else None

    def _ids(self, text: str) -> list[int]:
        return [self.vocab.setdefault(word, len(self.vocab) + 1) for word in text.replace("\n", " \n ").split(" ") if word]

    def __call__(self, text, add_special_tokens=False):
        assert add_special_tokens is False
        return {"input_ids": self._ids(text)}

    def encode(self, text, add_special_tokens=False):
        return self(text, add_special_tokens)["input_ids"]


def tokenize_row(row, tok, separator="\n", max_length=None, max_completion_length=None, last_step_only=False):
    """TRL's own layout function, the one `sal train-prm` trains with."""
    return PRMTrainer.tokenize_row(row, tok, separator, max_length, max_completion_length, last_step_only, is_eval=False)


def has_label(labels):
    return any(label != IGNORE for label in labels)


ROW = {"prompt": "what is 2+2 ?", "completions": ["2+2 = 4", "so 5"], "labels": [True, False]}


def test_layout_matches_trl_worked_example():
    tok = WordTokenizer()
    out = tokenize_row(ROW, tok)
    words = {v: k for k, v in tok.vocab.items()} | {0: "<bos>"}
    assert [words[i] for i in out["input_ids"]] == ["<bos>", "what", "is", "2+2", "?", "2+2", "=", "4", "\n", "so", "5", "\n"]
    assert out["labels"] == [IGNORE] * 8 + [1] + [IGNORE] * 2 + [0]


def test_no_bos_last_step_only_and_truncation():
    tok = WordTokenizer(bos=False)
    assert tokenize_row(ROW, tok)["input_ids"][0] != 0
    last_only = tokenize_row(ROW, tok, last_step_only=True)["labels"]
    assert [x for x in last_only if x != IGNORE] == [0]
    cut = tokenize_row(ROW, tok, max_length=7)  # prompt (4) + "2+2 = 4" (3): the separator is cut off
    assert len(cut["input_ids"]) == 7 and not has_label(cut["labels"])
    completion_cut = tokenize_row(ROW, tok, max_completion_length=4)
    assert [x for x in completion_cut["labels"] if x != IGNORE] == [1]


def _write(tmp_path, rows):
    path = tmp_path / "steps.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_bundled_sample_loads_and_num_samples_cuts():
    rows = load_stepwise("prm-sample", "train")
    assert len(rows) == 164 and set(rows[0]) == {"prompt", "completions", "labels"}
    assert len(load_stepwise("prm-sample", "train", num_samples=5)) == 5


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"prompt": "p", "completions": ["a", "b"], "labels": [True]}, "row 1: `labels` has 1 items but `completions` has 2"),
        ({"prompt": "p", "completions": [], "labels": []}, "row 1: `completions` is empty"),
        ({"prompt": "p", "completions": "a b", "labels": [True]}, "row 1: `completions` must be a list of step texts"),
        ({"prompt": "p", "completions": ["a"], "labels": ["yes"]}, "row 1: `labels` must be a list of true/false"),
        ({"prompt": 3, "completions": ["a"], "labels": [True]}, "row 1: `prompt` must be text, got int"),
        ({"prompt": "p", "completions": ["a"]}, "row 1: has no `labels`"),
    ],
)
def test_bad_rows_are_named(tmp_path, bad, expected):
    path = _write(tmp_path, [ROW, bad])
    with pytest.raises(SalError) as info:
        load_stepwise(path, "train")
    assert expected in info.value.message and "stepwise-supervision" in info.value.hint


def test_missing_column_and_empty_dataset(tmp_path):
    with pytest.raises(SalError, match="has no column `completions`"):
        load_stepwise(_write(tmp_path, [{"prompt": "p", "steps": ["a"], "labels": [True]}]), "train")
    with pytest.raises(SalError, match="has no rows"):
        load_stepwise(_write(tmp_path, []), "train")
    with pytest.raises(SalError, match="unknown dataset `prm_sample`"):
        load_stepwise("prm_sample", "train")


def _open(folder, settings, overwrite=False):
    state = inspect_folder(folder, settings, overwrite)
    claim_folder(folder, settings, overwrite)
    return state


def test_folder_resumes_from_newest_complete_checkpoint(tmp_path):
    settings = to_dict(TrainPRMConfig())
    state = _open(tmp_path / "run", settings)
    assert (state.finished, state.checkpoint) == (False, None) and (tmp_path / "run" / TRAIN_TOML).is_file()
    for step, complete in ((10, True), (20, True), (30, False)):  # 30 died mid-write
        ckpt = tmp_path / "run" / "checkpoints" / f"checkpoint-{step}"
        ckpt.mkdir(parents=True)
        if complete:
            (ckpt / "trainer_state.json").write_text("{}")
    assert _open(tmp_path / "run", settings).checkpoint.name == "checkpoint-20"
    assert last_checkpoint(tmp_path / "nowhere") is None


def test_folder_refuses_other_settings_and_other_content(tmp_path):
    config = TrainPRMConfig()
    _open(tmp_path / "run", to_dict(config))
    config.train.learning_rate = 3e-5
    with pytest.raises(SalError, match=r"other settings \(train.learning_rate: 1e-05 -> 3e-05\)"):
        inspect_folder(tmp_path / "run", to_dict(config), overwrite=False)
    config.output.save_steps = 7  # where things go may change
    (tmp_path / "run" / PRM_CARD).write_text("{}")
    state = inspect_folder(tmp_path / "run", to_dict(config), overwrite=True)
    assert not state.finished and (tmp_path / "run" / PRM_CARD).exists()  # nothing is deleted before the data is checked
    claim_folder(tmp_path / "run", to_dict(config), overwrite=True)
    assert not (tmp_path / "run" / PRM_CARD).exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SalError, match="holds no `sal train-prm` run"):
        inspect_folder(tmp_path / "other", to_dict(config), overwrite=False)
