"""Pushing the PRM: checked before training (Hub reachable, token set), then one upload."""

from __future__ import annotations

import pytest

from sal_cli.errors import RUN_FAILED, SalError
from sal_cli.training.config import TrainPRMConfig
from sal_cli.training.save import check_can_push, push_prm


def _pushing() -> TrainPRMConfig:
    config = TrainPRMConfig()
    config.output.push_to_hub, config.output.hub_model_id = True, "me/prm"
    return config


def test_push_needs_the_hub_and_a_token_before_training(monkeypatch):
    monkeypatch.setattr("sal_cli.hub.hub_reachable", lambda: False)
    with pytest.raises(SalError, match="Hub is unreachable") as info:
        check_can_push(_pushing())
    assert "push_to_hub=false" in info.value.hint
    monkeypatch.setattr("sal_cli.hub.hub_reachable", lambda: True)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(SalError, match="no Hugging Face token"):
        check_can_push(_pushing())
    check_can_push(TrainPRMConfig())  # not pushing: nothing to check


class FakeApi:
    calls: list = []
    fail = False

    def create_repo(self, repo_id, private, exist_ok):
        self.calls.append(("create_repo", repo_id, private, exist_ok))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, folder_path, repo_id, ignore_patterns):
        if self.fail:
            raise ConnectionError("reset by peer")
        self.calls.append(("upload_folder", folder_path, repo_id, ignore_patterns))


def test_push_uploads_the_folder_without_checkpoints(monkeypatch, tmp_path):
    FakeApi.calls, FakeApi.fail = [], False
    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    assert push_prm(tmp_path, "me/prm", private=True) == "https://huggingface.co/me/prm"
    assert FakeApi.calls == [("create_repo", "me/prm", True, True), ("upload_folder", tmp_path, "me/prm", ["checkpoints/*"])]


def test_a_failed_upload_keeps_the_prm_and_says_how_to_upload_later(monkeypatch, tmp_path):
    FakeApi.calls, FakeApi.fail = [], True
    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    with pytest.raises(SalError, match="pushing to `me/prm` failed: ConnectionError: reset by peer") as info:
        push_prm(tmp_path, "me/prm", private=False)
    assert info.value.exit_code == RUN_FAILED and f"hf upload me/prm {tmp_path}" in info.value.hint
