"""A small end-to-end world model for pixel environments (EB-JEPA's ``ac_video_jepa`` architecture, scaled down).

A CNN encodes an image to one ``dim``-vector through a LayerNorm; a GRU cell (or a residual MLP), fed the action,
steps that vector forward, and its output passes through the same LayerNorm, so that predictions and encodings share
one space; an inverse-dynamics MLP reads the action back from two consecutive encodings (a training signal only).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

CONFIG_KEY = "recurrent_world_model"  # the constructor arguments in a checkpoint's ``lit_jepa`` metadata


def conv_out(size: int, stride: int) -> int:
    """Output size of a 3 x 3 convolution with padding 1."""
    return (size - 1) // stride + 1


class RecurrentWorldModel(nn.Module):
    """CNN encoder + LayerNorm, GRU-cell predictor through the same LayerNorm, inverse-dynamics head.

    Args:
        img_size: the square input images' side.
        channels: which channels of the ``(H, W, C)`` uint8 images the encoder reads (Two-Rooms: dot and walls).
        mean, std: per read channel, the normalisation of ``image / 255``.
        action_dim: action dimensions.
        dim: the latent width.
        width: channels of the CNN's last layers (the first has half).
        idm_hidden: hidden width of the inverse-dynamics MLP.
        action_scale: the GRU reads ``action / action_scale`` (a frameskip model's actions span several steps).
        input_hidden: width of an MLP that reads the latent and the scaled action and feeds the GRU, so that what a
            step does can depend on where the agent is (walls); 0: the GRU reads the action alone (EB-JEPA's).
        residual_hidden: > 0 replaces the GRU by a residual MLP of this width (two hidden layers) that reads the
            latent and the scaled action and adds its output to the latent, before the LayerNorm; 0: the GRU.
        context: the residual MLP also reads the rollout's first latent (an encoded, observed frame), so that what
            does not move (walls) reaches every step from an encoding and not only through the predictor's own,
            drifting latents; needs ``residual_hidden``. On Two-Rooms the residual MLP halved the 6-step rollout error
            on walks, and neither it nor the context changed how often rollouts pass the wall or planning success
            (``experiments/toy-planning/README.md``).
        hypotheses: > 1 makes the residual MLP a multiple-hypothesis predictor: it proposes this many next latents
            and scores each with a logit; a step follows the highest-scored one (the most likely outcome, not the
            average of, say, a step the wall stops and one it does not). Trained winner-takes-all
            (:meth:`rollout_wta`); needs ``residual_hidden``. On Two-Rooms its logits did not learn which proposal
            wins, and it planned worse than one proposal (``experiments/toy-planning/README.md``, session 26).
    """

    def __init__(self, img_size: int = 65, channels: Sequence[int] = (0, 1, 2),
                 mean: Sequence[float] = (0.485, 0.456, 0.406), std: Sequence[float] = (0.229, 0.224, 0.225),
                 action_dim: int = 2, dim: int = 128, width: int = 32, idm_hidden: int = 256,
                 action_scale: float = 1.0, input_hidden: int = 0, residual_hidden: int = 0,
                 context: bool = False, hypotheses: int = 1) -> None:
        super().__init__()
        if not len(channels) == len(mean) == len(std):
            raise ValueError(f"RecurrentWorldModel: channels, mean and std need one entry each, got "
                             f"{len(channels)}, {len(mean)}, {len(std)}")
        if min(std) <= 0:
            raise ValueError(f"RecurrentWorldModel: std must be > 0, got {tuple(std)}")
        if action_scale <= 0 or input_hidden < 0 or residual_hidden < 0:
            raise ValueError(f"RecurrentWorldModel: need action_scale > 0 and input_hidden, residual_hidden >= 0, got "
                             f"{action_scale}, {input_hidden} and {residual_hidden}")
        if input_hidden and residual_hidden:
            raise ValueError("RecurrentWorldModel: input_hidden feeds the GRU that residual_hidden replaces; set one")
        if context and not residual_hidden:
            raise ValueError("RecurrentWorldModel: context is read by the residual MLP; set residual_hidden > 0")
        if hypotheses < 1 or (hypotheses > 1 and not residual_hidden):
            raise ValueError(f"RecurrentWorldModel: hypotheses must be >= 1, and > 1 needs residual_hidden > 0; got "
                             f"{hypotheses} with residual_hidden={residual_hidden}")
        self.action_scale = float(action_scale)
        self.img_size, self.channels, self.action_dim, self.dim = img_size, tuple(channels), action_dim, dim
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        side = conv_out(conv_out(conv_out(img_size, 2), 2), 2)
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(len(channels), w // 2, 3, 2, 1), nn.ReLU(), nn.Conv2d(w // 2, w, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(w, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, w, 3, 1, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(w * side * side, dim))
        self.norm = nn.LayerNorm(dim)
        self.input_hidden = input_hidden
        self.inputs = (nn.Sequential(nn.Linear(dim + action_dim, input_hidden), nn.ReLU(),
                                     nn.Linear(input_hidden, input_hidden), nn.ReLU())
                       if input_hidden else None)
        self.residual_hidden = residual_hidden
        self.context, self.hypotheses = context, hypotheses
        out = dim if hypotheses == 1 else hypotheses * (dim + 1)  # K deltas and K logits
        self.residual = (nn.Sequential(nn.Linear((2 if context else 1) * dim + action_dim, residual_hidden), nn.ReLU(),
                                       nn.Linear(residual_hidden, residual_hidden), nn.ReLU(),
                                       nn.Linear(residual_hidden, out))
                         if residual_hidden else None)
        self.gru = None if residual_hidden else nn.GRUCell(input_hidden or action_dim, dim)
        self.idm = nn.Sequential(nn.Linear(2 * dim, idm_hidden), nn.ReLU(), nn.Linear(idm_hidden, idm_hidden),
                                 nn.ReLU(), nn.Linear(idm_hidden, action_dim))

    def config(self) -> dict:
        """The constructor arguments (what a checkpoint needs to rebuild the model)."""
        return {"img_size": self.img_size, "channels": list(self.channels),
                "mean": self.mean.flatten().tolist(), "std": self.std.flatten().tolist(),
                "action_dim": self.action_dim, "dim": self.dim, "width": self.encoder[2].out_channels,
                "idm_hidden": self.idm[0].out_features, "action_scale": self.action_scale,
                "input_hidden": self.input_hidden, "residual_hidden": self.residual_hidden, "context": self.context,
                "hypotheses": self.hypotheses}

    def prepare(self, images: Tensor) -> Tensor:
        """uint8 images ``(..., H, W, C)`` -> the encoder's normalised input ``(N, len(channels), H, W)``."""
        if images.shape[-3:-1] != (self.img_size, self.img_size):
            raise ValueError(f"RecurrentWorldModel: images of {tuple(images.shape[-3:-1])} px, the model reads "
                             f"{self.img_size} x {self.img_size}")
        x = images.reshape(-1, *images.shape[-3:])[..., list(self.channels)].permute(0, 3, 1, 2)
        return (x.to(self.mean.device, torch.float32) / 255.0 - self.mean) / self.std

    def encode(self, images: Tensor) -> Tensor:
        """Latents ``(..., dim)`` of uint8 images ``(..., H, W, C)``."""
        return self.norm(self.encoder(self.prepare(images))).view(*images.shape[:-3], self.dim)

    def candidates(self, z: Tensor, action: Tensor, context: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """A multiple-hypothesis model's proposed next latents ``(B, K, dim)`` and their logits ``(B, K)``."""
        if self.hypotheses == 1:
            raise ValueError("RecurrentWorldModel.candidates: this model proposes one latent (hypotheses=1); use step")
        out = self.residual(self._inputs(z, action, context))
        k = self.hypotheses
        deltas, logits = out[:, : k * self.dim].view(-1, k, self.dim), out[:, k * self.dim :]
        return self.norm(z.unsqueeze(1) + deltas), logits

    def _inputs(self, z: Tensor, action: Tensor, context: Tensor | None) -> Tensor:
        if self.context and context is None:
            raise ValueError("RecurrentWorldModel: this model reads a context latent (the rollout's first)")
        a = action / self.action_scale
        return torch.cat([z, context, a] if self.context else [z, a], -1)

    def step(self, z: Tensor, action: Tensor, context: Tensor | None = None) -> Tensor:
        """The latent after ``action`` ``(B, A)`` from ``z`` ``(B, dim)``; a ``context`` model also reads the
        rollout's first latent ``context`` ``(B, dim)``; a multiple-hypothesis model returns its highest-scored
        proposal."""
        if self.hypotheses > 1:
            cands, logits = self.candidates(z, action, context)
            return cands[torch.arange(len(cands), device=cands.device), logits.argmax(-1)]
        if self.residual is not None:
            return self.norm(z + self.residual(self._inputs(z, action, context)))
        a = action / self.action_scale
        return self.norm(self.gru(a if self.inputs is None else self.inputs(torch.cat([z, a], -1)), z))

    def rollout(self, z0: Tensor, actions: Tensor, noise: float = 0.0) -> Tensor:
        """Every imagined latent ``(B, H, dim)`` of ``actions`` ``(B, H, A)`` from ``z0`` ``(B, dim)``; ``noise`` > 0
        adds Gaussian noise of that std to every latent the predictor reads (training against compounding errors)."""
        out, z = [], z0
        for a in actions.unbind(1):
            z = self.step(z + noise * torch.randn_like(z) if noise else z, a, z0)
            out.append(z)
        return torch.stack(out, 1)

    def rollout_wta(self, z0: Tensor, actions: Tensor, targets: Tensor, noise: float = 0.0,
                    exp: float = 2.0) -> tuple[Tensor, Tensor, Tensor]:
        """Winner-takes-all training rollout of a multiple-hypothesis model: at each step the proposal nearest the
        target latent (``targets`` ``(B, H, dim)``, error ``mean |.| ** exp``) is the winner, and the rollout goes on
        from it. Returns every proposal ``(B, H, K, dim)``, the logits ``(B, H, K)`` and the winners' indices
        ``(B, H)``, for the winner's error and a cross-entropy that teaches the logits to pick it."""
        cands, logits, index, z = [], [], [], z0
        for a, target in zip(actions.unbind(1), targets.unbind(1)):
            cand, logit = self.candidates(z + noise * torch.randn_like(z) if noise else z, a, z0)
            k = (cand - target.unsqueeze(1)).abs().pow(exp).mean(-1).argmin(-1)
            z = cand[torch.arange(len(cand), device=cand.device), k]
            cands.append(cand)
            logits.append(logit)
            index.append(k)
        return torch.stack(cands, 1), torch.stack(logits, 1), torch.stack(index, 1)

    def inverse_dynamics(self, z0: Tensor, z1: Tensor) -> Tensor:
        """The action read back from consecutive latents ``(..., dim)`` -> ``(..., A)``, in units of
        ``action_scale``."""
        return self.idm(torch.cat([z0, z1], -1))
