"""The dataset base every annotation format builds on: entries in, contract samples out.

A format module parses its annotation file into :class:`ClipEntry` rows; :class:`VideoClipDataset` decodes,
samples and transforms them. Keys may be an ``int`` index or ``(index, epoch)`` (what
:class:`~lit_jepa.data.loader.ResumableSampler` yields): random choices come from a generator seeded with
``(seed, epoch, index)``, so a sample is the same whatever the worker, the order or a resume.

A sample that cannot be produced (:class:`~lit_jepa.data.decode.SampleError`) is replaced by another index
drawn from the same generator, up to ``max_retries`` times; each failure is recorded under the extra key
``"failures"`` (``"path: reason (detail)"`` strings) which :func:`~lit_jepa.data.loader.collate_clips` gathers,
counts and removes before the batch reaches the model.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from lit_jepa.data.decode import SampleError, VideoInfo, VideoReader, make_reader
from lit_jepa.data.sampling import ClipSpec, clip_windows, sample_clips
from lit_jepa.data.transforms import ClipTransform


@dataclass
class ClipEntry:
    """One annotated sample: a video file, its integer targets, an optional frame range ``[start, stop)`` and
    where it came from (``source``: ``file:line``) for error messages."""

    path: str
    targets: dict[str, int] = field(default_factory=dict)
    frames: tuple[int, int] | None = None
    source: str = ""


class AnnotationError(ValueError):
    """An annotation file that cannot be used; the message names the file, line or key and what was expected."""


def load_json(path: str):
    """Parsed JSON file, or :class:`AnnotationError` naming the file (and line) when missing or invalid."""
    if not os.path.isfile(path):
        raise AnnotationError(f"{path}: annotation file not found")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise AnnotationError(f"{path}:{getattr(e, 'lineno', 1)}: not valid JSON ({e})") from e


def resolve(path: str, root: str | None) -> str:
    """``path`` joined to ``root`` unless absolute."""
    return path if os.path.isabs(path) or not root else os.path.join(root, path)


class VideoClipDataset(Dataset):
    """Map-style clip dataset over :class:`ClipEntry` rows (see the package docstring for the sample contract).

    Args:
        spec: temporal sampling.
        transform: CPU spatial transform producing ``spec.num_views`` views (``None``: frames as decoded).
        train: random placement (and random transforms); otherwise deterministic placement.
        seed: base seed of every per-sample generator.
        reader: video reader name (``pyav``, ``decord``, ``torchcodec``).
        max_retries: substitute samples tried after a failure before raising.
    """

    targets: tuple[str, ...] = ("label",)
    epoch_keys = True  # accepts (index, epoch) keys from ResumableSampler

    def __init__(
        self,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        self.spec = spec or ClipSpec()
        self.transform, self.train, self.seed, self.max_retries = transform, train, seed, max_retries
        self.reader_name = reader
        self.entries: list[ClipEntry] = []

    @property
    def reader(self) -> VideoReader:
        if getattr(self, "_reader", None) is None:
            self._reader = make_reader(self.reader_name)
        return self._reader

    def __getstate__(self) -> dict[str, Any]:  # readers hold caches and open handles: rebuild in workers
        return {**self.__dict__, "_reader": None}

    def __len__(self) -> int:
        return len(self.entries)

    def rng(self, index: int, epoch: int = 0) -> np.random.Generator | None:
        """The generator of one draw; ``None`` (deterministic) in evaluation unless random eval placement."""
        if self.train:
            return np.random.default_rng([self.seed, epoch, index])
        return np.random.default_rng([self.seed, index]) if self.spec.random_eval_placement else None

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index, epoch = (int(key[0]), int(key[1])) if isinstance(key, (tuple, list)) else (int(key), 0)
        failures: list[str] = []
        pick = np.random.default_rng([self.seed, epoch, index, 1])
        for _ in range(self.max_retries + 1):
            try:
                sample = self.load(index, self.rng(index, epoch))
                return {**sample, "failures": failures} if failures else sample
            except SampleError as e:
                failures.append(str(e))
                index = int(pick.integers(len(self)))
        raise RuntimeError(f"{self.max_retries + 1} samples in a row failed: " + "; ".join(failures))

    def load(self, index: int, rng: np.random.Generator | None, indices: np.ndarray | None = None) -> dict[str, Any]:
        """Sample ``index`` or :class:`SampleError`; no substitution. ``indices`` (``(S, T)`` frame indices, e.g. a
        row of :meth:`windows`) replaces the sampled placement."""
        entry = self.entries[index]
        info = self.reader.probe(entry.path)
        indices = self.frame_indices(entry, info, rng) if indices is None else np.asarray(indices)
        frames = torch.from_numpy(self.reader.read(entry.path, indices.reshape(-1)))  # (S*T, H, W, 3)
        clips = frames.view(*indices.shape, *frames.shape[1:]).permute(0, 4, 1, 2, 3)  # (S, C, T, H, W)
        sample = {
            "video": self.views(clips, rng),
            "index": torch.tensor(index, dtype=torch.int64),
            "frame_indices": torch.from_numpy(indices.astype(np.int64)),
        }
        sample.update({k: torch.tensor(entry.targets.get(k, -1), dtype=torch.int64) for k in self.targets})
        sample.update(self.extras(entry, indices))
        return sample

    def frame_range(self, entry: ClipEntry, info: VideoInfo) -> tuple[int, int]:
        """``[first, stop)``: the entry's frame range clipped to what decodes."""
        first, stop = entry.frames or (0, info.num_frames)
        return max(0, first), min(stop, info.num_frames)

    def frame_indices(self, entry: ClipEntry, info: VideoInfo, rng: np.random.Generator | None) -> np.ndarray:
        """``(num_segments, T)`` decodable-frame indices within :meth:`frame_range`."""
        first, stop = self.frame_range(entry, info)
        return sample_clips(self.spec, stop - first, info.fps, rng, first=first, path=entry.path)

    def windows(self, index: int) -> np.ndarray:
        """``(W, T)``: every distinct clip training or evaluation can read from an entry, by increasing start
        (:class:`SampleError` when the file cannot be probed or is too short).

        Args:
            index: the entry.
        """
        entry = self.entries[index]
        info = self.reader.probe(entry.path)
        first, stop = self.frame_range(entry, info)
        return clip_windows(self.spec, stop - first, info.fps, first=first, path=entry.path)

    def views(self, clips: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
        """``(S, C, T, H, W)`` -> ``(S * num_views, C, T, h, w)``, segment-major."""
        n = self.spec.num_views
        if self.transform is None:
            return clips.repeat_interleave(n, dim=0)
        return torch.stack([v for clip in clips for v in self.transform(clip, n, rng)])

    def extras(self, entry: ClipEntry, indices: np.ndarray) -> dict[str, torch.Tensor]:
        """Format-specific sample fields beyond video and labels (DROID states and actions)."""
        return {}
