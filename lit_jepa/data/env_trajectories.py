"""Trajectories recorded from any goal-image planning environment (:class:`lit_jepa.planning.env.GoalEnv`), as
world-model training data: ``EnvTrajectories`` is a map-style dataset of whole episodes in the sample layout of the
DROID reader, so ``TrajectoryDataModule(train_dataset=EnvTrajectories(...))`` feeds
:class:`~lit_jepa.data.trajectory_features.FeatureDataModule`.

Each episode resets the env with its own seed and runs a policy for ``num_steps`` steps: the default random policy
draws Ornstein-Uhlenbeck-correlated actions (theta 0.15, sigma 0.3, in units of the half action range, clipped to
the bounds), or ``policy`` names a ``module:callable`` called as ``policy(env, rng)`` for each action (scripted
exploration). ``states`` are the env's ``proprio`` (without one: the sum of the executed actions since ``reset``)
and ``actions`` their differences (:func:`lit_jepa.geometry.state_differences`), like DROID's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from lit_jepa.geometry import state_differences
from lit_jepa.objects import load_object
from lit_jepa.planning.env import GoalEnv, action_bounds, make_env


class OUPolicy:
    """Ornstein-Uhlenbeck-correlated random actions inside the env's bounds.

    Args:
        theta: pull of the noise back to 0 per step.
        sigma: noise per step, in units of the half action range.
    """

    def __init__(self, theta: float = 0.15, sigma: float = 0.3) -> None:
        self.theta, self.sigma, self.noise = theta, sigma, None

    def __call__(self, env: GoalEnv, rng: np.random.Generator) -> np.ndarray:
        low, high = action_bounds(env)
        if self.noise is None:
            self.noise = np.zeros_like(low)
        self.noise = self.noise - self.theta * self.noise + self.sigma * rng.normal(size=low.shape)
        return (high + low) / 2 + np.clip(self.noise, -1.0, 1.0) * (high - low) / 2


def record(env: GoalEnv, seed: int, num_steps: int, policy: Callable[[GoalEnv, np.random.Generator], np.ndarray]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(num_steps + 1, H, W, 3)`` uint8 and states ``(num_steps + 1, P)`` of one episode from ``seed``."""
    rng = np.random.default_rng([seed, 1])
    _, info = env.reset(seed=seed)
    state = np.zeros(np.shape(env.action_space.low))
    frames, states = [env.render()], [info.get("proprio", state)]
    for _ in range(num_steps):
        action = np.asarray(policy(env, rng), np.float64)
        info = env.step(action)[4]
        state = state + action
        frames.append(env.render())
        states.append(info.get("proprio", state))
    return np.stack(frames), np.stack(states).astype(np.float64)


class EnvTrajectories(Dataset):
    """``num`` recorded episodes of an environment, each ``num_steps + 1`` frames, rendered on first access.

    Args:
        env: a built-in name, ``module:Class`` or gymnasium id (:func:`lit_jepa.planning.env.make_env`).
        num: episodes; episode ``i`` resets with seed ``seed * 1_000_003 + i``.
        seed: the dataset seed (use different seeds for train and validation).
        num_steps: actions per episode.
        policy: ``module:callable`` returning ``policy(env, rng)`` actions, or a class to instantiate per episode
            (a ``type``); default: :class:`OUPolicy`.
        env_kwargs: keyword arguments of the environment.
    """

    def __init__(self, env: str, num: int = 100, seed: int = 0, num_steps: int = 50, policy: str | None = None,
                 env_kwargs: dict[str, Any] | None = None) -> None:
        self.env = make_env(env, **(env_kwargs or {}))
        self.num, self.seed, self.num_steps = num, seed, num_steps
        self.policy = OUPolicy if policy is None else load_object(policy)

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        policy = self.policy() if isinstance(self.policy, type) else self.policy
        frames, states = record(self.env, self.seed * 1_000_003 + index, self.num_steps, policy)
        return {"video": torch.from_numpy(frames).permute(3, 0, 1, 2).unsqueeze(0),
                "index": torch.tensor(index, dtype=torch.int64),
                "frame_indices": torch.arange(len(frames)).reshape(1, -1),
                "states": torch.from_numpy(states.astype(np.float32)),
                "actions": torch.from_numpy(state_differences(states[:-1], states[1:])),
                "label": torch.tensor(-1, dtype=torch.int64)}
