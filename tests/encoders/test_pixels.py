"""The pixel baseline's tokens are what a VisionTransformer's patch embedding maps linearly."""

from __future__ import annotations

import pytest
import torch

from lit_jepa.encoders import PixelTubelets
from lit_jepa.nn import VisionTransformer


def test_tokens_are_the_tubelets_the_vit_embeds() -> None:
    pixels = PixelTubelets(img_size=32, num_frames=4, patch_size=8, tubelet_size=2)
    vit = VisionTransformer(img_size=32, num_frames=4, patch_size=8, tubelet_size=2, embed_dim=48, depth=1,
                            num_heads=3)
    x = torch.randn(2, 3, 4, 32, 32)
    tokens = pixels(x)
    assert tokens.shape == (2, 2 * 4 * 4, 3 * 2 * 8 * 8) and pixels.embed_dim == 384
    assert pixels.token_grid(4, 32, 32) == (2, 4, 4)
    embedded, _ = vit.patch_embed(x)
    weight = vit.patch_embed.proj.weight.reshape(48, -1)
    torch.testing.assert_close(embedded, tokens @ weight.T + vit.patch_embed.proj.bias, rtol=1e-5, atol=1e-5)


def test_refuses_layers_and_wrong_channels() -> None:
    pixels = PixelTubelets(img_size=32, num_frames=4)
    with pytest.raises(ValueError, match="no layers"):
        pixels(torch.randn(1, 3, 4, 32, 32), out_layers=[0])
    with pytest.raises(ValueError, match="3 channels"):
        pixels(torch.randn(1, 1, 4, 32, 32))
