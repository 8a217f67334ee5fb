#!/usr/bin/env bash
# One-time set-up: a virtual environment in .venv (unless one is already active) with lit_jepa installed
# in editable mode. Keeps any torch you already have; otherwise installs the CPU build of torch 2.13.0.
# Override with LIT_JEPA_TORCH="torch==X.Y.Z" (any pip requirement) to choose another build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install -q --upgrade pip >/dev/null
if ! python -c "import torch" >/dev/null 2>&1; then
  python -m pip install -q "${LIT_JEPA_TORCH:-torch==2.13.0}"
fi
python -m pip install -q -e ".[dev,stream]"
# litdata pulls a torchvision that must match torch; on CPU-only torch it breaks `import lightning`.
# Install it without dependencies unless a working torchvision is already present.
if ! python -c "import litdata" >/dev/null 2>&1; then
  python -m pip install -q --no-deps "litdata>=0.2.76"
fi
python -c "import lightning, litdata, torch; print(f'lit_jepa env ready: torch {torch.__version__}, lightning {lightning.__version__}')"
