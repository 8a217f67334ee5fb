"""The latent world models used for planning: frozen encoder + action-conditioned predictor
(:class:`LatentWorldModel`), or an end-to-end recurrent world model (:class:`RecurrentLatentModel`; several,
each with its own encoder, plan as one :class:`RecurrentEnsemble`).

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
from lit_jepa.geometry import integrate_state
from lit_jepa.nn import FrozenEncoder
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.nn.encoder import IMAGENET_MEAN, IMAGENET_STD
from lit_jepa.nn.recurrent import CONFIG_KEY, RecurrentWorldModel

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


def resize_frames(frames: Tensor, size: int) -> Tensor:
    """uint8 frames ``(B, H, W, 3)`` resized to ``(B, size, size, 3)`` (bilinear, antialiased)."""
    x = F.interpolate(frames.permute(0, 3, 1, 2).float(), (size, size), mode="bilinear", antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


@torch.no_grad()
def encode_frames(encoder: FrozenEncoder, frames: Tensor, pool: int = 1, batch_size: int = 256,
                  pool_mode: str = "avg") -> Tensor:
    """Layer-normed tokens ``(B, N, D)`` of single frames: uint8 ``(B, H, W, 3)`` or float normalised
    ``(B, 3, H, W)`` (uint8 frames of another size are resized to the encoder's, :func:`resize_frames`);
    ``N = (H // patch // pool) ** 2``, ``D`` the encoder width (times ``pool ** 2`` for
    ``pool_mode="stack"``, where each encoder token is layer-normed before stacking)."""
    if frames.dtype == torch.uint8:
        if frames.shape[1:3] != (encoder.img_size, encoder.img_size):
            frames = resize_frames(frames, encoder.img_size)
        mean = torch.tensor(IMAGENET_MEAN, device=frames.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=frames.device).view(1, 3, 1, 1)
        frames = (frames.permute(0, 3, 1, 2).float() / 255 - mean) / std
    out = []
    for chunk in frames.split(batch_size):
        z = encoder.encode_images(chunk)  # each frame repeated over one tubelet
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

    def __init__(self, encoder: FrozenEncoder, predictor: ACPredictor, pool: int = 1,
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
            raise ValueError(f"{ckpt.path}: encoder grid {grid} is not a multiple of the predictor grid "
                             f"{predictor.grid}")
        pool = grid // predictor.grid
        width = predictor.predictor_embed.in_features
        modes = {token_width(encoder.embed_dim, pool, m): m for m in ("stack", "avg")}  # pool 1: avg
        if width not in modes:
            raise ValueError(f"{ckpt.path}: predictor input width {width} is neither the encoder width "
                             f"{encoder.embed_dim} nor {pool ** 2} x it (pool {pool}, stacked)")
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
    def rollout(self, z0: Tensor, state0: Tensor, actions: Tensor, every_step: bool = False) -> tuple[Tensor, Tensor]:
        """Imagine ``actions`` ``(B, H, A)`` from tokens ``z0`` ``(B, N, D)`` and state ``state0`` ``(B, A)``.

        The predictor re-reads the whole imagined history at each step; later state tokens are integrated states
        (:func:`lit_jepa.geometry.integrate_state`: DROID poses for 7-D states, sums otherwise). Returns the final
        predicted frame ``(B, N, D)`` (``every_step``: every predicted frame ``(B, H, N, D)``) and the final
        integrated state ``(B, A)``.
        """
        context, states, frames = z0, [state0], []
        for h in range(actions.shape[1]):
            z = predict_next(self.predictor, context, actions[:, : h + 1], torch.stack(states, dim=1))
            states.append(integrate_state(states[-1], actions[:, h]))
            context = torch.cat([context, z], dim=1)
            frames.append(z)
        return (torch.stack(frames, dim=1) if every_step else z), states[-1]


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


class RecurrentLatentModel(nn.Module):
    """A :class:`~lit_jepa.nn.recurrent.RecurrentWorldModel` behind the interface planners use
    (:class:`LatentWorldModel`'s ``encode``, ``rollout``, ``maps``): one latent vector per frame is one token,
    ``(B, 1, dim)``, whose map is ``1 x 1``; the rollout steps the GRU once per action."""

    pool, pool_mode = 1, "avg"

    def __init__(self, net: RecurrentWorldModel) -> None:
        super().__init__()
        self.net = net.eval()
        self.requires_grad_(False)

    @classmethod
    def load(cls, path: str | Path, trust_checkpoint: bool = False) -> RecurrentLatentModel:
        """From a Lightning checkpoint of :class:`lit_jepa.tasks.RecurrentWorldModelTask`."""
        ckpt = hub.read_checkpoint(path, trust_checkpoint)
        if CONFIG_KEY not in ckpt.config:
            raise ValueError(f"{path}: not a recurrent world model checkpoint (no lit_jepa.{CONFIG_KEY} metadata)")
        net = RecurrentWorldModel(**ckpt.config[CONFIG_KEY])
        _, sd = ckpt.part("model")
        net.load_state_dict(sd)
        return cls(net)

    @property
    def encoder(self) -> nn.Module:
        """The encoding half (CNN and LayerNorm): what an ensemble must share."""
        return nn.ModuleDict({"cnn": self.net.encoder, "norm": self.net.norm})

    @property
    def device(self) -> torch.device:
        return self.net.norm.weight.device

    def maps(self, z: Tensor) -> Tensor:
        """``(B, dim, 1, 1)`` maps of latents ``(B, 1, dim)``."""
        return token_maps(z)

    @torch.no_grad()
    def encode(self, frames: Tensor) -> Tensor:
        """Latents ``(B, 1, dim)`` of uint8 frames ``(B, H, W, C)``."""
        return self.net.encode(frames.to(self.device)).unsqueeze(1)

    @torch.no_grad()
    def rollout(self, z0: Tensor, state0: Tensor, actions: Tensor, every_step: bool = False) -> tuple[Tensor, Tensor]:
        """:meth:`LatentWorldModel.rollout` for the GRU: the final latent ``(B, 1, dim)`` (``every_step``:
        ``(B, H, 1, dim)``) and the integrated state ``(B, A)``."""
        z = self.net.rollout(z0[:, 0], actions).unsqueeze(2)
        state = state0
        for a in actions.unbind(1):
            state = integrate_state(state, a)
        return (z if every_step else z[:, -1]), state


class RecurrentEnsemble(nn.Module):
    """Independently trained :class:`RecurrentLatentModel` s, each with its own encoder, planned as one: their
    latents ``(B, 1, K * dim)`` sit side by side, so a distance averaged over features (the planners' energies) is
    the mean of the members' own energies, and a plan must look good to every member at once. That helps only as far
    as the members' rollout errors differ: two Two-Rooms models of one recipe share theirs and plan no better
    together (``experiments/toy-planning/README.md``). Members share the latent width."""

    pool, pool_mode = 1, "avg"

    def __init__(self, members: list[RecurrentLatentModel]) -> None:
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"RecurrentEnsemble: needs at least two members, got {len(members)}")
        dims = {m.net.dim for m in members}
        if len(dims) != 1 or len({m.device for m in members}) != 1:
            raise ValueError(f"RecurrentEnsemble: members need one latent width and one device, got widths "
                             f"{sorted(dims)} on {sorted({str(m.device) for m in members})}")
        self.members = nn.ModuleList(members)
        self.dim = dims.pop()

    @property
    def encoder(self) -> nn.Module:
        """Every member's encoding half."""
        return nn.ModuleList([m.encoder for m in self.members])

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    def maps(self, z: Tensor) -> Tensor:
        """``(B, K * dim, 1, 1)`` maps of latents ``(B, 1, K * dim)``."""
        return token_maps(z)

    @torch.no_grad()
    def encode(self, frames: Tensor) -> Tensor:
        """The members' latents side by side, ``(B, 1, K * dim)``, of uint8 frames ``(B, H, W, C)``."""
        return torch.cat([m.encode(frames) for m in self.members], -1)

    @torch.no_grad()
    def rollout(self, z0: Tensor, state0: Tensor, actions: Tensor, every_step: bool = False) -> tuple[Tensor, Tensor]:
        """Each member rolls out its own slice of ``z0``; the latents side by side and the integrated state."""
        outs = [m.rollout(z0[..., k * self.dim:(k + 1) * self.dim], state0, actions, every_step)
                for k, m in enumerate(self.members)]
        return torch.cat([z for z, _ in outs], -1), outs[0][1]


def load_world_model(path: str | Path, trust_checkpoint: bool = False) -> LatentWorldModel | RecurrentLatentModel:
    """A planning world model from ``path``: a recurrent world model's checkpoint
    (:meth:`RecurrentLatentModel.load`) or an encoder + AC predictor export (:meth:`LatentWorldModel.load`)."""
    ckpt = hub.read_checkpoint(path, trust_checkpoint)
    if CONFIG_KEY in ckpt.config:
        return RecurrentLatentModel.load(ckpt)
    return LatentWorldModel.load(ckpt)


def load_world_models(paths: list[str | Path], trust_checkpoint: bool = False
                      ) -> list[LatentWorldModel] | list[RecurrentEnsemble | RecurrentLatentModel]:
    """The planning models of ``paths`` (:func:`load_world_model`): several recurrent world models become one
    :class:`RecurrentEnsemble`; AC models stay a list (an ensemble sharing one encoder); a mix is a ``ValueError``."""
    models = [load_world_model(p, trust_checkpoint) for p in paths]
    recurrent = [isinstance(m, RecurrentLatentModel) for m in models]
    if len(models) > 1 and any(recurrent):
        if not all(recurrent):
            raise ValueError(f"checkpoints {[str(p) for p in paths]}: recurrent world models and AC predictors do not "
                             "plan as one ensemble")
        return [RecurrentEnsemble(models)]
    return models
