"""The environment protocol of goal-image planning: what ``run_mpc``, the baselines and ``lit-jepa plan`` know.

A :class:`GoalEnv` is a gymnasium-style environment (``reset(seed=...)``, ``step(action)``, ``render()``, an
``action_space`` Box with ``low`` and ``high``) whose ``info`` dicts carry what planning to an image goal needs:

- ``reset`` draws an episode (start and goal) from the seed; its ``info`` holds ``goal_image`` ``(H, W, 3)`` uint8
  and optionally ``goal_proprio`` ``(P,)`` (for a proprio energy term) and ``expert_actions`` ``(K, A)`` (actions
  that reach the goal from the start: the replay baseline);
- ``reset`` and ``step`` infos hold ``is_success`` (the env's own success test, read by the runner only, never
  shown to a planner) and, when the env has proprioception, ``proprio`` ``(P,)``;
- ``render()`` returns the camera image ``(H, W, 3)`` uint8 the planner sees.

Without ``proprio`` the runner dead-reckons one: the sum of the actions executed since ``reset`` (what
:func:`lit_jepa.geometry.integrate_state` integrates in imagination), so ``P = A``.

A :class:`SimulatableEnv` adds privileged access used only by the simulator-search ceiling: ``get_state()``,
``set_state(state)`` and ``goal_distance()`` (the distances the success test checks, each divided by its tolerance,
summed: below 1 per term means solved).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from lit_jepa.objects import load_object


@dataclass
class Observation:
    """What a planner may see: images ``(E, H, W, 3)`` uint8 and proprio ``(E, P)``."""

    images: np.ndarray
    states: np.ndarray


@runtime_checkable
class GoalEnv(Protocol):
    """A gymnasium-style environment with an image goal (see the module docstring for the ``info`` keys)."""

    action_space: Any

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]: ...

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict]: ...

    def render(self) -> np.ndarray: ...


@runtime_checkable
class SimulatableEnv(GoalEnv, Protocol):
    """A :class:`GoalEnv` whose simulator state can be saved and restored (simulator search, replay checks)."""

    def get_state(self) -> Any: ...

    def set_state(self, state: Any) -> None: ...

    def goal_distance(self) -> float: ...


@dataclass
class Goals:
    """The episodes a list of envs draws from their seeds: goal images ``(E, H, W, 3)``, goal proprio ``(E, P)``
    and expert actions ``(E, K, A)`` (``None`` when an env does not provide them)."""

    images: np.ndarray
    proprio: np.ndarray | None
    expert_actions: np.ndarray | None


def action_bounds(env: GoalEnv) -> tuple[np.ndarray, np.ndarray]:
    """The env's per-dimension action bounds ``(low, high)`` float64 from ``action_space``; ``ValueError`` unless it
    is a bounded 1-D Box."""
    space = env.action_space
    low = np.asarray(getattr(space, "low", None), np.float64)
    high = np.asarray(getattr(space, "high", None), np.float64)
    if low.ndim != 1 or low.shape != high.shape or not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ValueError(f"{type(env).__name__}: planning needs a bounded 1-D Box action_space, got {space!r}")
    if (high < low).any():
        raise ValueError(f"{type(env).__name__}: action_space high < low in dims "
                         f"{np.flatnonzero(high < low).tolist()}")
    return low, high


def draw_goals(envs: list[GoalEnv], seeds: list[int]) -> Goals:
    """Reset each env with its seed and collect the goals from the reset infos (``KeyError`` naming the env when
    ``goal_image`` is missing)."""
    infos = []
    for env, seed in zip(envs, seeds, strict=True):
        _, info = env.reset(seed=seed)
        if "goal_image" not in info:
            raise KeyError(f"{type(env).__name__}.reset: info lacks 'goal_image' (a GoalEnv gives the goal image)")
        infos.append(info)

    def stacked(key: str) -> np.ndarray | None:
        return np.stack([np.asarray(i[key]) for i in infos]) if all(key in i for i in infos) else None

    return Goals(np.stack([np.asarray(i["goal_image"], np.uint8) for i in infos]),
                 stacked("goal_proprio"), stacked("expert_actions"))


def make_env(spec: str, **kwargs: Any) -> GoalEnv:
    """An environment from a built-in name (:data:`lit_jepa.envs.ENVS`: ``tabletop``, ``two_rooms``), ``module:Class``
    (instantiated with ``kwargs``) or a registered gymnasium id (made with ``kwargs`` and unwrapped, so that the env's
    own methods and ``info`` reach the runner; the runner keeps its own step budget)."""
    import gymnasium

    from lit_jepa.envs import ENVS

    spec = ENVS.get(spec, spec)
    _, _, attr = spec.partition(":")
    if attr.isidentifier():
        return load_object(spec)(**kwargs)

    try:
        return gymnasium.make(spec, disable_env_checker=True, **kwargs).unwrapped
    except gymnasium.error.Error as err:
        raise ValueError(f"--env {spec!r}: neither module:Class nor a registered gymnasium id ({err})") from err
