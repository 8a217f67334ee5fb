"""Losses shared by the tasks: the JEPA regression loss, target normalisation and the EK100 focal loss."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor


def jepa_loss(pred: Tensor, target: Tensor, p: float = 1.0, weights: Tensor | None = None) -> Tensor:
    """``mean(|pred - target| ** p) / p`` over all elements (official ``loss_exp``; ``p = 1``: L1). ``weights``
    ``(B, N)`` scale each token's terms inside the plain mean (V-JEPA 2.1's context loss; not renormalised)."""
    err = (pred - target).abs().pow(p)
    if weights is not None:
        err = err * weights.unsqueeze(-1)
    return err.mean() / p


def motion_token_weights(clips: Tensor, patch_size: int, tubelet_size: int, motion_weight: float) -> Tensor:
    """Per-token loss weights ``(B, N)`` that favour what moves: ``1 - motion_weight + motion_weight * e``, with
    ``e`` a token's pixel motion energy (the mean absolute difference of each of its frames from the previous
    frame, over its tubelet) divided by the clip's mean energy, so the weights average 1 over a clip's tokens.
    Tokens are in :class:`~lit_jepa.nn.VisionTransformer`'s ``(t, h, w)`` order. Motion-guided objectives
    (MGMAE, Huang et al., ICCV 2023, masks moving regions) put the same emphasis on motion; a static clip gets
    uniform weights."""
    diff = (clips[:, :, 1:] - clips[:, :, :-1]).abs().mean(dim=1, keepdim=True)  # (B, 1, T - 1, H, W)
    diff = F.pad(diff, (0, 0, 0, 0, 1, 0))  # frame 0 has no previous frame
    energy = F.avg_pool3d(diff, (tubelet_size, patch_size, patch_size)).flatten(1)
    mean = energy.mean(dim=1, keepdim=True)
    energy = torch.where(mean > 1e-8, energy / mean.clamp_min(1e-8), torch.ones_like(energy))
    return 1.0 - motion_weight + motion_weight * energy


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


def sigreg(x: Tensor, num_slices: int = 256, knots: int = 17, t_max: float = 3.0, max_samples: int | None = 2048,
           generator: torch.Generator | None = None) -> Tensor:
    """SIGReg, LeJEPA's sketched isotropic Gaussian regulariser (Balestriero & LeCun, 2025, arXiv 2511.08544).

    The rows of ``x`` ``(..., D)`` are projected on ``num_slices`` random unit directions; along each, the
    Epps-Pulley statistic ``N * integral |ecf(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt`` compares the empirical
    characteristic function with the standard normal's (trapezoid rule on ``[0, t_max]``, doubled by symmetry),
    and the statistics are averaged over slices. Zero only for an isotropic standard Gaussian cloud, so it
    forbids collapse and anisotropy alike. At most ``max_samples`` evenly spaced rows are used (the statistic
    grows with ``N``, so a fixed sample count keeps the weight's meaning fixed).
    """
    x = x.reshape(-1, x.shape[-1]).float()
    if max_samples is not None and x.shape[0] > max_samples:
        x = x[torch.linspace(0, x.shape[0] - 1, max_samples, device=x.device).long()]
    directions = torch.randn(x.shape[-1], num_slices, device=x.device, generator=generator)
    directions = directions / directions.norm(dim=0, keepdim=True)
    t = torch.linspace(0.0, t_max, knots, device=x.device)
    phi = torch.exp(-0.5 * t.square())
    weights = torch.full((knots,), 2 * t_max / (knots - 1), device=x.device)
    weights[[0, -1]] /= 2
    xt = (x @ directions).unsqueeze(-1) * t  # (N, slices, knots)
    err = (xt.cos().mean(0) - phi).square() + xt.sin().mean(0).square()
    return (err @ (weights * phi)).mean() * x.shape[0]


def vicreg_variance(x: Tensor, gamma: float = 1.0, eps: float = 1e-4) -> Tensor:
    """VICReg's variance term (Bardes et al., 2022): ``mean_d relu(gamma - sqrt(var_d + eps))`` over the rows of
    ``x`` ``(..., D)``."""
    x = x.reshape(-1, x.shape[-1]).float()
    return F.relu(gamma - torch.sqrt(x.var(dim=0) + eps)).mean()


def vicreg_covariance(x: Tensor, normalize: Literal["dim", "pairs"] = "dim") -> Tensor:
    """VICReg's covariance term: the sum of squared off-diagonal covariances of the rows of ``x`` ``(..., D)``,
    divided by ``D`` (``normalize="dim"``, VICReg's) or by the ``D (D - 1)`` off-diagonal pairs (``"pairs"``, their
    mean: EB-JEPA's ``VC_IDM_Sim_Regularizer``, ``D - 1`` times smaller, so its coefficients do not carry over)."""
    if normalize not in ("dim", "pairs"):
        raise ValueError(f"vicreg_covariance: normalize must be 'dim' or 'pairs', got {normalize!r}")
    x = x.reshape(-1, x.shape[-1]).float()
    x = x - x.mean(dim=0)
    cov = (x.T @ x) / max(x.shape[0] - 1, 1)
    D = x.shape[-1]
    return (cov.square().sum() - cov.diagonal().square().sum()) / (D if normalize == "dim" else D * (D - 1))
