"""The tabletop environment: dynamics, gripper semantics, success tests, goals and replay of recorded data."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from lit_jepa.data.toyworld import GOAL_TASKS, Tabletop, make_goal, success
from lit_jepa.data.toyworld.env import AGENT_RADIUS, BLOCK_HALF
from lit_jepa.data.toyworld.tasks.tabletop import replay


def _action(dx: float = 0.0, dy: float = 0.0, dg: float = 0.0) -> np.ndarray:
    return np.array([dx, dy, 0, 0, 0, 0, dg])


def test_reset_step_render_are_deterministic_and_bounded() -> None:
    a, b = Tabletop(), Tabletop(resolution=32)
    assert np.array_equal(a.reset(3), b.reset(3)) and a.state.shape == (7,) and a.state.dtype == np.float64
    assert a.render().shape == (64, 64, 3) and b.render().shape == (32, 32, 3)
    rng = np.random.default_rng(0)
    for _ in range(40):
        act = _action(*rng.uniform(-1, 1, 2), dg=rng.choice([-1.0, 0.0, 1.0]))
        moved = a.step(act)[:2] - b.state[:2]
        b.step(act)
        assert np.all(np.abs(moved) <= a.max_delta + 1e-12)
        assert np.array_equal(a.full_state, b.full_state)
        assert np.all(a.agent >= AGENT_RADIUS - 1e-9) and np.all(a.block >= BLOCK_HALF - 1e-9)
    with pytest.raises(ValueError):
        a.step(np.zeros(3))


def test_push_carry_release() -> None:
    env = Tabletop()
    env.set_full_state(np.array([0.2, 0.5, 0.0, 0.5, 0.5, 0.0]))
    for _ in range(6):
        env.step(_action(dx=0.05))  # open gripper: the disc pushes the block along +x
    assert env.block[0] > 0.5 + 0.05 and abs(env.block[1] - 0.5) < 1e-9 and env.offset is None
    env.step(_action(dg=1.0))  # close while touching: grasp
    assert env.full_state[5] == 1
    for _ in range(5):
        env.step(_action(dy=0.05))  # carried sideways, which pushing could never do
    assert env.block[1] > 0.7
    env.step(_action(dg=-1.0))
    held = env.block.copy()
    env.step(_action(dx=-0.05))  # released: moving away leaves it
    assert np.array_equal(env.block, held) and env.full_state[5] == 0


def test_success_tests() -> None:
    goal = np.array([0.5, 0.5, 0.0, 0.3, 0.3, 0.0])
    assert success("reach", goal + [0.06, 0, 0, 0.3, 0, 0], goal)
    assert not success("reach", goal + [0.08, 0, 0, 0, 0, 0], goal)
    assert success("push", goal + [0.09, 0, 0, 0.04, 0, 0], goal)
    assert not success("push", goal + [0.0, 0, 0, 0.06, 0, 0], goal)
    assert not success("push", goal + [0.11, 0, 0, 0.0, 0, 0], goal)
    assert success("pick_place", goal + [0.4, 0, 0, 0.04, 0, 0], goal)
    assert not success("pick_place", goal + [0, 0, 1.0, 0, 0, 1.0], goal)  # still holding it
    with pytest.raises(ValueError):
        success("stack", goal, goal)


@pytest.mark.parametrize("task", GOAL_TASKS)
def test_goals_are_reachable_and_not_trivial(task: str) -> None:
    env = Tabletop()
    for seed in range(10):
        goal = make_goal(task, seed)
        assert goal.actions.shape == (25, 7) and goal.image.shape == (64, 64, 3)
        assert not success(task, goal.start, goal.goal)  # doing nothing fails
        assert success(task, replay(env, goal.start, goal.actions), goal.goal)
        env.set_full_state(goal.goal)
        assert np.array_equal(env.render(), goal.image)


def test_replaying_held_out_trajectories_reaches_the_recorded_goal(toy_root: dict[str, Path]) -> None:
    env, horizon, checked = Tabletop(), 25, 0
    for line in (toy_root["tabletop"] / "val_trajectories.csv").read_text().splitlines():
        with h5py.File(Path(line) / "trajectory.h5") as f:
            pose = f["observation/robot_state/cartesian_position"][:]
            grip = f["observation/robot_state/gripper_position"][:]
            block = f["observation/toyworld/block_position"][:]
            attached = f["observation/toyworld/block_attached"][:]
            target = f["action/cartesian_position"][:]
            target_grip = f["action/gripper_position"][:]
        assert json.loads(next(Path(line).glob("metadata_*.json")).read_text())["trajectory_length"] == len(pose)
        full = np.concatenate([pose[:, :2], grip[:, None], block, attached[:, None]], 1)
        actions = np.concatenate([target - pose, (target_grip - grip)[:, None]], 1)  # executed commands
        for t0 in range(0, len(pose) - horizon, 5):
            reached = replay(env, full[t0], actions[t0 : t0 + horizon])
            goal = full[t0 + horizon]
            np.testing.assert_allclose(reached, goal, atol=1e-9)
            assert success("reach", reached, goal) and success("push", reached, goal), (line, t0)
            if success("pick_place", goal, goal):
                assert success("pick_place", reached, goal), (line, t0)
            checked += 1
    assert checked >= 15
