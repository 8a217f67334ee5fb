"""Feature-collapse monitors: cheap statistics that fall towards zero when representations collapse."""

from __future__ import annotations

import torch
from torch import Tensor


@torch.no_grad()
def feature_stats(features: Tensor, max_tokens: int = 2048) -> dict[str, float]:
    """Per-dimension standard deviation (mean and min over dimensions) and effective rank of ``(..., D)``
    features, over at most ``max_tokens`` evenly spaced tokens. The effective rank is ``exp(entropy)`` of the
    normalised singular values of the centred feature matrix (Roy & Vetterli, 2007): between 1 (collapse to
    a line) and ``D``."""
    x = features.detach().reshape(-1, features.shape[-1]).float()
    if x.shape[0] > max_tokens:
        x = x[torch.linspace(0, x.shape[0] - 1, max_tokens, device=x.device).long()]
    std = x.std(dim=0)
    s = torch.linalg.svdvals(x - x.mean(dim=0))
    p = s / s.sum().clamp_min(1e-12)
    rank = torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())
    return {"std_mean": std.mean().item(), "std_min": std.min().item(), "effective_rank": rank.item()}
