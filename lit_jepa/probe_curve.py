"""A cheap frozen probe along pretraining, so a run shows learning happen and not only a loss.

:class:`ProbeCurve` is a callback: before the first step and every ``every_n_steps`` steps it encodes a held-out
labelled clip set with the current (target) encoder, fits a closed-form ridge classifier on the train clips'
features and logs the validation top-1 (``probe_curve/top1``; TensorBoard shows the curve). The features keep
time order: tokens are averaged over space within each time step and the steps concatenated, so a
linear classifier can read direction and order of motion. The points are also written to
``<log dir>/probe_curve.json`` for the leaderboard's plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch import Tensor
from torch.utils.data import DataLoader
from tqdm import tqdm

from lit_jepa.atomic import atomic_write_json
from lit_jepa.data.datamodule import ClassificationDataModule
from lit_jepa.nn.encoder import FrozenEncoder
from lit_jepa.progress import progress_bar

READOUTS = ("time", "all")


def time_pooled(encoder: FrozenEncoder, clips: Tensor) -> Tensor:
    """``(B, C, T, H, W)`` clips -> ``(B, t * D)``: the encoder's tokens averaged over space per time step."""
    tokens = encoder(clips)
    grid = encoder.token_grid(*clips.shape[-3:])
    if grid is None:
        return tokens.mean(dim=1)
    t, h, w = grid
    return tokens.unflatten(1, (t, h * w)).mean(dim=2).flatten(1)


def check_readout(readout: str) -> None:
    """``ValueError`` unless ``readout`` is one of ``READOUTS``."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")


@torch.no_grad()
def clip_features(encoder: FrozenEncoder, data: ClassificationDataModule, split: str, keys: list[str],
                  readout: str = "time", bar: tqdm | None = None,
                  device: torch.device | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """Float64 features ``(N, F)`` on the CPU of every clip of ``data``'s ``split`` (its first view, in order) and
    its labels under ``keys``: ``readout="time"`` averages the tokens over space per time step
    (:func:`time_pooled`), ``"all"`` keeps every token. ``bar`` counts the clips; ``device`` runs the encoder there."""
    check_readout(readout)
    transform = data.batch_transform.to(device) if device is not None else data.batch_transform
    feats, labels = [], {k: [] for k in keys}
    for batch in DataLoader(data.datasets[split], batch_size=data.batch_size, shuffle=False, num_workers=0):
        video = batch["video"] if device is None else batch["video"].to(device)
        video = transform(video, training=False)[:, 0]
        feats.append((time_pooled(encoder, video) if readout == "time" else encoder(video).flatten(1)).double().cpu())
        for k in keys:
            labels[k].append(batch[k])
        if bar is not None:
            bar.update(len(video))
    return torch.cat(feats), {k: torch.cat(v).long() for k, v in labels.items()}


def ridge_scores(train_x: Tensor, train_y: Tensor, val_x: Tensor, num_classes: int,
                 ridges: list[float]) -> list[Tensor]:
    """Validation class scores ``(N_val, num_classes)`` of a ridge-regression classifier on one-hot targets, one per
    ridge of ``ridges`` (features standardised with the train statistics, a bias column added; the ridge is scaled by
    the number of train samples)."""
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    xs, vs = (train_x - mean) / std, (val_x - mean) / std
    xs = torch.cat([xs, torch.ones(len(xs), 1, dtype=xs.dtype)], dim=1)
    vs = torch.cat([vs, torch.ones(len(vs), 1, dtype=vs.dtype)], dim=1)
    targets = torch.nn.functional.one_hot(train_y, num_classes).to(xs.dtype)
    # dual form when there are fewer samples than features: (X X^T + a I)^-1 Y
    dual = len(xs) < xs.shape[1]
    gram = xs @ xs.T if dual else xs.T @ xs
    scores = []
    for ridge in ridges:
        reg = gram + ridge * len(xs) * torch.eye(len(gram), dtype=xs.dtype)
        weights = xs.T @ torch.linalg.solve(reg, targets) if dual else torch.linalg.solve(reg, xs.T @ targets)
        scores.append(vs @ weights)
    return scores


def ridge_top1(train_x: Tensor, train_y: Tensor, val_x: Tensor, val_y: Tensor, num_classes: int,
               ridges: list[float]) -> tuple[float, float]:
    """Best validation top-1 over ``ridges`` of :func:`ridge_scores`'s classifier; returns ``(top1, ridge)``."""
    scores = ridge_scores(train_x, train_y, val_x, num_classes, ridges)
    return max((float((s.argmax(1) == val_y).double().mean()), ridge) for s, ridge in zip(scores, ridges))


class ProbeCurve(L.Callback):
    """Frozen ridge-probe top-1 of the pretraining encoder on held-out labelled clips, along training.

    Args:
        data: a labelled clip DataModule (``train`` split fits the probe, ``val`` scores it); its clips must not
            be the pretraining clips (e.g. a ToyWorld task with another seed).
        every_n_steps: probe every this many optimizer steps (and before the first step and after the last).
        encoder: which encoder of the task to probe: ``target_encoder`` (the protocol of the frozen probes) or
            ``encoder``.
        ridges: ridge strengths tried (per train sample); the best on the validation split is reported.
        name: the TensorBoard tag prefix and the JSON file's stem.
    """

    def __init__(self, data: ClassificationDataModule, every_n_steps: int = 100,
                 encoder: Literal["target_encoder", "encoder"] = "target_encoder",
                 ridges: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0), name: str = "probe_curve") -> None:
        self.data, self.every_n_steps, self.encoder, self.ridges, self.name = data, every_n_steps, encoder, \
            list(ridges), name
        self.points: list[dict[str, float]] = []
        self._ready = False

    @torch.no_grad()
    def probe(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Score the encoder now and log the point (nothing when this step already has one)."""
        if not self._new_step(trainer):
            return
        if not self._ready:
            self.data.prepare_data()
            self.data.setup("fit")
            self._ready = True
        encoder = getattr(pl_module, self.encoder)
        was_training = encoder.training
        encoder.eval()
        try:
            with progress_bar(sum(len(self.data.datasets[split]) for split in ("train", "val")),
                              f"{self.name}: encoding clips at step {trainer.global_step}", "clip") as bar:
                (train_x, train_y), (val_x, val_y) = (
                    clip_features(encoder, self.data, split, ["label"], "time", bar, pl_module.device)
                    for split in ("train", "val"))
        finally:
            encoder.train(was_training)
        train_y, val_y = train_y["label"], val_y["label"]
        top1, ridge = ridge_top1(train_x, train_y, val_x, val_y, self.data.num_classes, self.ridges)
        step = trainer.global_step
        self.points.append({"step": step, "top1": top1, "ridge": ridge, "num_train": len(train_y),
                            "num_val": len(val_y)})
        if trainer.logger is not None:
            trainer.logger.log_metrics({f"{self.name}/top1": top1}, step=step)
        if trainer.log_dir is not None:
            atomic_write_json(Path(trainer.log_dir) / f"{self.name}.json", {"encoder": self.encoder,
                                                                             "points": self.points}, indent=1)

    def _new_step(self, trainer: L.Trainer) -> bool:
        """Whether the current step has no point yet (the last step is often also an ``every_n_steps`` step, and
        under gradient accumulation several batches share a step): each point's features are computed once."""
        return not self.points or self.points[-1]["step"] != trainer.global_step

    @rank_zero_only
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.probe(trainer, pl_module)

    @rank_zero_only
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every_n_steps == 0:
            self.probe(trainer, pl_module)

    @rank_zero_only
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.probe(trainer, pl_module)
