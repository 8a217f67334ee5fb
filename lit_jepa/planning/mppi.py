"""MPPI (model-predictive path integral) next to CEM, with the same interface, batched over episodes.

Like :func:`~lit_jepa.planning.cem.cem` it samples normalised actions around a Gaussian, bounds them and keeps the
``elites`` lowest energies; instead of their plain mean and std it takes the mean and std weighted by
``softmax(-(e - e_min) / (temperature * (e_max - e_min)))`` over the elites (the temperature is in units of the
elites' energy range, so it does not depend on the energy's scale), then moves the Gaussian with the same momentum.
PLDM and EB-JEPA plan Two-Rooms with MPPI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from lit_jepa.planning.cem import CEMConfig, EnergyFn, cem, elite_search


@dataclass
class MPPIConfig(CEMConfig):
    """:class:`~lit_jepa.planning.cem.CEMConfig` plus the MPPI weighting.

    Args:
        temperature: softmax temperature of the elite weights, in units of the elites' energy range (small: close
            to the best sample; large: close to CEM's plain elite mean).
    """

    temperature: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.temperature <= 0:
            raise ValueError(f"MPPIConfig: temperature must be > 0, got {self.temperature}")


def mppi(energy: EnergyFn, num_envs: int, cfg: MPPIConfig, generator: torch.Generator | None = None,
         device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """Minimise ``energy`` over action sequences for ``num_envs`` episodes at once (the interface of
    :func:`~lit_jepa.planning.cem.cem`): returns the final mean as physical actions ``(E, H, A)`` and each
    episode's best energy of the last iteration ``(E,)``."""
    if not isinstance(cfg, MPPIConfig):
        raise TypeError(f"mppi needs an MPPIConfig (with a temperature), got {type(cfg).__name__}")

    def moments(top: Tensor, elite: Tensor) -> tuple[Tensor, Tensor]:
        spread = (top[:, -1:] - top[:, :1]).clamp_min(1e-12)
        w = torch.softmax(-(top - top[:, :1]) / (cfg.temperature * spread), dim=1).view(*top.shape, 1, 1)
        elite_mean = (w * elite).sum(1)
        return elite_mean, (w * (elite - elite_mean.unsqueeze(1)) ** 2).sum(1).sqrt()

    return elite_search(energy, num_envs, cfg, moments, generator, device)


SOLVERS: dict[str, Callable[..., tuple[Tensor, Tensor]]] = {"cem": cem, "mppi": mppi}
