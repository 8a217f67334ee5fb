"""Pictures for TensorBoard, from arrays: frame grids of clips, planning rollouts, confusion matrices.

Images are float ``(3, H, W)`` in ``[0, 1]`` for ``add_image``. Clips go to ``add_video`` when moviepy (the GIF
encoder TensorBoard needs) is installed, and to ``add_image`` as a frame grid otherwise (:func:`log_clip`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor


def frame_grid(rows: Sequence[Tensor], gap: int = 2) -> Tensor:
    """One image ``(3, R * (H + gap) - gap, T * (W + gap) - gap)`` of clips ``(3, T, H, W)`` in ``[0, 1]``: one row
    per clip, time from left to right, white gaps.

    Args:
        rows: the clips, all of one shape.
        gap: pixels between frames and rows.
    """
    c, t, h, w = rows[0].shape
    out = torch.ones(c, len(rows) * (h + gap) - gap, t * (w + gap) - gap)
    for r, clip in enumerate(rows):
        for i in range(t):
            out[:, r * (h + gap):r * (h + gap) + h, i * (w + gap):i * (w + gap) + w] = clip[:, i].float().cpu()
    return out


def can_encode_video() -> bool:
    """Whether TensorBoard's ``add_video`` can encode (it needs moviepy and writes nothing without it)."""
    return importlib.util.find_spec("moviepy") is not None


def log_clip(experiment: Any, tag: str, rows: Sequence[Tensor], step: int, fps: int = 4) -> None:
    """Log clips ``(3, T, H, W)`` in ``[0, 1]`` side by side as one video (``add_video``) or, without moviepy, as
    a frame grid (``add_image``, one row per clip).

    Args:
        experiment: a ``SummaryWriter``.
        tag: the TensorBoard tag.
        rows: the clips, all of one shape.
        step: the global step.
        fps: frames per second of the video.
    """
    if can_encode_video():
        video = torch.cat([r.float().cpu() for r in rows], dim=-1)  # (3, T, H, R * W)
        experiment.add_video(tag, video.permute(1, 0, 2, 3).unsqueeze(0), step, fps=fps)
    else:
        experiment.add_image(tag, frame_grid(rows), step)


def rollout_grid(start: np.ndarray, reached: np.ndarray, goal: np.ndarray, gap: int = 2) -> Tensor:
    """One image of planning episodes: a row per episode with its start, reached and goal frames.

    Args:
        start: first observations ``(E, H, W, 3)`` uint8.
        reached: last observations ``(E, H, W, 3)`` uint8.
        goal: goal images ``(E, H, W, 3)`` uint8.
        gap: pixels between the pictures.
    """
    frames = np.stack([start, reached, goal], axis=1)  # (E, 3 pictures, H, W, 3)
    clips = torch.from_numpy(frames).permute(0, 4, 1, 2, 3).float() / 255.0  # (E, 3, pictures, H, W)
    return frame_grid(list(clips), gap)


def confusion_image(matrix: np.ndarray, scale: int = 8) -> Tensor:
    """A ``(3, H, W)`` heat map of a confusion matrix, each row normalised (white = 0, dark blue = all of the row).

    Args:
        matrix: counts ``(C, C)``, row = true class.
        scale: pixels per cell.
    """
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    v = torch.from_numpy(rows).float().repeat_interleave(scale, 0).repeat_interleave(scale, 1)
    return torch.stack([1 - 0.9 * v, 1 - 0.7 * v, 1 - 0.3 * v])


def log_confusion(experiment: Any, tag: str, matrix: np.ndarray, names: Sequence[str] | None, step: int) -> None:
    """Log a confusion matrix: a labelled matplotlib figure (``add_figure``) when matplotlib imports, otherwise
    :func:`confusion_image` (``add_image``).

    Args:
        experiment: a ``SummaryWriter``.
        tag: the TensorBoard tag.
        matrix: counts ``(C, C)``, row = true class.
        names: class names for the axes (``None``: indices).
        step: the global step.
    """
    if importlib.util.find_spec("matplotlib") is None:
        experiment.add_image(tag, confusion_image(matrix), step)
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(matrix)
    labels = list(names)[:n] if names and len(names) >= n else [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(2 + 0.3 * n, 2 + 0.3 * n))
    ax.imshow(matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true")
    ax.set_xticklabels(labels, rotation=90, fontsize=6)
    ax.set_yticklabels(labels, fontsize=6)
    fig.tight_layout()
    experiment.add_figure(tag, fig, step)  # closes the figure
