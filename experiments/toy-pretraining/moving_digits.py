"""Procedural video that is not ToyWorld, for issue 27's "the recipe generalises" check: handwritten digits (the UCI
optical-digits set, 1,797 8 x 8 images, as bundled in scikit-learn) moving over a noisy gradient, written as the
official SSv2-style video list (``<path> <label>``, mp4 clips).

Each clip is 16 frames at 64 x 64: one moving digit (upscaled to 16 x 16, a random tint) travels in a straight line at
1-2.5 pixels per frame in one of 8 directions without touching the border, beside two static distractor digits.
Labels: ``direction`` (8 classes, the video list's label) and ``digit`` (10 classes, the moving digit; in
``digits.csv`` beside the list). Nothing here is tuned to the toy recipe: it was written once, before any run on it.

    pip download scikit-learn --no-deps -d /tmp/skl && (cd /tmp/skl && unzip -o *.whl 'sklearn/datasets/data/*')
    python experiments/toy-pretraining/moving_digits.py --digits /tmp/skl/sklearn/datasets/data/digits.csv.gz \
        --out runs/exp27/digits --num 960 --num-val 480
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np

from lit_jepa.data.toyworld.video import write_mp4

SIZE, FRAMES, DIGIT = 64, 16, 16


def load_digits(path: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images (N, 8, 8) in [0, 1], labels (N,))`` of the bundled digits CSV (64 pixels 0-16, then the label)."""
    with gzip.open(path, "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    return rows[:, :64].reshape(-1, 8, 8) / 16.0, rows[:, 64].astype(int)


def background(rng: np.random.Generator) -> np.ndarray:
    """A dim random linear gradient with per-pixel noise, ``(SIZE, SIZE, 3)`` in [0, 1]."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    a, b = rng.uniform(-0.15, 0.15, size=2)
    base = rng.uniform(0.1, 0.3, size=3)
    grad = (a * xx + b * yy)[..., None] + base
    return np.clip(grad + rng.normal(0, 0.03, size=(SIZE, SIZE, 3)), 0, 1)


def paste(frame: np.ndarray, sprite: np.ndarray, x: float, y: float) -> None:
    """Alpha-paste a ``(DIGIT, DIGIT, 4)`` sprite with its top-left corner at ``(x, y)`` (bilinear sub-pixel)."""
    ix, iy = int(np.floor(x)), int(np.floor(y))
    fx, fy = x - ix, y - iy
    padded = np.zeros((DIGIT + 1, DIGIT + 1, 4))
    for dy, dx, w in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        padded[dy:dy + DIGIT, dx:dx + DIGIT] += w * sprite
    region = frame[iy:iy + DIGIT + 1, ix:ix + DIGIT + 1]
    alpha = padded[: region.shape[0], : region.shape[1], 3:]
    region[:] = region * (1 - alpha) + padded[: region.shape[0], : region.shape[1], :3] * alpha


def sprite(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An 8 x 8 digit upscaled to 16 x 16 with a random bright tint: ``(16, 16, 4)`` RGBA."""
    big = np.kron(image, np.ones((2, 2)))
    tint = rng.uniform(0.6, 1.0, size=3)
    return np.concatenate([big[..., None] * tint, big[..., None]], axis=-1)


def clip(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    """``(frames (16, 64, 64, 3) uint8, direction, digit)``."""
    direction = int(rng.integers(8))
    speed = rng.uniform(1.0, 2.5)
    vx, vy = speed * np.cos(direction * np.pi / 4), speed * np.sin(direction * np.pi / 4)
    travel_x, travel_y = vx * (FRAMES - 1), vy * (FRAMES - 1)
    hi = SIZE - DIGIT - 1
    x0 = rng.uniform(max(0, -travel_x), hi - max(0, travel_x))
    y0 = rng.uniform(max(0, -travel_y), hi - max(0, travel_y))
    idx = rng.integers(len(images), size=3)
    mover, statics = sprite(images[idx[0]], rng), [sprite(images[i], rng) for i in idx[1:]]
    spots = rng.uniform(0, hi, size=(2, 2))
    bg = background(rng)
    frames = np.empty((FRAMES, SIZE, SIZE, 3), np.uint8)
    for t in range(FRAMES):
        frame = bg.copy()
        for s, (sx, sy) in zip(statics, spots):
            paste(frame, s, sx, sy)
        paste(frame, mover, x0 + vx * t, y0 + vy * t)
        frames[t] = np.round(255 * np.clip(frame, 0, 1))
    return frames, direction, int(labels[idx[0]])


def write(images: np.ndarray, labels: np.ndarray, out: Path, split: str, num: int, seed: int) -> None:
    rng = np.random.default_rng([seed, 0 if split == "train" else 1])
    (out / "videos" / split).mkdir(parents=True, exist_ok=True)
    lines, digits = [], []
    for i in range(num):
        frames, direction, digit = clip(images, labels, rng)
        rel = f"videos/{split}/{i:05d}.mp4"
        write_mp4(out / rel, frames, fps=8)
        lines.append(f"{rel} {direction}")
        digits.append(f"{rel} {digit}")
    (out / f"{split}.csv").write_text("\n".join(lines) + "\n")
    (out / f"{split}_digits.csv").write_text("\n".join(digits) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--digits", required=True, help="scikit-learn's sklearn/datasets/data/digits.csv.gz")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--num", type=int, default=960)
    p.add_argument("--num-val", type=int, default=480)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    images, labels = load_digits(a.digits)
    write(images, labels, a.out, "train", a.num, a.seed)
    write(images, labels, a.out, "val", a.num_val, a.seed)
    print(f"wrote {a.num} + {a.num_val} clips to {a.out}")


if __name__ == "__main__":
    main()
