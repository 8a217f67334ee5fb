"""The latent world model used for planning: frozen encoder + action-conditioned predictor.

One :func:`encode_frames` serves training targets, current observations and goal images alike: each frame is
duplicated into a tubelet, encoded, optionally average-pooled on the token grid (``pool``; a CPU economy for
toy worlds) and layer-normed over features.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_jepa import hub
from lit_jepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.pose import integrate_pose


@torch.no_grad()
def encode_frames(encoder: VisionTransformer, frames: Tensor, pool: int = 1, batch_size: int = 256) -> Tensor:
    """Layer-normed tokens ``(B, N, D)`` of single frames: uint8 ``(B, H, W, 3)`` or float normalised
    ``(B, 3, H, W)``; ``N = (H // patch // pool) ** 2``."""
    if frames.dtype == torch.uint8:
        mean = torch.tensor(IMAGENET_MEAN, device=frames.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=frames.device).view(1, 3, 1, 1)
        frames = (frames.permute(0, 3, 1, 2).float() / 255 - mean) / std
    out = []
    for chunk in frames.split(batch_size):
        z = encoder(chunk)  # a 4-D batch is duplicated into one tubelet by the encoder
        if pool > 1:
            g = chunk.shape[-1] // encoder.patch_size
            z = F.avg_pool2d(z.transpose(1, 2).unflatten(2, (g, g)), pool).flatten(2).transpose(1, 2)
        out.append(F.layer_norm(z, z.shape[-1:]))
    return torch.cat(out)


def predict_next(predictor: ACPredictor, context: Tensor, actions: Tensor, states: Tensor) -> Tensor:
    """Layer-normed prediction of the frame after the last one in ``context`` ``(B, T * N, D)``."""
    n = predictor.grid**2
    out = predictor(context, actions, states)[:, -n:]
    return F.layer_norm(out, out.shape[-1:])


class LatentWorldModel(nn.Module):
    """Frozen encoder and AC predictor, with the token ``pool`` factor between the two grids."""

    def __init__(self, encoder: VisionTransformer, predictor: ACPredictor, pool: int = 1) -> None:
        super().__init__()
        self.encoder, self.predictor, self.pool = encoder.eval(), predictor.eval(), pool
        self.requires_grad_(False)

    @classmethod
    def load(cls, path: str | Path) -> LatentWorldModel:
        """From an official-layout export holding ``encoder`` and an AC ``predictor``
        (``hub.export_official(path, encoder=..., predictor=...)``); ``pool`` follows from the two grids."""
        encoder = hub.load_encoder(path, key="encoder")
        predictor = hub.load_ac_predictor(path)
        grid = encoder.img_size // encoder.patch_size
        if grid % predictor.grid:
            raise ValueError(f"{path}: encoder grid {grid} is not a multiple of the predictor grid {predictor.grid}")
        return cls(encoder, predictor, grid // predictor.grid)

    @property
    def device(self) -> torch.device:
        return self.predictor.predictor_embed.weight.device

    def encode(self, frames: Tensor) -> Tensor:
        return encode_frames(self.encoder, frames.to(self.device), self.pool)

    @torch.no_grad()
    def rollout(self, z0: Tensor, state0: Tensor, actions: Tensor) -> tuple[Tensor, Tensor]:
        """Imagine ``actions`` ``(B, H, A)`` from tokens ``z0`` ``(B, N, D)`` and pose ``state0`` ``(B, A)``.

        The predictor re-reads the whole imagined history at each step; later state tokens are integrated poses.
        Returns the final predicted frame ``(B, N, D)`` and the final integrated pose ``(B, A)``.
        """
        context, states = z0, [state0]
        for h in range(actions.shape[1]):
            z = predict_next(self.predictor, context, actions[:, : h + 1], torch.stack(states, dim=1))
            states.append(integrate_pose(states[-1], actions[:, h]))
            context = torch.cat([context, z], dim=1)
        return z, states[-1]
