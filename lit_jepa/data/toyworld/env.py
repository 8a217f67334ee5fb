"""``Tabletop``: the control environment behind the ``tabletop`` task (DROID analogue) and CEM planning.

World (all lengths in arena units; the arena is the unit square, think 1 m, seen by a fixed overhead camera):

- an agent disc of radius ``AGENT_RADIUS`` = 0.06 at (x, y), kept inside the arena;
- one square block of half-size ``BLOCK_HALF`` = 0.075 (axis-aligned, never rotates), kept inside the arena;
- a gripper value g in [0, 1]; the gripper is *closed* when g > 0.5.

Dynamics of one ``step(action)`` (``SUBSTEPS`` = 5 equal sub-steps, kinematic, no velocities):

- ``action`` is 7-D like a DROID pose difference: (dx, dy, dz, droll, dpitch, dyaw, dg). dx and dy are clipped
  to [-max_delta, max_delta] (default 0.05, i.e. 5 % of the arena); dz and the rotations are ignored; g
  becomes clip(g + dg, 0, 1) at the start of the step.
- Closing the gripper while the disc touches the block (distance from the disc centre to the square at most
  ``AGENT_RADIUS + CONTACT_MARGIN``) attaches the block: it keeps its offset to the agent and moves with it.
  Opening the gripper releases it.
- Otherwise, when the disc penetrates the block, the block is pushed out along the contact normal; if the
  arena wall stops the block, the agent is pushed back instead.

State (``state``) is DROID's 7-D proprio: (x, y, z = 0, roll = 0, pitch = 0, yaw = 0, g). The full state
(``full_state``) adds the block: (x, y, g, block_x, block_y, attached). Success tests compare full states.
"""

from __future__ import annotations

import numpy as np

from lit_jepa.data.toyworld.render import draw, floor, to_uint8

AGENT_RADIUS = 0.06
BLOCK_HALF = 0.075
CONTACT_MARGIN = 0.01
SUBSTEPS = 5
FLOOR_SEED = 20250611  # the floor texture is part of the world, identical in every episode
TOLERANCES: dict[str, dict[str, float]] = {
    "reach": {"agent": 0.07},
    "push": {"block": 0.05, "agent": 0.10},
    "pick_place": {"block": 0.05},
}
GOAL_TASKS: tuple[str, ...] = tuple(TOLERANCES)
_AGENT_OPEN = np.array([80.0, 230.0, 240.0], np.float32)
_AGENT_CLOSED = np.array([250.0, 250.0, 250.0], np.float32)
_BLOCK = np.array([245.0, 140.0, 40.0], np.float32)


def success(task: str, full_state: np.ndarray, goal: np.ndarray) -> bool:
    """Whether ``full_state`` solves ``task`` for the goal full state ``goal``.

    reach: agent within 0.07 of the goal agent position. push: block within 0.05 of the goal block position
    and agent within 0.10 of the goal agent position. pick_place: block within 0.05 of the goal block
    position, gripper open and block released.
    """
    if task not in TOLERANCES:
        raise ValueError(f"unknown goal task {task!r}; expected one of {GOAL_TASKS}")
    tol = TOLERANCES[task]
    ok = True
    if "agent" in tol:
        ok &= bool(np.linalg.norm(full_state[:2] - goal[:2]) < tol["agent"])
    if "block" in tol:
        ok &= bool(np.linalg.norm(full_state[3:5] - goal[3:5]) < tol["block"])
    if task == "pick_place":
        ok &= bool(full_state[2] <= 0.5 and full_state[5] == 0)
    return ok


