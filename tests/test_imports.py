"""`sal --help` must stay instant: no heavy library is imported with the CLI."""

import subprocess
import sys

HEAVY = ("torch", "vllm", "transformers", "trl", "datasets", "ray")


def test_cli_import_pulls_no_heavy_libraries():
    code = (
        "import sys; import sal_cli.cli.app, sal_cli.runner, sal_cli.search, sal_cli.profiles, sal_cli.scale.ray_exec; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_version_answers():
    out = subprocess.run([sys.executable, "-m", "sal_cli", "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("sal ")
