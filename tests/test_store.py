"""Run store: resume, torn lines, overwrite, safe folder names."""

from __future__ import annotations

import json

import pytest

from sal_cli.data.store import RunStore, read_results, run_dir, slug
from sal_cli.errors import SalError

SETTINGS = {"sampling": {"n": 4}, "data": {"start": 0}}


def test_resume_skips_done_rows_and_repairs_a_torn_line(tmp_path):
    store = RunStore(tmp_path / "run")
    assert store.open("generate", SETTINGS) == set()
    store.append({"idx": 3, "completions": ["a"]})
    store.append({"idx": 5, "completions": ["b"]})
    store.close()
    with (tmp_path / "run" / "results.jsonl").open("a") as f:
        f.write('{"idx": 7, "compl')  # killed mid-write
    store = RunStore(tmp_path / "run")
    assert store.open("generate", {**SETTINGS, "data": {"start": 2}}) == {3, 5}  # slice changes are fine
    store.append({"idx": 7, "completions": ["c"]})
    store.close()
    assert [r["idx"] for r in read_results(tmp_path / "run" / "results.jsonl")] == [3, 5, 7]


def test_a_valid_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"idx": 1}\n{"idx": 2}')
    assert [r["idx"] for r in read_results(path, repair=True)] == [1, 2]
    assert path.read_text().endswith("}\n")


def test_a_corrupt_middle_line_is_an_error_naming_it(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"idx": 1}\ngarbage\n{"idx": 2}\n')
    with pytest.raises(SalError, match="line 2"):
        read_results(path)


def test_other_settings_or_command_are_refused_and_overwrite_starts_fresh(tmp_path):
    store = RunStore(tmp_path)
    store.open("generate", SETTINGS)
    store.append({"idx": 0})
    store.write_summary({"command": "generate"})
    store.close()
    with pytest.raises(SalError, match="other settings"):
        RunStore(tmp_path).open("generate", {**SETTINGS, "sampling": {"n": 8}})
    with pytest.raises(SalError, match="sal generate` run, not `sal search"):
        RunStore(tmp_path).open("search", SETTINGS)
    assert RunStore(tmp_path, overwrite=True).open("generate", {**SETTINGS, "sampling": {"n": 8}}) == set()


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "a/../../b", "..", ".hidden", "x\\..\\y", ""])
def test_names_never_escape_the_output_root(tmp_path, name):
    folder = run_dir(str(tmp_path), name, "math500")
    assert folder.is_relative_to(tmp_path.resolve())
    assert "/" not in slug(name) and slug(name) not in ("", ".", "..")


def test_run_toml_is_a_loadable_profile(tmp_path):
    from sal_cli.config import RunConfig, to_dict
    from sal_cli.profiles import resolve

    config = RunConfig()
    config.generator.system_prompt = 'Say "hi"\n\tthen \\boxed{}'
    RunStore(tmp_path).open("generate", to_dict(config))
    assert resolve(str(tmp_path / "run.toml")).config == config
    assert json.loads(json.dumps(to_dict(config)))
