"""The training modules load torch, transformers, peft and datasets only when they train or score."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "peft", "datasets", "trl")


def test_training_modules_pull_no_heavy_libraries():
    code = (
        "import sys; import sal_cli.cli.train_prm, sal_cli.training.trainer, sal_cli.training.processbench, "
        f"sal_cli.training.save; print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
