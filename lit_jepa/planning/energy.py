"""Planning energies: L1 between the final predicted frame and the goal (paper Eq. 5; or the squared error), its
multi-scale variant on Gaussian-blurred token maps, and the optional proprio term.

The plain L1 is flat once the imagined agent no longer overlaps the goal's: every far position costs the same, so a
short-horizon planner has no slope to follow. Adding the L1 of blurred copies of both token maps
(:func:`multiscale_energy`) keeps the sharp term's minimum and gives far positions a slope toward the goal.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_jepa.geometry import POSE_DIM


def l1_energy(pred: Tensor, goal: Tensor) -> Tensor:
    """``mean |pred - goal|`` over the tokens and features of one frame: ``(..., N, D)`` -> ``(...)``."""
    return (pred - goal).abs().mean(dim=(-2, -1))


def gaussian_blur(maps: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur of feature maps ``(B, D, H, W)`` in token units, edges replicated; ``sigma`` 0 is
    the identity. The kernel radius is ``ceil(3 sigma)``, capped at the map size minus one."""
    if sigma < 0:
        raise ValueError(f"gaussian_blur: sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return maps
    radius = min(math.ceil(3 * sigma), min(maps.shape[-2:]) - 1)
    if radius < 1:
        return maps
    t = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    D = maps.shape[1]
    x = F.pad(maps, (radius,) * 4, mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(D, 1, 1, -1), groups=D)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(D, 1, -1, 1), groups=D)


@functools.lru_cache(maxsize=32)
def blur_matrix(sigma: float, size: int, device: torch.device | None = None,
                dtype: torch.dtype = torch.float32) -> Tensor:
    """:func:`gaussian_blur` of ``size`` x ``size`` maps as one ``(size**2, size**2)`` matrix: ``maps.flatten(-2) @ M``
    blurs every feature map at once (one matmul instead of two depthwise convolutions, for training losses). Cached
    per arguments, since a training loss asks for the same few every step; do not modify the result in place."""
    basis = torch.eye(size * size, device=device, dtype=dtype).view(size * size, 1, size, size)
    return gaussian_blur(basis, sigma).flatten(1)


def blur_levels(maps: Tensor, sigmas: tuple[float, ...]) -> Tensor:
    """``(L, B, D, H, W)``: ``maps`` ``(B, D, H, W)`` blurred at each of the ``L`` ``sigmas``."""
    return torch.stack([gaussian_blur(maps, s) for s in sigmas])


def level_energies(pred_levels: Tensor, goal_levels: Tensor, p: float = 1.0) -> Tensor:
    """The mean ``|pred - goal| ** p`` (``p`` 1: L1; 2: the squared error, EB-JEPA's) between :func:`blur_levels`
    of predictions and goals at each level: ``(L, ..., D, H, W)`` (broadcast) -> ``(L, ...)``."""
    diff = (pred_levels - goal_levels).abs()
    return (diff if p == 1 else diff.pow(p)).mean(dim=(-3, -2, -1))


def multiscale_energy(pred_levels: Tensor, goal_levels: Tensor, p: float = 1.0) -> Tensor:
    """Sum over levels of :func:`level_energies`: ``(L, ..., D, H, W)`` (broadcast) -> ``(...)``. With the single
    level ``sigma = 0`` and ``p = 1`` it equals :func:`l1_energy` on the same tokens."""
    return level_energies(pred_levels, goal_levels, p).sum(0)


def proprio_energy(state: Tensor, goal_state: Tensor) -> Tensor:
    """``mean |state - goal_state|`` over the position (xyz) and gripper of 7-D poses (``(..., 7)`` -> ``(...)``),
    over every dimension of states of any other size."""
    diff = (state - goal_state).abs()
    if state.shape[-1] != POSE_DIM:
        return diff.mean(-1)
    return (diff[..., :3].sum(-1) + diff[..., 6]) / 4
