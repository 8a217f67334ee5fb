"""Linear (ridge) probes of issue 27's encoders on held-out ToyWorld clips: ``motion`` top-1 and ``anticipation``
action mean-class recall@5, each from one closed-form ridge readout of time-ordered features (``--readout time``: the
tokens averaged over space per time step, :func:`lit_jepa.probe_curve.time_pooled`; ``all``: every token), the ridge
strength chosen on the held-out split.

    python experiments/toy-pretraining/linear_probe.py --random --arch cs16 --init-seed 0
    python experiments/toy-pretraining/linear_probe.py --export runs/exp27/NAME/version_0/export/vjepa2.pt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lit_jepa import hub
from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.datamodule import ToyWorldDataModule
from lit_jepa.metrics import mean_class_recall
from lit_jepa.nn import VisionTransformer
from lit_jepa.probe_curve import ridge_scores, time_pooled

HERE = Path(__file__).resolve().parent
ARCHS = {"vitt": {"patch_size": 8}, "cs16": {"patch_size": 16, "conv_stem": True, "abs_pos_embed": True}}
RIDGES = (1e-3, 1e-2, 1e-1, 1.0, 10.0)


@torch.no_grad()
def features(encoder: torch.nn.Module, data: ToyWorldDataModule, split: str, keys: list[str],
             readout: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    feats, labels = [], {k: [] for k in keys}
    for batch in DataLoader(data.datasets[split], batch_size=16, shuffle=False):
        video = data.batch_transform(batch["video"], training=False)[:, 0]
        feats.append((time_pooled(encoder, video) if readout == "time" else encoder(video).flatten(1)).double())
        for k in keys:
            labels[k].append(batch[k])
    return torch.cat(feats), {k: torch.cat(v).long() for k, v in labels.items()}


def evaluate(scores: torch.Tensor, y: torch.Tensor, classes: int, recall_k: int) -> float:
    if recall_k:
        metric = mean_class_recall(classes, recall_k)
        metric.update(scores.float(), y)
        return float(metric.compute())
    return float((scores.argmax(1) == y).double().mean())


def best_over_ridges(tx, ty, vx, vy, classes: int, recall_k: int) -> dict:
    """Top-1 (``recall_k`` 0) or mean-class recall@k on the held-out split: ``value`` with the best ridge there
    (optimistic, as the probe curve), ``value_train_selected`` with the ridge that scores best on the last third of
    the train clips when fitted on the first two thirds (then refitted on all of them)."""
    cut = 2 * len(ty) // 3
    held_out = [evaluate(sc, vy, classes, recall_k) for sc in ridge_scores(tx, ty, vx, classes, RIDGES)]
    inner = [evaluate(sc, ty[cut:], classes, recall_k)
             for sc in ridge_scores(tx[:cut], ty[:cut], tx[cut:], classes, RIDGES)]
    best = max(range(len(RIDGES)), key=held_out.__getitem__)  # the first (smallest) ridge on ties
    chosen = max(zip(inner, RIDGES))[1]
    return {"value": held_out[best], "ridge": RIDGES[best], "value_train_selected": held_out[RIDGES.index(chosen)],
            "ridge_train_selected": chosen, "num_train": len(ty), "num_val": len(vy)}


def score(encoder: torch.nn.Module, task: str, num: int, num_val: int, seed: int, readout: str) -> dict:
    """``{metric: result}``: motion ``top1``; anticipation ``action_recall5``, ``verb_top1``, ``noun_top1``."""
    data = ToyWorldDataModule(task=task, num=num, num_val=num_val, seed=seed, batch_size=16)
    data.prepare_data()
    data.setup("fit")
    keys = ["label"] if task == "motion" else ["action", "verb", "noun"]
    tx, ty = features(encoder, data, "train", keys, readout)
    vx, vy = features(encoder, data, "val", keys, readout)
    if task == "motion":
        return {"top1": best_over_ridges(tx, ty["label"], vx, vy["label"], data.num_classes, 0)}
    return {"action_recall5": best_over_ridges(tx, ty["action"], vx, vy["action"], data.num_classes, 5),
            "verb_top1": best_over_ridges(tx, ty["verb"], vx, vy["verb"], data.num_verbs, 0),
            "noun_top1": best_over_ridges(tx, ty["noun"], vx, vy["noun"], data.num_nouns, 0)}


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
    tx, ty = features(encoder, data, "train", ["label", "index"], readout)
    vx, vy = features(encoder, data, "val", ["label", "index"], readout)
    for name, classes in (("direction", 8), ("digit", 10)):
        t, v = (ty["label"], vy["label"]) if name == "direction" else (digit["train"][ty["index"]],
                                                                        digit["val"][vy["index"]])
        out[f"digits_{name}_top1"] = best_over_ridges(tx, t, vx, v, classes, 0)
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
