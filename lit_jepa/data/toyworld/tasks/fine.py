"""``fine``: the Diving-48 analogue. 24 dives = take-off (4) x somersaults (3) x flight position (2).

Every dive looks the same: one diver sprite (random colour) stands on a board, flies a ballistic arc of
fixed duration and enters a water band (a static occluder) head first. Classes differ only in motion:

- take-off: ``run`` (fast, flat arc) or ``stand`` (slow, high arc), each rotating ``forward`` (towards
  the direction of travel) or ``back``;
- somersaults: 0.5, 1.5 or 2.5 turns during the flight, so every dive enters head down;
- position: ``straight`` or ``tuck`` (the body shortens to half length mid-flight).

Scenes are mirrored at random, so screen rotation direction alone does not give the take-off.
"""

from __future__ import annotations

import itertools

import numpy as np

from lit_jepa.data.toyworld.objects import Scene, Sprite
from lit_jepa.data.toyworld.render import floor
from lit_jepa.data.toyworld.tasks.base import ClipTask, random_color

TAKEOFFS: tuple[str, ...] = ("run forward", "run back", "stand forward", "stand back")
SOMERSAULTS: tuple[float, ...] = (0.5, 1.5, 2.5)
POSITIONS: tuple[str, ...] = ("straight", "tuck")
_COMBOS: tuple[tuple[str, float, str], ...] = tuple(itertools.product(TAKEOFFS, SOMERSAULTS, POSITIONS))
VOCAB: tuple[tuple[str, str, str], ...] = tuple((t, f"{s} somersaults", p) for t, s, p in _COMBOS)
_WATER = np.array([40.0, 90.0, 200.0], np.float32)
_BOARD = np.array([200.0, 200.0, 200.0], np.float32)


class FineTask(ClipTask):
    """Fine-grained temporal structure: compositions of take-off, rotation count and body position."""

    name = "fine"
    default_frames = 32

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(" / ".join(v) for v in VOCAB)

    def scene(self, rng: np.random.Generator, label: int) -> Scene:
        takeoff, turns, position = _COMBOS[label]
        s, n = self.resolution, self.num_frames
        stand, entry = max(n // 8, 1), n - max(n // 8, 1)  # frames on the board; frame of water entry
        flight = entry - stand
        water_y = 0.85 * s
        mirror = rng.choice([-1.0, 1.0])
        x0 = rng.uniform(0.12, 0.2) * s
        y0 = rng.uniform(0.3, 0.36) * s
        body = rng.uniform(0.09, 0.11) * s
        run = takeoff.startswith("run")
        travel = (rng.uniform(0.45, 0.55) if run else rng.uniform(0.15, 0.22)) * s
        apex = (rng.uniform(0.03, 0.06) if run else rng.uniform(0.1, 0.14)) * s  # rise above the board
        # screen-y parabola y(u) = y0 - b u + (drop + b) u^2: rises by ``apex``, then reaches the water at u = 1
        drop = water_y + body - y0
        b = 2.0 * (apex + np.sqrt(apex**2 + apex * drop))
        t = np.arange(n, dtype=np.float32)
        u = np.clip((t - stand) / flight, 0.0, None)
        y = y0 - b * u + (drop + b) * u**2
        x = x0 + travel * np.minimum(u, 1.0) + 0.1 * travel * np.maximum(u - 1.0, 0.0)
        spin = (1.0 if takeoff.endswith("forward") else -1.0) * turns * 2 * np.pi
        angle = -spin * np.minimum(u, 1.0)  # forward = clockwise when travelling right on screen
        tuck = 1.0 - 0.5 * np.sin(np.pi * np.minimum(u, 1.0)) ** 2 if position == "tuck" else np.ones(n)
        stretch = np.stack([np.ones(n), tuck], axis=1)
        if mirror < 0:
            x, angle = s - x, -angle
        diver = Sprite.make("arrow", random_color(rng), x, y, body, n, angle, stretch=stretch, depth=1)
        board_x = x0 - 0.1 * s if mirror > 0 else s - x0 + 0.1 * s
        board = Sprite.make("bar", _BOARD, board_x, y0 + body + 0.02 * s, 0.12 * s, n, np.pi / 2, stretch=(0.5, 1.0))
        water = Sprite.make("square", _WATER, s / 2, water_y + 0.8 * s, s, n, 0.0, depth=2)
        return Scene(floor(rng, s), [board, diver, water])
