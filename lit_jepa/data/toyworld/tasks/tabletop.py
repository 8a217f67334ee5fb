"""``tabletop``: the DROID analogue. Exploration trajectories in ``Tabletop`` and reachable planning goals.

Each trajectory follows one behaviour for its whole length, chosen at random:

- ``random`` (35 %): Ornstein-Uhlenbeck-correlated deltas (theta 0.15, sigma 0.3 of ``max_delta``), the
  gripper toggled now and then;
- ``push`` (35 %): go behind the block with respect to a random direction, then push through it;
- ``pick_place`` (30 %): go to the block, close the gripper, carry it to a random spot, open, back off.

Scripted behaviours add OU noise, so contact with the block is frequent but not stereotyped. States and
actions are recorded like DROID: ``states[t]`` is the 7-D proprio and ``actions[t] = states[t+1] - states[t]``;
``commands[t]`` is the action as the environment executed it (``Tabletop.last_command``), which replays exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lit_jepa.data.toyworld.env import AGENT_RADIUS, BLOCK_HALF, Tabletop, success
from lit_jepa.data.toyworld.tasks.base import sample_rng

BEHAVIOURS: tuple[str, ...] = ("random", "push", "pick_place")
_BEHAVIOUR_P = (0.35, 0.35, 0.3)


@dataclass
class Trajectory:
    """One recorded episode: frames ``(T, H, W, 3)``, states ``(T, 7)``, actions and commands ``(T-1, 7)``, full
    states ``(T, 6)`` (see ``Tabletop.full_state``), the behaviour name and the per-step block contact flags."""

    frames: np.ndarray
    states: np.ndarray
    actions: np.ndarray
    commands: np.ndarray
    full_states: np.ndarray
    behaviour: str
    contact: np.ndarray


class _Scripted:
    """A behaviour: ``__call__(env)`` returns the commanded 7-D action for the current step."""

    def __init__(self, behaviour: str, rng: np.random.Generator, max_delta: float) -> None:
        self.behaviour, self.rng, self.max_delta = behaviour, rng, max_delta
        self.noise = np.zeros(2)
        self.phase, self.target, self.timer = "go", np.zeros(2), 0
        self.direction = self._unit()

    def _unit(self) -> np.ndarray:
        a = self.rng.uniform(0, 2 * np.pi)
        return np.array([np.cos(a), np.sin(a)])

    def _toward(self, here: np.ndarray, there: np.ndarray, speed: float = 1.0) -> np.ndarray:
        d = there - here
        return d * min(1.0, speed * self.max_delta / max(float(np.linalg.norm(d)), 1e-9))

    def __call__(self, env: Tabletop) -> np.ndarray:
        self.noise += -0.15 * self.noise + 0.3 * self.rng.normal(size=2)
        dg = 0.0
        if self.behaviour == "random":
            move = self.noise * self.max_delta
            if self.rng.random() < 0.05:
                dg = 1.0 if env.gripper <= 0.5 else -1.0
        elif self.behaviour == "push":
            move, dg = self._push(env), -1.0
        else:
            move, dg = self._pick_place(env)
        move = move + (0.0 if self.behaviour == "random" else 0.25) * self.noise * self.max_delta
        return np.array([*np.clip(move, -self.max_delta, self.max_delta), 0, 0, 0, 0, dg])

    def _push(self, env: Tabletop) -> np.ndarray:
        behind = np.clip(env.block - self.direction * (BLOCK_HALF + AGENT_RADIUS + 0.03), 0.0, 1.0)
        if self.phase == "go":
            if np.linalg.norm(env.agent - behind) < 0.03:
                self.phase, self.timer = "push", int(self.rng.integers(4, 10))
            return self._toward(env.agent, behind)
        self.timer -= 1
        if self.timer <= 0:
            self.phase, self.direction = "go", self._unit()
        return self.direction * self.max_delta * 0.8

    def _pick_place(self, env: Tabletop) -> tuple[np.ndarray, float]:
        if self.phase == "go":
            if env.touching():
                self.phase = "carry"
                self.target = self.rng.uniform(BLOCK_HALF + 0.05, 1 - BLOCK_HALF - 0.05, 2)
                return np.zeros(2), 1.0
            return self._toward(env.agent, env.block), -1.0
        if self.phase == "carry":
            if np.linalg.norm(env.block - self.target) < 0.03:
                self.phase, self.timer = "retreat", int(self.rng.integers(3, 6))
                return np.zeros(2), -1.0
            return self._toward(env.block, self.target, 0.8), 0.0
        self.timer -= 1
        if self.timer <= 0:
            self.phase = "go"
        return self._toward(env.agent, 2 * env.agent - env.block), -1.0  # back away from the block


def rollout(env: Tabletop, seed: int, num_steps: int, behaviour: str) -> Trajectory:
    """Reset ``env`` with ``seed`` and run ``behaviour`` for ``num_steps`` actions (``num_steps + 1`` frames)."""
    rng = np.random.default_rng([seed, BEHAVIOURS.index(behaviour)])
    env.reset(seed)
    policy = _Scripted(behaviour, rng, env.max_delta)
    frames, states, full, contact, commands = [env.render()], [env.state], [env.full_state], [], []
    for _ in range(num_steps):
        env.step(policy(env))
        commands.append(env.last_command)
        frames.append(env.render())
        states.append(env.state)
        full.append(env.full_state)
        contact.append(env.touching() or env.offset is not None)
    states_arr = np.stack(states)
    return Trajectory(np.stack(frames), states_arr, np.diff(states_arr, axis=0), np.stack(commands),
                      np.stack(full), behaviour, np.array(contact))


def trajectory(seed: int, split: str, index: int, num_steps: int = 50, resolution: int = 64) -> Trajectory:
    """Exploration trajectory ``index`` of ``split``; its behaviour is drawn from the sample's seed."""
    rng = sample_rng(seed, split, index)
    behaviour = str(rng.choice(BEHAVIOURS, p=_BEHAVIOUR_P))
    return rollout(Tabletop(resolution), int(rng.integers(2**31)), num_steps, behaviour)


