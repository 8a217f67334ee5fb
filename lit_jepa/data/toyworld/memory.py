"""ToyWorld served from memory: map-style datasets that render on the fly and return the project's sample dicts.

They draw exactly the samples the writers put on disk (same seed, split and index), before video
compression. Every sample has ``video`` uint8 ``(1, C, T, H, W)``, ``index`` and ``frame_indices`` ``(1, T)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from lit_jepa.data.toyworld.tasks.anticipation import AnticipationTask
from lit_jepa.data.toyworld.tasks.base import ClipTask, sample_rng
from lit_jepa.data.toyworld.tasks.dynamics import DynamicsTask
from lit_jepa.data.toyworld.tasks.fine import FineTask
from lit_jepa.data.toyworld.tasks.motion import MotionTask
from lit_jepa.data.toyworld.tasks.tabletop import trajectory

CLIP_TASKS: dict[str, type[ClipTask]] = {"motion": MotionTask, "dynamics": DynamicsTask, "fine": FineTask}


def _sample(frames: np.ndarray, index: int, frame_indices: np.ndarray) -> dict[str, torch.Tensor]:
    """The keys every sample shares, from ``(T, H, W, 3)`` frames."""
    return {
        "video": torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2).unsqueeze(0),
        "index": torch.tensor(index, dtype=torch.int64),
        "frame_indices": torch.as_tensor(np.asarray(frame_indices), dtype=torch.int64).reshape(1, -1),
    }


class ToyClips(Dataset):
    """``motion`` or ``fine`` clips with a ``label``; the whole rendered video is the clip."""

    def __init__(
        self, task: str = "motion", num: int = 240, seed: int = 0, split: str = "train", resolution: int = 64,
        num_frames: int | None = None,
    ) -> None:
        if task not in CLIP_TASKS:
            raise ValueError(f"unknown clip task {task!r}; expected one of {sorted(CLIP_TASKS)}")
        self.task = CLIP_TASKS[task](resolution, num_frames)
        self.num, self.seed, self.split = num, seed, split
        self.num_classes = self.task.num_classes
        self.class_names = self.task.class_names

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        scene, label = self.task.sample(self.seed, self.split, index)
        sample = _sample(scene.render(), index, np.arange(scene.num_frames))
        sample["label"] = torch.tensor(label, dtype=torch.int64)
        return sample


class ToyAnticipation(Dataset):
    """One sample per action: the context ends ``anticipation_s`` before the action starts; the targets are
    its ``verb``, ``noun`` and ``action = verb * num_nouns + noun``."""

    def __init__(
        self, num_videos: int = 60, seed: int = 0, split: str = "train", resolution: int = 64, num_frames: int = 16,
        anticipation_s: float = 1.0,
    ) -> None:
        self.task = AnticipationTask(resolution)
        self.num_videos, self.seed, self.split = num_videos, seed, split
        self.num_frames, self.anticipation_s = num_frames, anticipation_s
        self.num_verbs, self.num_nouns = self.task.num_verbs, self.task.num_nouns
        self.num_actions = self.num_verbs * self.num_nouns

    def __len__(self) -> int:
        return self.num_videos * self.task.num_actions

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        video, k = divmod(index, self.task.num_actions)
        episode = self.task.episode(self.seed, self.split, video)
        seg = episode.segments[k]
        idx = self.task.context_frames(seg, self.num_frames, self.anticipation_s)
        sample = _sample(episode.scene.render(idx), index, idx)
        for key, value in (("verb", seg.verb), ("noun", seg.noun), ("action", seg.verb * self.num_nouns + seg.noun)):
            sample[key] = torch.tensor(value, dtype=torch.int64)
        return sample


class ToyTrajectories(Dataset):
    """``tabletop`` clips: ``num_frames`` frames ``frameskip`` env steps apart from a random window of an
    exploration trajectory, with DROID ``states`` ``(T, 7)``, ``actions`` ``(T-1, 7)`` (state differences) and
    ``label`` -1 (unlabelled), as the DROID reader returns them."""

    def __init__(
        self, num: int = 200, seed: int = 0, split: str = "train", resolution: int = 64, num_frames: int = 8,
        frameskip: int = 1, num_steps: int = 50,
    ) -> None:
        if (num_frames - 1) * frameskip > num_steps:
            raise ValueError(f"{num_frames} frames {frameskip} steps apart do not fit in {num_steps} steps")
        self.num, self.seed, self.split, self.resolution = num, seed, split, resolution
        self.num_frames, self.frameskip, self.num_steps = num_frames, frameskip, num_steps

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        traj = trajectory(self.seed, self.split, index, self.num_steps, self.resolution)
        span = (self.num_frames - 1) * self.frameskip
        start = int(sample_rng(self.seed, f"{self.split}/window", index).integers(0, self.num_steps - span + 1))
        idx = start + np.arange(self.num_frames) * self.frameskip
        states = traj.states[idx]
        sample = _sample(traj.frames[idx], index, idx)
        sample["states"] = torch.from_numpy(states.astype(np.float32))
        sample["actions"] = torch.from_numpy(np.diff(states, axis=0).astype(np.float32))
        sample["label"] = torch.tensor(-1, dtype=torch.int64)
        return sample
