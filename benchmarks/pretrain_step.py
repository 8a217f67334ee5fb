"""Throughput of one V-JEPA 2 pretraining step (clips per second) through the Lightning module.

A full step: target encoder on the whole clip, context encoder + predictor for each of the two official mask
generators, L1 loss, backward, AdamW, EMA update. Clips come from memory (random uint8), so decoding is not
measured (see decode_throughput.py). The first steps are warm-up; the median of the rest is reported.

    python benchmarks/pretrain_step.py                          # toy: ViT 192 x 6, patch 8, 16 x 64 x 64, batch 8, CPU
    python benchmarks/pretrain_step.py --preset vitl-256px-16f --device cuda --precision bf16-mixed --batch 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import lightning as L
import torch
from torch.utils.data import Dataset

from lit_jepa.bench.common import add_out_argument, command, machine, sync, write_record
from lit_jepa.data.datamodule import ClipDataModule
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor
from lit_jepa.tasks import JepaPretrain

PRESETS = {  # encoder (dim, depth, heads, patch), predictor (dim, depth, heads), frames, size, batch
    "toy": ((192, 6, 3, 8), (96, 4, 3), 16, 64, 8),
    "vitl-256px-16f": ((1024, 24, 16, 16), (384, 12, 12), 16, 256, 4),
}


class RandomClips(Dataset):
    def __init__(self, n: int, frames: int, size: int) -> None:
        self.video = torch.randint(0, 256, (n, 1, 3, frames, size, size), dtype=torch.uint8)

    def __len__(self) -> int:
        return len(self.video)

    def __getitem__(self, i: int) -> dict:
        return {"video": self.video[i], "index": torch.tensor(i), "label": torch.tensor(-1)}


class StepTimer(L.Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_batch_start(self, trainer, module, batch, i) -> None:
        sync(module.device)
        self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, i) -> None:
        sync(module.device)
        self.times.append(time.perf_counter() - self.start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="toy", choices=list(PRESETS))
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--checkpointing", action="store_true", help="activation checkpointing")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    add_out_argument(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    (dim, depth, heads, patch), (pdim, pdepth, pheads), frames, size, batch = PRESETS[args.preset]
    batch = args.batch or batch
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=size, num_frames=frames, patch_size=patch, embed_dim=dim, depth=depth,
                            num_heads=heads, use_activation_checkpointing=args.checkpointing)
    pred = VisionTransformerPredictor(img_size=size, num_frames=frames, patch_size=patch, embed_dim=dim,
                                      predictor_embed_dim=pdim, depth=pdepth, num_heads=pheads,
                                      use_activation_checkpointing=args.checkpointing)
    module = JepaPretrain(enc, pred, warmup_steps=10, monitor_every_n_steps=0)
    timer = StepTimer()
    data = ClipDataModule(RandomClips(batch * (args.steps + args.warmup), frames, size), batch_size=batch)
    trainer = L.Trainer(accelerator=args.device, devices=1, precision=args.precision,
                        max_steps=args.steps + args.warmup, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[timer])
    trainer.fit(module, data)
    step = statistics.median(timer.times[args.warmup:])
    record = {"benchmark": "pretrain_step", "command": command(__file__, argv), "machine": machine(),
              "preset": args.preset,
              "input": [batch, 3, frames, size, size], "tokens_per_clip": (frames // 2) * (size // patch) ** 2,
              "precision": args.precision, "device": args.device, "seconds_per_step": step,
              "clips_per_second": batch / step}
    print(f"{args.preset}: {batch} x {frames} x {size}px on {args.device} ({args.precision}): "
          f"{step:.3f} s/step, {batch / step:.1f} clips/s  [{record['machine'].get('cpu_model', '')}, "
          f"{record['machine'].get('gpu', str(os.cpu_count()) + ' cores')}]")
    print(f"record: {write_record(args.out, 'pretrain_step_' + args.preset + '_' + args.device, record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
