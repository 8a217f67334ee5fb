"""Closed-loop MPC, ``lit-jepa plan`` on the ToyWorld and on the real Franka trajectory, the benchmark smoke run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_jepa import hub
from lit_jepa.cli import dispatch
from lit_jepa.data.toyworld.goal_env import TabletopGoalEnv
from lit_jepa.data.toyworld.tasks.tabletop import make_goal
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.cli import resolve_device
from lit_jepa.planning.energy import blur_levels, l1_energy, multiscale_energy
from lit_jepa.planning.env import Observation
from lit_jepa.planning.model import LatentWorldModel
from lit_jepa.planning.mpc import LatentPlanner, RandomPlanner, ReplayPlanner, run_mpc, summarise


def main(argv: list[str]) -> int:
    """``lit-jepa plan ARGV`` with bad input raised, not reported."""
    return dispatch(["plan", *argv])


def export_random_model(path: Path, img: int, patch: int, pool: int = 1, stack: bool = False,
                        predictor_seed: int = 0) -> Path:
    """An export of random models; every call makes the same encoder, ``predictor_seed`` picks the predictor."""
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=img, num_frames=2, patch_size=patch, embed_dim=32, depth=1, num_heads=2)
    if predictor_seed:
        torch.manual_seed(predictor_seed)
    pred = ACPredictor(img_size=img // pool, patch_size=patch, embed_dim=32 * (pool**2 if stack else 1),
                       predictor_embed_dim=32, depth=1, num_heads=2)
    return hub.export_official(path, encoder=enc, predictor=pred)


def test_replay_reaches_every_goal_and_planners_see_only_observations():
    goals = [make_goal("reach", 1_000_000 + i) for i in range(3)]
    seen = []

    class Spy(ReplayPlanner):
        def plan(self, obs: Observation, step: int) -> np.ndarray:
            seen.append(obs)
            return super().plan(obs, step)

    envs = [TabletopGoalEnv("reach") for _ in goals]
    res = run_mpc(Spy(np.stack([g.actions for g in goals])), envs, [1_000_000 + i for i in range(3)], 25)
    assert res["final"].all() and res["success"].shape == (3, 26) and not res["success"][:, 0].any()
    assert {f.name for f in dataclasses.fields(seen[0])} == {"images", "states"}
    assert seen[0].images.shape == (3, 64, 64, 3) and seen[0].states.shape == (3, 7)
    out = summarise(res)
    assert out["sr_final"] == 1.0 and out["sr_final_wilson95"][0] > 0.4 and len(out["success_over_time"]) == 26
    res["final"][1] = False
    assert summarise(res)["final_per_episode"] == [1, 0, 1] and summarise(res)["sr_final"] == 2 / 3


def test_mpc_progress_bar_reports_steps_and_success(capsys):
    goals = [make_goal("reach", 1_000_000 + i) for i in range(2)]
    run_mpc(ReplayPlanner(np.stack([g.actions for g in goals])), [TabletopGoalEnv("reach") for _ in goals],
            [1_000_000, 1_000_001], 25, progress=True, desc="reach replay")
    err = capsys.readouterr().err
    assert "reach replay" in err and "25/25" in err and "success=1.00" in err


def test_random_planner_stays_in_bounds():
    cfg = CEMConfig(scale=(0.05, 0.05, 0, 0, 0, 0, 1.0), free_dims=(0, 1))
    a = RandomPlanner(cfg).plan(Observation(np.zeros((64, 1, 1, 3)), np.zeros((64, 7))), 0)
    assert a.shape == (64, 7) and np.abs(a[:, :2]).max() <= 0.05 and (a[:, 2:] == 0).all()


def test_plan_cli_tabletop(tmp_path):
    ckpt = export_random_model(tmp_path / "wm.pt", 64, 8, pool=2)
    out = tmp_path / "plan.json"
    assert main(["--checkpoint", str(ckpt), "--env", "tabletop", "--task", "reach", "--episodes", "3",
                 "--budget", "2", "--samples", "8", "--iterations", "2", "--elites", "2", "--free_dims", "[0, 1]",
                 "--landscape_trajectories", "1", "--device", "cpu", "--coarse_blur_sigmas", "[1]", "--coarse_until",
                 "1", "--out", str(out), "--logdir", str(tmp_path / "tb")]) == 0
    rec = json.loads(out.read_text())
    assert rec["device"] == "cpu" and rec["episodes"] == 3 and len(rec["success_over_time"]) == 3
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0}).Reload()
    rollouts = events.Images("plan/rollouts")[0]  # a row per episode: start, reached, goal
    assert (rollouts.height, rollouts.width) == (3 * 64 + 2 * 2, 3 * 64 + 2 * 2)
    assert rec["coarse_blur_sigmas"] == [1.0] and rec["coarse_until"] == 1
    assert rec["plan_seconds_per_env_step"] > 0
    assert len(rec["landscape"]["landscape"]) == 7 and rec["landscape"]["transitions"] == 50
    other = export_random_model(tmp_path / "wm2.pt", 64, 8, pool=2, predictor_seed=1)
    assert main(["--checkpoint", f"[{ckpt}, {other}]", "--env", "tabletop", "--episodes", "2", "--budget", "4",
                 "--samples", "4", "--iterations", "1", "--elites", "2", "--free_dims", "[0, 1]", "--frame_step", "2",
                 "--horizon", "2", "--replan_every", "1", "--blur_sigmas", "[0, 1]", "--landscape_trajectories", "1",
                 "--out", str(out), "--logdir", str(tmp_path / "tb2")]) == 0
    rec = json.loads(out.read_text())
    assert rec["blur_sigmas"] == [0.0, 1.0] and rec["replan_every"] == 1 and rec["coarse_until"] == 0
    assert rec["checkpoints"] == [str(ckpt), str(other)] and rec["checkpoint"] == str(ckpt)
    assert rec["landscape"]["transitions"] == 49 and len(rec["success_over_time"]) == 5  # 2-step transitions
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    with pytest.raises(ValueError, match="coarse_sigmas and coarse_until"):  # a coarse step without coarse sigmas
        main(["--checkpoint", str(ckpt), "--env", "tabletop", "--coarse_until", "5", "--out", str(out)])


def test_plan_cli_franka_real_trajectory(tmp_path, shared_dir):
    npz = shared_dir / "data/real/franka_example_traj.npz"
    if not npz.is_file():
        pytest.skip(f"{npz} is absent")
    ckpt = export_random_model(tmp_path / "wm.pt", 256, 32)
    out = tmp_path / "franka.json"
    assert main(["--checkpoint", str(ckpt), "--goal_npz", str(npz), "--samples", "25", "--iterations", "2",
                 "--elites", "10", "--horizon", "2", "--scale", "[0.075, 0.075, 0.075, 1, 1, 1, 0.75]",
                 "--landscape_dims", "[0, 2]", "--landscape_radius", "0.075", "--landscape_points", "5",
                 "--out", str(out), "--logdir", str(tmp_path / "tb")]) == 0
    rec = json.loads(out.read_text())
    assert rec["action_dim"] == 7 and rec["frames"] == [2, 256, 256, 3] and rec["within_bounds"]
    planned = np.array(rec["planned_action"])
    assert np.abs(planned[:3]).max() <= 0.075 + 1e-6 and (planned[3:6] == 0).all()
    assert np.allclose(rec["true_action"][:3], [0.092, 0.031, 0.084], atol=2e-3)
    assert 0 < rec["plan_seconds"] < 60 and rec["landscape"]["transitions"] == 1


def test_plan_cli_rejects_bad_npz(tmp_path):
    ckpt = export_random_model(tmp_path / "wm.pt", 64, 8)
    bad = tmp_path / "bad.npz"
    np.savez(bad, observations=np.zeros((1, 2, 64, 64, 3), np.uint8))
    with pytest.raises(KeyError, match="states"):
        main(["--checkpoint", str(ckpt), "--goal_npz", str(bad), "--out", str(tmp_path / "x.json")])


@pytest.mark.parametrize("key", ["observations", "states", "actions"])
def test_plan_rejects_non_finite_goal_npz_in_one_line(tmp_path, capfd, monkeypatch, key):
    from lit_jepa.cli import main as lit_jepa

    monkeypatch.delenv("LIT_JEPA_DEBUG", raising=False)
    ckpt = export_random_model(tmp_path / "wm.pt", 64, 8)
    arrays = {"observations": np.zeros((1, 3, 64, 64, 3), np.float32), "states": np.zeros((1, 3, 7)),
              "actions": np.zeros((1, 2, 7))}
    arrays[key].flat[9] = np.nan if key != "actions" else np.inf
    npz = tmp_path / "goal.npz"
    np.savez(npz, **arrays)
    out = tmp_path / "x.json"
    assert lit_jepa(["plan", "--checkpoint", str(ckpt), "--goal_npz", str(npz), "--out", str(out)]) == 2
    err = capfd.readouterr().err
    assert "lit_jepa/planning" not in err and [line for line in err.splitlines() if line.startswith("lit-jepa")] == [
        f"lit-jepa plan: error: {npz}: {key} holds 1 non-finite values (NaN or inf) (--debug or LIT_JEPA_DEBUG=1 "
        "for the traceback)"]
    assert not out.exists()


def test_plan_cli_device(tmp_path):
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        ckpt = export_random_model(tmp_path / "wm.pt", 64, 8)
        with pytest.raises(SystemExit, match="--device cuda, but this torch build sees no CUDA device"):
            main(["--checkpoint", str(ckpt), "--env", "tabletop", "--device", "cuda"])


def test_latent_planner_with_a_frame_step_replans_every_model_step_within_the_budget(tmp_path):
    model = LatentWorldModel.load(export_random_model(tmp_path / "wm.pt", 64, 8, pool=2))
    cfg = CEMConfig(samples=6, iterations=1, elites=2, horizon=5, scale=(0.25, 0.25, 0, 0, 0, 0, 0),
                    free_dims=(0, 1))
    images = np.zeros((2, 64, 64, 3), np.uint8)
    planner = LatentPlanner(model, cfg, images, frame_step=5, budget=12)
    horizons = []
    energy = planner.energy
    planner.energy = lambda z0, s0, a, *rest: horizons.append(a.shape[2]) or energy(z0, s0, a, *rest)
    obs = Observation(images, np.zeros((2, 7)))
    actions = [planner.plan(obs, step) for step in range(12)]
    assert horizons == [3, 2, 1]  # replans at steps 0, 5 and 10; never plans past step 12
    for start in (0, 5, 10):
        chunk = actions[start:start + 5]
        assert all(np.array_equal(a, chunk[0]) for a in chunk)  # one model action in equal parts
    assert np.abs(np.stack(actions)[..., :2]).max() <= 0.05 + 1e-9 and not np.stack(actions)[..., 2:].any()
    assert not np.array_equal(actions[0], actions[5])
    with pytest.raises(ValueError, match="frame_step"):
        LatentPlanner(model, cfg, images, frame_step=0)
    assert LatentPlanner(model, cfg, images).horizon(24) == 5  # no budget: the configured horizon


def test_latent_planner_replan_every_environment_step(tmp_path):
    model = LatentWorldModel.load(export_random_model(tmp_path / "wm.pt", 64, 8, pool=2))
    cfg = CEMConfig(samples=6, iterations=1, elites=2, horizon=5, scale=(0.25, 0.25, 0, 0, 0, 0, 0),
                    free_dims=(0, 1))
    images = np.zeros((2, 64, 64, 3), np.uint8)
    planner = LatentPlanner(model, cfg, images, frame_step=5, budget=12, replan_every=1)
    horizons = []
    energy = planner.energy
    planner.energy = lambda z0, s0, a, *rest: horizons.append(a.shape[2]) or energy(z0, s0, a, *rest)
    obs = Observation(images, np.zeros((2, 7)))
    actions = np.stack([planner.plan(obs, step) for step in range(12)])
    assert horizons == [3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]  # a fresh plan every step, never past step 12
    assert all(not np.array_equal(actions[i], actions[i + 1]) for i in range(11))
    assert np.abs(actions[..., :2]).max() <= 0.05 + 1e-9  # a fifth of a model action of at most 0.25
    for bad in (0, 26):  # 1..frame_step * horizon
        with pytest.raises(ValueError, match="replan_every"):
            LatentPlanner(model, cfg, images, frame_step=5, replan_every=bad)


def test_latent_planner_ensemble_energy_is_the_mean_over_one_encoder(tmp_path):
    paths = [export_random_model(tmp_path / f"wm{i}.pt", 64, 8, pool=2, predictor_seed=i) for i in range(2)]
    a, b = (LatentWorldModel.load(p) for p in paths)
    cfg = CEMConfig(samples=5, iterations=1, elites=2, horizon=2, scale=(0.25, 0.25, 0, 0, 0, 0, 0), free_dims=(0, 1))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    z0, s0 = a.encode(torch.from_numpy(images[::-1].copy())), torch.zeros(2, 7)
    actions = torch.from_numpy(rng.uniform(-0.2, 0.2, (2, 5, 2, 7))).float()
    ea, eb = (LatentPlanner(m, cfg, images, blur_sigmas=(0.0, 1.0)).energy(z0, s0, actions) for m in (a, b))
    assert not torch.allclose(ea, eb)  # two different predictors
    both = LatentPlanner([a, b], cfg, images, blur_sigmas=(0.0, 1.0)).energy(z0, s0, actions)
    torch.testing.assert_close(both, (ea + eb) / 2)
    torch.testing.assert_close(LatentPlanner([a, a], cfg, images).energy(z0, s0, actions),
                               LatentPlanner(a, cfg, images).energy(z0, s0, actions))
    torch.manual_seed(5)
    other = LatentWorldModel(VisionTransformer(img_size=64, num_frames=2, patch_size=8, embed_dim=32, depth=1,
                                               num_heads=2), b.predictor, pool=2)
    with pytest.raises(ValueError, match="another encoder"):
        LatentPlanner([a, other], cfg, images)
    with pytest.raises(ValueError, match="pool"):
        LatentPlanner([a, LatentWorldModel(a.encoder, b.predictor, pool=2, pool_mode="stack")], cfg, images)
    with pytest.raises(ValueError, match="at least one"):
        LatentPlanner([], cfg, images)


def test_latent_planner_blurred_energy_on_stacked_tokens(tmp_path):
    model = LatentWorldModel.load(export_random_model(tmp_path / "wm.pt", 64, 8, pool=2, stack=True))
    assert model.pool_mode == "stack"
    cfg = CEMConfig(samples=5, iterations=1, elites=2, horizon=2, scale=(0.25, 0.25, 0, 0, 0, 0, 0), free_dims=(0, 1))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    z0, s0 = model.encode(torch.from_numpy(images[::-1].copy())), torch.zeros(2, 7)
    actions = torch.from_numpy(rng.uniform(-0.2, 0.2, (2, 5, 2, 7))).float()
    final, _ = model.rollout(z0.repeat_interleave(5, 0), s0.repeat_interleave(5, 0), actions.flatten(0, 1))
    goal = model.encode(torch.from_numpy(images)).repeat_interleave(5, 0)
    plain = LatentPlanner(model, cfg, images).energy(z0, s0, actions)
    torch.testing.assert_close(plain, l1_energy(final, goal).view(2, 5))  # the default is the paper's L1
    sigmas = (0.0, 1.0, 2.0)
    blurred = LatentPlanner(model, cfg, images, blur_sigmas=sigmas).energy(z0, s0, actions)
    expected = multiscale_energy(blur_levels(model.maps(final), sigmas), blur_levels(model.maps(goal), sigmas))
    torch.testing.assert_close(blurred, expected.view(2, 5))
    assert (blurred > plain).all()  # the blurred terms add to the sharp one
    with pytest.raises(ValueError, match="blur_sigmas"):
        LatentPlanner(model, cfg, images, blur_sigmas=())


def test_latent_planner_coarse_to_fine_energy(tmp_path):
    model = LatentWorldModel.load(export_random_model(tmp_path / "wm.pt", 64, 8, pool=2, stack=True))
    cfg = CEMConfig(samples=5, iterations=1, elites=2, horizon=1, scale=(0.25, 0.25, 0, 0, 0, 0, 0), free_dims=(0, 1))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    z0, s0 = model.encode(torch.from_numpy(images[::-1].copy())), torch.zeros(2, 7)
    actions = torch.from_numpy(rng.uniform(-0.2, 0.2, (2, 5, 1, 7))).float()
    fine, coarse = (0.0, 1.0, 2.0), (1.0, 2.0)
    planner = LatentPlanner(model, cfg, images, blur_sigmas=fine, frame_step=5, budget=25, coarse_sigmas=coarse,
                            coarse_until=10)
    assert [planner.sigmas_at(step) for step in (0, 9, 10, 24)] == [coarse, coarse, fine, fine]
    for sigmas in (fine, coarse):  # each schedule level is exactly that planner's energy
        torch.testing.assert_close(planner.energy(z0, s0, actions, sigmas),
                                   LatentPlanner(model, cfg, images, blur_sigmas=sigmas).energy(z0, s0, actions))
    assert not torch.allclose(planner.energy(z0, s0, actions, coarse), planner.energy(z0, s0, actions))
    used, energy = [], planner.energy
    planner.energy = lambda z0, s0, a, sigmas, *rest: used.append(sigmas) or energy(z0, s0, a, sigmas, *rest)
    obs = Observation(images, np.zeros((2, 7)))
    for step in range(25):
        planner.plan(obs, step)
    assert used == [coarse] * 2 + [fine] * 3  # one CEM iteration per plan, a plan every 5 steps
    for bad in ({"coarse_sigmas": coarse}, {"coarse_until": 10}):
        with pytest.raises(ValueError, match="coarse_sigmas and coarse_until"):
            LatentPlanner(model, cfg, images, **bad)
