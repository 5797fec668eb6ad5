"""`sal --help` must stay instant, and training code loads its libraries only when it trains:
importing these modules pulls in no heavy library."""

import json
import subprocess
import sys

import pytest


def _heavy_after_import(modules: str, heavy: tuple[str, ...]) -> list[str]:
    code = f"import json, sys; import {modules}; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize(
    "modules, heavy",
    [
        ("sal_cli.cli.app, sal_cli.runner, sal_cli.search, sal_cli.profiles, sal_cli.scale.ray_exec",
         ("torch", "vllm", "transformers", "trl", "datasets", "ray")),
        ("sal_cli.cli.train_prm, sal_cli.training.trainer, sal_cli.training.processbench, sal_cli.training.save",
         ("torch", "transformers", "peft", "datasets", "trl")),
    ],
    ids=["cli", "training"],
)
def test_importing_pulls_no_heavy_libraries(modules, heavy):
    assert _heavy_after_import(modules, heavy) == []


def test_version_answers():
    out = subprocess.run([sys.executable, "-m", "sal_cli", "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("sal ")
