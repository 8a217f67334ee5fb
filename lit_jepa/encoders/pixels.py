"""The pixel baseline: a clip's raw pixels cut into the tokens a video ViT would embed, with nothing learned."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lit_jepa.nn.encoder import FrozenEncoder


class PixelTubelets(FrozenEncoder):
    """Raw pixels as tokens: each ``tubelet_size x patch_size x patch_size`` tubelet, flattened
    (``C * tubelet_size * patch_size**2`` values, ImageNet-normalised), in the ``(t, h, w)`` order of
    :class:`~lit_jepa.nn.VisionTransformer`'s tokens. Into the same frozen probe, it tells what an encoder adds
    over its input: the tokens of a ViT at initialisation are close to a random linear map of exactly these.

    Args:
        img_size: expected frame size.
        num_frames: expected frames per clip.
        patch_size: pixels per token side.
        tubelet_size: frames per token.
        in_chans: colour channels.
    """

    def __init__(self, img_size: int = 64, num_frames: int = 16, patch_size: int = 8, tubelet_size: int = 2,
                 in_chans: int = 3) -> None:
        super().__init__()
        self.img_size, self.num_frames, self.patch_size, self.tubelet_size = img_size, num_frames, patch_size, \
            tubelet_size
        self.in_chans = in_chans
        self.embed_dim = in_chans * tubelet_size * patch_size**2

    def config(self) -> dict[str, Any]:
        return {"patch_size": self.patch_size, "tubelet_size": self.tubelet_size, "in_chans": self.in_chans}

    def token_grid(self, num_frames: int, height: int, width: int) -> tuple[int, int, int]:
        return num_frames // self.tubelet_size, height // self.patch_size, width // self.patch_size

    def forward(self, x: Tensor, out_layers: list[int] | None = None) -> Tensor:
        if out_layers is not None:
            raise ValueError(f"{type(self).__name__} has no layers to return (out_layers={out_layers})")
        b, c, t, h, w = x.shape
        if c != self.in_chans:
            raise ValueError(f"{type(self).__name__}: expected {self.in_chans} channels, got {c}")
        (gt, gh, gw), s, p = self.token_grid(t, h, w), self.tubelet_size, self.patch_size
        x = x[:, :, : gt * s, : gh * p, : gw * p].reshape(b, c, gt, s, gh, p, gw, p)
        return x.permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(b, gt * gh * gw, self.embed_dim)
