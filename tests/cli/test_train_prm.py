"""`sal train-prm`: bad input, the missing `train` extra, ProcessBench evaluation through a
scripted PRM, and tiny-model round trips (train, save, reload, score by hand; stop, resume)."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

ROW = {"prompt": "1+1?", "completions": ["1+1 = 2", "so 2"], "labels": [True, True]}
PB = [  # problem -> scores the scripted PRM gives; labels chosen so the answers are known
    {"problem": "a", "steps": ["x", "y"], "label": 1, "split": "gsm8k", "scores": [0.9, 0.1]},  # found
    {"problem": "b", "steps": ["x", "y"], "label": 0, "split": "gsm8k", "scores": [0.9, 0.8]},  # missed
    {"problem": "c", "steps": ["x"], "label": -1, "split": "gsm8k", "scores": [0.7]},  # found
    {"problem": "d", "steps": ["x", "y"], "label": -1, "split": "math", "scores": [0.6, 0.3]},  # missed
    {"problem": "e", "steps": ["x", "y"], "label": 1, "split": "math", "scores": [0.6, 0.3]},  # found
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "occupied").write_text("x")
    (tmp_path / "run.toml").write_text("[sampling]\nn = 2\n")
    return {
        "no_labels": _jsonl(tmp_path / "nolabels.jsonl", [{"prompt": "p", "completions": ["a"]}]),
        "mismatch": _jsonl(tmp_path / "mismatch.jsonl", [ROW, {**ROW, "labels": [True]}]),
        "empty": _jsonl(tmp_path / "empty.jsonl", []),
        "no_steps": _jsonl(tmp_path / "nosteps.jsonl", [{"problem": "p", "label": -1}]),
        "pb": _jsonl(tmp_path / "pb.jsonl", PB),
        "typo": str(tmp_path / "typo.toml"),
        "a_file": str(tmp_path / "occupied"),
        "run_profile": str(tmp_path / "run.toml"),
    }


BAD = {
    "missing column": (["--dataset", "{no_labels}"], "has no column `labels`"),
    "length mismatch": (["--dataset", "{mismatch}"], "row 1: `labels` has 1 items but `completions` has 2"),
    "empty dataset": (["--dataset", "{empty}"], "has no rows"),
    "unknown dataset": (["--dataset", "prm_sampel"], "unknown dataset `prm_sampel`"),
    "hub dataset offline": (["--dataset", "trl-lib/math_shepherd"], "is not in the local cache"),
    "bad learning rate": (["--set", "train.learning_rate=-1"], "`train.learning_rate` (-1.0) must be > 0"),
    "bad precision": (["--set", "train.precision=fp8"], "`train.precision` ('fp8') must be one of"),
    "bad lora rank": (["--set", "lora.r=0"], "`lora.r` (0) must be >= 1"),
    "typo in profile": (["-p", "{typo}"], "unknown key `train.lerning_rate`"),
    "run profile": (["-p", "cpu-demo"], "`cpu-demo` is a `run` profile, not a `train-prm` profile"),
    "run profile file": (["-p", "{run_profile}"], "is a `run` profile"),
    "bad hub repo": (["--push-to-hub", "my-prm"], "`output.hub_model_id` ('my-prm') must look like `owner/name`"),
    "output is a file": (["-o", "{a_file}"], "is a file, not a folder"),
    "eval without steps": (["--eval-only", "m", "--data", "{no_steps}"], "has no column `steps`"),
    "eval file missing": (["--eval-only", "m", "--data", "nowhere.jsonl"], "does not exist"),
    "eval unknown split": (["--eval-only", "m", "--data", "{pb}", "--split", "omnimath"], "has no split `omnimath`"),
    "eval bad threshold": (["--eval-only", "m", "--data", "{pb}", "--threshold", "1.5"], "`--threshold` must be in [0, 1]"),
    "eval bad protocol": (["--eval-only", "m", "--data", "{pb}", "--protocol", "magic"], "`--protocol` must be one of"),
    "eval zero batch": (["--eval-only", "m", "--data", "{pb}", "--eval-batch-size", "0"], "`--eval-batch-size` must be >= 1"),
    "eval without data": (["--eval-only", "m"], "`--eval-only` needs `--data`"),
    "eval with training flag": (["--eval-only", "m", "--data", "{pb}", "-p", "x"], "`--profile` is a training option"),
    "eval flag without eval": (["--data", "{pb}"], "`--data` only applies with `--eval-only MODEL`"),
    "zero threshold without eval": (["--threshold", "0"], "`--threshold` only applies with `--eval-only MODEL`"),
    "zero rows with eval": (["--eval-only", "m", "--data", "{pb}", "--num-samples", "0"], "`--num-samples` is a training"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_one_clear_line_and_exit_2(name, sal, files, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "typo.toml").write_text('kind = "train-prm"\n[train]\nlerning_rate = 1e-5\n')
    args, expected = BAD[name]
    code, out, err = sal("train-prm", *[a.format(**files) for a in args])
    assert code == 2, err
    assert err.startswith("error: ") and expected in err.splitlines()[0], err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(("missing", "extra"), [("trl", []), ("peft", ["--set", "lora.enabled=true"])])
def test_missing_train_extra_says_how_to_install(sal, monkeypatch, missing, extra):
    monkeypatch.setitem(sys.modules, missing, None)  # what `import` sees when a package is absent
    code, out, err = sal("train-prm", *extra)
    assert code == 2 and err.startswith(f"error: `sal train-prm` needs `{missing}`"), err
    assert "pip install 'sal-cli[train]'" in err


def test_a_trl_without_the_prm_trainer_is_one_line(sal, monkeypatch):
    monkeypatch.setitem(sys.modules, "trl.experimental.prm", None)  # TRL 1.14+ has no PRMTrainer
    code, out, err = sal("train-prm")
    assert code == 2 and "needs TRL's PRM trainer" in err.splitlines()[0] and "removed in 1.14" in err, err
    assert "trl>=1.0,<1.14" in err


class ScriptedPRM:
    """Gives each problem the scores listed in `PB`; records the calls."""

    name, tokens = "scripted", 0

    def __init__(self):
        self.calls = []
        self.closed = False

    def score(self, problems, steps):
        self.calls.append(list(problems))
        by_problem = {row["problem"]: row["scores"] for row in PB}
        return [by_problem[p] for p in problems]

    def close(self):
        self.closed = True


@pytest.fixture
def scripted(monkeypatch):
    prm = ScriptedPRM()
    seen = {}

    def load_prm(cfg):
        seen["cfg"] = cfg
        return prm

    monkeypatch.setattr("sal_cli.prms.load_prm", load_prm, raising=False)
    return prm, seen


def test_eval_reports_processbench_metrics_as_json(sal, files, scripted):
    prm, seen = scripted
    code, out, err = sal("train-prm", "--eval-only", "some/prm", "--data", files["pb"], "--json", "-q",
                         "--protocol", "token-classification", "--step-separator", r"\n", "--eval-batch-size", "2")
    assert code == 0, err
    cfg = seen["cfg"]
    assert (cfg.prm, cfg.protocol, cfg.step_separator, cfg.batch_size) == ("some/prm", "token-classification", "\n", 2)
    assert prm.closed and sum(map(len, prm.calls)) == len(PB)
    result = json.loads(out)
    gsm8k, math = result["splits"]
    assert (gsm8k["split"], gsm8k["erroneous"], gsm8k["correct"]) == ("gsm8k", 2, 1)
    assert (gsm8k["error_acc"], gsm8k["correct_acc"]) == (0.5, 1.0) and gsm8k["f1"] == pytest.approx(2 / 3)
    assert (math["error_acc"], math["correct_acc"], math["f1"]) == (1.0, 0.0, 0.0)
    assert result["average_f1"] == pytest.approx(1 / 3) and "sweep" not in result


def test_eval_table_and_threshold_sweep(sal, files, scripted):
    code, out, err = sal("train-prm", "--eval-only", "some/prm", "--data", files["pb"], "--sweep", "-q", "--threshold", "0.35")
    assert code == 0, err
    assert out == ""  # tables go to stderr
    assert "ProcessBench: some/prm (threshold 0.35)" in err and "average" in err and "F1 % by threshold" in err
    code, out, _ = sal("train-prm", "--eval-only", "some/prm", "--data", files["pb"], "--sweep", "--json", "-q")
    sweep = json.loads(out)["sweep"]
    assert [s["threshold"] for s in sweep][:3] == [0.05, 0.1, 0.15] and len(sweep) == 19
    gsm8k = {s["threshold"]: s["f1"]["gsm8k"] for s in sweep}
    assert gsm8k[0.05] == 0.0  # nothing flagged: every erroneous row missed
    assert gsm8k[0.5] == pytest.approx(2 / 3)
    assert gsm8k[0.95] == 0.0  # everything flagged at step 0: the correct row missed
    code, out, _ = sal("train-prm", "--eval-only", "some/prm", "--data", files["pb"], "--json", "--split", "math", "-q")
    assert [s["split"] for s in json.loads(out)["splits"]] == ["math"]


def _train_args(tiny_model, out, *extra):
    return ["train-prm", "--base-model", str(tiny_model), "--num-samples", "16", "-o", str(out), "-q",
            "--set", "train.logging_steps=1", "--set", "train.learning_rate=2e-3", "--set", "train.batch_size=2",
            "--set", "train.gradient_accumulation_steps=1", "--set", "train.warmup_steps=0", *extra]


def test_tiny_round_trip_trains_saves_and_scores_by_hand(sal, tiny_model, tmp_path):
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    out = tmp_path / "prm"
    code, stdout, err = sal(*_train_args(tiny_model, out, "--max-steps", "8"))
    assert code == 0, err
    assert stdout.strip() == str(out)
    card = json.loads((out / "sal_prm.json").read_text())
    assert card == {"protocol": "token-classification", "step_separator": "\n\n", "base_model": str(tiny_model),
                    "sal_version": card["sal_version"]}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["steps"] == 8 and summary["loss_history"][-1][0] == 8
    assert summary["last_loss"] < summary["first_loss"], summary["loss_history"]
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert not (out / "checkpoints").exists()  # removed once the PRM is saved

    # The contract the token-classification protocol relies on, computed by hand.
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForTokenClassification.from_pretrained(out).eval()
    steps = ["1 + 1 = 2", "So the answer is 2."]
    sep = tokenizer.encode(card["step_separator"], add_special_tokens=False)
    ids = [tokenizer.bos_token_id, *tokenizer.encode("What is 1 + 1?", add_special_tokens=False)]
    ends = []
    for step in steps:
        ids += tokenizer.encode(step, add_special_tokens=False) + sep
        ends.append(len(ids) - 1)
    with torch.no_grad():
        probs = model(torch.tensor([ids])).logits[0].float().softmax(-1)[:, 1]
    scores = [probs[i].item() for i in ends]
    assert len(scores) == 2 and all(0 < s < 1 for s in scores)
    assert min(scores) > 0.5  # 92% of the sample's steps are correct: the head has learnt that much

    # `sal search` loads the folder as its PRM with no other flag, and scores the same.
    from sal_cli.config import VerifierConfig
    from sal_cli.prms import load_prm

    prm = load_prm(VerifierConfig(prm=str(out), protocol="auto", dtype="float32"))
    assert prm.score(["What is 1 + 1?"], [steps])[0] == pytest.approx(scores, abs=2e-3)  # bf16 weights, fp32 here
    run = tmp_path / "search"
    code, _, err = sal("search", "--prm", str(out), "--model", str(tiny_model), "--backend", "transformers",
                       "--num-samples", "2", "-n", "2", "--max-tokens", "16", "-o", str(run), "-q")
    assert code == 0, err
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(len(r["scores"]) == 2 for r in records)


def test_lora_is_merged_into_a_plain_model(sal, tiny_model, tmp_path):
    from safetensors import safe_open

    out = tmp_path / "lora"
    code, _, err = sal(*_train_args(tiny_model, out, "--max-steps", "2", "--set", "lora.enabled=true", "--set", "lora.r=4"))
    assert code == 0, err
    with safe_open(out / "model.safetensors", "pt") as weights:
        keys = list(weights.keys())
    assert "score.weight" in keys and not [k for k in keys if "lora" in k]
    assert json.loads((out / "config.json").read_text())["architectures"] == ["LlamaForTokenClassification"]


def test_ctrl_c_saves_a_checkpoint_and_the_rerun_resumes(sal, tiny_model, tmp_path, monkeypatch):
    from sal_cli.training.callbacks import TrainProgress

    out = tmp_path / "prm"
    args = _train_args(tiny_model, out, "--max-steps", "6", "--set", "output.save_steps=100")
    real_on_log = TrainProgress.on_log

    def press_ctrl_c_at_step_2(self, args, state, control, logs=None, **kwargs):
        if state.global_step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the real signal, through the real handler
        return real_on_log(self, args, state, control, logs=logs, **kwargs)

    monkeypatch.setattr(TrainProgress, "on_log", press_ctrl_c_at_step_2)
    code, _, err = sal(*args)
    assert code == 130, err
    assert "error: interrupted at step 3 of 6; the newest checkpoint is" in err and "checkpoint-3`" in err, err
    assert "re-run the same command to go on" in err
    assert (out / "checkpoints" / "checkpoint-3").is_dir() and not (out / "sal_prm.json").exists()
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"

    monkeypatch.setattr(TrainProgress, "on_log", real_on_log)
    code, stdout, err = sal(*args)
    assert code == 0, err
    assert "resuming from `checkpoint-3`" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 6 and [s for s, _ in summary["loss_history"]] == [1, 2, 3, 4, 5, 6]

    code, stdout, err = sal(*args)  # finished: nothing to do
    assert code == 0 and "already holds the trained PRM" in err and stdout.strip() == str(out)
    code, _, err = sal(*args[:-2], "--set", "train.learning_rate=1e-4")
    assert code == 2 and "holds a training run with other settings" in err
    code, _, err = sal(*args, "--overwrite", "--dataset", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "does not exist" in err
    assert (out / "sal_prm.json").is_file()  # bad input loses nothing, even with --overwrite
