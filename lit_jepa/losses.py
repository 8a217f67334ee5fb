"""Losses shared by the tasks: the JEPA regression loss, target normalisation and the EK100 focal loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def jepa_loss(pred: Tensor, target: Tensor, p: float = 1.0) -> Tensor:
    """``mean(|pred - target| ** p) / p`` over all elements (official ``loss_exp``; ``p = 1``: L1)."""
    return (pred - target).abs().pow(p).mean() / p


def normalize_targets(h: Tensor) -> Tensor:
    """Layer norm over the feature dimension without affine parameters (applied to the teacher's tokens)."""
    return F.layer_norm(h, h.shape[-1:])


def sigmoid_focal_loss(logits: Tensor, targets_onehot: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "sum") -> Tensor:
    """RetinaNet focal loss on per-class sigmoids, as the official EK100 probe uses it (``reduction="sum"``).

    ``-alpha_t * (1 - p_t) ** gamma * log(p_t)`` per element, with ``p_t`` the probability of the target value
    and ``alpha_t = alpha`` on positives, ``1 - alpha`` on negatives (``alpha < 0``: no weighting).
    ``reduction``: ``"sum"``, ``"mean"`` or ``"none"``.
    """
    if reduction not in ("sum", "mean", "none"):
        raise ValueError(f"reduction must be 'sum', 'mean' or 'none', got {reduction!r}")
    targets = targets_onehot.to(logits.dtype)
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none") * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return loss.sum() if reduction == "sum" else loss.mean() if reduction == "mean" else loss
