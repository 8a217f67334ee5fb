#!/usr/bin/env bash
# Issue 9's root cause on one GPU: does JEPA pretraining on ToyWorld `motion` beat random initialisation on the
# 1,920-clip motion probe once it gets far more compute than a CPU gives? Three variants of
# recipes/toy/pretrain-vitt-64px-16f-long.yaml (same 3,840 clips) train side by side with batch 64 instead of 8,
# each stopped at STEPS steps or MAX_MIN minutes (the recipe keeps a checkpoint every 250 steps); then
# experiments/toy-probes/toy_probe_curve.py probes random initialisation, step PROBE_MID and the last checkpoint of each with
# the 1,920-clip probe (20 epochs). Records go to $OUT (default runs/device; probe and training logs in
# runs/device-pretrain); PYTHON picks the interpreter; NUM/BATCH/PROBE_NUM/PROBE_EPOCHS/ACC=cpu shrink it for a
# smoke run. About 8 minutes on an H200.
#   bash experiments/gpu-checks/device/toy_pretrain_gpu.sh
# Measured (H200, torch 2.11, about 1,050 steps in 3 minutes): motion top-1 at step 1,000 13.3 % (recipe), 14.6 %
# (EMA 0.99925), 11.7 % (lr 1e-3) against 42.1 % at random initialisation; README, "Frozen-encoder probes".
set -u
OUT=${OUT:-runs/device}; mkdir -p "$OUT"; OUT=$(realpath "$OUT")
STEPS=${STEPS:-2000}; MAX_MIN=${MAX_MIN:-3}; PROBE_MID=${PROBE_MID:-1000}; VAL_EVERY=${VAL_EVERY:-250}
NUM=${NUM:-3840}; PROBE_NUM=${PROBE_NUM:-1920}; PROBE_EPOCHS=${PROBE_EPOCHS:-20}; ACC=${ACC:-cuda}; BATCH=${BATCH:-64}
PY=${PYTHON:-python3}; export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
W=runs/device-pretrain; mkdir -p "$W"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
# The probe's clips once, for every probe run (the same generation parameters as the probe recipe).
$PY -c "from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule as D; \
D(task='motion', num=$PROBE_NUM, num_val=240, seed=1, root='$W/probe-data').prepare_data()" &
$PY -c "from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule as D; \
D(task='motion', num=$NUM, seed=0, root='$W/data').prepare_data()"
wait
pretrain() {  # name, extra overrides...
  local name=$1; shift
  $PY -c "import sys; from lit_jepa.cli import main; sys.exit(main(sys.argv[1:]))" fit --config recipes/toy/pretrain-vitt-64px-16f-long.yaml --trainer.accelerator "$ACC" \
    --trainer.max_steps "$STEPS" --trainer.max_time "00:00:$(printf %02d "$MAX_MIN"):00" \
    --trainer.val_check_interval "$VAL_EVERY" --trainer.check_val_every_n_epoch null --trainer.enable_progress_bar false \
    --trainer.logger.init_args.save_dir "$W" --trainer.logger.init_args.name "$name" \
    --trainer.logger.init_args.version 0 --data.init_args.batch_size "$BATCH" --data.init_args.num "$NUM" \
    --data.init_args.num_workers 4 --data.init_args.root "$W/data" "$@" >"$W/$name.log" 2>&1
  echo "$name pretrain rc $?"; grep -E "Error|error:" "$W/$name.log" | tail -3
}
pretrain gpu_b64 &
pretrain gpu_b64_ema99925 --model.init_args.ema "[0.99925, 0.99925]" &
pretrain gpu_b64_lr1e-3 --model.init_args.lr 1.0e-3 &
wait
probe() {  # name
  local run=$W/$1/version_0 last
  last=$(ls "$run/checkpoints" | sed -n 's/.*step=\([0-9]*\)\.ckpt$/\1/p' | sort -n | tail -1)
  [ -z "$last" ] && { echo "$1: no step checkpoints"; return; }
  local steps=("$last"); [ "$last" -gt "$PROBE_MID" ] && ls "$run/checkpoints" | grep -q "step=$PROBE_MID.ckpt" && steps=("$PROBE_MID" "$last")
  $PY experiments/toy-probes/toy_probe_curve.py --run "$run" --steps "${steps[@]}" --workdir "$W/probe-$1" \
    --record "$OUT/toy_probe_curve_$1" -- --trainer.accelerator "$ACC" --trainer.max_epochs "$PROBE_EPOCHS" \
    --data.init_args.data.init_args.num "$PROBE_NUM" --data.init_args.data.init_args.root "$W/probe-data" \
    >"$W/probe_$1.log" 2>&1
  echo "$1 probe rc $?"; grep -E "^motion step|Error" "$W/probe_$1.log"
}
probe gpu_b64 & probe gpu_b64_ema99925 & probe gpu_b64_lr1e-3 &
wait
# Training curves from TensorBoard: loss, target effective rank and the online probe, every 250 steps.
$PY - "$W" <<'PY'
import glob, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
for run in sorted(glob.glob(f"{sys.argv[1]}/gpu_*/version_0")):
    acc = EventAccumulator(run, size_guidance={"scalars": 0}); acc.Reload()
    for tag in ("train/loss", "collapse/target_effective_rank", "train/online_probe_acc", "val/loss"):
        if tag in acc.Tags()["scalars"]:
            pts = {e.step: e.value for e in acc.Scalars(tag)}
            keep = sorted(s for s in pts if s % 250 < 20)
            print(run.split("/")[-2], tag, [(s, round(pts[s], 3)) for s in keep][::2], "last", max(pts), round(pts[max(pts)], 3))
PY