def _square_offset(point: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Vector from the closest point of the block square (at ``centre``) to ``point``."""
    d = point - centre
    return d - np.clip(d, -BLOCK_HALF, BLOCK_HALF)


class Tabletop:
    """The agent-disc-and-block world; deterministic given the reset seed and the actions."""

    def __init__(self, resolution: int = 64, max_delta: float = 0.05) -> None:
        self.resolution = resolution
        self.max_delta = max_delta
        self._floor = floor(np.random.default_rng(FLOOR_SEED), resolution).astype(np.float32)
        self.agent = np.full(2, 0.5)
        self.block = np.full(2, 0.25)
        self.gripper = 0.0
        self.offset: np.ndarray | None = None  # block minus agent while attached
        self.last_command = np.zeros(7)

    def reset(self, seed: int) -> np.ndarray:
        """Random agent and block positions (not touching), gripper open; returns the 7-D state."""
        rng = np.random.default_rng(seed)
        self.block = rng.uniform(BLOCK_HALF + 0.05, 1 - BLOCK_HALF - 0.05, 2)
        while True:
            self.agent = rng.uniform(AGENT_RADIUS, 1 - AGENT_RADIUS, 2)
            if np.linalg.norm(_square_offset(self.agent, self.block)) > AGENT_RADIUS + 0.05:
                break
        self.gripper, self.offset = 0.0, None
        return self.state

    @property
    def state(self) -> np.ndarray:
        """DROID-style proprio (x, y, z, roll, pitch, yaw, gripper), float64 like DROID's ``trajectory.h5``."""
        return np.array([*self.agent, 0, 0, 0, 0, self.gripper])

    @property
    def full_state(self) -> np.ndarray:
        """(x, y, gripper, block_x, block_y, attached), float64."""
        return np.array([*self.agent, self.gripper, *self.block, float(self.offset is not None)])

    def set_full_state(self, full_state: np.ndarray) -> None:
        """Restore a state returned by ``full_state``."""
        self.agent, self.gripper = np.array(full_state[:2], np.float64), float(full_state[2])
        self.block = np.array(full_state[3:5], np.float64)
        self.offset = self.block - self.agent if full_state[5] else None

    def touching(self) -> bool:
        """Whether the disc touches the block (the grasp condition)."""
        return bool(np.linalg.norm(_square_offset(self.agent, self.block)) <= AGENT_RADIUS + CONTACT_MARGIN)

    def step(self, action: np.ndarray) -> np.ndarray:
        """Apply one 7-D pose-difference action (see the module docstring); returns the new 7-D state.

        ``last_command`` keeps the action as executed: (dx, dy) clipped to ``max_delta`` and to the arena,
        z and rotations zeroed, dg clipped to the gripper range. Replaying it from the same state reproduces
        the step exactly; replaying the realised state difference does too unless the block hit a wall.
        """
        action = np.asarray(action, np.float64)
        if action.shape != (7,):
            raise ValueError(f"action must have shape (7,), got {action.shape}")
        gripper = float(np.clip(self.gripper + action[6], 0.0, 1.0))
        self.last_command = np.zeros(7)
        self.last_command[6], self.gripper = gripper - self.gripper, gripper
        if self.gripper <= 0.5:
            self.offset = None
        elif self.offset is None and self.touching():
            self.offset = self.block - self.agent
        lo, hi = np.full(2, AGENT_RADIUS), np.full(2, 1 - AGENT_RADIUS)
        if self.offset is not None:  # carrying: the block must stay inside the arena too
            lo, hi = np.maximum(lo, BLOCK_HALF - self.offset), np.minimum(hi, 1 - BLOCK_HALF - self.offset)
        target = np.clip(self.agent + np.clip(action[:2], -self.max_delta, self.max_delta), lo, hi)
        self.last_command[:2] = target - self.agent
        for _ in range(SUBSTEPS):
            self._move(self.last_command[:2] / SUBSTEPS)
        return self.state

    def _move(self, delta: np.ndarray) -> None:
        self.agent = self.agent + delta
        if self.offset is not None:
            self.block = self.agent + self.offset
            return
        away = _square_offset(self.agent, self.block)
        dist = float(np.linalg.norm(away))
        if dist >= AGENT_RADIUS:
            return
        normal = away / dist if dist > 1e-9 else -delta / max(float(np.linalg.norm(delta)), 1e-12)
        wanted = self.block - normal * (AGENT_RADIUS - dist)
        self.block = np.clip(wanted, BLOCK_HALF, 1 - BLOCK_HALF)
        self.agent = self.agent + (self.block - wanted)  # blocked by the wall: the agent gives way

    def render(self) -> np.ndarray:
        """Overhead RGB image ``(resolution, resolution, 3)`` uint8."""
        px = self.resolution
        img = self._floor.copy()
        bx, by = self.block * px
        half = BLOCK_HALF / 0.8 * px  # the unit square's half-size is 0.8
        if self.offset is not None:  # lifted: draw a shadow under the block
            draw(img, "square", bx + 0.03 * px, by + 0.03 * px, half, color=(0.0, 0.0, 0.0), alpha=0.5)
        draw(img, "square", bx, by, half, color=_BLOCK)
        closed = self.gripper > 0.5
        draw(img, "circle" if closed else "ring", *(self.agent * px), AGENT_RADIUS * px,
             color=_AGENT_CLOSED if closed else _AGENT_OPEN)
        return to_uint8(img)
