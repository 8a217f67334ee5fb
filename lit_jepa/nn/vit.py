"""Video Vision Transformer with 3D RoPE: the V-JEPA 2 encoder.

Parameter names follow the official release (``patch_embed.proj``, ``blocks.{i}.*``, ``norm``), so official
checkpoints load after stripping their ``module.backbone.`` prefix. There are no absolute position
parameters: RoPE positions come from the input's own patch grid, so any resolution, clip length and
aspect ratio works (official semantics).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_jepa.nn.blocks import Block, init_weights, rescale_blocks, run_blocks
from lit_jepa.nn.encoder import FrozenEncoder
from lit_jepa.nn.rope import grid_positions, rope_tables

Masks = Tensor | Sequence[Tensor]


def as_mask_list(masks: Masks) -> list[Tensor]:
    """Official mask convention: a LongTensor ``(B, K)`` of kept token indices, or a list of them."""
    return [masks] if isinstance(masks, Tensor) else list(masks)


def gather_tokens(x: Tensor, masks: Masks) -> Tensor:
    """Keep the indexed tokens of ``x`` ``(B, N, D)`` for each mask; the results are concatenated along batch."""
    return torch.cat([x.gather(1, m.to(x.device).unsqueeze(-1).expand(-1, -1, x.shape[-1]))
                      for m in as_mask_list(masks)], dim=0)


class PatchEmbed3D(nn.Module):
    """``Conv3d`` tubelet embedding; tokens come out in (t, h, w) raster order."""

    def __init__(self, patch_size: int = 16, tubelet_size: int = 2, in_chans: int = 3, embed_dim: int = 1024) -> None:
        super().__init__()
        self.patch_size, self.tubelet_size = patch_size, tubelet_size
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=(tubelet_size, patch_size, patch_size),
                              stride=(tubelet_size, patch_size, patch_size))

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        x = self.proj(x)
        grid = tuple(x.shape[2:])
        # contiguous (B, N, D): a transposed view would make every residual add keep the strided layout
        return x.flatten(2).transpose(1, 2).contiguous(), grid


class ConvStem3D(nn.Module):
    """Early convolutions in place of the tubelet projection (Xiao et al. 2021, "Early Convolutions Help Transformers
    See Better"): stride-2 3x3 convolutions, each with GroupNorm and GELU, down to the patch grid (the first also
    strides time by the tubelet), then a 1x1 projection to ``embed_dim``. Widths double from ``embed_dim / 2^(k-1)``
    (at least 16) over the ``k = log2(patch_size)`` convolutions. PyTorch's default (Kaiming-uniform) initialisation.
    Not an official layout: an encoder with this stem exports and loads by its saved config only."""

    def __init__(self, patch_size: int = 16, tubelet_size: int = 2, in_chans: int = 3, embed_dim: int = 1024) -> None:
        super().__init__()
        if patch_size < 2 or patch_size & (patch_size - 1):
            raise ValueError(f"conv_stem needs a patch_size that is a power of 2 (>= 2), got {patch_size}")
        self.patch_size, self.tubelet_size, self.in_chans = patch_size, tubelet_size, in_chans
        steps = patch_size.bit_length() - 1
        layers: list[nn.Module] = []
        c_in, c = in_chans, max(embed_dim // 2 ** (steps - 1), 16)
        for i in range(steps):
            kt = tubelet_size if i == 0 else 1
            layers += [nn.Conv3d(c_in, c, (kt, 3, 3), (kt, 2, 2), (0, 1, 1)), nn.GroupNorm(1, c), nn.GELU()]
            c_in, c = c, min(2 * c, embed_dim)
        layers.append(nn.Conv3d(c_in, embed_dim, 1))
        self.net = nn.Sequential(*layers)

    def reset_parameters(self) -> None:
        for m in self.net:
            if isinstance(m, nn.Conv3d | nn.GroupNorm):
                m.reset_parameters()

    def forward(self, x: Tensor) -> tuple[Tensor, tuple[int, int, int]]:
        x = self.net(x)
        return x.flatten(2).transpose(1, 2).contiguous(), tuple(x.shape[2:])


def sincos_3d(grid: tuple[int, int, int], dim: int, device: torch.device | None = None) -> Tensor:
    """Fixed 3D sine-cosine position embeddings ``(t * h * w, dim)`` in (t, h, w) raster order, as V-JEPA (1)
    adds them to its tokens: a quarter of the channels for time, the rest split between height and width
    (each part an even number of channels: ``sin(p * f_i)`` then ``cos(p * f_i)``, ``f_i = 10000^(-i / n)``)."""
    dim_t = 2 * (dim // 8)
    dim_h = 2 * ((dim - dim_t) // 4)
    parts = []
    for size, n in zip(grid, (dim_t, dim_h, dim - dim_t - dim_h)):
        freqs = 1.0 / 10000 ** (torch.arange(n // 2, device=device, dtype=torch.float32) / max(n // 2, 1))
        angles = torch.arange(size, device=device, dtype=torch.float32)[:, None] * freqs
        parts.append(torch.cat([angles.sin(), angles.cos()], dim=1))
    t, h, w = (len(p) for p in parts)
    return torch.cat([parts[0][:, None, None].expand(t, h, w, -1), parts[1][None, :, None].expand(t, h, w, -1),
                      parts[2][None, None, :].expand(t, h, w, -1)], dim=-1).reshape(t * h * w, -1)


class VisionTransformer(FrozenEncoder):
    """V-JEPA 2 video encoder (implements the :class:`~lit_jepa.nn.encoder.FrozenEncoder` contract).

    ``forward(x, masks=None, out_layers=None)`` with ``x`` of shape ``(B, C, T, H, W)`` (or an image batch
    ``(B, C, H, W)``, repeated over one tubelet) returns tokens ``(B, N, D)`` after the final norm, or, with
    ``out_layers``, a list of ``norm(x_i)`` after each listed block. ``masks`` are kept-token indices
    ``(B, K)`` (or a list of them, concatenated along batch), applied right after the patch embedding; the
    kept tokens keep their original (t, h, w) RoPE positions.

    Args:
        img_size: nominal frame size (documentation and ``num_patches``; inputs may differ).
        num_frames: nominal clip length (documentation and ``num_patches``; inputs may differ).
        patch_size: spatial patch size in pixels.
        tubelet_size: temporal tubelet size in frames.
        in_chans: input channels.
        embed_dim: token width.
        depth: transformer blocks.
        num_heads: attention heads per block.
        mlp_ratio: hidden width of each block's MLP relative to ``embed_dim``.
        qkv_bias: learn biases in the query, key and value projections.
        norm_eps: epsilon of the layer norms.
        out_layers: default block indices for multi-level outputs (``None``: last layer only).
        use_activation_checkpointing: recompute each block in the backward pass to save memory.
        init_std: standard deviation of the truncated-normal initialisation.
        abs_pos_embed: also add fixed 3D sine-cosine position embeddings to the patch embeddings (V-JEPA 1's
            encoder; :func:`sincos_3d`), so the tokens carry their absolute position in their content. Off in
            V-JEPA 2 (RoPE only) and in every official checkpoint; it adds no parameter.
        conv_stem: embed patches with :class:`ConvStem3D` (early convolutions) instead of one tubelet
            projection; not an official layout. Off in V-JEPA 2.
    """

    def __init__(self, img_size: int = 256, num_frames: int = 16, patch_size: int = 16, tubelet_size: int = 2,
                 in_chans: int = 3, embed_dim: int = 1024, depth: int = 24, num_heads: int = 16,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, norm_eps: float = 1e-6,
                 out_layers: list[int] | None = None, use_activation_checkpointing: bool = False,
                 init_std: float = 0.02, abs_pos_embed: bool = False, conv_stem: bool = False) -> None:
        super().__init__()
        self.img_size, self.num_frames = img_size, num_frames
        self.abs_pos_embed = abs_pos_embed
        self.patch_size, self.tubelet_size = patch_size, tubelet_size
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.out_layers = out_layers
        self.use_activation_checkpointing = use_activation_checkpointing
        self.in_chans = in_chans
        self.patch_embed = (ConvStem3D if conv_stem else PatchEmbed3D)(patch_size, tubelet_size, in_chans, embed_dim)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        if not any(p.is_meta for p in self.parameters()):
            init_weights(self, init_std)
            rescale_blocks(self.blocks)
            if conv_stem:
                self.patch_embed.reset_parameters()

    @property
    def num_patches(self) -> int:
        return (self.num_frames // self.tubelet_size) * (self.img_size // self.patch_size) ** 2

    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        return num_frames // self.tubelet_size, height // self.patch_size, width // self.patch_size

    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this encoder (checkpoint metadata, exports, feature-cache key)."""
        return {"img_size": self.img_size, "num_frames": self.num_frames, "patch_size": self.patch_size,
                "tubelet_size": self.tubelet_size, "in_chans": self.in_chans,
                "embed_dim": self.embed_dim, "depth": len(self.blocks), "num_heads": self.num_heads,
                "mlp_ratio": self.blocks[0].mlp.fc1.out_features / self.embed_dim,
                "qkv_bias": self.blocks[0].attn.qkv.bias is not None, "norm_eps": self.norm.eps,
                **({"abs_pos_embed": True} if self.abs_pos_embed else {}),
                **({"conv_stem": True} if isinstance(self.patch_embed, ConvStem3D) else {})}

    def forward(self, x: Tensor, masks: Masks | None = None,
                out_layers: list[int] | None = None) -> Tensor | list[Tensor]:
        if x.ndim == 4:  # images are videos by temporal duplication
            x = x.unsqueeze(2).expand(-1, -1, self.tubelet_size, -1, -1)
        x, (t, h, w) = self.patch_embed(x)
        if self.abs_pos_embed:
            x = x + sincos_3d((t, h, w), x.shape[-1], x.device).to(x.dtype)
        ids = torch.arange(x.shape[1], device=x.device)
        if masks is not None:
            x = gather_tokens(x, masks)
            ids = torch.cat(as_mask_list(masks), dim=0).to(x.device)
        rope = rope_tables(grid_positions(ids, (h, w)), self.embed_dim // self.num_heads)
        out_layers = self.out_layers if out_layers is None else out_layers
        x, outs = run_blocks(self.blocks, x, rope, None, self.use_activation_checkpointing, out_layers)
        if out_layers is not None:
            return [self.norm(o) for o in outs]
        return self.norm(x)


# name -> (embed_dim, depth, num_heads, mlp_ratio). vit_giant is the released 1B model (22 heads of 64,
# official name vit_giant_xformers); the official 16-head `vit_giant` loads the same shapes but gives
# garbage, so it is deliberately absent.
VIT_ARCHS: dict[str, tuple[int, int, int, float]] = {
    "vit_tiny": (192, 12, 3, 4.0),
    "vit_small": (384, 12, 6, 4.0),
    "vit_base": (768, 12, 12, 4.0),
    "vit_large": (1024, 24, 16, 4.0),
    "vit_huge": (1280, 32, 16, 4.0),
    "vit_giant": (1408, 40, 22, 48 / 11),
}
ARCH_ALIASES = {"vit_giant_xformers": "vit_giant", "vitl": "vit_large", "vith": "vit_huge", "vitg": "vit_giant"}


def build_vit(arch: str, **kwargs) -> VisionTransformer:
    """Build a registered architecture (see ``VIT_ARCHS``); keyword arguments override defaults."""
    name = ARCH_ALIASES.get(arch, arch)
    if name not in VIT_ARCHS:
        raise ValueError(f"unknown encoder architecture {arch!r}; known: {', '.join(VIT_ARCHS)}")
    dim, depth, heads, ratio = VIT_ARCHS[name]
    return VisionTransformer(**{"embed_dim": dim, "depth": depth, "num_heads": heads, "mlp_ratio": ratio, **kwargs})


def vit_tiny(**kwargs) -> VisionTransformer:
    return build_vit("vit_tiny", **kwargs)


def vit_small(**kwargs) -> VisionTransformer:
    return build_vit("vit_small", **kwargs)


def vit_base(**kwargs) -> VisionTransformer:
    return build_vit("vit_base", **kwargs)


def vit_large(**kwargs) -> VisionTransformer:
    return build_vit("vit_large", **kwargs)


def vit_huge(**kwargs) -> VisionTransformer:
    return build_vit("vit_huge", **kwargs)


def vit_giant(**kwargs) -> VisionTransformer:
    return build_vit("vit_giant", **kwargs)
