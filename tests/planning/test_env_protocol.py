"""The environment protocol: any gymnasium-style env plans through ``lit-jepa plan --env module:Class``; the
planning package imports nothing from ToyWorld; the tabletop plans exactly as before the protocol existed."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch

from lit_jepa import hub
from lit_jepa.cli import dispatch
from lit_jepa.data.datamodule import TrajectoryDataModule
from lit_jepa.data.env_trajectories import EnvTrajectories
from lit_jepa.data.toyworld.goal_env import TabletopGoalEnv
from lit_jepa.data.trajectory_features import FeatureDataModule
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.nn.blocks import trunc_normal_
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.env import GoalEnv, SimulatableEnv, action_bounds, draw_goals, make_env
from lit_jepa.planning.model import LatentWorldModel
from lit_jepa.planning.mpc import LatentPlanner, RandomPlanner, ReplayPlanner, SimulatorPlanner, run_mpc
from lit_jepa.tasks.world_model import ACWorldModel

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    """``lit-jepa plan ARGV`` with bad input raised, not reported."""
    return dispatch(["plan", *argv])


class PointMass:
    """A tiny point-mass env defined only here: a 16 x 16 image with one bright pixel block, 2-D moves of at most
    1 px, no proprio (the runner dead-reckons it), success within 1.5 px of the goal."""

    class Box:
        low, high = np.array([-1.0, -1.0]), np.array([1.0, 1.0])

    action_space = Box()

    def __init__(self, size: int = 16) -> None:
        self.size, self.pos, self.goal = size, np.zeros(2), np.zeros(2)

    def _image(self, p: np.ndarray) -> np.ndarray:
        img = np.zeros((self.size, self.size, 3), np.uint8)
        x, y = np.clip(p.round().astype(int), 1, self.size - 2)
        img[y - 1 : y + 2, x - 1 : x + 2] = 255
        return img

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        rng = np.random.default_rng(seed)
        self.pos, self.goal = rng.uniform(2, self.size - 3, 2), rng.uniform(2, self.size - 3, 2)
        return self.pos, {"goal_image": self._image(self.goal), "is_success": self._ok()}

    def _ok(self) -> bool:
        return bool(np.linalg.norm(self.pos - self.goal) < 1.5)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.pos = np.clip(self.pos + np.clip(action, -1, 1), 0, self.size - 1)
        return self.pos, 0.0, False, False, {"is_success": self._ok()}

    def render(self) -> np.ndarray:
        return self._image(self.pos)


class OneSided(PointMass):
    """Actions in [0, 1]: CEM cannot sample around 0."""

    class Box:
        low, high = np.array([0.0, 0.0]), np.array([1.0, 1.0])

    action_space = Box()


def toward_goal(env: PointMass, rng: np.random.Generator) -> np.ndarray:
    """A scripted exploration policy: noisy steps toward the goal."""
    return np.clip(env.goal - env.pos, -1, 1) * 0.5 + rng.normal(0, 0.3, 2)


def test_point_mass_env_plans_end_to_end_through_the_cli(tmp_path):
    assert isinstance(PointMass(), GoalEnv) and not isinstance(PointMass(), SimulatableEnv)
    spec = f"{__name__}:PointMass"
    data = EnvTrajectories(spec, num=3, seed=0, num_steps=6, policy=f"{__name__}:toward_goal")
    sample = data[0]
    assert sample["video"].shape == (1, 3, 7, 16, 16) and sample["states"].shape == (7, 2)
    # no proprio: states are the executed actions summed, actions their differences
    assert torch.allclose(sample["states"][1:] - sample["states"][:-1], sample["actions"], atol=1e-6)
    assert not torch.equal(data[1]["video"], sample["video"])
    # a tiny world model trained on the recorded trajectories (FeatureDataModule), exported, then planned

    torch.manual_seed(0)
    enc = VisionTransformer(img_size=16, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2)
    pred = ACPredictor(img_size=16, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2,
                       action_dim=2, residual=True)
    model = ACWorldModel(enc, pred, warmup_steps=1, decay_steps=1)
    source = TrajectoryDataModule(train_dataset=data, val_dataset=EnvTrajectories(spec, 1, seed=1, num_steps=6),
                                  batch_size=1)
    trainer = L.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, accelerator="cpu", limit_val_batches=1)
    trainer.fit(model, FeatureDataModule(source, frames=3, batch_size=2))
    ckpt = hub.export_official(tmp_path / "wm.pt", encoder=model.encoder, predictor=model.predictor)
    out = tmp_path / "plan.json"
    assert main(["--checkpoint", str(ckpt), "--env", spec, "--episodes", "2", "--budget", "3", "--samples", "6",
                 "--iterations", "2", "--elites", "2", "--horizon", "2", "--solver", "mppi", "--cost", "sum",
                 "--landscape_trajectories", "1", "--landscape_radius", "1", "--device", "cpu",
                 "--env_kwargs.size", "16", "--out", str(out), "--logdir", str(tmp_path / "tb")]) == 0
    rec = json.loads(out.read_text())
    assert rec["env"] == spec and rec["solver"] == "mppi" and rec["cost"] == "sum" and rec["episodes"] == 2
    assert rec["cem"]["scale"] == [1.0, 1.0] and rec["cem"]["free_dims"] == [0, 1]  # from the env's bounds
    assert len(rec["success_over_time"]) == 4 and rec["env_kwargs"] == {"size": 16}
    with pytest.raises(ValueError, match="cannot load"):
        make_env(f"{__name__}:NoSuchEnv")


def test_planning_imports_nothing_from_toyworld():
    offenders = []
    for path in sorted((ROOT / "lit_jepa/planning").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("lit_jepa.data.toyworld")]
    assert offenders == []
    assert (ROOT / "lit_jepa/planning/env.py").is_file()  # the walk saw the package


def old_init_weights(module: torch.nn.Module, std: float = 0.02) -> None:
    """The initialisation of commit c0d7a3c (normal cut at +-2 std), which the pinned world model was drawn with."""
    for m in module.modules():
        if isinstance(m, torch.nn.Linear | torch.nn.Conv3d):
            trunc_normal_(m.weight, std, -2 * std, 2 * std)
            if m.bias is not None:
                torch.nn.init.zeros_(m.bias)
        elif isinstance(m, torch.nn.LayerNorm):
            torch.nn.init.ones_(m.weight)
            torch.nn.init.zeros_(m.bias)


def test_tabletop_plans_exactly_as_before_the_env_protocol(monkeypatch):
    """Per-episode success and final full states of a small fixed configuration, recorded on the code before the
    protocol (commit c0d7a3c, ``Tabletop`` + ``make_goal`` + the old ``run_mpc``), must not change. The tiny world
    model is drawn with that commit's initialisation, so that later init changes do not move the pinned figures."""
    pinned = json.loads((Path(__file__).parent / "data/tabletop_pinned.json").read_text())
    for owner in ("lit_jepa.nn.vit", "lit_jepa.nn.ac_predictor"):
        monkeypatch.setattr(f"{owner}.init_weights", old_init_weights)
    torch.manual_seed(0)
    enc = VisionTransformer(img_size=64, num_frames=2, patch_size=16, embed_dim=32, depth=1, num_heads=2)
    pred = ACPredictor(img_size=64, patch_size=16, embed_dim=32, predictor_embed_dim=32, depth=1, num_heads=2)
    wm = LatentWorldModel(enc, pred)
    cfg = CEMConfig(samples=8, iterations=2, elites=3, horizon=1, scale=(0.05, 0.05, 0, 0, 0, 0, 1.0),
                    free_dims=(0, 1))
    mcfg = CEMConfig(samples=8, iterations=2, elites=3, horizon=2, scale=(0.1, 0.1, 0, 0, 0, 0, 2.0),
                     free_dims=(0, 1))
    for task in ("reach", "push"):
        envs, seeds = [TabletopGoalEnv(task) for _ in range(3)], [1_000_000 + i for i in range(3)]
        goals = draw_goals(envs, seeds)
        planners = {"replay": ReplayPlanner(goals.expert_actions), "random": RandomPlanner(cfg, 0),
                    "simulator_cem": SimulatorPlanner(envs, cfg, 0),
                    "world_model": LatentPlanner(wm, mcfg, goals.images, seed=0, frame_step=2, budget=6)}
        for name, planner in planners.items():
            r = run_mpc(planner, envs, seeds, 25 if name == "replay" else 6)
            assert r["success"].astype(int).tolist() == pinned[f"{task}/{name}"]["success"], (task, name)
            # equal up to float rounding (numpy releases differ in the last bit of a sum)
            final = np.stack([e.get_state() for e in envs])
            np.testing.assert_allclose(final, pinned[f"{task}/{name}"]["final_states"], rtol=0, atol=1e-12,
                                       err_msg=f"{task}/{name}")


