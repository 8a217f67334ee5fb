"""Tiny encoders that tests import by class path: an image ViT with timm's interface and a plain clip module."""

import torch
from torch import Tensor, nn


class _PatchEmbed(nn.Module):
    def __init__(self, patch_size: int, dim: int) -> None:
        super().__init__()
        self.patch_size = (patch_size, patch_size)
        self.proj = nn.Conv2d(3, dim, patch_size, patch_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class TinyImageViT(nn.Module):
    """timm's ViT interface at toy size: ``patch_embed.patch_size``, ``num_prefix_tokens`` (a class token),
    ``num_features``, ``forward_features`` (prefix + patch tokens) and ``forward_intermediates``."""

    def __init__(self, patch_size: int = 8, dim: int = 24, depth: int = 2) -> None:
        super().__init__()
        self.patch_embed = _PatchEmbed(patch_size, dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(dim, 2, 2 * dim, 0.0, batch_first=True)
                                    for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.num_prefix_tokens, self.num_features = 1, dim

    def _tokens(self, x: Tensor) -> Tensor:
        x = self.patch_embed(x)
        return torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)

    def forward_features(self, x: Tensor) -> Tensor:
        x = self._tokens(x)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_intermediates(self, x: Tensor, indices: list[int], output_fmt: str = "NCHW",
                              intermediates_only: bool = False) -> list[Tensor]:
        assert output_fmt == "NLC" and intermediates_only
        x, outs = self._tokens(x), []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in indices:
                outs.append(self.norm(x)[:, self.num_prefix_tokens:])
        return outs


class TinyClipEncoder(nn.Module):
    """A plain module: ``(B, C, T, H, W)`` -> one token per (2-frame, 8 x 8 pixel) tubelet ``(B, N, dim)``."""

    def __init__(self, dim: int = 20) -> None:
        super().__init__()
        self.embed_dim = dim
        self.proj = nn.Conv3d(3, dim, (2, 8, 8), (2, 8, 8))
        self.mix = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.mix(torch.tanh(self.proj(x).flatten(2).transpose(1, 2)))
