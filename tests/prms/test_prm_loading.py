"""The registry, `protocol = "auto"`, `sal_prm.json`, and one clear error for each bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from prm_cases import settings

from sal_cli.config import PRM_PROTOCOLS, VerifierConfig
from sal_cli.errors import SalError
from sal_cli.prms import PROTOCOLS, load_prm
from sal_cli.prms.detect import detect


def test_every_configurable_protocol_has_a_module():
    assert sorted(PROTOCOLS) == sorted(p for p in PRM_PROTOCOLS if p != "auto")


def test_importing_the_registry_pulls_in_no_heavy_library():
    code = "import sys, sal_cli.prms; print([m for m in ('torch', 'transformers', 'vllm') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("config", "manifest", "protocol"),
    [
        ({"architectures": ["LlamaForCausalLM"]}, {"protocol": "token-classification"}, "token-classification"),
        ({"architectures": ["Qwen2ForProcessRewardModel"]}, None, "qwen-prm"),
        ({"architectures": ["Qwen2Model"], "auto_map": {"AutoModel": "modeling_qwen2_rm.Qwen2ForProcessRewardModel"}}, None, "qwen-prm"),
        ({"architectures": ["Qwen2ForPrmModel"]}, None, "skywork"),
        ({"architectures": ["Qwen2ForTokenClassification"]}, None, "token-classification"),
        ({"architectures": ["LlamaForTokenClassification"], "id2label": {"0": "a", "1": "b"}, "num_labels": 5}, None, "token-classification"),
        ({"architectures": ["LlamaForTokenClassification"], "num_labels": 3}, None, None),
        ({"architectures": ["MistralForCausalLM"]}, None, None),
        ({}, None, None),
    ],
)
def test_detect_reads_the_saved_files(config, manifest, protocol):
    found = detect(config, manifest)
    assert (found[0] if found else None) == protocol


@pytest.mark.parametrize(("folder", "protocol"), [("trl_dir", "token-classification"), ("qwen_dir", "qwen-prm"), ("skywork_dir", "skywork")])
def test_auto_loads_the_protocol_the_files_name(folder, protocol, request, capsys):
    prm = load_prm(settings(request.getfixturevalue(folder), "auto"))
    assert prm.name == protocol
    assert f"protocol `{protocol}`" in capsys.readouterr().err


def test_files_that_name_a_protocol_win_over_a_setting_they_rule_out(trl_dir, capsys):
    prm = load_prm(settings(trl_dir, "rlhflow"))  # e.g. a profile's default PRM protocol, with `--prm` pointing here
    assert prm.name == "token-classification"
    assert "not `rlhflow` as set" in capsys.readouterr().err


def test_auto_on_a_plain_causal_lm_asks_for_the_protocol(judge_dir):
    with pytest.raises(SalError) as err:
        load_prm(settings(judge_dir, "auto"))
    assert "cannot tell how to read PRM" in err.value.message and "LlamaForCausalLM" in err.value.message
    assert "verifier.protocol" in err.value.hint


def _folder(tmp_path, config: dict, manifest: str | None = None):
    (tmp_path / "config.json").write_text(json.dumps(config))
    if manifest is not None:
        (tmp_path / "sal_prm.json").write_text(manifest)
    return tmp_path


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ('{"protocol": "magic"}', "has protocol 'magic'"),
        ("{}", "has protocol None"),
        ('{"protocol": "token-classification", "step_separator": ""}', "has step_separator ''"),
        ("not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
    ],
)
def test_a_bad_sal_prm_json_is_named(tmp_path, manifest, message):
    with pytest.raises(SalError, match=message) as err:
        load_prm(settings(_folder(tmp_path, {"architectures": ["LlamaForTokenClassification"]}, manifest), "auto"))
    assert "sal_prm.json" in err.value.message


def test_a_token_classifier_needs_two_labels(tmp_path):
    folder = _folder(tmp_path, {"architectures": ["LlamaForTokenClassification"], "num_labels": 3}, '{"protocol": "token-classification"}')
    with pytest.raises(SalError, match="3 labels; `token-classification` needs 2"):
        load_prm(settings(folder, "auto"))


@pytest.mark.parametrize(
    ("folder", "protocol", "message"),
    [
        ("judge_dir", "math-shepherd", "`ки` is not a single token"),
        ("judge_dir", "qwen-prm", "step token `<extra_0>` is not a single token"),
        ("rlhflow_dir", "skywork", "has no `v_head.summary.weight` weights"),
    ],
)
def test_a_model_that_does_not_fit_the_protocol_is_refused(folder, protocol, message, request):
    with pytest.raises(SalError, match=message) as err:
        load_prm(settings(request.getfixturevalue(folder), protocol))
    assert err.value.hint


def test_chat_protocols_need_a_chat_template(judge_dir, tmp_path):
    folder = tmp_path / "no-template"
    shutil.copytree(judge_dir, folder, ignore=shutil.ignore_patterns("chat_template.jinja"))
    with pytest.raises(SalError, match="has no chat template, which protocol `llm-judge` needs"):
        load_prm(settings(folder, "llm-judge"))


def test_protocols_vllm_cannot_serve_are_refused_before_loading(judge_dir):
    with pytest.raises(SalError, match="`llm-judge` runs on the transformers backend only"):
        load_prm(settings(judge_dir, "llm-judge", backend="vllm"))


@pytest.mark.parametrize(
    ("prm", "message"),
    [("./no-such-prm", "does not exist"), ("embedded:nope", "unknown embedded model")],
)
def test_a_missing_folder_is_named(prm, message):
    with pytest.raises(SalError, match=message):
        load_prm(VerifierConfig(prm=prm, protocol="rlhflow"))


def test_a_folder_without_config_is_named(tmp_path):
    with pytest.raises(SalError, match="has no `config.json`"):
        load_prm(VerifierConfig(prm=str(tmp_path), protocol="rlhflow"))


def test_a_hub_id_not_in_the_cache_fails_fast_offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SalError) as err:
        load_prm(VerifierConfig(prm="sal-tests/not-a-cached-prm", protocol="rlhflow"))
    assert err.value.message.startswith("cannot load PRM `sal-tests/not-a-cached-prm`")
    assert "Hugging Face cache" in err.value.hint
