"""Macro actions (``hold``), the squared-distance energy and the L2 action bound of the latent planner, with the
recurrent world model, ``lit-jepa plan`` on a recurrent world model's checkpoint, and ensembles of them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lit_jepa.cli import main
from lit_jepa.data.toyworld.two_rooms import TwoRooms
from lit_jepa.nn import RecurrentWorldModel
from lit_jepa.nn.recurrent import CONFIG_KEY
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.model import RecurrentEnsemble, RecurrentLatentModel, load_world_models
from lit_jepa.planning.mpc import LatentPlanner, Observation

NET = dict(img_size=65, channels=(0, 1), mean=(0.0026, 0.0989), std=(0.0369, 0.2986), dim=16, width=8,
           idm_hidden=16)


def model(seed: int = 0) -> RecurrentLatentModel:
    torch.manual_seed(seed)
    return RecurrentLatentModel(RecurrentWorldModel(**NET))


def episode_images(n: int) -> tuple[np.ndarray, np.ndarray]:
    envs = [TwoRooms() for _ in range(n)]
    infos = [env.reset(seed=k)[1] for k, env in enumerate(envs)]
    return np.stack([e.render() for e in envs]), np.stack([i["goal_image"] for i in infos])


def test_held_actions_are_searched_imagined_and_executed_in_turn():
    images, goals = episode_images(2)
    cfg = CEMConfig(samples=8, iterations=1, elites=2, horizon=12, scale=(2.45, 2.45), free_dims=(0, 1))
    planner = LatentPlanner(model(), cfg, goals, hold=5, replan_every=7, budget=14)
    searched, imagined = [], []
    energy, rollout = planner.energy, planner.model.rollout
    planner.energy = lambda z0, s0, a, *rest: searched.append(a.shape[2]) or energy(z0, s0, a, *rest)
    planner.model.rollout = lambda z, s, a, **kw: imagined.append(a.clone()) or rollout(z, s, a, **kw)
    obs = Observation(images, np.zeros((2, 2)))
    executed = [planner.plan(obs, step) for step in range(14)]
    assert searched == [3, 2]  # ceil(12 / 5) actions at step 0; at step 7 the 7 steps left: ceil(7 / 5)
    assert imagined[0].shape[1] == 12 and torch.equal(imagined[0][:, 0], imagined[0][:, 4])
    assert not torch.equal(imagined[0][:, 4], imagined[0][:, 5])
    assert torch.equal(imagined[0][:, 10], imagined[0][:, 11])
    assert all(np.array_equal(executed[k], executed[0]) for k in range(5))  # the first held action, 5 steps
    assert not np.array_equal(executed[4], executed[5])  # then the second
    assert not np.array_equal(executed[6], executed[7])  # a new plan at step 7
    with pytest.raises(ValueError, match="replan_every must be in 1..frame_step \\* horizon \\(12"):
        LatentPlanner(model(), cfg, goals, hold=5, replan_every=13)


def test_squared_distance_energy_and_the_l2_bound():
    images, goals = episode_images(2)
    m = model()
    cfg = CEMConfig(samples=4, iterations=1, elites=2, horizon=3, scale=(2.45, 2.45), free_dims=(0, 1))
    l1, l2 = (LatentPlanner(m, cfg, goals, distance=d, cost="final") for d in ("l1", "l2"))
    z0 = m.encode(torch.from_numpy(images))
    actions = torch.randn(2, 4, 3, 2)
    final, _ = m.rollout(z0.repeat_interleave(4, 0), torch.zeros(8, 2), actions.flatten(0, 1))
    goal = m.encode(torch.from_numpy(goals)).repeat_interleave(4, 0)
    s0 = torch.zeros(2, 2)
    torch.testing.assert_close(l1.energy(z0, s0, actions), (final - goal).abs().mean((1, 2)).view(2, 4))
    torch.testing.assert_close(l2.energy(z0, s0, actions), (final - goal).pow(2).mean((1, 2)).view(2, 4))
    with pytest.raises(ValueError, match="distance"):
        LatentPlanner(m, cfg, goals, distance="cosine")
    ball = CEMConfig(bound=1.0, bound_kind="l2", scale=(1.8, 1.8), free_dims=(0, 1))
    u = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    torch.testing.assert_close(ball.bounded(u), torch.tensor([[0.6, 0.8], [0.3, 0.4]]))
    assert ball.physical(ball.bounded(u)).norm(dim=-1).max() <= 1.8 + 1e-6


def test_lit_jepa_plan_with_a_recurrent_world_model_checkpoint(tmp_path, capsys):
    net = model().net
    path = tmp_path / "wm.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in net.state_dict().items()},
                "lit_jepa": {CONFIG_KEY: net.config()}}, path)
    out = tmp_path / "plan.json"
    assert main(["plan", "--checkpoint", str(path), "--env", "two_rooms", "--episodes", "2", "--budget", "6",
                 "--solver", "mppi", "--distance", "l2", "--hold", "3", "--replan_every", "2", "--horizon", "6",
                 "--samples", "6", "--iterations", "1", "--elites", "2", "--bound_kind", "l2", "--scale", "[1.8,1.8]",
                 "--landscape_trajectories", "2", "--landscape_radius", "1.8", "--out", str(out),
                 "--logdir", str(tmp_path / "tb")]) == 0
    rec = json.loads(out.read_text())
    assert rec["hold"] == 3 and rec["distance"] == "l2" and rec["episodes"] == 2 and len(rec["success_over_time"]) == 7
    assert rec["cem"]["scale"] == [1.8, 1.8] and rec["cem"]["bound_kind"] == "l2" and rec["cem"]["free_dims"] == [0, 1]
    with pytest.raises(SystemExit, match="recurrent world model"):
        main(["plan", "--checkpoint", str(path), "--goal_npz", str(tmp_path / "x.npz"), "--out", str(out)])


def test_recurrent_ensemble_energy_is_the_mean_of_its_members(tmp_path):
    a, b = model(0), model(1)
    starts, goals = episode_images(2)
    cfg = CEMConfig(samples=5, iterations=1, elites=2, horizon=4, scale=(2.45, 2.45), free_dims=(0, 1))
    kw = dict(solver="mppi", distance="l2", cost="sum")
    obs = Observation(starts, np.zeros((2, 2)))
    actions = torch.randn(2, 5, 4, 2)
    singles = []
    for m in (a, b):
        planner = LatentPlanner(m, cfg, goals, **kw)
        singles.append(planner.energy(planner.model.encode(torch.from_numpy(obs.images)), torch.zeros(2, 2), actions))
    ensemble = LatentPlanner(RecurrentEnsemble([a, b]), cfg, goals, **kw)
    z0 = ensemble.model.encode(torch.from_numpy(obs.images))
    assert z0.shape == (2, 1, 32)
    torch.testing.assert_close(ensemble.energy(z0, torch.zeros(2, 2), actions), (singles[0] + singles[1]) / 2)
    with pytest.raises(ValueError, match="at least two"):
        RecurrentEnsemble([a])
    wide = RecurrentLatentModel(RecurrentWorldModel(**{**NET, "dim": 8}))
    with pytest.raises(ValueError, match="one latent width"):
        RecurrentEnsemble([a, wide])
    # two recurrent checkpoints load as one ensemble; with an AC export they are refused
    paths = []
    for k, m in enumerate((a, b)):
        paths.append(tmp_path / f"wm{k}.ckpt")
        torch.save({"state_dict": {f"model.{n}": v for n, v in m.net.state_dict().items()},
                    "lit_jepa": {CONFIG_KEY: m.net.config()}}, paths[-1])
    (loaded,) = load_world_models(paths)
    assert isinstance(loaded, RecurrentEnsemble) and len(loaded.members) == 2
    torch.testing.assert_close(loaded.encode(torch.from_numpy(starts)), z0)
    assert isinstance(load_world_models(paths[:1])[0], RecurrentLatentModel)
    out = tmp_path / "plan.json"
    assert main(["plan", "--checkpoint", str(paths[0]), "--checkpoint+", str(paths[1]), "--env", "two_rooms",
                 "--episodes", "2", "--budget", "4", "--solver", "mppi", "--distance", "l2", "--horizon", "4",
                 "--samples", "6", "--iterations", "1", "--elites", "2", "--landscape_trajectories", "1",
                 "--landscape_radius", "1.8", "--out", str(out), "--logdir", str(tmp_path / "tb")]) == 0
    assert json.loads(out.read_text())["checkpoints"] == [str(p) for p in paths]
