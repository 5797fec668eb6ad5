"""Each protocol scores the right tokens: values equal the softmax/sigmoid computed here by hand
from the model's own logits or hidden states, at positions this file finds its own way."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from transformers import AutoModel, AutoModelForCausalLM, AutoModelForTokenClassification, AutoTokenizer

from sal_cli.prms import load_prm
from sal_cli.prms._layout import PLACEHOLDER
from sal_cli.prms.llm_judge import NO, YES, judge_turns

from prm_cases import SOLUTIONS, settings

PROBLEMS = [problem for problem, _ in SOLUTIONS]
STEPS = [steps for _, steps in SOLUTIONS]


def _score(folder, protocol, **values) -> list[list[float]]:
    return load_prm(settings(folder, protocol, **values)).score(PROBLEMS, STEPS)


def _assert_close(got: list[list[float]], want: list[list[float]]) -> None:
    assert [len(s) for s in got] == [len(s) for s in want] == [len(s) for s in STEPS]
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=1e-5)
    assert len({round(x, 4) for s in got for x in s}) > 1  # the init spreads scores: positions matter


def _differences(a: list[int], b: list[int]) -> list[int]:
    """Positions where two tokenizations of the same chat with different answers differ."""
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def _chat_ids(tokenizer, messages) -> list[int]:
    return tokenizer(tokenizer.apply_chat_template(messages, tokenize=False), add_special_tokens=False).input_ids


@torch.inference_mode()
def test_math_shepherd_reads_plus_minus_at_each_tag(shepherd_dir):
    tokenizer = AutoTokenizer.from_pretrained(shepherd_dir)
    model = AutoModelForCausalLM.from_pretrained(shepherd_dir, dtype=torch.float32)
    tag = tokenizer.convert_tokens_to_ids(" ки")
    (plus,), (minus,) = tokenizer.encode(" +", add_special_tokens=False), tokenizer.encode(" -", add_special_tokens=False)
    want = []
    for problem, steps in SOLUTIONS:
        ids = tokenizer(f"{problem} " + " ки\n\n".join(steps) + " ки").input_ids
        logits = model(torch.tensor([ids])).logits[0]
        at = [i for i, t in enumerate(ids) if t == tag]
        want.append(logits[at][:, [plus, minus]].softmax(-1)[:, 0].tolist())
    _assert_close(_score(shepherd_dir, "math-shepherd"), want)


@torch.inference_mode()
def test_rlhflow_reads_the_position_that_predicts_each_plus(rlhflow_dir):
    tokenizer = AutoTokenizer.from_pretrained(rlhflow_dir)
    model = AutoModelForCausalLM.from_pretrained(rlhflow_dir, dtype=torch.float32)
    (plus,), (minus,) = tokenizer.encode("+", add_special_tokens=False), tokenizer.encode("-", add_special_tokens=False)

    def chat(problem, steps, answer):
        turns = []
        for k, step in enumerate(steps):
            turns += [{"role": "user", "content": f"{problem} {step}" if k == 0 else step}, {"role": "assistant", "content": answer}]
        return _chat_ids(tokenizer, turns)

    want = []
    for problem, steps in SOLUTIONS:
        ids = chat(problem, steps, "+")
        at = _differences(ids, chat(problem, steps, "-"))
        assert [ids[i] for i in at] == [plus] * len(steps)
        logits = model(torch.tensor([ids])).logits[0]
        want.append(logits[[i - 1 for i in at]][:, [plus, minus]].softmax(-1)[:, 0].tolist())
    _assert_close(_score(rlhflow_dir, "rlhflow"), want)


@torch.inference_mode()
def test_llm_judge_is_p_yes_over_yes_and_no_before_each_answer(judge_dir):
    tokenizer = AutoTokenizer.from_pretrained(judge_dir)
    model = AutoModelForCausalLM.from_pretrained(judge_dir, dtype=torch.float32)
    yes = [ids[0] for w in YES if len(ids := tokenizer.encode(w, add_special_tokens=False)) == 1]
    no = [ids[0] for w in NO if len(ids := tokenizer.encode(w, add_special_tokens=False)) == 1]
    assert len(yes) == len(no) == 4  # SmolLM2 has every spelling: all of them count

    def chat(problem, steps, answer):
        return _chat_ids(tokenizer, [dict(m, content=m["content"].replace(PLACEHOLDER, answer)) for m in judge_turns(problem, steps)])

    want = []
    for problem, steps in SOLUTIONS:
        ids = chat(problem, steps, "Yes")
        at = _differences(ids, chat(problem, steps, "No"))
        probs = model(torch.tensor([ids])).logits[0][[i - 1 for i in at]].softmax(-1)
        p_yes, p_no = probs[:, yes].sum(-1), probs[:, no].sum(-1)
        want.append((p_yes / (p_yes + p_no)).tolist())
    _assert_close(_score(judge_dir, "llm-judge"), want)


def _backbone_and_head(folder, prefix: str, names: tuple[str, ...]):
    """The float32 backbone (transformers' AutoModel) and the head tensors saved beside it."""
    backbone = AutoModel.from_pretrained(folder, dtype=torch.float32)
    with safe_open(str(folder / "model.safetensors"), "pt") as weights:
        return backbone, [weights.get_tensor(prefix + name) for name in names]


@torch.inference_mode()
def test_skywork_applies_the_value_head_at_each_step_newline(skywork_dir):
    tokenizer = AutoTokenizer.from_pretrained(skywork_dir)
    backbone, (w, b) = _backbone_and_head(skywork_dir, "v_head.summary.", ("weight", "bias"))
    newline = tokenizer.encode("\n")[-1]
    want = []
    for problem, steps in SOLUTIONS:  # Skywork's reference recipe, one "\n" after every step
        ids = tokenizer.encode(tokenizer.bos_token + problem + "\n")
        flags = [0] * len(ids)
        for step in steps:
            step_ids = tokenizer.encode(step) + [newline]
            ids += step_ids
            flags += [0] * (len(step_ids) - 1) + [1]
        hidden = backbone(torch.tensor([ids])).last_hidden_state[0]
        at = [i for i, f in enumerate(flags) if f]
        want.append(torch.sigmoid(hidden[at] @ w.T + b)[:, 0].tolist())
    _assert_close(_score(skywork_dir, "skywork"), want)


@torch.inference_mode()
def test_qwen_prm_reads_the_positive_class_at_each_extra_0(qwen_dir):
    tokenizer = AutoTokenizer.from_pretrained(qwen_dir)
    backbone, (w0, b0, w2, b2) = _backbone_and_head(qwen_dir, "score.", ("0.weight", "0.bias", "2.weight", "2.bias"))
    step = tokenizer.convert_tokens_to_ids("<extra_0>")
    want = []
    for problem, steps in SOLUTIONS:  # the model card's recipe
        messages = [
            {"role": "system", "content": "Please reason step by step, and put your final answer within \\boxed{}."},
            {"role": "user", "content": problem},
            {"role": "assistant", "content": "<extra_0>".join(steps) + "<extra_0>"},
        ]
        ids = tokenizer.encode(tokenizer.apply_chat_template(messages, tokenize=False))
        hidden = backbone(torch.tensor([ids])).last_hidden_state[0][torch.tensor(ids) == step]
        logits = torch.relu(hidden @ w0.T + b0) @ w2.T + b2
        want.append(logits.softmax(-1)[:, 1].tolist())
    _assert_close(_score(qwen_dir, "qwen-prm"), want)


@torch.inference_mode()
def test_token_classification_follows_trl_tokenize_row(trl_dir):
    tokenizer = AutoTokenizer.from_pretrained(trl_dir)
    model = AutoModelForTokenClassification.from_pretrained(trl_dir, dtype=torch.float32)
    separator = tokenizer.encode("\n", add_special_tokens=False)
    want = []
    for problem, steps in SOLUTIONS:  # PRMTrainer.tokenize_row: BOS + prompt, each step + separator
        ids = [tokenizer.bos_token_id] + tokenizer(problem, add_special_tokens=False).input_ids
        labelled = []
        for step in steps:
            ids += tokenizer(step, add_special_tokens=False).input_ids + separator
            labelled.append(len(ids) - 1)
        want.append(model(torch.tensor([ids])).logits[0][labelled].softmax(-1)[:, 1].tolist())
    _assert_close(_score(trl_dir, "token-classification"), want)


def test_token_classification_separator_setting_beats_the_saved_one(trl_dir):
    prm = load_prm(settings(trl_dir, "token-classification", step_separator="\n\n"))
    tokenizer = prm.layout.tokenizer
    first = [tokenizer.bos_token_id] + tokenizer.encode("P") + tokenizer.encode("a") + tokenizer.encode("\n\n")
    whole = first + tokenizer.encode("b") + tokenizer.encode("\n\n")
    enc = prm.layout.encode("P", ["a", "b"])
    assert (enc.ids, enc.marks) == (whole, [len(first) - 1, len(whole) - 1])
