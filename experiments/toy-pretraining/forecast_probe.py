"""Anticipation from the predictor's forecast (the paper's EK100 protocol, read by a ridge instead of an attentive
probe): the frozen encoder reads the context, the frozen pretraining predictor fills mask tokens placed at future
time steps, and a ridge readout (:func:`lit_jepa.bench.linear.fit_and_score`, ridge chosen on the train clips)
reads the encoder's time-pooled tokens alone (``enc``) or beside the time-pooled forecast (``enc+near``, ``enc+far``).

- ``near``: the encoder reads the context's last 8 frames (time steps 0-3); the predictor forecasts steps 4-7 (the
  next 8 frames, i.e. the 1-s anticipation gap up to the action start), positions the predictor was trained on;
- ``far``: the encoder reads the whole 16-frame context (steps 0-7); the predictor forecasts steps 8-11, beyond the
  positions it saw in training (the official protocol forecasts the slot 1 s after the context end).

The random twin uses the same architectures at random initialisation (torch seed ``--init-seed``).

    python experiments/toy-pretraining/forecast_probe.py --export runs/exp27/cs16-paper/version_0/export/vjepa2.pt \
        --name cs16-paper
    python experiments/toy-pretraining/forecast_probe.py --random --init-seed 0 --name cs16-random
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from lit_jepa import hub
from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench import linear
from lit_jepa.bench.common import machine
from lit_jepa.nn import VisionTransformer, VisionTransformerPredictor

HERE = Path(__file__).resolve().parent
CS16 = {"img_size": 64, "num_frames": 16, "patch_size": 16, "tubelet_size": 2, "embed_dim": 192}


def time_pooled(tokens: torch.Tensor, steps: int) -> torch.Tensor:
    """``(B, steps * S, D)`` tokens -> ``(B, steps * D)``: averaged over space per time step."""
    return tokens.unflatten(1, (steps, -1)).mean(2).flatten(1)


def forecast(predictor: torch.nn.Module, tokens: torch.Tensor, context_steps: int, steps: range) -> torch.Tensor:
    """Time-pooled forecast ``(B, len(steps) * D)``: the predictor reads the encoder's ``tokens`` of
    ``context_steps`` time steps and fills the tokens of time ``steps`` (counted from the context's first one)."""
    b, n, _ = tokens.shape
    per_step = n // context_steps
    ctx = torch.arange(n).expand(b, -1)
    tgt = torch.arange(steps.start * per_step, steps.stop * per_step).expand(b, -1)
    return time_pooled(predictor(tokens, ctx, tgt, mask_index=0), len(steps))


@torch.no_grad()
def features(encoder, predictor, data, split: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    feats = {"enc": [], "near": [], "far": []}
    labels = {t.key: [] for t in linear.TARGETS["anticipation"]}
    for batch in DataLoader(data.datasets[split], batch_size=32, shuffle=False):
        video = data.batch_transform(batch["video"], training=False)[:, 0]
        tokens = encoder(video)  # 16 frames: time steps 0-7
        feats["enc"].append(time_pooled(tokens, 8))
        feats["near"].append(forecast(predictor, encoder(video[:, :, -8:]), 4, range(4, 8)))
        feats["far"].append(forecast(predictor, tokens, 8, range(8, 12)))
        for k in labels:
            labels[k].append(batch[k])
    return ({k: torch.cat(v).double() for k, v in feats.items()}, {k: torch.cat(v).long() for k, v in labels.items()})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--export")
    p.add_argument("--random", action="store_true")
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--videos", type=int, default=480, help="labelled videos (8 samples each; half as many held out)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--name", required=True, help="writes records/forecast-<name>.json")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.random:
        torch.manual_seed(a.init_seed)
        encoder = VisionTransformer(**CS16, depth=6, num_heads=3, conv_stem=True, abs_pos_embed=True)
        predictor = VisionTransformerPredictor(**CS16, predictor_embed_dim=96, depth=4, num_heads=3,
                                               num_mask_tokens=2)
    else:
        encoder = hub.load_encoder(a.export)
        predictor = hub.load_predictor(a.export, img_size=64, patch_size=16)
    encoder.eval(), predictor.eval()
    data = linear.toyworld_data("anticipation", a.videos, a.videos // 2, 1, root=None)
    train_x, train_y = features(encoder, predictor, data, "train")
    val_x, val_y = features(encoder, predictor, data, "val")
    readouts = {"enc": ["enc"], "enc+near": ["enc", "near"], "enc+far": ["enc", "far"], "near": ["near"]}
    results = {}
    for name, parts in readouts.items():
        tx, vx = torch.cat([train_x[k] for k in parts], 1), torch.cat([val_x[k] for k in parts], 1)
        for t in linear.TARGETS["anticipation"]:
            r = linear.fit_and_score(tx, train_y[t.key], vx, val_y[t.key], getattr(data, t.classes), t.metric)
            results[f"{name}/{t.metric}"] = round(100 * r["value"], 1)
    record = {"name": a.name, "export": a.export, "random": a.random, "init_seed": a.init_seed, "videos": a.videos,
              "machine": machine(), "results": results}
    print(json.dumps(results, indent=1))
    atomic_write_json(HERE / "records" / f"forecast-{a.name}.json", record, indent=1)


if __name__ == "__main__":
    main()
