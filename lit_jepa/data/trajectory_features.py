"""Trajectory features for the world model: every frame of every trajectory encoded once by the LightningModule's
frozen encoder, served as windows of ``frames`` frames (:class:`FeatureDataModule`)."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lit_jepa.geometry import state_differences
from lit_jepa.progress import progress_bar


class FeatureWindows(Dataset):
    """Every window of ``frames`` frames ``frame_step`` frames apart in cached trajectories: ``features``
    ``(frames, N, D)`` in the cache's dtype (float16: :class:`~lit_jepa.tasks.ACWorldModel` casts them on its
    device, so batches carry half the bytes and the host converts nothing), ``states`` ``(frames, A)``,
    ``actions`` ``(frames - 1, A)``.

    With ``frame_step`` 1 the actions are the recorded ones; with a larger step (DINO-WM's frameskip) they are the
    state differences between the kept frames (:func:`~lit_jepa.geometry.state_differences`: pose differences for
    7-D poses, how the official DROID loader makes actions at any frame rate)."""

    def __init__(self, features: list[Tensor], states: list[Tensor], actions: list[Tensor], frames: int,
                 frame_step: int = 1) -> None:
        if frame_step < 1:
            raise ValueError(f"frame_step must be >= 1, got {frame_step}")
        self.features, self.states, self.frames, self.frame_step = features, states, frames, frame_step
        k = frame_step  # actions[m][t]: from frame t to frame t + k of trajectory m
        self.actions = actions if k == 1 else [
            torch.from_numpy(state_differences(s[:-k].numpy(), s[k:].numpy())) for s in states]
        span = (frames - 1) * frame_step
        self.windows = [(m, t) for m, f in enumerate(features) for t in range(len(f) - span)]
        if not self.windows:
            raise ValueError(f"no trajectory has {frames} frames {frame_step} apart (longest: "
                             f"{max(map(len, features), default=0)} frames)")

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        m, t = self.windows[i]
        k, end = self.frame_step, t + (self.frames - 1) * self.frame_step
        w = slice(t, end + 1, k)
        return {"features": self.features[m][w], "states": self.states[m][w],
                "actions": self.actions[m][t:end:k]}


def encode_dataset(model: L.LightningModule, dataset: Dataset, desc: str = "encoding trajectories"
                   ) -> tuple[list[Tensor], list[Tensor], list[Tensor]]:
    """Encode every sample (``video`` uint8 ``(1, C, T, H, W)``, ``states``, ``actions``) once, with a progress bar
    labelled ``desc``; features are kept in float16 on the CPU."""
    features, states, actions = [], [], []
    for i in progress_bar(len(dataset), desc, "trajectory", iterable=range(len(dataset))):
        sample = dataset[i]
        frames = sample["video"][0].permute(1, 2, 3, 0)  # (T, H, W, C)
        features.append(model.encode(frames).half().cpu())
        states.append(torch.as_tensor(np.asarray(sample["states"]), dtype=torch.float32))
        actions.append(torch.as_tensor(np.asarray(sample["actions"]), dtype=torch.float32))
    return features, states, actions


class FeatureDataModule(L.LightningDataModule):
    """Clips of cached features for :class:`~lit_jepa.tasks.ACWorldModel`.

    Args:
        source: a DataModule whose ``datasets["train"]`` / ``["val"]`` return whole trajectories (e.g.
            ``ToyWorldDataModule(task="tabletop", spec={frames_per_clip: 51, frame_step: 1})`` or DROID).
            They are encoded once, with the LightningModule's frozen encoder, when a loader is first asked for.
        frames: frames per training clip (official 8).
        frame_step: trajectory frames between clip frames (one model step; DINO-WM's frameskip, 1 = every frame).
        batch_size: clips per batch.
        num_workers: loader worker processes.
    """

    def __init__(self, source: L.LightningDataModule, frames: int = 8, frame_step: int = 1, batch_size: int = 8,
                 num_workers: int = 0) -> None:
        super().__init__()
        self.source, self.frames, self.frame_step = source, frames, frame_step
        self.batch_size, self.num_workers = batch_size, num_workers
        self.windows: dict[str, FeatureWindows] = {}

    def prepare_data(self) -> None:
        self.source.prepare_data()

    def setup(self, stage: str) -> None:
        self.source.setup(stage)

    def split(self, name: str) -> FeatureWindows:
        if name not in self.windows:
            model = self.trainer.lightning_module if self.trainer is not None else None
            if not callable(getattr(model, "encode", None)):
                raise RuntimeError("FeatureDataModule: encoding needs a LightningModule with an ``encode(frames)`` "
                                   "method (e.g. ACWorldModel) attached through the Trainer")
            encoded = encode_dataset(model, self.source.datasets[name], f"encoding {name} trajectories")
            self.windows[name] = FeatureWindows(*encoded, self.frames, self.frame_step)
        return self.windows[name]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.split("train"), self.batch_size, shuffle=True, num_workers=self.num_workers,
                          drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.split("val"), self.batch_size, num_workers=self.num_workers)
