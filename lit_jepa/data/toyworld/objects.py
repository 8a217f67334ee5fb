"""Sprites with per-frame poses, the simple physics that produces them, and scenes that render them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lit_jepa.data.toyworld.render import draw, to_uint8


@dataclass
class Sprite:
    """One object over ``T`` frames: static appearance plus per-frame pose arrays (all of length ``T``).

    ``x``, ``y``, ``radius`` are pixels; ``angle`` radians (counter-clockwise on screen); ``alpha`` opacity;
    ``stretch`` is ``(T, 2)`` scaling of the unit shape along its own axes. Larger ``depth`` draws on top.
    """

    shape: str
    color: np.ndarray
    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray
    angle: np.ndarray
    alpha: np.ndarray
    stretch: np.ndarray
    depth: int = 0

    @classmethod
    def make(
        cls,
        shape: str,
        color: np.ndarray,
        x: np.ndarray | float,
        y: np.ndarray | float,
        radius: np.ndarray | float,
        num_frames: int,
        angle: np.ndarray | float = 0.0,
        alpha: np.ndarray | float = 1.0,
        stretch: np.ndarray | tuple[float, float] = (1.0, 1.0),
        depth: int = 0,
    ) -> Sprite:
        """Broadcast scalars (static properties) to ``num_frames`` frames."""

        def per_frame(v: np.ndarray | float, tail: tuple[int, ...] = ()) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, np.float32), (num_frames, *tail)).copy()

        return cls(
            shape, np.asarray(color, np.float32), per_frame(x), per_frame(y), per_frame(radius),
            per_frame(angle), per_frame(alpha), per_frame(stretch, (2,)), depth,
        )

    def reversed(self) -> Sprite:
        """The same sprite played backwards in time."""
        return Sprite(
            self.shape, self.color, self.x[::-1].copy(), self.y[::-1].copy(), self.radius[::-1].copy(),
            self.angle[::-1].copy(), self.alpha[::-1].copy(), self.stretch[::-1].copy(), self.depth,
        )


def ballistic(
    x0: float,
    y0: float,
    vx: float,
    vy: float,
    num_frames: int,
    size: float,
    margin: float,
    gravity: float = 0.0,
    restitution: float = 1.0,
    substeps: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of a point under constant gravity (pixels per frame², +y is down) that bounces off the walls.

    Walls sit ``margin`` pixels inside the ``size`` × ``size`` frame; a bounce reflects the normal velocity
    scaled by ``restitution``. Returns ``(x, y)`` arrays of length ``num_frames`` with frame 0 at (x0, y0).
    """
    lo, hi = margin, size - margin
    xs, ys = np.empty(num_frames, np.float32), np.empty(num_frames, np.float32)
    x, y, dt = float(x0), float(y0), 1.0 / substeps
    for t in range(num_frames):
        xs[t], ys[t] = x, y
        for _ in range(substeps):
            vy += gravity * dt
            x, y = x + vx * dt, y + vy * dt
            if x < lo or x > hi:
                x, vx = float(np.clip(2 * np.clip(x, lo, hi) - x, lo, hi)), -vx * restitution
            if y < lo or y > hi:
                y, vy = float(np.clip(2 * np.clip(y, lo, hi) - y, lo, hi)), -vy * restitution
    return xs, ys


@dataclass
class Scene:
    """A floor image plus sprites; renders any subset of its ``num_frames`` frames."""

    floor: np.ndarray
    sprites: list[Sprite] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return len(self.sprites[0].x) if self.sprites else 1

    def render(self, frame_indices: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Frames ``(T, H, W, 3)`` uint8 at ``frame_indices`` (default: all)."""
        idx = np.arange(self.num_frames) if frame_indices is None else np.asarray(frame_indices)
        base = self.floor.astype(np.float32)
        order = sorted(self.sprites, key=lambda s: s.depth)
        out = np.empty((len(idx), *self.floor.shape), np.uint8)
        for i, t in enumerate(idx):
            img = base.copy()
            for s in order:
                draw(img, s.shape, s.x[t], s.y[t], s.radius[t], s.angle[t], s.color, s.alpha[t], tuple(s.stretch[t]))
            out[i] = to_uint8(img)
        return out

    def reversed(self) -> Scene:
        """The scene played backwards."""
        return Scene(self.floor, [s.reversed() for s in self.sprites])
