"""The ``dynamics`` task: its label is the direction and speed band of the one object that moves on its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lit_jepa.data.datasets import open_annotation
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.toyworld import generate
from lit_jepa.data.toyworld.tasks.dynamics import DIRECTIONS, SPEEDS, DynamicsTask


def test_label_is_the_direction_and_speed_of_the_actor() -> None:
    task = DynamicsTask(64)
    assert task.num_classes == len(DIRECTIONS) * len(SPEEDS) == 16
    for index in range(64):
        scene, label = task.sample(3, "train", index)
        actor = max(scene.sprites, key=lambda s: s.depth)
        dx, dy = np.diff(actor.x), np.diff(actor.y)
        angle = np.rad2deg(np.arctan2(dy.mean(), dx.mean())) % 360
        direction, speed = divmod(label, len(SPEEDS))
        assert min(abs(angle - 45 * direction), 360 - abs(angle - 45 * direction)) <= 10 + 1e-6
        lo, hi = list(SPEEDS.values())[speed]
        assert np.allclose(np.hypot(dx, dy), np.hypot(dx, dy)[0]) and lo - 1e-9 <= np.hypot(dx, dy)[0] <= hi + 1e-9
        r = actor.radius[0]
        assert (actor.x.min() >= r - 1e-6) and (actor.x.max() <= 64 - r + 1e-6)  # never touches a wall
        assert (actor.y.min() >= r - 1e-6) and (actor.y.max() <= 64 - r + 1e-6)


def test_written_in_the_official_video_list_format(tmp_path: Path) -> None:
    root = generate("dynamics", tmp_path / "dyn", 16, 0, num_val=16)
    lines = (root / "val.csv").read_text().splitlines()
    assert sorted(int(line.split()[1]) for line in lines) == list(range(16))
    dataset = open_annotation(str(root / "val.csv"), spec=ClipSpec(frames_per_clip=16, frame_step=1))
    sample = dataset[0]
    assert tuple(sample["video"].shape) == (1, 3, 16, 64, 64) and int(sample["label"]) == int(lines[0].split()[1])
