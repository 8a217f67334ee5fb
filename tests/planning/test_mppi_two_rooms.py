"""MPPI next to CEM, the summed-horizon cost, and the Two-Rooms world."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lit_jepa.data.toyworld.two_rooms import IMG_SIZE, MAX_STEP, SUCCESS_RADIUS, TwoRooms
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import multiscale_energy, proprio_energy
from lit_jepa.planning.env import draw_goals, make_env
from lit_jepa.planning.model import LatentWorldModel
from lit_jepa.planning.mpc import LatentPlanner, RandomPlanner, ReplayPlanner, SimulatorPlanner, run_mpc, summarise
from lit_jepa.planning.mppi import MPPIConfig, mppi


def quadratic(target: torch.Tensor):
    return lambda a: ((a - target) ** 2).sum((-1, -2))


@pytest.mark.parametrize("solver", [cem, mppi])
def test_mppi_and_cem_find_the_minimum_of_a_quadratic(solver):
    cfg = MPPIConfig(samples=64, iterations=8, elites=8, horizon=2, scale=(1.0, 1.0), free_dims=(0, 1),
                     momentum_mean=0.0, momentum_std=0.0, temperature=0.2)
    target = torch.tensor([[0.3, -0.5], [-0.2, 0.4]])
    actions, best = solver(quadratic(target), 3, cfg, torch.Generator().manual_seed(0))
    assert actions.shape == (3, 2, 2) and best.shape == (3,)
    assert torch.allclose(actions, target.expand(3, -1, -1), atol=0.1)


def test_mppi_weights_differ_from_cem_and_check_their_config():
    cfg = MPPIConfig(samples=16, iterations=1, elites=8, horizon=1, scale=(1.0,), free_dims=(0,), temperature=0.01)
    target = torch.tensor([[0.7]])
    a_mppi, _ = mppi(quadratic(target), 1, cfg, torch.Generator().manual_seed(0))
    a_cem, _ = cem(quadratic(target), 1, cfg, torch.Generator().manual_seed(0))
    # the same samples; MPPI's low temperature puts the mean near the best elite, CEM's at the elites' mean
    assert abs(a_mppi - 0.7).item() < abs(a_cem - 0.7).item()
    with pytest.raises(TypeError, match="MPPIConfig"):
        mppi(quadratic(target), 1, CEMConfig(samples=4, elites=2, scale=(1.0,), free_dims=(0,)))
    with pytest.raises(ValueError, match="temperature"):
        MPPIConfig(temperature=0.0)


def test_summed_cost_adds_the_energy_of_every_imagined_frame():
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=32, num_frames=2, patch_size=16, embed_dim=16, depth=1, num_heads=2)
    pred = ACPredictor(img_size=32, patch_size=16, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2,
                       action_dim=2)
    wm = LatentWorldModel(enc, pred)
    goal = np.random.default_rng(0).integers(0, 255, (1, 32, 32, 3), dtype=np.uint8)
    cfg = CEMConfig(samples=4, elites=2, horizon=3, scale=(1.0, 1.0), free_dims=(0, 1))
    final, summed = (LatentPlanner(wm, cfg, goal, cost=c) for c in ("final", "sum"))
    z0 = wm.encode(torch.from_numpy(goal))
    s0, actions = torch.zeros(1, 2), torch.randn(1, 2, 3, 2)
    frames, _ = wm.rollout(z0.repeat(2, 1, 1), s0.repeat(2, 1), actions[0], every_step=True)
    per_frame = [multiscale_energy(wm.maps(frames[:, h])[None, None], final.goal_levels[(0.0,)])
                 for h in range(3)]
    assert torch.allclose(final.energy(z0, s0, actions), per_frame[-1].view(1, 2), atol=1e-5)
    assert torch.allclose(summed.energy(z0, s0, actions), sum(per_frame).view(1, 2), atol=1e-5)
    with pytest.raises(ValueError, match="cost"):
        LatentPlanner(wm, cfg, goal, cost="mean")


def test_two_rooms_layout_walls_and_success():
    env = make_env("two_rooms")
    assert isinstance(env, TwoRooms)
    _, info = env.reset(seed=3)
    img, goal = env.render(), info["goal_image"]
    assert img.shape == goal.shape == (IMG_SIZE, IMG_SIZE, 3) and img.dtype == np.uint8
    assert np.sign(env.position[0] - env.wall_x) != np.sign(env.goal[0] - env.wall_x)  # opposite rooms
    assert 20 <= env.wall_x <= 44 and 10 <= env.door_y <= 54 and not info["is_success"]
    assert img[:, env.wall_x, 1].sum() > 0 and img[env.door_y, env.wall_x, 1] == 0  # wall, door
    # a straight move into the wall away from the door stops at it
    env.set_state(np.array([env.wall_x - 6.0, env.door_y + 20.0 if env.door_y < 34 else env.door_y - 20.0]))
    for _ in range(5):
        env.step(np.array([MAX_STEP, 0.0]))
    assert env.get_state()[0] < env.wall_x - 1
    env.set_state(env.goal + np.array([SUCCESS_RADIUS * 0.9, 0]))
    assert env.step(np.zeros(2))[4]["is_success"] and not env.blocked(env.goal)
    layouts = set()
    for seed in range(5):
        env.reset(seed=seed)
        layouts.add((env.wall_x, env.door_y))
    assert len(layouts) > 1  # random layouts
    fixed = TwoRooms(fixed_layout=True)
    fixed.reset(seed=0)
    assert (fixed.wall_x, fixed.door_y) == (32, 18)


def test_two_rooms_baselines_replay_simulator_random():
    envs, seeds = [TwoRooms() for _ in range(4)], [10, 11, 12, 13]
    goals = draw_goals(envs, seeds)
    assert goals.expert_actions.shape == (4, 64, 2) and goals.proprio.shape == (4, 2)
    replay = summarise(run_mpc(ReplayPlanner(goals.expert_actions), envs, seeds, 64))
    assert replay["sr_final"] == 1.0
    cfg = MPPIConfig(samples=32, iterations=3, elites=6, horizon=4, scale=(MAX_STEP, MAX_STEP), free_dims=(0, 1))
    rand = summarise(run_mpc(RandomPlanner(cfg, 0), envs, seeds, 10))
    assert rand["sr_final"] == 0.0
    start = [TwoRooms() for _ in seeds]
    before = [e.reset(seed=s) and e.goal_distance() for e, s in zip(start, seeds)]
    sim = run_mpc(SimulatorPlanner(envs, cfg, 0, solver="mppi"), envs, seeds, 10)
    assert sim["success"].shape == (4, 11)
    assert np.mean([e.goal_distance() for e in envs]) < np.mean(before)  # the simulator search moves toward goals


def test_proprio_energy_of_plain_states_is_the_mean_absolute_difference():
    assert torch.allclose(proprio_energy(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])), torch.tensor([1.5]))
    pose = torch.tensor([[1.0, 0, 0, 5.0, 5.0, 5.0, 1.0]])  # rotations do not count in a 7-D pose
    assert torch.allclose(proprio_energy(pose, torch.zeros(1, 7)), torch.tensor([0.5]))
