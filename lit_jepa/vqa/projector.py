"""Projectors from encoder tokens ``(B, N, D)`` to language-model embeddings ``(B, M, H)``."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lit_jepa.nn.probe import AttentivePooler


class MLPProjector(nn.Module):
    """Per-token two-layer MLP (LLaVA-1.5 style): ``M = N``."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, out_dim), nn.GELU(), nn.Linear(out_dim, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PoolerProjector(nn.Module):
    """An attentive pooler compresses the tokens to ``num_queries`` (``M``), then a linear layer maps width.

    The pooler sees no token positions; ``num_tokens`` adds a learned position embedding for that fixed token
    count first (the encoder's RoPE leaves position only implicit in its output tokens).
    """

    def __init__(self, in_dim: int, out_dim: int, num_queries: int = 8, depth: int = 1, num_heads: int = 4,
                 num_tokens: int | None = None) -> None:
        super().__init__()
        self.pos_embed = None if num_tokens is None else nn.Parameter(torch.zeros(1, num_tokens, in_dim))
        if self.pos_embed is not None:
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.pooler = AttentivePooler(in_dim, num_heads, depth, num_queries)
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        if self.pos_embed is not None:
            if x.shape[1] != self.pos_embed.shape[1]:
                raise ValueError(f"PoolerProjector: {x.shape[1]} tokens, position embedding for "
                                 f"{self.pos_embed.shape[1]}")
            x = x + self.pos_embed
        return self.proj(self.pooler(x))


def build_projector(kind: str, in_dim: int, out_dim: int, num_queries: int, depth: int, num_heads: int,
                    num_tokens: int | None = None) -> nn.Module:
    if kind == "mlp":
        return MLPProjector(in_dim, out_dim)
    if kind == "pooler":
        return PoolerProjector(in_dim, out_dim, num_queries, depth, num_heads, num_tokens)
    raise ValueError(f"projector must be 'mlp' or 'pooler', got {kind!r}")
