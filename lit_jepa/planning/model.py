"""The latent world model used for planning: frozen encoder + action-conditioned predictor.

One :func:`encode_frames` serves training targets, current observations and goal images alike: each frame is
duplicated into a tubelet, encoded, optionally merged in ``pool`` x ``pool`` windows of the token grid (a CPU
economy for toy worlds) and layer-normed over features. ``pool_mode="avg"`` averages each window; ``"stack"``
layer-norms the tokens first and concatenates each window along features (space-to-depth), which keeps every
feature, so that an L1 energy on stacked tokens equals the one on the full grid.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_jepa import hub
from lit_jepa.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.pose import integrate_pose

POOL_MODES = ("avg", "stack")


def token_width(embed_dim: int, pool: int, mode: str) -> int:
    """Features per merged token: the encoder width, times ``pool ** 2`` for ``stack``."""
    return embed_dim * pool**2 if mode == "stack" else embed_dim


def merge_tokens(z: Tensor, pool: int, mode: str = "avg") -> Tensor:
    """Merge ``pool`` x ``pool`` windows of a square token grid ``(B, g * g, D)`` into ``(B, (g // pool) ** 2, D')``:
    ``avg`` (``D' = D``) or ``stack`` (``D' = pool * pool * D``, window tokens in row-major order)."""
    if mode not in POOL_MODES:
        raise ValueError(f"pool_mode must be one of {POOL_MODES}, got {mode!r}")
    if pool == 1:
        return z
    _, N, D = z.shape
    g = math.isqrt(N)
    if g * g != N or g % pool:
        raise ValueError(f"{N} tokens are not a square grid divisible by pool {pool}")
    grid = z.transpose(1, 2).unflatten(2, (g, g))  # (B, D, g, g)
    if mode == "avg":
        return F.avg_pool2d(grid, pool).flatten(2).transpose(1, 2)
    windows = F.unfold(grid, pool, stride=pool).unflatten(1, (D, pool * pool))  # (B, D, pool * pool, L)
    return windows.permute(0, 3, 2, 1).flatten(2)


def token_maps(z: Tensor, pool: int = 1, mode: str = "avg") -> Tensor:
    """The spatial maps ``(B, D, H, W)`` of merged tokens ``(B, h * h, D')``: ``stack`` windows are unstacked back
    to the encoder grid (``H = h * pool``, ``D = D' / pool ** 2``), other tokens keep their grid (``H = h``)."""
    B, N, C = z.shape
    h = math.isqrt(N)
    if h * h != N:
        raise ValueError(f"{N} tokens are not a square grid")
    if mode != "stack" or pool == 1:
        return z.transpose(1, 2).unflatten(2, (h, h))
    D = C // pool**2
    return z.view(B, h, h, pool, pool, D).permute(0, 5, 1, 3, 2, 4).reshape(B, D, h * pool, h * pool)


@torch.no_grad()
def encode_frames(encoder: VisionTransformer, frames: Tensor, pool: int = 1, batch_size: int = 256,
                  pool_mode: str = "avg") -> Tensor:
    """Layer-normed tokens ``(B, N, D)`` of single frames: uint8 ``(B, H, W, 3)`` or float normalised
    ``(B, 3, H, W)``; ``N = (H // patch // pool) ** 2``, ``D`` the encoder width (times ``pool ** 2`` for
    ``pool_mode="stack"``, where each encoder token is layer-normed before stacking)."""
    if frames.dtype == torch.uint8:
        mean = torch.tensor(IMAGENET_MEAN, device=frames.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=frames.device).view(1, 3, 1, 1)
        frames = (frames.permute(0, 3, 1, 2).float() / 255 - mean) / std
    out = []
    for chunk in frames.split(batch_size):
        z = encoder(chunk)  # a 4-D batch is duplicated into one tubelet by the encoder
        if pool_mode == "stack":
            z = F.layer_norm(z, z.shape[-1:])
        z = merge_tokens(z, pool, pool_mode)
        out.append(F.layer_norm(z, z.shape[-1:]))
    return torch.cat(out)


def predict_next(predictor: ACPredictor, context: Tensor, actions: Tensor, states: Tensor) -> Tensor:
    """Layer-normed prediction of the frame after the last one in ``context`` ``(B, T * N, D)``."""
    n = predictor.grid**2
    out = predictor(context, actions, states)[:, -n:]
    return F.layer_norm(out, out.shape[-1:])


class LatentWorldModel(nn.Module):
    """Frozen encoder and AC predictor, with the token ``pool`` factor (and ``pool_mode``) between the two grids."""

    def __init__(self, encoder: VisionTransformer, predictor: ACPredictor, pool: int = 1,
                 pool_mode: str = "avg") -> None:
        super().__init__()
        self.encoder, self.predictor, self.pool, self.pool_mode = encoder.eval(), predictor.eval(), pool, pool_mode
        self.requires_grad_(False)

    @classmethod
    def load(cls, path: str | Path, trust_checkpoint: bool = False) -> LatentWorldModel:
        """From an official-layout export holding ``encoder`` and an AC ``predictor``
        (``hub.export_official(path, encoder=..., predictor=...)``); ``pool`` follows from the two grids, and
        ``pool_mode`` from the predictor's input width (``stack`` when it is ``pool ** 2`` encoder widths).

        Args:
            path: the export or Lightning checkpoint.
            trust_checkpoint: let a pickled file run code (``weights_only=False``); only for files you trust.
        """
        ckpt = hub.read_checkpoint(path, trust_checkpoint)
        encoder = hub.load_encoder(ckpt, key="encoder")
        predictor = hub.load_ac_predictor(ckpt)
        grid = encoder.img_size // encoder.patch_size
        if grid % predictor.grid:
            raise ValueError(f"{path}: encoder grid {grid} is not a multiple of the predictor grid {predictor.grid}")
        pool = grid // predictor.grid
        width = predictor.predictor_embed.in_features
        modes = {token_width(encoder.embed_dim, pool, m): m for m in ("stack", "avg")}  # pool 1: avg
        if width not in modes:
            raise ValueError(f"{path}: predictor input width {width} is neither the encoder width {encoder.embed_dim} "
                             f"nor {pool ** 2} x it (pool {pool}, stacked)")
        return cls(encoder, predictor, pool, modes[width])

    @property
    def device(self) -> torch.device:
        return self.predictor.predictor_embed.weight.device

    def maps(self, z: Tensor) -> Tensor:
        """Spatial feature maps ``(B, D, H, W)`` of this model's tokens (:func:`token_maps`)."""
        return token_maps(z, self.pool, self.pool_mode)

    def encode(self, frames: Tensor) -> Tensor:
        return encode_frames(self.encoder, frames.to(self.device), self.pool, pool_mode=self.pool_mode)

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


def check_ensemble(models: list[LatentWorldModel]) -> list[LatentWorldModel]:
    """``models`` if they can plan as one ensemble: at least one, on one device, with the same encoder weights and
    token pooling (so that one encoding of the observations and goals serves them all); else ``ValueError``."""
    if not models:
        raise ValueError("a world-model ensemble needs at least one model")
    first = models[0]
    for i, m in enumerate(models[1:], 1):
        if (m.pool, m.pool_mode, m.device) != (first.pool, first.pool_mode, first.device):
            raise ValueError(f"world model {i} has pool {m.pool} ({m.pool_mode}) on {m.device}, model 0 has pool "
                             f"{first.pool} ({first.pool_mode}) on {first.device}: an ensemble shares all three")
        a, b = first.encoder.state_dict(), m.encoder.state_dict()
        if a.keys() != b.keys() or any(a[k].shape != b[k].shape or not torch.equal(a[k], b[k]) for k in a):
            raise ValueError(f"world model {i} has another encoder than model 0: an ensemble shares one encoder")
    return models
