#!/usr/bin/env bash
# The main job from a fresh clone: set up the environment, then run the ToyWorld benchmark suite end to end
# (generate data, pretrain a tiny V-JEPA 2, probe it against a random-initialised encoder, train the
# action-conditioned world model and plan, align with a tiny language model for video QA) and print the
# leaderboard. A second run reuses the finished records. Extra arguments go to the runner (e.g. --force).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
[ -n "${VIRTUAL_ENV:-}" ] || . .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
lit-jepa bench --suite toy "$@"
