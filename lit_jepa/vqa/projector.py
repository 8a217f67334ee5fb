"""Projectors from encoder tokens ``(B, N, D)`` to language-model embeddings ``(B, M, H)``."""

from __future__ import annotations

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
    """An attentive pooler compresses the tokens to ``num_queries`` (``M``), then a linear layer maps width."""

    def __init__(self, in_dim: int, out_dim: int, num_queries: int = 8, depth: int = 1, num_heads: int = 4) -> None:
        super().__init__()
        self.pooler = AttentivePooler(in_dim, num_heads, depth, num_queries)
        self.proj = nn.Linear(in_dim, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.pooler(x))


def build_projector(kind: str, in_dim: int, out_dim: int, num_queries: int, depth: int, num_heads: int) -> nn.Module:
    if kind == "mlp":
        return MLPProjector(in_dim, out_dim)
    if kind == "pooler":
        return PoolerProjector(in_dim, out_dim, num_queries, depth, num_heads)
    raise ValueError(f"projector must be 'mlp' or 'pooler', got {kind!r}")
