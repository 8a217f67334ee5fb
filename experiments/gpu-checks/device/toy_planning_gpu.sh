#!/usr/bin/env bash
# Issue 7 on one GPU: four toy-planning world models (reach, 50 episodes, 1,000 trajectories, L2 loss, 5-step
# rollout) trained side by side, each stopped after MAX_MIN minutes of training at the latest. Records and logs go
# to $OUT (default runs/device); TP_ARGS appends toy_planning.py flags; PYTHON picks the interpreter. Needs the
# toy encoder at runs/toy/pretrain-vitt-64px-16f/version_0/export.
#   bash experiments/gpu-checks/device/toy_planning_gpu.sh  (historical: it ran the former benchmarks/toy_planning.py)
set -u
OUT=${OUT:-runs/device}; MAX_MIN=${MAX_MIN:-6}; mkdir -p "$OUT"; OUT=$(realpath "$OUT")
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
common=(--accelerator cuda --threads 3 --tasks reach --num-train 1000 --train-steps 5000 --batch-size 64
        --loss-exp 2 --rollout-steps 5 --max-minutes "$MAX_MIN")
job() {  # name, extra flags...
  local name=$1; shift
  PYTHONPATH=$PWD ${PYTHON:-python3} benchmarks/toy_planning.py "${common[@]}" "$@" --logdir "runs/device/$name" \
    --record "$OUT/$name" ${TP_ARGS:-} >"$OUT/$name.log" 2>&1
  echo "$name rc $?"; grep -E "trained|SR_final" "$OUT/$name.log"
}
job gpu_stack_w384 --pool-mode stack --width 384 --depth 4 --encoders pretrained &
job gpu_stack_w384_random --pool-mode stack --width 384 --depth 4 --encoders random &
job gpu_stack_w96 --pool-mode stack --width 96 --depth 2 --encoders pretrained &
job gpu_pool1_w256 --pool 1 --width 256 --depth 4 --encoders pretrained &
wait
