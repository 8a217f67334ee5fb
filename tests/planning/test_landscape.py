"""The energy-landscape diagnostic: argmin, sign agreement and the share of the true change a model predicts."""

from __future__ import annotations

import torch

from lit_jepa.planning.landscape import change_explained, energy_landscape


class LinearWorld:
    """A stand-in world model: the next tokens are ``z0 + gain * (action_x, action_y)`` on two feature channels."""

    def __init__(self, gain: float) -> None:
        self.gain = gain

    def rollout(self, z0: torch.Tensor, s0: torch.Tensor, actions: torch.Tensor):
        move = torch.zeros_like(z0)
        move[:, :, :2] = actions[:, -1, None, :2]
        return z0 + self.gain * move, s0


def transitions(m: int = 12):
    torch.manual_seed(0)
    z0, s0 = torch.randn(m, 4, 3), torch.zeros(m, 7)
    a = torch.zeros(m, 7)
    a[:, :2] = torch.rand(m, 2) * 0.08 - 0.04
    z1, _ = LinearWorld(1.0).rollout(z0, s0, a.unsqueeze(1))
    return z0, s0, a, z1


def test_exact_model_explains_the_whole_change_and_finds_the_true_action():
    z0, s0, a, z1 = transitions()
    out = energy_landscape(LinearWorld(1.0), z0, s0, a, z1, radius=0.05, points=11)
    assert abs(out["change_ratio"] - 1) < 1e-6 and abs(out["change_cosine"] - 1) < 1e-6
    assert out["argmin_error"] < 0.01 and out["sign_agreement"] == 1.0


def test_faded_and_copy_last_predictions_score_their_share_of_the_change():
    z0, s0, a, z1 = transitions()
    half = energy_landscape(LinearWorld(0.5), z0, s0, a, z1, radius=0.05, points=11)
    assert abs(half["change_ratio"] - 0.5) < 1e-6 and abs(half["change_cosine"] - 1) < 1e-6
    copy = change_explained(z0, z0, z1)
    assert copy["change_ratio"] == 0.0 and copy["change_cosine"] == 0.0
    wrong = change_explained(z0 - (z1 - z0), z0, z1)
    assert abs(wrong["change_ratio"] + 1) < 1e-6 and abs(wrong["change_cosine"] + 1) < 1e-6
