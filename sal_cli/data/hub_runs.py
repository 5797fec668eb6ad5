"""Runs on the Hugging Face Hub: one dataset repository, one branch (revision) per run.

Revisions are named from the run's settings as search-and-learn named them, so results
pushed by the seed's scripts and by sal sort together; a shard adds `--chunk-{start}_{end}`.
Each revision holds the run folder (`results.jsonl`, `run.toml`, `summary.json`) and a card
whose `configs` entry makes `datasets.load_dataset(repo, revision=...)` read `results.jsonl`.

The calls are thin and go through one `HfApi`-like object, so tests pass a fake one; they
need a token (`HF_TOKEN` or `huggingface-cli login`) and the network. Tokens are never
printed.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol

from sal_cli.data.store import RESULTS, RUN_TOML, SUMMARY, read_summary
from sal_cli.errors import RunFailure, SalError

CARD = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: results.jsonl
---
# {title}

A `sal {command}` run: `results.jsonl` has one record per problem, `run.toml` the settings
that produced it (`sal search -p run.toml` replays them), `summary.json` its totals.
"""


class HubApi(Protocol):
    """The part of `huggingface_hub.HfApi` these functions use."""

    def list_repo_refs(self, repo_id: str, *, repo_type: str) -> Any: ...
    def create_repo(self, repo_id: str, *, repo_type: str, exist_ok: bool, private: bool | None) -> Any: ...
    def create_branch(self, repo_id: str, *, branch: str, repo_type: str, exist_ok: bool) -> Any: ...
    def upload_folder(self, *, folder_path: str, repo_id: str, repo_type: str, revision: str, commit_message: str) -> Any: ...
    def snapshot_download(self, repo_id: str, *, repo_type: str, revision: str, local_dir: str) -> str: ...


def default_api() -> HubApi:
    from huggingface_hub import HfApi

    return HfApi()


def revision_name(settings: dict[str, dict[str, Any]], rows: tuple[int, int] | None = None) -> str:
    """The seed's revision name for a run's settings; `rows` marks a shard's chunk."""
    data, s, search, verifier = (settings.get(k, {}) for k in ("data", "sampling", "search", "verifier"))
    dataset = str(data.get("dataset", "dataset")).replace("/", "_")
    approach = search.get("approach", "best_of_n")
    name = f"{dataset}--T-{s.get('temperature')}--top_p-{s.get('top_p')}--n-{s.get('n')}"
    if approach in ("beam_search", "dvts"):
        name += (f"--m-{search.get('beam_width')}--iters-{search.get('num_iterations')}"
                 f"--look-{search.get('lookahead')}--seed-{s.get('seed')}--agg_strategy--{verifier.get('agg_strategy')}")
    else:
        name += f"--seed-{s.get('seed')}--agg_strategy-{verifier.get('agg_strategy')}"
        if approach != "best_of_n":
            name += f"--approach-{approach}"
    if rows is not None:
        name += f"--chunk-{rows[0]}_{rows[1]}"
    return name


def default_repo(settings: dict[str, dict[str, Any]]) -> str:
    """`<model>-<approach>-prm-completions`, as the seed named its result datasets."""
    model = str(settings.get("generator", {}).get("model", "model")).removeprefix("embedded:").rstrip("/").split("/")[-1]
    return f"{model}-{settings.get('search', {}).get('approach', 'best_of_n')}-prm-completions"


def branches(repo_id: str, api: HubApi) -> list[str]:
    try:
        refs = api.list_repo_refs(repo_id, repo_type="dataset")
    except Exception as exc:  # noqa: BLE001 - huggingface_hub raises many types; all mean "not there / no access"
        if type(exc).__name__ in ("RepositoryNotFoundError", "GatedRepoError") or "404" in str(exc):
            return []
        raise RunFailure(f"cannot list the revisions of `{repo_id}`: {type(exc).__name__}",
                         hint="check the network and your token (`huggingface-cli login`)") from None
    return [ref.name for ref in refs.branches]


def push_run(folder: Path, repo_id: str, revision: str, api: HubApi, *, overwrite: bool = False,
             private: bool | None = None) -> str:
    """Upload a run folder as `revision` of the dataset `repo_id`; refuse an existing one."""
    folder = Path(folder)
    if not (folder / RESULTS).is_file():
        raise SalError(f"`{folder}` holds no results to push")
    if revision in branches(repo_id, api) and not overwrite:
        raise SalError(f"revision `{revision}` of `{repo_id}` already exists", hint="pass `--overwrite` to replace it")
    summary = read_summary(folder)
    with tempfile.TemporaryDirectory() as tmp:
        for name in (RESULTS, RUN_TOML, SUMMARY):
            if (folder / name).is_file():
                shutil.copy2(folder / name, Path(tmp) / name)
        (Path(tmp) / "README.md").write_text(CARD.format(title=revision, command=summary.get("command", "search")))
        try:
            api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
            api.create_branch(repo_id, branch=revision, repo_type="dataset", exist_ok=True)
            api.upload_folder(folder_path=tmp, repo_id=repo_id, repo_type="dataset", revision=revision,
                              commit_message=f"sal: {revision}")
        except Exception as exc:  # noqa: BLE001 - network, auth and HTTP errors alike
            raise RunFailure(f"pushing `{folder}` to `{repo_id}` failed: {type(exc).__name__}",
                             hint="the run is saved; log in (`huggingface-cli login`) and re-run the same command "
                             "to push it") from None
    return f"{repo_id}@{revision}"


def download_runs(repo_id: str, name_filter: str, dest: Path, api: HubApi) -> list[Path]:
    """Download every revision whose name contains `name_filter` into `dest/<revision>`."""
    wanted = [b for b in branches(repo_id, api) if name_filter in b and b != "main"]
    if not wanted:
        raise SalError(f"no revision of `{repo_id}` matches `{name_filter}`", hint="check the repository and `--filter`")
    folders = []
    for revision in sorted(wanted):
        target = Path(dest) / revision
        api.snapshot_download(repo_id, repo_type="dataset", revision=revision, local_dir=str(target))
        if not (target / RUN_TOML).is_file():
            raise SalError(f"revision `{revision}` of `{repo_id}` was not pushed by sal (it has no `{RUN_TOML}`)",
                           hint="merge it with the seed's own scripts, or push runs with `--push-to-hub`")
        folders.append(target)
    return folders
