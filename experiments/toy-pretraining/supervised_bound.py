"""What the ridge probe can show: the toy encoder trained *with* the motion labels (supervised, the same 960
pretraining clips, steps and batch as the toy recipe), then probed like every try. A pretraining cannot be
expected to beat this; if it sat at random initialisation's value, the probe could not tell encoders apart.

    python experiments/toy-pretraining/supervised_bound.py --steps 300 --out runs/exp27/supervised.pt
    python experiments/toy-pretraining/supervised_bound.py --steps 1200 --curve-every 300 --lr 3e-4 --out ...
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F
from ridge_probe import ridge_point  # this folder's script

from lit_jepa import hub
from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule
from lit_jepa.nn import VisionTransformer
from lit_jepa.probe_curve import time_pooled


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--task", choices=["motion", "anticipation"], default="motion",
                   help="the labels trained on (anticipation: the next action, 120 videos = 960 clips)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--abs-pos", action="store_true", help="the encoder with abs_pos_embed (sine-cosine positions)")
    p.add_argument("--out", required=True)
    p.add_argument("--curve-every", type=int, default=0, help="ridge-probe every this many steps (0: never)")
    p.add_argument("--patch", type=int, default=8)
    p.add_argument("--tubelet", type=int, default=2)
    p.add_argument("--width", type=int, default=192)
    p.add_argument("--depth", type=int, default=6)
    p.add_argument("--heads", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--conv-stem", action="store_true", help="VisionTransformer(conv_stem=True): early convolutions")
    p.add_argument("--curve-num", type=int, nargs=2, default=(960, 480), help="ridge probe train / val clips")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    data = ToyWorldDataModule(task=a.task, num=960 if a.task == "motion" else 120, num_val=8, seed=0,
                              batch_size=a.batch, num_workers=0)
    key = "label" if a.task == "motion" else "action"
    data.prepare_data()
    data.setup("fit")
    encoder = VisionTransformer(img_size=64, num_frames=16, patch_size=a.patch, tubelet_size=a.tubelet,
                                embed_dim=a.width, depth=a.depth, num_heads=a.heads, abs_pos_embed=a.abs_pos,
                                conv_stem=a.conv_stem)
    head = torch.nn.Linear(16 // a.tubelet * a.width, data.num_classes)  # the probe's readout: time-pooled, linear
    opt = torch.optim.AdamW([*encoder.parameters(), *head.parameters()], lr=a.lr, weight_decay=0.04)
    step, log, start = 0, [], time.perf_counter()
    if a.curve_every:
        encoder.eval()
        log.append({"step": 0, "ridge_motion_top1": ridge_point(encoder, "motion", *a.curve_num, 2)["top1"]})
        encoder.train()
        print(json.dumps(log[-1]), flush=True)
    probe_s = 0.0
    while step < a.steps:
        for batch in data.train_dataloader():
            video = data.batch_transform(batch["video"], training=True)[:, 0]
            loss = F.cross_entropy(head(time_pooled(encoder, video)), batch[key].long())
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 50 == 0:
                log.append({"step": step, "loss": round(float(loss), 4),
                            "train_s": round(time.perf_counter() - start - probe_s, 1)})
                if a.curve_every and step % a.curve_every == 0:
                    encoder.eval()
                    t0 = time.perf_counter()
                    log[-1]["ridge_motion_top1"] = ridge_point(encoder, "motion", *a.curve_num, 2)["top1"]
                    probe_s += time.perf_counter() - t0
                    encoder.train()
                print(json.dumps(log[-1]), flush=True)
            if step == a.steps:
                break
    hub.export_official(a.out, encoder=encoder, target_encoder=encoder)
    print(json.dumps({"saved": a.out, "args": vars(a), "log": log}))


if __name__ == "__main__":
    main()
