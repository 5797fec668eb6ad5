"""Runs on the Hub, tested at the boundary: a fake `HfApi` records the calls and serves
revisions from local folders (no token, no network here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from sal_cli.data import hub_runs
from sal_cli.errors import RunFailure, SalError

SETTINGS = {
    "data": {"dataset": "HuggingFaceH4/MATH-500"},
    "sampling": {"temperature": 0.8, "top_p": 1.0, "n": 4, "seed": 0},
    "search": {"approach": "beam_search", "beam_width": 4, "num_iterations": 40, "lookahead": 0},
    "verifier": {"agg_strategy": "last"},
    "generator": {"model": "meta-llama/Llama-3.2-1B-Instruct"},
}


class FakeHub:
    """Branches of dataset repos as local folders; every call is recorded."""

    def __init__(self, root: Path):
        self.root = root
        self.calls: list[tuple] = []
        self.fail_upload = False

    def list_repo_refs(self, repo_id, *, repo_type):
        repo = self.root / repo_id
        if not repo.exists():
            raise type("RepositoryNotFoundError", (Exception,), {})("404")
        return SimpleNamespace(branches=[SimpleNamespace(name=p.name) for p in sorted(repo.iterdir())])

    def create_repo(self, repo_id, *, repo_type, exist_ok, private):
        self.calls.append(("create_repo", repo_id, repo_type))
        (self.root / repo_id / "main").mkdir(parents=True, exist_ok=True)

    def create_branch(self, repo_id, *, branch, repo_type, exist_ok):
        self.calls.append(("create_branch", repo_id, branch))
        (self.root / repo_id / branch).mkdir(exist_ok=True)

    def upload_folder(self, *, folder_path, repo_id, repo_type, revision, commit_message):
        if self.fail_upload:
            raise ConnectionError("no network")
        self.calls.append(("upload_folder", repo_id, revision, sorted(p.name for p in Path(folder_path).iterdir())))
        shutil.copytree(folder_path, self.root / repo_id / revision, dirs_exist_ok=True)

    def snapshot_download(self, repo_id, *, repo_type, revision, local_dir):
        self.calls.append(("snapshot_download", repo_id, revision))
        shutil.copytree(self.root / repo_id / revision, local_dir, dirs_exist_ok=True)
        return local_dir


def test_revision_names_follow_the_seed():
    assert hub_runs.revision_name(SETTINGS) == (
        "HuggingFaceH4_MATH-500--T-0.8--top_p-1.0--n-4--m-4--iters-40--look-0--seed-0--agg_strategy--last")
    best = {**SETTINGS, "search": {"approach": "best_of_n"}}
    assert hub_runs.revision_name(best, (0, 125)) == (
        "HuggingFaceH4_MATH-500--T-0.8--top_p-1.0--n-4--seed-0--agg_strategy-last--chunk-0_125")
    assert hub_runs.default_repo(SETTINGS) == "Llama-3.2-1B-Instruct-beam_search-prm-completions"


def _run(folder: Path, rows=(0, 2)) -> Path:
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text(json.dumps({"idx": 0, "completions": ["x"]}) + "\n")
    (folder / "run.toml").write_text('[sampling]\nn = 1\n')
    (folder / "summary.json").write_text(json.dumps({"command": "search", "rows": list(rows)}))
    return folder


def test_push_uploads_the_run_with_a_card_and_never_overwrites_silently(tmp_path):
    hub = FakeHub(tmp_path / "hub")
    run = _run(tmp_path / "run")
    assert hub_runs.push_run(run, "me/results", "rev-a", hub) == "me/results@rev-a"
    assert hub.calls[-1] == ("upload_folder", "me/results", "rev-a", ["README.md", "results.jsonl", "run.toml", "summary.json"])
    assert "path: results.jsonl" in (tmp_path / "hub" / "me/results" / "rev-a" / "README.md").read_text()
    with pytest.raises(SalError, match="revision `rev-a` of `me/results` already exists"):
        hub_runs.push_run(run, "me/results", "rev-a", hub)
    hub_runs.push_run(run, "me/results", "rev-a", hub, overwrite=True)
    hub.fail_upload = True
    with pytest.raises(RunFailure, match="pushing .* failed: ConnectionError"):
        hub_runs.push_run(run, "me/results", "rev-b", hub)


def test_download_filters_revisions_and_refuses_foreign_ones(tmp_path):
    hub = FakeHub(tmp_path / "hub")
    for name in ("x--seed-0--chunk-0_2", "x--seed-0--chunk-2_4", "x--seed-1--chunk-0_2"):
        hub_runs.push_run(_run(tmp_path / name), "me/r", name, hub)
    got = hub_runs.download_runs("me/r", "seed-0", tmp_path / "dl", hub)
    assert [p.name for p in got] == ["x--seed-0--chunk-0_2", "x--seed-0--chunk-2_4"]
    assert (got[0] / "run.toml").is_file()
    (tmp_path / "hub" / "me/r" / "seed-0-foreign").mkdir()
    with pytest.raises(SalError, match="was not pushed by sal"):
        hub_runs.download_runs("me/r", "seed-0-foreign", tmp_path / "dl2", hub)
    with pytest.raises(SalError, match="no revision of `me/r` matches `seed-9`"):
        hub_runs.download_runs("me/r", "seed-9", tmp_path / "dl3", hub)


def test_shards_pushed_by_generate_merge_from_the_hub(sal, tiny_model, tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "hub")
    monkeypatch.setattr(hub_runs, "default_api", lambda: hub)
    common = ["generate", "--model", str(tiny_model), "--backend", "transformers", "--num-samples", "4", "--max-tokens", "4",
              "--greedy", "--push-to-hub", "me/results", "-q"]
    for i in range(2):
        code, _, err = sal(*common, "--shard", f"{i}/2", "-o", str(tmp_path / f"shard-{i}"))
        assert code == 0, err
        assert "pushed" in err
    branches = sorted(p.name for p in (tmp_path / "hub" / "me/results").iterdir())
    assert branches == ["main", "math500--T-0.0--top_p-1.0--n-1--seed-0--agg_strategy-last--chunk-0_2",
                        "math500--T-0.0--top_p-1.0--n-1--seed-0--agg_strategy-last--chunk-2_4"]
    code, _, err = sal(*common, "--shard", "0/2", "-o", str(tmp_path / "shard-0"))
    assert code == 2 and "already exists" in err  # the run is done and saved; the push is refused
    code, stdout, err = sal("merge", "--from-hub", "me/results", "--filter", "seed-0", "-o", str(tmp_path / "merged"))
    assert code == 0, err
    merged = [json.loads(line) for line in (tmp_path / "merged" / "results.jsonl").read_text().splitlines()]
    assert [r["idx"] for r in merged] == [0, 1, 2, 3]
