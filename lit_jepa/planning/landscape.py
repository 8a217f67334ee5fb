"""Energy landscape around the true action on held-out transitions (vjepa2 #54, paper Fig. 9).

For each transition ``(z_t, s_t, a_t, z_{t+1})`` the energy ``|predict(z_t, s_t, a) - z_{t+1}|`` is swept over a
``points x points`` grid of two action dimensions (the other dimensions keep the true action's values). Reported:
the distance from the grid's argmin to the true action, the rank of the true action's energy among the grid's,
and the share of argmins with the true action's sign on each swept dimension where that sign is clear. Also how
much of the true feature change the prediction for the true action makes (:func:`change_explained`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lit_jepa.planning.energy import l1_energy
from lit_jepa.planning.model import LatentWorldModel


def change_explained(pred: Tensor, z0: Tensor, z1: Tensor) -> dict:
    """How much of the true change ``z1 - z0`` the predictions ``pred`` make, all ``(M, N, D)``.

    ``change_cosine``: mean over transitions with a change of the cosine between ``pred - z0`` and ``z1 - z0``;
    ``change_ratio``: ``sum <pred - z0, z1 - z0> / sum |z1 - z0|^2`` (1: the whole change, 0: copying the last
    frame; a model that predicts a faded move scores between).
    """
    p, d = (pred - z0).flatten(1).double(), (z1 - z0).flatten(1).double()
    moved = d.norm(dim=1) > 0
    cos = torch.nn.functional.cosine_similarity(p[moved], d[moved], dim=1)
    return {"change_cosine": float(cos.mean()) if moved.any() else float("nan"),
            "change_ratio": float((p * d).sum() / (d * d).sum()) if moved.any() else float("nan")}


@torch.no_grad()
def energy_landscape(model: LatentWorldModel, z0: Tensor, s0: Tensor, actions: Tensor, z1: Tensor,
                     dims: tuple[int, int] = (0, 1), radius: float = 0.05, points: int = 7,
                     batch_size: int = 4096) -> dict:
    """Sweep for ``M`` transitions: ``z0``, ``z1`` ``(M, N, D)``, ``s0``, ``actions`` ``(M, A)``.

    Returns JSON-ready metrics and ``landscape`` ``(points, points)``: per-transition energies scaled to [0, 1],
    averaged (row = first swept dimension).
    """
    M, G = len(z0), points

    def predict(z: Tensor, s: Tensor, a: Tensor, target: Tensor | None = None) -> Tensor:
        """One model step for each action ``(B, A)``, in batches: the predictions, or their L1 energies to ``target``
        (so that the whole sweep's predictions are never held at once)."""
        out = []
        for i in range(0, len(a), batch_size):
            pred = model.rollout(z[i : i + batch_size], s[i : i + batch_size], a[i : i + batch_size, None])[0]
            out.append(pred if target is None else l1_energy(pred, target[i : i + batch_size]))
        return torch.cat(out)

    axis = torch.linspace(-radius, radius, G, device=actions.device)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), dim=-1).view(G * G, 2)
    cand = actions.unsqueeze(1).repeat(1, G * G, 1)
    cand[:, :, list(dims)] = grid
    z0r, s0r, z1r = (x.repeat_interleave(G * G, 0) for x in (z0, s0, z1))
    e_grid = predict(z0r, s0r, cand.flatten(0, 1), z1r).view(M, G * G)
    pred = predict(z0, s0, actions)  # the true actions
    e_true = l1_energy(pred, z1)
    best = grid[e_grid.argmin(1)]
    true = actions[:, list(dims)]
    clear = true.abs() > radius / (G - 1) / 2
    signs = (best.sign() == true.sign())[clear]
    lo, hi = e_grid.min(1, keepdim=True).values, e_grid.max(1, keepdim=True).values
    return {"transitions": M, "dims": list(dims), "radius": radius, "points": G,
            "argmin_error": float((best - true.clamp(-radius, radius)).norm(dim=1).mean()),
            "true_action_rank_mean": float((e_grid < e_true.unsqueeze(1)).sum(1).float().mean()),
            "true_action_rank_median": float((e_grid < e_true.unsqueeze(1)).sum(1).float().median()),
            "sign_agreement": float(signs.float().mean()) if signs.numel() else float("nan"),
            **change_explained(pred, z0, z1),
            "landscape": ((e_grid - lo) / (hi - lo).clamp_min(1e-12)).mean(0).view(G, G)}


def heatmap(values: Tensor, scale: int = 16) -> Tensor:
    """A ``(3, H, W)`` image of a 2-D array in [0, 1] (blue = low energy, red = high), for ``add_image``."""
    v = values.clamp(0, 1).repeat_interleave(scale, 0).repeat_interleave(scale, 1)
    return torch.stack([v, 0.2 * torch.ones_like(v), 1 - v])