def replay(env: Tabletop, start: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """Full state after executing ``actions`` from full state ``start``."""
    env.set_full_state(start)
    for a in actions:
        env.step(a)
    return env.full_state


@dataclass
class Goal:
    """A planning episode: start and goal full states, the goal image and the executed actions (commands) that
    reach the goal from the start."""

    start: np.ndarray
    goal: np.ndarray
    image: np.ndarray
    actions: np.ndarray


def make_goal(task: str, seed: int, horizon: int = 25, resolution: int = 64, max_tries: int = 100) -> Goal:
    """A reachable goal for ``task`` (reach, push or pick_place), as in DINO-WM's goals from data.

    Rolls out the scripted behaviour for the task (``random`` for reach), starts at a step ``t0`` and takes
    the state ``horizon`` steps later as the goal. Push and pick-and-place goals are kept only when the
    block ends at least 0.1 from where it started (pick-and-place also needs it released), so the goal is
    not solved by doing nothing; reach goals need the agent to move at least 0.15.
    """
    behaviour = {"reach": "random", "push": "push", "pick_place": "pick_place"}[task]
    env = Tabletop(resolution)
    for attempt in range(max_tries):
        sub = int(np.random.default_rng([seed, attempt]).integers(2**31))
        traj = rollout(env, sub, 3 * horizon, behaviour)
        for t0 in range(0, 2 * horizon + 1, 5):
            start, goal = traj.full_states[t0], traj.full_states[t0 + horizon]
            moved = np.linalg.norm(goal[3:5] - start[3:5]) if task != "reach" else np.linalg.norm(goal[:2] - start[:2])
            if moved < (0.15 if task == "reach" else 0.1) or success(task, start, goal):
                continue
            if task == "pick_place" and not success(task, goal, goal):
                continue
            return Goal(start, goal, traj.frames[t0 + horizon], traj.commands[t0 : t0 + horizon])
    raise RuntimeError(f"no {task} goal found for seed {seed} in {max_tries} tries")
