"""Cross-entropy method with momentum (the official ``mpc_utils.cem``), batched over episodes.

Actions are sampled in normalised units ``u`` and executed as ``u * scale``; dimensions outside ``free_dims``
stay 0 (the official planner frees Δxyz and the gripper and pins rotations to 0). Samples are bounded either per
coordinate (``"box"``, what the official code does) or by radial rescaling into an L1 ball (``"l1"``, what the
paper describes) or an L2 ball (``"l2"``, EB-JEPA's CEM on Two-Rooms). Each iteration keeps the ``elites``
lowest energies and moves the Gaussian with momentum:
``mean <- (1 - m) * elite_mean + m * mean`` and likewise for the std.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

EnergyFn = Callable[[Tensor], Tensor]  # physical actions (E, S, H, A) -> energies (E, S)
Moments = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]  # elite energies, elites -> (mean, std)


@dataclass
class CEMConfig:
    """CEM settings (defaults: the official ``WorldModel`` wrapper with DROID units, maxnorm 0.05).

    Args:
        samples, iterations, elites, horizon: population, refinement steps, top-k and planned steps.
        momentum_mean, momentum_std: momentum of the Gaussian's mean and std updates.
        init_std: initial std in normalised units.
        bound, bound_kind: radius in normalised units of the ``"box"``, ``"l1"`` or ``"l2"`` action bound.
        scale: physical units per normalised unit, one per action dimension.
        free_dims: the dimensions CEM searches; the others are 0.
    """

    samples: int = 400
    iterations: int = 10
    elites: int = 10
    horizon: int = 2
    momentum_mean: float = 0.15
    momentum_std: float = 0.15
    init_std: float = 1.0
    bound: float = 1.0
    bound_kind: Literal["box", "l1", "l2"] = "box"
    scale: tuple[float, ...] = (0.05, 0.05, 0.05, 1.0, 1.0, 1.0, 0.75)
    free_dims: tuple[int, ...] = (0, 1, 2, 6)

    def __post_init__(self) -> None:
        if not 0 < self.elites <= self.samples:
            raise ValueError(f"CEMConfig: elites must be in 1..samples ({self.samples}), got {self.elites}")
        if self.bound_kind not in ("box", "l1", "l2"):
            raise ValueError(f"CEMConfig: bound_kind must be 'box', 'l1' or 'l2', got {self.bound_kind!r}")
        if any(not 0 <= d < len(self.scale) for d in self.free_dims):
            raise ValueError(f"CEMConfig: free_dims {self.free_dims} outside the {len(self.scale)} action dims")

    def bounded(self, u: Tensor) -> Tensor:
        """Project normalised free-dim actions ``(..., F)`` into the bound."""
        if self.bound_kind == "box":
            return u.clamp(-self.bound, self.bound)
        norm = u.abs().sum(-1, keepdim=True) if self.bound_kind == "l1" else u.norm(dim=-1, keepdim=True)
        return u * (self.bound / norm.clamp_min(self.bound))

    def physical(self, u: Tensor) -> Tensor:
        """Normalised free-dim actions ``(..., F)`` -> physical actions ``(..., len(scale))``."""
        out = u.new_zeros(*u.shape[:-1], len(self.scale))
        dims = list(self.free_dims)
        out[..., dims] = u * u.new_tensor([self.scale[d] for d in dims])
        return out


def elite_search(energy: EnergyFn, num_envs: int, cfg: CEMConfig, moments: Moments,
                 generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """The sampling loop CEM and MPPI share: draw ``cfg.samples`` bounded sequences around the mean, score them,
    keep the ``cfg.elites`` lowest, and move the mean and std (with momentum) to ``moments(top, elite)``, the
    solver's estimate from the elites' energies ``(E, K)`` and normalised actions ``(E, K, H, F)``.

    Args:
        energy: physical actions ``(E, S, H, A)`` -> energies ``(E, S)``, every episode's samples in one call.
        num_envs: episodes planned at once.
        cfg: sampler sizes, bounds and momentum.
        moments: the solver's elite statistics, ``(mean, std)`` each ``(E, H, F)``.
        generator: the sampling noise's generator.
        device: where the means and energies live.
    """
    shape = (num_envs, cfg.horizon, len(cfg.free_dims))
    mean = torch.zeros(shape, device=device)
    std = torch.full(shape, cfg.init_std, device=device)
    best = torch.empty(num_envs, device=device)
    for _ in range(cfg.iterations):
        noise = torch.randn((num_envs, cfg.samples, *shape[1:]), generator=generator, device="cpu").to(device)
        u = cfg.bounded(mean.unsqueeze(1) + std.unsqueeze(1) * noise)
        e = energy(cfg.physical(u))
        top, idx = e.topk(cfg.elites, dim=1, largest=False)
        elite = u.gather(1, idx.view(num_envs, cfg.elites, 1, 1).expand(-1, -1, *shape[1:]))
        elite_mean, elite_std = moments(top, elite)
        mean = (1 - cfg.momentum_mean) * elite_mean + cfg.momentum_mean * mean
        std = (1 - cfg.momentum_std) * elite_std + cfg.momentum_std * std
        best = top[:, 0]
    return cfg.physical(cfg.bounded(mean)), best


def cem(energy: EnergyFn, num_envs: int, cfg: CEMConfig, generator: torch.Generator | None = None,
        device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Minimise ``energy`` over action sequences for ``num_envs`` episodes at once.

    ``energy`` gets every episode's samples in one call: physical actions ``(E, S, H, A)``, returns ``(E, S)``.
    Returns the final mean as physical actions ``(E, H, A)`` and the energy of each episode's best sample of the
    last iteration ``(E,)``. The elites count equally (their plain mean and standard deviation).
    """
    return elite_search(energy, num_envs, cfg, lambda top, elite: (elite.mean(1), elite.std(1, unbiased=False)),
                        generator, device)
