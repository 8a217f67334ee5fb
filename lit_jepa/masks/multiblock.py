"""Multi-block 3D masks (official ``src/masks/multiseq_multiblock3d.py`` semantics, explicit randomness).

Per batch, one block size ``(t, h, w)`` is drawn: ``t = max(1, int(T * U(t_min, t_max)))``,
``keep = int(H * W * U(s_min, s_max))``, ``ar ~ U(ar_min, ar_max)``, ``h = round(sqrt(keep * ar))``,
``w = round(sqrt(keep / ar))``, clipped to the grid and (unlike the official code, so that tiny toy grids get
no empty blocks; official grids never reach it) to at least 1. Per sample, ``num_blocks`` blocks of that size
are placed uniformly; the context is every token outside all blocks (and, when ``max_temporal_keep < 1``,
inside the first ``max(1, int(T * max_temporal_keep))`` time steps), the targets are the rest; a sample with an
empty context is redrawn. Index lists are sorted ascending, then truncated to the batch minimum (and
``max_keep``), which keeps the lowest indices, as the official code does. With ``full_complement`` the targets
are the complement of the truncated context instead.

Unlike the official code (block positions from the global torch RNG), every draw comes from the
``torch.Generator`` passed in, so masks are reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

MAX_REDRAWS = 1000  # per sample, before an empty context is declared impossible for the block size


@dataclass
class MaskSpec:
    """One mask generator's configuration (the official ``cfgs_mask`` entry; scales are ``(min, max)``)."""

    num_blocks: int = 8
    spatial_scale: tuple[float, float] = (0.15, 0.15)
    temporal_scale: tuple[float, float] = (1.0, 1.0)
    aspect_ratio: tuple[float, float] = (0.75, 1.5)
    max_temporal_keep: float = 1.0
    max_keep: int | None = None
    full_complement: bool = False


SHORT_RANGE = MaskSpec(8, (0.15, 0.15))
LONG_RANGE = MaskSpec(2, (0.7, 0.7))
VJEPA2_MASKS = [SHORT_RANGE, LONG_RANGE]


def _uniform(bounds: tuple[float, float], generator: torch.Generator) -> float:
    low, high = bounds
    return low + torch.rand(1, generator=generator).item() * (high - low)


def truncate(indices: list[Tensor], max_keep: int | None = None) -> Tensor:
    """Stack sorted index lists after cutting each to the shortest (and ``max_keep``): the lowest indices stay."""
    keep = min(len(i) for i in indices)
    keep = keep if max_keep is None else min(keep, max_keep)
    return torch.stack([i[:keep] for i in indices])


class MultiBlockMaskGenerator:
    """Context / target token indices for a ``(T, H, W)`` token grid (see the module docstring).

    Args:
        spec: block count, scales, aspect ratio and options.
        grid: tokens per axis, ``(frames // tubelet_size, height // patch_size, width // patch_size)``.
    """

    def __init__(self, spec: MaskSpec, grid: tuple[int, int, int]) -> None:
        self.spec, self.grid = spec, tuple(int(g) for g in grid)
        self.context_steps = max(1, int(self.grid[0] * spec.max_temporal_keep))

    def block_size(self, generator: torch.Generator) -> tuple[int, int, int]:
        """The batch's block size ``(t, h, w)``: three uniform draws (time scale, spatial scale, aspect ratio)."""
        T, H, W = self.grid
        t = max(1, int(T * _uniform(self.spec.temporal_scale, generator)))
        keep = int(H * W * _uniform(self.spec.spatial_scale, generator))
        ar = _uniform(self.spec.aspect_ratio, generator)
        h, w = (min(max(1, round(math.sqrt(keep * r))), n) for r, n in ((ar, H), (1 / ar, W)))
        return t, h, w

    def context(self, size: tuple[int, int, int], generator: torch.Generator) -> Tensor:
        """One sample's boolean ``(T, H, W)`` context mask (True = visible), redrawn while empty."""
        t, h, w = size
        T, H, W = self.grid
        for _ in range(MAX_REDRAWS):
            mask = torch.ones(self.grid, dtype=torch.bool)
            mask[self.context_steps:] = False
            for _ in range(self.spec.num_blocks):
                start, top, left = (int(torch.randint(n - k + 1, (1,), generator=generator))
                                    for n, k in ((T, t), (H, h), (W, w)))
                mask[start:start + t, top:top + h, left:left + w] = False
            if mask.any():
                return mask
        raise RuntimeError(f"{self.spec}: {MAX_REDRAWS} draws of {self.spec.num_blocks} blocks of size {size} on "
                           f"grid {self.grid} left no context token; use smaller or fewer blocks")

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``(masks_enc, masks_pred)``: LongTensors ``(B, K_enc)`` and ``(B, K_pred)`` of sorted token indices."""
        size = self.block_size(generator)
        masks = [self.context(size, generator).flatten() for _ in range(batch_size)]
        enc = truncate([m.nonzero().squeeze(1) for m in masks], self.spec.max_keep)
        if self.spec.full_complement:
            visible = torch.zeros(batch_size, masks[0].numel(), dtype=torch.bool).scatter_(1, enc, True)
            return enc, truncate([(~v).nonzero().squeeze(1) for v in visible])
        return enc, truncate([(~m).nonzero().squeeze(1) for m in masks])


def context_weights(masks_enc: Tensor, masks_pred: Tensor, grid: tuple[int, int, int]) -> Tensor:
    """V-JEPA 2.1's context-loss weights ``1 / sqrt(d)`` ``(B, K_ctx)``: ``d`` is the Euclidean distance, in
    (t, h, w) token-grid units, from each context token to the nearest predicted token of its sample (at least 1,
    so a context token next to a target weighs 1)."""
    _, h, w = grid

    def coords(ids: Tensor) -> Tensor:
        return torch.stack([ids // (h * w), (ids // w) % h, ids % w], dim=-1).float()

    d = torch.cdist(coords(masks_enc), coords(masks_pred)).amin(dim=-1)
    return d.clamp_min(1.0).rsqrt()
