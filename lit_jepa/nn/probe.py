"""Attentive probes: an attentive pooler (self-attention blocks, then cross-attention from learned queries)
and linear heads, with the official parameter names (``pooler.query_tokens``, ``pooler.blocks.{i}``,
``pooler.cross_attention_block``, ``linear`` / ``{verb,noun,action}_classifier``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lit_jepa.nn.blocks import Block, CrossAttentionBlock, init_weights, rescale_blocks, run_blocks, trunc_normal_


class AttentivePooler(nn.Module):
    """``depth - 1`` self-attention blocks over the tokens, then one cross-attention block from
    ``num_queries`` learned queries: ``(B, N, D) -> (B, num_queries, D)``. No RoPE.

    Args:
        norm_eps: 1e-5 in the official probes (PyTorch default), 1e-6 in ``transformers``.
    """

    def __init__(self, embed_dim: int, num_heads: int = 16, depth: int = 4, num_queries: int = 1,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-5,
                 use_activation_checkpointing: bool = False, init_std: float = 0.02) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1 (the cross-attention block), got {depth}")
        self.use_activation_checkpointing = use_activation_checkpointing
        self.query_tokens = nn.Parameter(torch.zeros(1, num_queries, embed_dim))
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps)
                                    for _ in range(depth - 1))
        self.cross_attention_block = CrossAttentionBlock(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps)
        if not self.query_tokens.is_meta:
            trunc_normal_(self.query_tokens, init_std)
            init_weights(self, init_std)
            rescale_blocks(self.blocks)
            with torch.no_grad():
                self.cross_attention_block.mlp.fc2.weight.div_(math.sqrt(2.0 * max(depth - 1, 1)))

    def forward(self, x: Tensor) -> Tensor:
        x, _ = run_blocks(self.blocks, x, None, None, self.use_activation_checkpointing)
        return self.cross_attention_block(self.query_tokens.expand(x.shape[0], -1, -1), x)


class AttentiveClassifier(nn.Module):
    """Attentive pooler with one query and a linear head: tokens ``(B, N, D)`` -> logits ``(B, num_classes)``."""

    def __init__(self, embed_dim: int, num_classes: int, num_heads: int = 16, depth: int = 4,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-5,
                 use_activation_checkpointing: bool = False) -> None:
        super().__init__()
        self.pooler = AttentivePooler(embed_dim, num_heads, depth, 1, mlp_ratio, qkv_bias, norm_eps,
                                      use_activation_checkpointing)
        self.linear = nn.Linear(embed_dim, num_classes)
        if not self.linear.weight.is_meta:
            init_weights(self.linear)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.pooler(x).squeeze(1))


class AnticipationClassifier(nn.Module):
    """EPIC-KITCHENS-100 probe: three queries pooled to verb, noun and action logits (a dict)."""

    def __init__(self, embed_dim: int, num_verbs: int, num_nouns: int, num_actions: int, num_heads: int = 16,
                 depth: int = 4, mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-5,
                 use_activation_checkpointing: bool = False) -> None:
        super().__init__()
        self.pooler = AttentivePooler(embed_dim, num_heads, depth, 3, mlp_ratio, qkv_bias, norm_eps,
                                      use_activation_checkpointing)
        self.verb_classifier = nn.Linear(embed_dim, num_verbs)
        self.noun_classifier = nn.Linear(embed_dim, num_nouns)
        self.action_classifier = nn.Linear(embed_dim, num_actions)
        if not self.verb_classifier.weight.is_meta:
            for head in (self.verb_classifier, self.noun_classifier, self.action_classifier):
                init_weights(head)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        q = self.pooler(x)
        return {"verb": self.verb_classifier(q[:, 0]), "noun": self.noun_classifier(q[:, 1]),
                "action": self.action_classifier(q[:, 2])}
