"""What every ToyWorld task shares: seeding, the classification-task interface and random props."""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod

import numpy as np

from lit_jepa.data.toyworld.objects import Scene, Sprite, ballistic
from lit_jepa.data.toyworld.render import PALETTE, SHAPES


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator for sample ``index`` of ``split``: independent of every other sample and of split sizes."""
    return np.random.default_rng([seed, zlib.crc32(split.encode()), index])


def random_color(rng: np.random.Generator) -> np.ndarray:
    """A palette colour with a little jitter (always brighter than the floor)."""
    return np.clip(PALETTE[rng.integers(len(PALETTE))] + rng.uniform(-15, 15, size=3), 0, 255).astype(np.float32)


def distractors(rng: np.random.Generator, size: int, num_frames: int, count: int) -> list[Sprite]:
    """Slowly drifting, slowly spinning props whose motion is as likely forwards as backwards in time."""
    out = []
    for _ in range(count):
        r = rng.uniform(0.05, 0.08) * size
        x, y = ballistic(
            rng.uniform(r, size - r), rng.uniform(r, size - r), *rng.uniform(-0.4, 0.4, size=2) * size / 64,
            num_frames, size, margin=r,
        )
        angle = rng.uniform(0, 2 * np.pi) + rng.uniform(-0.03, 0.03) * np.arange(num_frames)
        out.append(Sprite.make(str(rng.choice(SHAPES)), random_color(rng), x, y, r, num_frames, angle, depth=-1))
    return out


class ClipTask(ABC):
    """A video classification task: ``num_classes`` labels, one procedural scene generator per label."""

    name: str = ""
    default_frames: int = 16

    def __init__(self, resolution: int = 64, num_frames: int | None = None, fps: int = 8) -> None:
        self.resolution = resolution
        self.num_frames = num_frames or self.default_frames
        self.fps = fps

    @property
    @abstractmethod
    def class_names(self) -> tuple[str, ...]:
        """Human-readable class names, indexed by label."""

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @abstractmethod
    def scene(self, rng: np.random.Generator, label: int) -> Scene:
        """A random scene of class ``label``."""

    def sample(self, seed: int, split: str, index: int) -> tuple[Scene, int]:
        """Sample ``index`` of ``split``: labels cycle through the classes, so every split is balanced."""
        label = index % self.num_classes
        return self.scene(sample_rng(seed, split, index), label), label
