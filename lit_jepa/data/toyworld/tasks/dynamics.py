"""``dynamics``: direction and speed of one moving object, 16 classes (8 directions x slow / fast).

A probe target that needs the dynamics itself: every frame of a clip shows one object of random shape and colour
at some position, and only its displacement over time gives the label. The object travels in a straight line at
constant speed (direction within +-10 degrees of one of 8 compass directions, speed in one of two
non-overlapping bands) and never touches a wall; one or two slowly drifting distractors move as likely one way as
the other.
"""

from __future__ import annotations

import numpy as np

from lit_jepa.data.toyworld.objects import Scene, Sprite
from lit_jepa.data.toyworld.render import SHAPES, floor
from lit_jepa.data.toyworld.tasks.base import ClipTask, distractors, random_color

DIRECTIONS = ("right", "down-right", "down", "down-left", "left", "up-left", "up", "up-right")  # image axes, +y down
SPEEDS = {"slowly": (0.6, 1.0), "fast": (1.6, 2.1)}  # pixels per frame at 64 px (scaled with the resolution)


class DynamicsTask(ClipTask):
    """Direction (8) x speed (2) of one object moving in a straight line; class ``2 * direction + speed``."""

    name = "dynamics"
    default_frames = 16

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(f"moving {d} {s}" for d in DIRECTIONS for s in SPEEDS)

    def scene(self, rng: np.random.Generator, label: int) -> Scene:
        s, n = self.resolution, self.num_frames
        direction, speed = divmod(label, len(SPEEDS))
        theta = np.deg2rad(45.0 * direction + rng.uniform(-10, 10))
        v = rng.uniform(*list(SPEEDS.values())[speed]) * s / 64
        r = rng.uniform(0.07, 0.1) * s
        travel = v * (n - 1) * np.array([np.cos(theta), np.sin(theta)])
        lo = r + np.maximum(-travel, 0)  # start so that the whole path stays inside the frame
        hi = s - r - np.maximum(travel, 0)
        start = rng.uniform(lo, hi)
        t = np.linspace(0, 1, n)
        x, y = start[0] + travel[0] * t, start[1] + travel[1] * t
        actor = Sprite.make(str(rng.choice(SHAPES)), random_color(rng), x, y, r, n, rng.uniform(0, 2 * np.pi),
                            depth=1)
        return Scene(floor(rng, s), [actor, *distractors(rng, s, n, int(rng.integers(1, 3)))])
