"""Lightning callbacks shared by the task modules: mask pictures in TensorBoard, official-layout export, probe
results, status lines for runs without a terminal."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_only

from lit_jepa import hub
from lit_jepa.atomic import atomic_open, atomic_write_json
from lit_jepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from lit_jepa.metrics import confusion_matrix
from lit_jepa.nn import module_sha256
from lit_jepa.pictures import log_clip, log_confusion

PREDICTIONS = "val_predictions.npz"


def masked_clip(clip: torch.Tensor, context: torch.Tensor | None, patch_size: int,
                tubelet_size: int) -> torch.Tensor:
    """Frames ``(3, T, H, W)`` in ``[0, 1]`` of a normalised clip: context tokens as they are, target tokens (all
    others) tinted red and dimmed.

    Args:
        clip: the clip ``(C, T, H, W)``, ImageNet-normalised.
        context: indices of the context tokens (``None``: the plain frames).
        patch_size: the encoder's patch size.
        tubelet_size: the encoder's tubelet size.
    """
    C, T, H, W = clip.shape
    mean = torch.tensor(IMAGENET_MEAN, device=clip.device).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=clip.device).view(3, 1, 1, 1)
    frames = (clip.float() * std + mean).clamp(0, 1)
    if context is None:
        return frames
    grid = (T // tubelet_size, H // patch_size, W // patch_size)
    visible = torch.zeros(grid[0] * grid[1] * grid[2], device=clip.device)
    visible[context] = 1.0
    visible = visible.view(grid).repeat_interleave(tubelet_size, 0)
    visible = visible.repeat_interleave(patch_size, 1).repeat_interleave(patch_size, 2)  # (T, H, W)
    red = torch.tensor([1.0, 0.2, 0.2], device=clip.device).view(3, 1, 1, 1)
    return frames * visible + (0.5 * frames + 0.5 * red) * (1 - visible)


def mask_strip(clip: torch.Tensor, context: torch.Tensor, patch_size: int, tubelet_size: int) -> torch.Tensor:
    """An image ``(3, H, T * W)`` of :func:`masked_clip`: frames side by side."""
    _, T, H, W = clip.shape
    return masked_clip(clip, context, patch_size, tubelet_size).permute(0, 2, 1, 3).reshape(3, H, T * W)


class MaskVisualizer(L.Callback):
    """Every ``every_n_steps`` training steps, log the first clip of the batch with each mask generator's context
    and target tokens: one frame strip per generator (TensorBoard ``masks/generator{j}``) and the clip beside its
    masked copies as a video (``masks/clip``; a frame grid, one row per copy, when moviepy is not installed).

    Args:
        every_n_steps: training steps between two pictures.
    """

    def __init__(self, every_n_steps: int = 200) -> None:
        self.every_n_steps = every_n_steps

    @rank_zero_only
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        logger = trainer.logger
        step = trainer.global_step
        if logger is None or not hasattr(logger.experiment, "add_image") or step % self.every_n_steps:
            return
        clips = batch["video"][:, 0] if batch["video"].ndim == 6 else batch["video"]
        masks_enc, _ = pl_module.masker.draw(batch["index"].cpu(), clips.shape)
        enc, clip = pl_module.encoder, clips[0].detach()
        rows = [masked_clip(clip, None, enc.patch_size, enc.tubelet_size).cpu()]
        for j, m in enumerate(masks_enc):
            rows.append(masked_clip(clip, m[0].to(clips.device), enc.patch_size, enc.tubelet_size).cpu())
            logger.experiment.add_image(f"masks/generator{j}", rows[-1].permute(0, 2, 1, 3).flatten(2), step)
        log_clip(logger.experiment, "masks/clip", rows, step)


class ExportOfficial(L.Callback):
    """At the end of training, write the encoder, target encoder and predictor in the official ``.pt`` layout,
    loadable by ``lit_jepa.hub`` and the official code.

    Args:
        path: the file written (default: ``<log dir>/export/vjepa2.pt``).
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    @rank_zero_only
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        path = Path(self.path or Path(trainer.log_dir or trainer.default_root_dir) / "export" / "vjepa2.pt")
        predictor = getattr(pl_module, "predictor", None)
        hub.export_official(path, encoder=pl_module.encoder, target_encoder=pl_module.target_encoder,
                            predictor=predictor)
        print(f"exported the official layout to {path}")


