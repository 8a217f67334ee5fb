"""``benchmarks/toy_energy_fidelity.py``: a world model's energy landscape against the simulator's."""

import numpy as np
import pytest
import torch

from benchmarks import toy_energy_fidelity as fid
from benchmarks.toy_energy_ceiling import render_plan
from lit_jepa.data.toyworld.env import Tabletop
from lit_jepa.data.toyworld.tasks.tabletop import make_goal
from lit_jepa.planning.model import LatentWorldModel, encode_frames
from tests.planning.test_mpc_cli import PixelEncoder


class SimulatorModel(LatentWorldModel):
    """A perfect world model for one start state: it imagines a move by executing it in the simulator."""

    def __init__(self, start: np.ndarray, frame_step: int) -> None:
        torch.nn.Module.__init__(self)
        self.encoder, self.pool, self.pool_mode = PixelEncoder(), 1, "avg"
        self.start, self.frame_step = start, frame_step

    device = torch.device("cpu")

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return encode_frames(self.encoder, frames)

    def rollout(self, z0, state0, actions):
        env = Tabletop()
        frames = [render_plan(env, self.start, plan, self.frame_step) for plan in actions.double().numpy()]
        return self.encode(torch.from_numpy(np.stack(frames))), state0


class StillModel(SimulatorModel):
    """Imagines that nothing moves, whatever the action."""

    def rollout(self, z0, state0, actions):
        return z0, state0


def test_a_perfect_model_matches_the_simulator_and_a_still_one_does_not():
    goal, grid = make_goal("reach", 1_000_000), fid.action_grid(5, 0.25)
    assert grid.shape == (25, 2) and np.abs(grid).max() == 0.25
    direction = (goal.goal[:2] - goal.start[:2]) / np.linalg.norm(goal.goal[:2] - goal.start[:2])
    model_e, sim_e = fid.landscapes(SimulatorModel(goal.start, 5), goal, grid, 5, (0.0, 1.0))
    assert model_e.shape == sim_e.shape == (2, 25) and np.allclose(model_e, sim_e, atol=1e-6)
    row = fid.episode_row(model_e, sim_e, grid, direction)
    assert row["corr"] == pytest.approx([1.0, 1.0]) and row["range_ratio"] == pytest.approx([1.0, 1.0])
    assert row["cos_model"] == row["cos_simulator"] > 0.99  # the true landscape points to the goal
    still = fid.episode_row(*fid.landscapes(StillModel(goal.start, 5), goal, grid, 5, (0.0, 1.0)), grid, direction)
    assert np.isnan(still["corr"]).all() and still["range_ratio"] == [0.0, 0.0] and still["cos_model"] == 0.0


def test_summary_splits_near_and_far_goals():
    rows = [{"distance": d, "corr": [c, 1.0], "range_ratio": [0.5, r], "corr_total": c, "cos_model": m,
             "cos_simulator": 1.0} for d, c, r, m in [(0.2, 0.8, 1.0, 1.0), (0.3, float("nan"), 0.0, 0.5),
                                                     (0.6, 0.1, 0.4, -1.0)]]
    out = fid.summarise(rows, far=0.4)
    assert out["near"]["episodes"] == 2 and out["far"]["episodes"] == 1
    assert out["near"]["corr"] == [0.8, 1.0] and out["near"]["range_ratio"] == [0.5, 0.5]  # NaN ignored
    assert out["near"]["model_toward_goal"] == 0.5 and out["far"]["model_toward_goal"] == 0.0
    assert "far" not in fid.summarise(rows[:2], far=0.4)
