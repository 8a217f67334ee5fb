#!/usr/bin/env bash
# The main job from a fresh clone: set up the environment, then run the model-zoo demo benchmark
# (lit_jepa against transformers VJEPA2 on the same weights: parity and speed). It becomes the ToyWorld
# benchmark suite once that lands.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
[ -n "${VIRTUAL_ENV:-}" ] || . .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python benchmarks/encoder_throughput.py --preset vits-64px --repeats 7 --name quickstart_encoder_throughput
