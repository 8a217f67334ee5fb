"""CEM, energies and pose integration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_jepa.geometry import integrate_pose, poses_to_actions
from lit_jepa.metrics import wilson
from lit_jepa.planning import CEMConfig, cem, l1_energy, proprio_energy
from lit_jepa.planning.energy import blur_levels, blur_matrix, gaussian_blur, multiscale_energy
from lit_jepa.planning.model import merge_tokens, token_maps


def quadratic(target: torch.Tensor):
    """Energy ``|a - target|^2`` of the first planned action; ``target`` ``(E, 7)`` physical."""
    return lambda a: ((a[:, :, 0] - target[:, None]) ** 2).sum(-1)


@pytest.mark.parametrize("bound_kind", ["box", "l1"])
def test_cem_converges_on_quadratic(bound_kind):
    target = torch.tensor([[0.02, -0.03, 0.01, 0, 0, 0, 0.3], [-0.04, 0.01, 0.0, 0, 0, 0, -0.5]])
    cfg = CEMConfig(samples=200, iterations=15, elites=20, horizon=2, momentum_mean=0.1, momentum_std=0.1,
                    bound=1.0 if bound_kind == "box" else 3.0, bound_kind=bound_kind)
    calls = []

    def energy(a):
        calls.append(a.shape)
        return quadratic(target)(a)

    mean, best = cem(energy, 2, cfg, torch.Generator().manual_seed(0))
    assert mean.shape == (2, 2, 7) and best.shape == (2,)
    assert torch.allclose(mean[:, 0], target, atol=0.01), mean[:, 0]
    assert (mean[:, :, 3:6] == 0).all()  # rotations are not free: pinned to 0
    assert calls == [(2, 200, 2, 7)] * 15  # all episodes and samples in one call per iteration
    assert (best < 1e-3).all()


def test_cem_respects_bounds():
    far = torch.tensor([[1.0, -1.0, 1.0, 0, 0, 0, 5.0]])  # outside the action bounds
    seen = []

    def energy(a):
        seen.append(a)
        return quadratic(far)(a)

    box = CEMConfig(samples=64, iterations=20, elites=8, horizon=1)
    mean, _ = cem(energy, 1, box, torch.Generator().manual_seed(0))
    limit = torch.tensor(box.scale) * box.bound + 1e-6
    assert all((a.abs() <= limit).all() for a in seen)
    assert torch.allclose(mean[0, 0, :3], torch.tensor([0.05, -0.05, 0.05]), atol=5e-3)  # pushed to the box
    l1 = CEMConfig(samples=64, iterations=5, elites=8, horizon=1, bound=1.0, bound_kind="l1")
    seen.clear()
    cem(energy, 1, l1, torch.Generator().manual_seed(0))
    u = torch.cat(seen)[..., [0, 1, 2, 6]] / torch.tensor([0.05, 0.05, 0.05, 0.75])
    assert (u.abs().sum(-1) <= 1 + 1e-5).all()


def test_cem_config_errors():
    with pytest.raises(ValueError, match="elites"):
        CEMConfig(samples=4, elites=8)
    with pytest.raises(ValueError, match="free_dims"):
        CEMConfig(free_dims=(0, 9))


def test_energies():
    a, b = torch.zeros(3, 5, 4), torch.ones(3, 5, 4)
    assert torch.equal(l1_energy(a, b), torch.ones(3))
    s = torch.tensor([0.1, 0.2, 0.3, 1.0, 1.0, 1.0, 0.0])
    g = torch.tensor([0.2, 0.2, 0.3, -1.0, 0.0, 0.0, 1.0])  # rotations are ignored
    assert proprio_energy(s, g).item() == pytest.approx((0.1 + 1.0) / 4)


def bump(row: int, col: int, size: int = 8, dim: int = 3) -> torch.Tensor:
    """A ``(1, dim, size, size)`` map that is 1 at one token and 0 elsewhere: an agent on a plain floor."""
    m = torch.zeros(1, dim, size, size)
    m[..., row, col] = 1.0
    return m


def test_blurred_energy_gives_far_positions_a_slope_toward_the_goal():
    goal = bump(1, 1)
    sharp, blurred = [], []
    for col in (7, 5, 3, 2, 1):  # the agent walks toward the goal token
        pred = bump(1, col)
        sharp.append(float(multiscale_energy(blur_levels(pred, (0.0,)), blur_levels(goal, (0.0,)))))
        blurred.append(float(multiscale_energy(blur_levels(pred, (0.0, 1.0, 2.0)),
                                                  blur_levels(goal, (0.0, 1.0, 2.0)))))
    assert sharp[:4] == [sharp[0]] * 4 and sharp[4] == 0  # the plain L1 is flat until the agent is on the goal
    assert all(a > b for a, b in zip(blurred, blurred[1:])) and blurred[-1] == 0  # strictly downhill


def test_multiscale_energy_at_sigma_zero_is_the_plain_l1_on_stacked_tokens():
    torch.manual_seed(0)
    grid = torch.randn(4, 64, 5)  # an 8 x 8 encoder grid
    stacked = merge_tokens(grid, 2, "stack")
    maps = token_maps(stacked, 2, "stack")
    assert torch.equal(maps, grid.transpose(1, 2).unflatten(2, (8, 8)))  # unstacking restores the encoder grid
    assert token_maps(merge_tokens(grid, 2), 2).shape == (4, 5, 4, 4)  # averaged tokens keep their own grid
    energy = multiscale_energy(blur_levels(maps, (0.0,)), blur_levels(maps.roll(1, 0), (0.0,)))
    torch.testing.assert_close(energy, l1_energy(stacked, stacked.roll(1, 0)))


def test_gaussian_blur_keeps_constant_maps_and_rejects_negative_sigma():
    const = torch.full((2, 3, 8, 8), 0.7)
    torch.testing.assert_close(gaussian_blur(const, 2.0), const)  # normalised kernel, edges replicated
    assert torch.equal(gaussian_blur(bump(4, 4), 0.0), bump(4, 4))
    assert gaussian_blur(bump(4, 4), 1.0)[0, 0, 4, 3] > 0  # mass spreads to neighbours
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(const, -1.0)


def test_integrate_pose_inverts_poses_to_actions():
    rng = np.random.default_rng(0)
    states = np.concatenate([rng.normal(size=(6, 3)), rng.uniform(-1, 1, (6, 3)), rng.uniform(0, 1, (6, 1))], 1)
    actions = poses_to_actions(states.astype(np.float32))
    nxt = integrate_pose(torch.tensor(states[:-1], dtype=torch.float64), torch.tensor(actions, dtype=torch.float64))
    assert np.allclose(nxt.numpy(), states[1:], atol=1e-4)
    grip = integrate_pose(torch.zeros(7), torch.tensor([0, 0, 0, 0, 0, 0, 2.0]))
    assert grip[6] == 1.0  # gripper clipped to [0, 1]


def test_wilson_interval():
    lo, hi = wilson(45, 50)
    assert (round(lo, 3), round(hi, 3)) == (0.786, 0.957)
    assert wilson(0, 50)[0] == 0.0 and wilson(50, 50)[1] == 1.0


def test_blur_matrix_is_the_gaussian_blur():
    maps = torch.randn(3, 5, 6, 6)
    for sigma in (0.0, 1.0, 2.0):
        m = blur_matrix(sigma, 6)
        assert torch.allclose(maps.flatten(2) @ m, gaussian_blur(maps, sigma).flatten(2), atol=1e-5)
