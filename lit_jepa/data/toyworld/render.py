"""Numpy rasteriser: textured floors and anti-aliased convex sprites drawn from signed distances.

Coordinates are in pixels of the output image, x to the right and y downward; angles are radians,
counter-clockwise as seen on screen. Everything is deterministic and allocation-light.
"""

from __future__ import annotations

import numpy as np

# Unit shapes: polygons as (N, 2) vertices of a shape of "radius" 1 (counter-clockwise on screen); the
# triangle and arrow are not rotation-symmetric, so a single sprite shows its orientation.
_POLYGONS: dict[str, np.ndarray] = {
    "square": np.array([[-0.8, -0.8], [-0.8, 0.8], [0.8, 0.8], [0.8, -0.8]]),
    "diamond": np.array([[0.0, -1.0], [-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]),
    "triangle": np.array([[0.0, -1.0], [-0.87, 0.5], [0.87, 0.5]]),
    "bar": np.array([[-0.3, -1.0], [-0.3, 1.0], [0.3, 1.0], [0.3, -1.0]]),
    "arrow": np.array([[-0.35, -1.0], [-0.35, 1.0], [0.35, 0.6], [0.35, -1.0]]),
    "hexagon": np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 6, endpoint=False)]),
}
SHAPES: tuple[str, ...] = ("circle", "ring", *_POLYGONS)

# Saturated colours, all brighter than any floor texel (see ``floor``), so motion changes brightness.
PALETTE: np.ndarray = np.array(
    [
        [230, 60, 60], [60, 200, 80], [70, 110, 240], [240, 210, 50], [220, 80, 220],
        [60, 210, 220], [250, 140, 40], [235, 235, 235],
    ],
    dtype=np.float32,
)


def floor(rng: np.random.Generator, size: int, dark: tuple[int, int] = (25, 95)) -> np.ndarray:
    """A smooth random texture (sum of a few low-frequency sinusoids plus a tile grid), ``(size, size, 3)`` uint8.

    Values stay in ``dark`` so that every palette colour is brighter than the floor.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    tex = np.zeros((size, size), np.float32)
    for _ in range(4):
        fx, fy = rng.uniform(1.0, 6.0, size=2) * rng.choice([-1.0, 1.0], size=2)
        tex += np.sin(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
    tile = rng.integers(4, 9)
    tex += 0.8 * ((np.floor(xx * tile) + np.floor(yy * tile)) % 2)
    tex = (tex - tex.min()) / max(float(np.ptp(tex)), 1e-6)
    tint = rng.uniform(0.7, 1.0, size=3).astype(np.float32)
    img = dark[0] + (dark[1] - dark[0]) * tex[..., None] * tint
    return img.astype(np.uint8)


def _polygon_sdf(px: np.ndarray, py: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) to a convex polygon; exact inside, a tight lower bound outside."""
    nxt = np.roll(verts, -1, axis=0)
    edge = nxt - verts
    normal = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    centre = verts.mean(axis=0)
    sign = np.sign(((centre - verts) * normal).sum(axis=1))  # make normals point outward
    normal *= -sign[:, None]
    d = (px[..., None] - verts[:, 0]) * normal[:, 0] + (py[..., None] - verts[:, 1]) * normal[:, 1]
    return d.max(axis=-1)


def shape_sdf(shape: str, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Signed distance of unit ``shape`` at points (px, py) given in the shape's own unit frame."""
    if shape == "circle":
        return np.hypot(px, py) - 1.0
    if shape == "ring":
        return np.abs(np.hypot(px, py) - 0.75) - 0.25
    return _polygon_sdf(px, py, _POLYGONS[shape])


def draw(
    img: np.ndarray,
    shape: str,
    cx: float,
    cy: float,
    radius: float,
    angle: float = 0.0,
    color: np.ndarray | tuple[float, float, float] = (255.0, 255.0, 255.0),
    alpha: float = 1.0,
    stretch: tuple[float, float] = (1.0, 1.0),
) -> None:
    """Blend one sprite into ``img`` (float32 ``(H, W, 3)``) in place.

    ``radius`` is in pixels; ``stretch`` scales the unit shape along its own x and y axes before rotation.
    Edges are anti-aliased over one pixel, so sub-pixel motion and rotation change the image.
    """
    if alpha <= 0.0 or radius <= 0.0:
        return
    h, w = img.shape[:2]
    reach = radius * max(stretch) + 2.0
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 2, w)
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xx + 0.5 - cx, yy + 0.5 - cy
    c, s = np.cos(angle), np.sin(angle)
    # screen y points down, so a counter-clockwise rotation on screen uses -angle in image coordinates
    ux, uy = c * dx - s * dy, s * dx + c * dy
    scale = radius * np.array(stretch, np.float32)
    sdf = shape_sdf(shape, ux / scale[0], uy / scale[1]) * radius * min(stretch)
    cover = np.clip(0.5 - sdf, 0.0, 1.0)[..., None] * alpha
    patch = img[y0:y1, x0:x1]
    patch += cover * (np.asarray(color, np.float32) - patch)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round a float canvas to uint8."""
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)