def test_tabletop_is_a_registered_gymnasium_env():
    import gymnasium

    import lit_jepa.envs  # noqa: F401  (registers)

    env = gymnasium.make("lit_jepa/Tabletop-v0", task="push").unwrapped
    _, info = env.reset(seed=1_000_000)
    assert isinstance(env, SimulatableEnv) and info["goal_image"].shape == (64, 64, 3)
    assert info["expert_actions"].shape == (25, 7) and not info["is_success"]
    state = env.get_state()
    for a in info["expert_actions"]:
        *_, step_info = env.step(a)
    assert step_info["is_success"] and env.goal_distance() < 2
    env.set_state(state)
    assert np.array_equal(env.get_state(), state)


def test_bad_envs_get_clear_errors(tmp_path):
    class NoGoal(PointMass):
        def reset(self, *, seed=None, options=None):
            return super().reset(seed=seed)[0], {"is_success": False}

    class Unbounded(PointMass):
        class Box:
            low, high = np.array([-np.inf]), np.array([np.inf])

        action_space = Box()

    with pytest.raises(KeyError, match="NoGoal.reset: info lacks 'goal_image'"):
        draw_goals([NoGoal()], [0])
    with pytest.raises(ValueError, match="Unbounded: planning needs a bounded 1-D Box"):
        action_bounds(Unbounded())
    with pytest.raises(ValueError, match="symmetric action bounds"):
        main(["--checkpoint", str(hub.export_official(tmp_path / "wm.pt", encoder=VisionTransformer(
            img_size=16, num_frames=2, patch_size=8, embed_dim=16, depth=1, num_heads=2), predictor=ACPredictor(
            img_size=16, patch_size=8, embed_dim=16, predictor_embed_dim=16, depth=1, num_heads=2, action_dim=2))),
            "--env", f"{__name__}:OneSided", "--out", str(tmp_path / "p.json"), "--logdir", str(tmp_path / "tb")])
    with pytest.raises(ValueError, match="neither module:Class nor a registered gymnasium id"):
        make_env("NoSuchEnv-v0")
