"""``TabletopGoalEnv``: the ``Tabletop`` as a goal-image planning environment (gymnasium ``lit_jepa/Tabletop-v0``).

``reset(seed=s)`` draws the episode :func:`~lit_jepa.data.toyworld.tasks.tabletop.make_goal` ``(task, s)``: start
at its start state, goal image and goal pose from its goal state, its executed actions as the expert actions.
Observations are the 7-D proprio pose (DROID layout), ``render()`` the camera image; ``info["is_success"]`` is
:func:`~lit_jepa.data.toyworld.env.success`. The simulator state is the full state (agent, gripper, block,
attached) and ``goal_distance`` sums the success test's distances divided by their tolerances.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from lit_jepa.data.toyworld.env import TOLERANCES, Tabletop, success
from lit_jepa.data.toyworld.tasks.tabletop import make_goal


class TabletopGoalEnv(gymnasium.Env):
    """The tabletop ``task`` (``reach``, ``push`` or ``pick_place``) with goals from :func:`make_goal`.

    Args:
        task: the goal task; its success test and tolerances are ``TOLERANCES[task]``.
        resolution: camera image size in pixels.
        max_delta: the per-step bound of dx and dy (arena units).
        horizon: environment steps from start to goal in the scripted rollout the goal comes from.
    """

    metadata = {"render_modes": ["rgb_array"]}
    render_mode = "rgb_array"

    def __init__(self, task: str = "reach", resolution: int = 64, max_delta: float = 0.05, horizon: int = 25) -> None:
        if task not in TOLERANCES:
            raise ValueError(f"TabletopGoalEnv: unknown task {task!r}; expected one of {tuple(TOLERANCES)}")
        self.task, self.resolution, self.horizon = task, resolution, horizon
        self.sim = Tabletop(resolution, max_delta)
        bound = np.array([max_delta, max_delta, 0, 0, 0, 0, 1.0])
        self.action_space = gymnasium.spaces.Box(-bound, bound, dtype=np.float64)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (7,), dtype=np.float64)
        self.goal = np.zeros(6)

    def _info(self) -> dict[str, Any]:
        return {"proprio": self.sim.state, "is_success": success(self.task, self.sim.full_state, self.goal)}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        episode = make_goal(self.task, int(self.np_random.integers(2**31)) if seed is None else seed, self.horizon,
                            self.resolution)
        self.goal = episode.goal
        self.sim.set_full_state(episode.start)
        pose = np.array([*episode.goal[:2], 0, 0, 0, 0, episode.goal[2]])
        return self.sim.state, {**self._info(), "goal_image": episode.image, "goal_proprio": pose,
                                "expert_actions": episode.actions}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        state = self.sim.step(action)
        info = self._info()
        return state, float(info["is_success"]), False, False, info

    def render(self) -> np.ndarray:
        return self.sim.render()

    def get_state(self) -> np.ndarray:
        return self.sim.full_state

    def set_state(self, state: np.ndarray) -> None:
        self.sim.set_full_state(state)

    def goal_distance(self) -> float:
        tol, full, d = TOLERANCES[self.task], self.sim.full_state, 0.0
        if "agent" in tol:
            d += float(np.linalg.norm(full[:2] - self.goal[:2])) / tol["agent"]
        if "block" in tol:
            d += float(np.linalg.norm(full[3:5] - self.goal[3:5])) / tol["block"]
        return d
