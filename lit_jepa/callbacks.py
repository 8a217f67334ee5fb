"""Lightning callbacks shared by the task modules: mask strips in TensorBoard, official-layout export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only

from lit_jepa import hub
from lit_jepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD


def mask_strip(clip: torch.Tensor, context: torch.Tensor, patch_size: int, tubelet_size: int) -> torch.Tensor:
    """An image ``(3, H, T * W)`` of a normalised clip ``(C, T, H, W)``: frames side by side, context tokens
    as they are, target tokens (all others) tinted red and dimmed."""
    C, T, H, W = clip.shape
    mean = torch.tensor(IMAGENET_MEAN, device=clip.device).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=clip.device).view(3, 1, 1, 1)
    frames = (clip.float() * std + mean).clamp(0, 1)
    grid = (T // tubelet_size, H // patch_size, W // patch_size)
    visible = torch.zeros(grid[0] * grid[1] * grid[2], device=clip.device)
    visible[context] = 1.0
    visible = visible.view(grid).repeat_interleave(tubelet_size, 0)
    visible = visible.repeat_interleave(patch_size, 1).repeat_interleave(patch_size, 2)  # (T, H, W)
    red = torch.tensor([1.0, 0.2, 0.2], device=clip.device).view(3, 1, 1, 1)
    tinted = frames * visible + (0.5 * frames + 0.5 * red) * (1 - visible)
    return tinted.permute(0, 2, 1, 3).reshape(3, H, T * W)


class MaskVisualizer(L.Callback):
    """Log the first clip of a training batch as a frame strip for each mask generator, with its context and target
    tokens shown (TensorBoard ``masks/generator{j}``).

    Args:
        every_n_steps: training steps between two logged strips.
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
        enc = pl_module.encoder
        for j, m in enumerate(masks_enc):
            strip = mask_strip(clips[0].detach(), m[0].to(clips.device), enc.patch_size, enc.tubelet_size)
            logger.experiment.add_image(f"masks/generator{j}", strip.cpu(), step)


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
