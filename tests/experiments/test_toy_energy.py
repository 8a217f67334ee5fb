"""Smoke test of the energy-ceiling study (``experiments/toy-energy/``): the simulator's image oracle."""

import numpy as np
import pytest
import torch

from lit_jepa.data.toyworld.env import Tabletop
from lit_jepa.data.toyworld.tasks.tabletop import make_goal
from lit_jepa.nn import FrozenEncoder
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.env import Observation
from tests.experiments.conftest import load_study


class PixelEncoder(FrozenEncoder):
    """A stand-in encoder whose tokens are the 8 x 8-pixel cells' mean colours: the arm shows as one bright cell."""

    embed_dim, img_size, num_frames, patch_size = 3, 64, 1, 8

    def forward(self, x: torch.Tensor, out_layers: list[int] | None = None) -> torch.Tensor:
        return torch.nn.functional.avg_pool2d(x.mean(2), 8).flatten(2).transpose(1, 2)

    def config(self) -> dict:
        return {}


@pytest.mark.research
def test_simulator_image_oracle_prefers_the_plan_that_reaches_the_goal():
    bench = load_study("toy-energy/toy_energy_ceiling.py")
    goal = make_goal("reach", 1_000_000)
    envs = [Tabletop()]
    envs[0].set_full_state(goal.start)
    cfg = CEMConfig(samples=4, iterations=1, elites=2, horizon=5, scale=(0.25, 0.25, 0, 0, 0, 0, 0), free_dims=(0, 1))
    planner = bench.SimulatorImagePlanner(PixelEncoder(), 1, (0.0, 1.0, 2.0), envs, goal.image[None], cfg,
                                          frame_step=5, budget=25)
    replay = torch.from_numpy(goal.actions).float().view(1, 1, 5, 5, 7).sum(3)  # 5 model steps of 5 env steps
    energies = planner.energy(torch.cat([replay, torch.zeros_like(replay)], dim=1))
    assert energies.shape == (1, 2) and energies[0, 0] < 0.5 * energies[0, 1]  # the replayed plan lands on the goal
    np.testing.assert_array_equal(envs[0].full_state, goal.start)  # scoring never moves the live environment
    obs = Observation(goal.image[None], envs[0].state[None])
    first = planner.plan(obs, 0)
    assert np.array_equal(planner.plan(obs, 3), first) and np.abs(first[0, :2]).max() <= 0.05 + 1e-9
    out = bench.cem_oracle(PixelEncoder(), 1, (0.0, 1.0), "reach", episodes=2, budget=5, frame_step=5, horizon=1)
    assert out["episodes"] == 2 and 0 <= out["sr_final"] <= out["sr_any"] <= 1 and len(out["wilson95"]) == 2
