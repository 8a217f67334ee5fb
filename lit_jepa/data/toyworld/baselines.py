"""Pixel baselines that check ``motion`` is learnable only from temporal order (numpy ridge classifiers).

- single frame: a linear classifier on the pixels of one random frame of each clip;
- two-frame difference: a linear classifier on (last frame - first frame).

Pixels are average-pooled ``pool`` x ``pool`` and standardised. The pair accuracy scores each clip only on
its own time-reversal pair (chance 50 %): a single frame cannot tell a pair apart by construction.
"""

from __future__ import annotations

import numpy as np

from lit_jepa.data.toyworld.tasks.base import sample_rng
from lit_jepa.data.toyworld.tasks.motion import MotionTask


def _pool(frames: np.ndarray, pool: int) -> np.ndarray:
    """``(N, H, W, 3)`` -> ``(N, H/pool * W/pool * 3)`` float64 block means."""
    n, h, w, c = frames.shape
    return frames.reshape(n, h // pool, pool, w // pool, pool, c).mean(axis=(2, 4)).reshape(n, -1)


def motion_features(
    num: int, seed: int, split: str, resolution: int = 64, pool: int = 4
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(single, difference, labels)`` for ``num`` motion clips of ``split``."""
    task = MotionTask(resolution)
    single, diff, labels = [], [], []
    for i in range(num):
        scene, label = task.sample(seed, split, i)
        t = int(sample_rng(seed, f"{split}/baseline-frame", i).integers(scene.num_frames))
        frames = scene.render([t, 0, scene.num_frames - 1]).astype(np.float64)
        single.append(frames[0])
        diff.append(frames[2] - frames[1])
        labels.append(label)
    return _pool(np.stack(single), pool), _pool(np.stack(diff), pool), np.array(labels)


def ridge_scores(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, num_classes: int,
                 l2: float = 10.0) -> np.ndarray:
    """One-vs-rest ridge regression on standardised features; returns class scores ``(N_test, num_classes)``.

    Solved in the dual (``N_train`` x ``N_train``), since features outnumber samples; ``l2`` is per sample.
    """
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    a, b = (x_train - mean) / std, (x_test - mean) / std
    targets = np.eye(num_classes)[y_train] * 2 - 1
    gram = a @ a.T + l2 * len(a) * np.eye(len(a))
    return b @ (a.T @ np.linalg.solve(gram, targets))


def pair_accuracy(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per time-reversal pair, the accuracy when each clip only chooses between the two classes of its pair."""
    pair = labels // 2 * 2
    rows = np.arange(len(labels))
    correct = np.where(scores[rows, pair] >= scores[rows, pair + 1], pair, pair + 1) == labels
    return np.array([correct[pair == p].mean() for p in range(0, scores.shape[1], 2)])


def motion_baselines(num_train: int, num_test: int, seed: int = 0, resolution: int = 64, pool: int = 4,
                     l2: float = 10.0) -> dict[str, float | list[float]]:
    """Train on ``num_train`` and score ``num_test`` held-out clips: 24-way accuracy and pair accuracy (mean and
    per pair, in ``PAIRS`` order) of both baselines. Balanced splits make the mean over pairs the overall one."""
    num_classes = MotionTask(resolution).num_classes
    s_tr, d_tr, y_tr = motion_features(num_train, seed, "train", resolution, pool)
    s_te, d_te, y_te = motion_features(num_test, seed, "val", resolution, pool)
    out = {"chance": 1.0 / num_classes, "pair_chance": 0.5}
    for name, x_tr, x_te in (("single_frame", s_tr, s_te), ("frame_difference", d_tr, d_te)):
        scores = ridge_scores(x_tr, y_tr, x_te, num_classes, l2)
        out[f"{name}_accuracy"] = float((scores.argmax(1) == y_te).mean())
        per_pair = pair_accuracy(scores, y_te)
        out[f"{name}_pair_accuracy"] = float(per_pair.mean())
        out[f"{name}_pair_accuracy_by_pair"] = per_pair.round(4).tolist()
    return out