class ProbeResults(L.Callback):
    """When ``fit`` of an :class:`~lit_jepa.tasks.AttentiveProbe` ends, write into the log directory
    ``probe_results.json`` (best head per metric with the selection rule), ``val_predictions.npz`` (every head's
    top-5 per validation sample), the heads in the official layout (``export/probe.pt``, ``classifiers`` in grid
    order, loadable by ``hub.load_probe``), and to TensorBoard the pooled features (projector), the
    hyperparameters with the best metrics, the selection rule and (classification) the best head's confusion
    matrix on the last validation (``val/confusion_matrix``). The probe adds one by default."""

    @rank_zero_only
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        best = getattr(pl_module, "best", None)
        if not best:
            return
        folder = Path(trainer.log_dir or trainer.default_root_dir)
        h = pl_module.hparams
        data = getattr(trainer, "datamodule", None)
        data = getattr(data, "data", data)  # the clips behind a FeatureCacheDataModule
        folder.mkdir(parents=True, exist_ok=True)
        predictions = pl_module.predictions
        if predictions is not None:
            with atomic_open(folder / PREDICTIONS) as f:
                np.savez_compressed(f, **predictions)
        encoder = pl_module.encoder
        record = {"metrics": best, "selection_rule": pl_module.selection_rule, "heads": pl_module.head_values,
                  "num_val_samples": pl_module.num_val_samples, "data_task": getattr(data, "task", None),
                  "task": h.task, "encoder_ckpt": h.encoder_ckpt, "checkpoint_key": h.checkpoint_key,
                  "encoder_sha256": module_sha256(encoder), "encoder_class": encoder.class_path(),
                  "grid": pl_module.grid, "epochs": trainer.max_epochs,
                  "num_segments": h.num_segments, "out_layers": h.out_layers, "depth": h.depth,
                  "predictions": PREDICTIONS if predictions is not None else None}
        atomic_write_json(folder / "probe_results.json", record, indent=2)
        hub.export_official(folder / "export" / "probe.pt", classifiers=list(pl_module.classifiers))
        logger = trainer.logger
        if logger is None:
            return
        logger.log_hyperparams(dict(h), {f"hp/{k}": v["value"] for k, v in best.items()})
        experiment = logger.experiment
        if hasattr(experiment, "add_text"):
            experiment.add_text("val/selection_rule", pl_module.selection_rule, trainer.global_step)
        if hasattr(experiment, "add_embedding") and pl_module.last_embeddings:
            self._embeddings(experiment, pl_module, trainer)
        if hasattr(experiment, "add_image") and predictions is not None and h.task == "classification":
            head = best["top1"]["head"]
            matrix = confusion_matrix(predictions["label_label"], predictions["label_top5"][head, :, 0], h.num_classes)
            names = getattr(getattr(trainer, "datamodule", None), "class_names", None)
            log_confusion(experiment, "val/confusion_matrix", matrix, names, trainer.global_step)

    @staticmethod
    def _embeddings(experiment: Any, pl_module: L.LightningModule, trainer: L.Trainer) -> None:
        """The last validation's pooled frozen features, labelled with class names, for TensorBoard's projector."""
        n = pl_module.hparams.embedding_samples
        feats, labels = (torch.cat(t)[:n] for t in zip(*pl_module.last_embeddings))
        names = getattr(getattr(trainer, "datamodule", None), "class_names", None)
        meta = [names[i] if names and i < len(names) else str(i) for i in labels.tolist()]
        experiment.add_embedding(feats, metadata=meta, tag="val/pooled_frozen_features",
                                 global_step=trainer.global_step)


class StatusLine(L.Callback):
    """One line on stderr at most every ``every_s`` seconds, for runs whose progress bar is off (logs, the benchmark
    runner): the run's name, the training step out of the total, the ETA and the progress-bar metrics; during
    validation, the batch out of the total. Also a line when training starts and ends.

    Args:
        every_s: seconds between two lines.
    """

    def __init__(self, every_s: float = 30.0) -> None:
        self.every_s = every_s
        self.started = self.last = 0.0
        self.first_step, self.total = 0, math.inf

    @staticmethod
    def run_name(trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        """``<logger name>/<version>``, or the module's class without a logger."""
        logger = trainer.logger
        if logger is None:
            return type(pl_module).__name__
        version = logger.version
        return f"{logger.name}/{version if isinstance(version, str) else f'version_{version}'}"

    def _due(self) -> bool:
        return time.monotonic() - self.last >= self.every_s

    def _print(self, trainer: L.Trainer, pl_module: L.LightningModule, what: str) -> None:
        self.last = time.monotonic()
        print(f"[{self.run_name(trainer, pl_module)}] {what}", file=sys.stderr, flush=True)

    def _training(self, trainer: L.Trainer) -> str:
        step, total = trainer.global_step, self.total
        text = f"step {step}/{int(total) if math.isfinite(total) else '?'} (epoch {trainer.current_epoch})"
        done, elapsed = step - self.first_step, time.monotonic() - self.started
        if done > 0 and math.isfinite(total):
            text += f", ETA {_clock(elapsed / done * max(total - step, 0))}"
        metrics = ", ".join(f"{k} {float(v):.4g}" for k, v in trainer.progress_bar_metrics.items())
        return f"{text}, {_clock(elapsed)} elapsed" + (f", {metrics}" if metrics else "")

    @rank_zero_only
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.monotonic()
        self.first_step, self.total = trainer.global_step, float(trainer.estimated_stepping_batches)
        self._print(trainer, pl_module, f"training started at {self._training(trainer)}")

    @rank_zero_only
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._due():
            self._print(trainer, pl_module, self._training(trainer))

    @rank_zero_only
    def on_validation_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                                batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._due():
            totals = trainer.num_sanity_val_batches if trainer.sanity_checking else trainer.num_val_batches
            total = totals[dataloader_idx] if dataloader_idx < len(totals) else "?"
            self._print(trainer, pl_module, f"validation batch {batch_idx + 1}/{total}")

    @rank_zero_only
    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._print(trainer, pl_module, f"training ended at {self._training(trainer)}")


def _clock(seconds: float) -> str:
    """``h:mm:ss`` of a duration.

    Args:
        seconds: the duration.
    """
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
