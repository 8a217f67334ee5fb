"""3D rotary position embedding (RoPE) in the official V-JEPA 2 layout.

Each attention head's channels are split into three equal even-sized segments for the (t, h, w) axes,
``seg = 2 * ((head_dim // 3) // 2)``, followed by ``head_dim - 3 * seg`` unrotated tail channels. Within a
segment of size ``d`` the frequencies are ``w_k = 10000 ** (-k / (d / 2))`` and are *tiled*
(``[w_0 .. w_{d/2-1}, w_0 .. w_{d/2-1}]``) while the rotation pairs *adjacent* channels
``(x_{2i}, x_{2i+1})``. This is the layout of the released weights (official code and ``transformers``);
the "textbook" interleaved layout would not reproduce them.

Tables are computed once per forward (:func:`rope_tables`) and shared by every layer
(:func:`apply_rope`). Unrotated channels get ``cos = 1, sin = 0``, and a token whose position on an axis
is 0 is not rotated on that axis, which is how the action-conditioned predictor gives its action and state
tokens a temporal-only rotation.
"""

from __future__ import annotations

import torch
from torch import Tensor


def rope_segment(head_dim: int) -> int:
    """Channels per axis: ``2 * ((head_dim // 3) // 2)`` (20 for 64, 26 for 80, 10 for 32)."""
    return 2 * ((head_dim // 3) // 2)


def _axis_frequencies(seg: int, device: torch.device | None) -> Tensor:
    # Same operation order as the released code, so fp32 angles match bit for bit.
    omega = torch.arange(seg // 2, dtype=torch.float32, device=device)
    omega /= seg / 2.0
    return 1.0 / 10000**omega


def rope_tables(positions: Tensor, head_dim: int) -> tuple[Tensor, Tensor]:
    """Cos and signed-sin tables for :func:`apply_rope`.

    Args:
        positions: ``(..., N, 3)`` (t, h, w) positions, integer-valued or float.
        head_dim: channels per attention head.

    Returns:
        ``(cos, sin)``, each ``(..., 1, N, head_dim)`` float32 (the singleton broadcasts over heads).
        ``sin`` carries the sign of the pair rotation, so ``apply_rope`` is two multiplies and an add.
    """
    seg = rope_segment(head_dim)
    positions = positions.to(torch.float32)
    omega = _axis_frequencies(seg, positions.device)
    angles = positions.unsqueeze(-1) * omega  # (..., N, 3, seg/2)
    angles = torch.cat([angles, angles], dim=-1).flatten(-2)  # tiled per axis -> (..., N, 3*seg)
    cos, sin = angles.cos(), angles.sin()
    sign = torch.tensor([-1.0, 1.0], device=positions.device).repeat(3 * seg // 2)
    sin = sin * sign
    tail = head_dim - 3 * seg
    if tail:
        cos = torch.cat([cos, cos.new_ones(*cos.shape[:-1], tail)], dim=-1)
        sin = torch.cat([sin, sin.new_zeros(*sin.shape[:-1], tail)], dim=-1)
    return cos.unsqueeze(-3), sin.unsqueeze(-3)


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate ``x`` (``(..., N, head_dim)``, heads before ``N``) with tables from :func:`rope_tables`."""
    swapped = x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)  # (x1, x0, x3, x2, ...)
    return torch.addcmul(x * cos.to(x.dtype), swapped, sin.to(x.dtype))


def grid_positions(ids: Tensor, grid_hw: tuple[int, int]) -> Tensor:
    """Decode flat (t, h, w)-raster token ids into ``(..., 3)`` integer positions on a ``(H, W)`` patch grid."""
    h, w = grid_hw
    t, rem = torch.div(ids, h * w, rounding_mode="floor"), ids % (h * w)
    return torch.stack([t, torch.div(rem, w, rounding_mode="floor"), rem % w], dim=-1)
