"""The cheap probe of issue 27's tries: lit_jepa.probe_curve's ridge probe (time-pooled tokens, closed form) of
an exported encoder, or the same architecture at random initialisation, on held-out ToyWorld clips.

    python experiments/toy-pretraining/ridge_probe.py --export runs/exp27/NAME/version_0/export/vjepa2.pt \
        --key encoder --tasks motion dynamics --num 960 --num-val 480
    python experiments/toy-pretraining/ridge_probe.py --random --tasks motion dynamics       (init seed 0)
"""

from __future__ import annotations

import argparse
import json

import lightning as L
import torch

from lit_jepa import hub
from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule
from lit_jepa.nn import VisionTransformer
from lit_jepa.probe_curve import ProbeCurve


class _Holder(L.LightningModule):
    """What :class:`ProbeCurve` reads: the encoder under the probed attribute name."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.target_encoder = encoder


class _Trainer:
    global_step, logger, log_dir = 0, None, None


def ridge_point(encoder: torch.nn.Module, task: str, num: int, num_val: int, seed: int) -> dict:
    """The ridge probe's point (top-1, ridge, sizes) for ``encoder`` on ToyWorld ``task`` clips of ``seed``."""
    data = ToyWorldDataModule(task=task, num=num, num_val=num_val, seed=seed, batch_size=16)
    curve = ProbeCurve(data, ridges=(1e-3, 1e-2, 1e-1, 1.0, 10.0))
    curve.probe(_Trainer(), _Holder(encoder))
    return curve.points[-1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--export")
    p.add_argument("--key", default="target_encoder")
    p.add_argument("--random", action="store_true")
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--abs-pos", action="store_true", help="random encoder with abs_pos_embed (sine-cosine positions)")
    p.add_argument("--tasks", nargs="+", default=["motion"])
    p.add_argument("--num", type=int, default=960)
    p.add_argument("--num-val", type=int, default=480)
    p.add_argument("--seed", type=int, default=2, help="seed of the probe clips (the pretraining uses 0)")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.random:
        torch.manual_seed(a.init_seed)
        encoder = VisionTransformer(img_size=64, num_frames=16, patch_size=8, tubelet_size=2, embed_dim=192, depth=6,
                                    num_heads=3, abs_pos_embed=a.abs_pos)
    else:
        encoder = hub.load_encoder(a.export, key=a.key)
    out = {task: ridge_point(encoder, task, a.num, a.num_val, a.seed) for task in a.tasks}
    print(json.dumps({"export": a.export, "key": a.key, "random": a.random, "abs_pos": a.abs_pos, "results": out}))


if __name__ == "__main__":
    main()
