"""Linear (ridge) probes of issue 27's encoders on held-out ToyWorld clips: ``motion`` top-1 and ``anticipation``
action mean-class recall@5, each from one closed-form ridge readout of time-ordered features (``--readout time``: the
tokens averaged over space per time step, :func:`lit_jepa.probe_curve.time_pooled`; ``all``: every token), through
:mod:`lit_jepa.bench.linear` (the ``linear`` kind of the benchmark runner). Since 2026-12-06 (evening) ``value`` is
the held-out figure with the ridge chosen on the train clips and ``value_best_ridge`` the best over ridges on the
held-out clips; the records written before it hold ``value`` (chosen on the held-out clips) and
``value_train_selected``.

    python experiments/toy-pretraining/linear_probe.py --random --arch cs16 --init-seed 0
    python experiments/toy-pretraining/linear_probe.py --export runs/exp27/NAME/version_0/export/vjepa2.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from lit_jepa import hub
from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench import linear
from lit_jepa.bench.common import machine
from lit_jepa.nn import VisionTransformer

HERE = Path(__file__).resolve().parent
ARCHS = {"vitt": {"patch_size": 8}, "cs16": {"patch_size": 16, "conv_stem": True, "abs_pos_embed": True}}


def summary(result: dict) -> dict:
    """A :func:`lit_jepa.bench.linear.fit_and_score` result without its per-sample arrays."""
    return {k: v for k, v in result.items() if k not in ("hits", "labels")}


def score(encoder: torch.nn.Module, task: str, num: int, num_val: int, seed: int, readout: str) -> dict:
    """``{metric: result}``: motion ``top1``; anticipation ``action_recall5``, ``verb_top1``, ``noun_top1``."""
    data = linear.toyworld_data(task, num, num_val, seed, root=None)
    return {metric: summary(r) for metric, r in linear.run(encoder, data, readout).items()}


def score_digits(encoder: torch.nn.Module, root: Path, readout: str) -> dict:
    """``moving_digits.py`` clips: ``direction`` (8 classes) and ``digit`` (10) top-1, train split fits, val scores."""
    from lit_jepa.data.datamodule import ClipDataModule
    from lit_jepa.data.datasets import CsvVideoList
    from lit_jepa.data.sampling import ClipSpec

    spec = ClipSpec(frames_per_clip=16, frame_step=1)
    data = ClipDataModule(train_dataset=CsvVideoList(str(root / "train.csv"), spec, train=False),
                          val_dataset=CsvVideoList(str(root / "val.csv"), spec, train=False))
    lines = {split: (root / f"{split}_digits.csv").read_text().split("\n") for split in ("train", "val")}
    digit = {split: torch.tensor([int(x.split()[1]) for x in rows if x]) for split, rows in lines.items()}
    out = {}
    tx, ty = linear.features(encoder, data, "train", ["label", "index"], readout)
    vx, vy = linear.features(encoder, data, "val", ["label", "index"], readout)
    for name, classes in (("direction", 8), ("digit", 10)):
        t, v = (ty["label"], vy["label"]) if name == "direction" else (digit["train"][ty["index"]],
                                                                        digit["val"][vy["index"]])
        out[f"digits_{name}_top1"] = summary(linear.fit_and_score(tx, t, vx, v, classes, "top1"))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--export")
    p.add_argument("--key", default="target_encoder")
    p.add_argument("--random", action="store_true")
    p.add_argument("--arch", choices=list(ARCHS), default="cs16", help="the random encoder's architecture")
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", default="", help="write records/linear-<readout>-<name>.json")
    p.add_argument("--motion-clips", type=int, default=960, help="labelled motion clips (half held out; 0: skip)")
    p.add_argument("--anticipation-videos", type=int, default=120,
                   help="labelled anticipation videos, 8 samples each (half as many held out; 0: skip)")
    p.add_argument("--digits", type=Path, help="also score moving_digits.py clips written to this folder")
    p.add_argument("--readout", choices=["time", "all"], default="time",
                   help="time: tokens averaged over space per time step; all: every token, concatenated")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.random:
        torch.manual_seed(a.init_seed)
        encoder = VisionTransformer(img_size=64, num_frames=16, tubelet_size=2, embed_dim=192, depth=6, num_heads=3,
                                    **ARCHS[a.arch])
    else:
        encoder = hub.load_encoder(a.export, key=a.key)
    encoder.eval()
    sizes = {"motion": (a.motion_clips, a.motion_clips // 2, 2),
             "anticipation": (a.anticipation_videos, a.anticipation_videos // 2, 1)}
    out = {f"{task}_{metric}": result for task, args in sizes.items() if args[0]
           for metric, result in score(encoder, task, *args, a.readout).items()}
    if a.digits:
        out.update(score_digits(encoder, a.digits.resolve(), a.readout))
    record = {"name": a.name, "export": a.export, "key": a.key, "random": a.random, "arch": a.arch,
              "init_seed": a.init_seed, "readout": a.readout, "sizes": sizes, "machine": machine(), "results": out}
    print(json.dumps(record))
    if a.name:
        atomic_write_json(HERE / "records" / f"linear-{a.readout}-{a.name}.json", record, indent=1)


if __name__ == "__main__":
    main()
