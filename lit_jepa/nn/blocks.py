"""Transformer building blocks with the official V-JEPA 2 parameter names.

``Block`` is a pre-norm block (``norm1``, ``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``);
attention runs through ``F.scaled_dot_product_attention`` and optionally applies RoPE tables that the
caller computed once per forward (see :mod:`lit_jepa.nn.rope`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_jepa.nn.rope import apply_rope

Rope = tuple[Tensor, Tensor]


class MLP(nn.Module):
    """``fc1 -> GELU -> fc2``."""

    def __init__(self, dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """Multi-head self-attention with a fused ``qkv`` projection and optional RoPE."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor, rope: Rope | None = None, attn_mask: Tensor | None = None) -> Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).view(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if rope is None:
            q, k = qkv[0], qkv[1]
        else:
            q, k = apply_rope(qkv[:2], rope[0].unsqueeze(0), rope[1].unsqueeze(0)).unbind(0)
        out = F.scaled_dot_product_attention(q, k, qkv[2], attn_mask=attn_mask)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor, rope: Rope | None = None, attn_mask: Tensor | None = None) -> Tensor:
        x = x + self.attn(self.norm1(x), rope, attn_mask)
        return x + self.mlp(self.norm2(x))


class CrossAttention(nn.Module):
    """Queries attend to tokens: ``q`` and fused ``kv`` projections, no output projection (official layout).

    With few queries (``queries x heads < dim``, e.g. every attentive probe) the tokens are never projected: the
    key projection moves to the query side (``q_h . (W_k,h x + b_k,h) = (q_h W_k,h) . x + const``; the constant
    cancels in the softmax) and the value projection is applied after pooling (``sum_m a_m (W_v,h x_m + b_v,h) =
    W_v,h (sum_m a_m x_m) + b_v,h``, the weights summing to 1). The same function in ``O(n H N C)`` instead of
    ``O(N C^2)`` for ``N`` tokens of width ``C``; ``pool_first=False`` forces the projected form.
    """

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)
        self.pool_first = True

    def pools_first(self, num_queries: int) -> bool:
        """Whether ``num_queries`` queries take the pool-first form."""
        return self.pool_first and num_queries * self.num_heads < self.q.in_features

    def forward(self, q: Tensor, x: Tensor, scale: Tensor | None = None, shift: Tensor | None = None) -> Tensor:
        """Attend from ``q`` ``(B, n, C)`` to tokens ``scale * x + shift`` (``x`` ``(B, N, C)``; the optional
        per-feature affine of a layer norm, folded in without materialising the scaled tokens when pooling
        first)."""
        B, n, C = q.shape
        H, d = self.num_heads, self.head_dim
        q = self.q(q).view(B, n, H, d)
        if self.pools_first(n):
            w_k, w_v = self.kv.weight.view(2, H, d, C).unbind(0)
            q_k = torch.einsum("bnhd,hdc->bnhc", q, w_k) * d**-0.5
            logits = torch.einsum("bnhc,bmc->bhnm", q_k if scale is None else q_k * scale, x)  # shift: constant
            pooled = torch.einsum("bhnm,bmc->bnhc", logits.softmax(dim=-1), x)
            if scale is not None:
                pooled = pooled * scale
            if shift is not None:
                pooled = pooled + shift
            out = torch.einsum("bnhc,hdc->bnhd", pooled, w_v)
            if self.kv.bias is not None:
                out = out + self.kv.bias.view(2, H, d)[1]
            return out.reshape(B, n, C)
        if scale is not None:
            x = x * scale
        if shift is not None:
            x = x + shift
        k, v = self.kv(x).view(B, x.shape[1], 2, H, d).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q.transpose(1, 2), k, v).transpose(1, 2).reshape(B, n, C)


class CrossAttentionBlock(nn.Module):
    """``q + xattn(q, norm1(x))`` then ``q + mlp(norm2(q))``. ``norm1``'s affine is folded into the attention
    (see :class:`CrossAttention`), so the tokens are only normalised, never scaled and shifted."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.xattn = CrossAttention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def forward(self, q: Tensor, x: Tensor) -> Tensor:
        n1 = self.norm1
        x = F.layer_norm(x, n1.normalized_shape, eps=n1.eps)
        q = q + self.xattn(q, x, n1.weight, n1.bias)
        return q + self.mlp(self.norm2(q))


@torch.no_grad()
def trunc_normal_(tensor: torch.Tensor, std: float = 0.02, a: float = -2.0, b: float = 2.0) -> torch.Tensor:
    """Normal(0, std) truncated to ``[a, b]`` in absolute units, as the official ``trunc_normal_(w, std=0.02)``
    (whose default ``a, b = -2, 2`` make it an untruncated N(0, 0.02) at that std). Drawn by redrawing only the
    values outside: faster on CPU than the inverse-CDF sampling of ``nn.init.trunc_normal_``."""
    flat = tensor.view(-1).normal_(0.0, std)
    outside = ((flat < a) | (flat > b)).nonzero().squeeze(1)
    while outside.numel():
        values = torch.empty(outside.numel(), dtype=flat.dtype, device=flat.device).normal_(0.0, std)
        inside = (values >= a) & (values <= b)
        flat[outside[inside]] = values[inside]
        outside = outside[~inside]
    return tensor


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """Official init: normal (std, truncated at +-2 absolute) for Linear/Conv weights, zero biases, unit norms."""
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d | nn.Conv3d):
            trunc_normal_(m.weight, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


@torch.no_grad()
def rescale_blocks(blocks: nn.ModuleList) -> None:
    """Divide each block's ``attn.proj`` and ``mlp.fc2`` weights by ``sqrt(2 * layer_id)`` (layer_id from 1)."""
    for layer_id, block in enumerate(blocks, start=1):
        block.attn.proj.weight.div_(math.sqrt(2.0 * layer_id))
        block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer_id))


def run_blocks(blocks: nn.ModuleList, x: Tensor, rope: Rope | None, attn_mask: Tensor | None = None,
               checkpointing: bool = False, out_layers: list[int] | None = None) -> tuple[Tensor, list[Tensor]]:
    """Run ``blocks`` in order, with optional activation checkpointing; collect outputs after ``out_layers``."""
    outs = []
    for i, block in enumerate(blocks):
        if checkpointing and torch.is_grad_enabled():
            x = torch.utils.checkpoint.checkpoint(block, x, rope, attn_mask, use_reentrant=False)
        else:
            x = block(x, rope, attn_mask)
        if out_layers is not None and i in out_layers:
            outs.append(x)
    return x, outs
