"""``TwoRooms``: the Two-Rooms navigation task of PLDM and EB-JEPA (gymnasium ``lit_jepa/TwoRooms-v0``), in numpy.

Geometry follows EB-JEPA's ``DotWall`` (``eb_jepa/datasets/two_rooms``, pixel units of a 65 x 65 top-down image):
border walls on rows and columns 4 and 60; an inner vertical wall 3 px wide at column ``wall_x`` drawn from
20..44 with a door 9 px tall centred on row ``door_y`` drawn from 10..54 (a random layout per episode); the agent is
a point drawn as a Gaussian dot (std 1.3 px). The start lies in one room and the goal in the other (sides swapped
half of the time), both at least 2 dot stds from every wall. Actions are 2-D displacements in pixels, bounded per
coordinate by 2.45 (EB-JEPA clips their L2 norm to 2.45). A move that would enter a wall is cut: the agent advances
in 8 sub-steps, each axis separately, and stops along an axis at the first blocked sub-step (EB-JEPA stops at the
intersection plus a little noise). Success: within 4.5 px of the goal (DINO-WM's and EB-JEPA's threshold).

The image has the dot in the red channel and the walls in the green one (EB-JEPA's two channels); proprio is the
agent position in pixels. ``expert_actions`` follow a path through the door, zero-padded to ``EXPERT_STEPS``.

The dynamics and the rendering are also functions of whole batches of agents, each with its own layout
(:func:`blocked`, :func:`move`, :func:`render`) for :mod:`lit_jepa.data.toyworld.two_rooms_walks`; the env renders
through :func:`render` and steps one agent in plain Python (a test checks both dynamics agree).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

IMG_SIZE = 65
BORDER = 4  # border walls on rows/columns BORDER and IMG_SIZE - 1 - BORDER
WALL_HALF = 1  # the inner wall spans wall_x - 1 .. wall_x + 1
DOOR_HALF = 4  # the door spans door_y - 4 .. door_y + 4
WALL_RANGE, DOOR_RANGE = (20, 44), (10, 54)
DOT_STD = 1.3
MAX_STEP = 2.45
SUCCESS_RADIUS = 4.5
EXPERT_STEPS = 64
SUBSTEPS = 8
GRID = np.stack(np.meshgrid(np.arange(IMG_SIZE), np.arange(IMG_SIZE), indexing="xy"), -1).astype(float)


def blocked(p: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """Whether each point of ``p`` ``(B, 2)`` lies in a wall of its layout (``wall_x``, ``door_y`` ``(B,)``) or
    outside the border walls: ``(B,)`` bool."""
    lo, hi = BORDER + 1, IMG_SIZE - 2 - BORDER
    out = (p[:, 0] < lo) | (p[:, 0] > hi) | (p[:, 1] < lo) | (p[:, 1] > hi)
    return out | ((np.abs(p[:, 0] - wall_x) <= WALL_HALF + 0.5) & (np.abs(p[:, 1] - door_y) > DOOR_HALF))


def move(p: np.ndarray, action: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """Positions ``(B, 2)`` after one step of ``action`` ``(B, 2)`` (clipped to ``MAX_STEP``): ``SUBSTEPS``
    sub-steps, each axis separately, an axis stopping at its first blocked sub-step."""
    delta = np.clip(action, -MAX_STEP, MAX_STEP) / SUBSTEPS
    p, free = np.array(p, np.float64), delta != 0
    for _ in range(SUBSTEPS):
        for axis in (0, 1):
            q = p.copy()
            q[:, axis] += delta[:, axis]
            ok = free[:, axis] & ~blocked(q, wall_x, door_y)
            free[:, axis] &= ok
            p[ok, axis] = q[ok, axis]
    return p


def wall_masks(wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """``(B, 65, 65)`` bool: the border walls and each layout's inner wall."""
    x, y = GRID[None, ..., 0], GRID[None, ..., 1]
    inner = (np.abs(x - np.reshape(wall_x, (-1, 1, 1))) <= WALL_HALF) & (np.abs(y - np.reshape(door_y, (-1, 1, 1)))
                                                                          > DOOR_HALF)
    border = (x == BORDER) | (y == BORDER) | (x == IMG_SIZE - 1 - BORDER) | (y == IMG_SIZE - 1 - BORDER)
    return inner | border


def render(p: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray, walls: np.ndarray | None = None) -> np.ndarray:
    """uint8 images ``(B, 65, 65, 3)`` of agents at ``p`` ``(B, 2)``: the dot in red, the walls in green
    (``walls``: precomputed :func:`wall_masks`). The Gaussian dot is the outer product of its row and column
    profiles."""
    p, axis = np.asarray(p, float), np.arange(IMG_SIZE, dtype=float)
    gx = np.exp(-((axis[None] - p[:, :1]) ** 2) / (2 * DOT_STD**2))
    gy = np.exp(-((axis[None] - p[:, 1:]) ** 2) / (2 * DOT_STD**2))
    img = np.zeros((len(p), IMG_SIZE, IMG_SIZE, 3), np.uint8)
    img[..., 0] = np.clip(gy[:, :, None] * gx[:, None, :] * 255.0, 0, 255).astype(np.uint8)
    img[..., 1] = (wall_masks(wall_x, door_y) if walls is None else walls) * np.uint8(255)
    return img


class TwoRooms(gymnasium.Env):
    """Two rooms, a wall with a door, a point agent and a goal in the other room.

    Args:
        fixed_layout: keep EB-JEPA's fixed layout (wall column 32, door row 18) instead of a random one per episode.
    """

    metadata = {"render_modes": ["rgb_array"]}
    render_mode = "rgb_array"

    def __init__(self, fixed_layout: bool = False) -> None:
        self.fixed_layout = fixed_layout
        self.action_space = gymnasium.spaces.Box(-MAX_STEP, MAX_STEP, (2,), dtype=np.float64)
        self.observation_space = gymnasium.spaces.Box(0.0, IMG_SIZE - 1.0, (2,), dtype=np.float64)
        self.wall_x, self.door_y = 32, 18
        self.position, self.goal = np.full(2, 16.0), np.full(2, 48.0)
        self.walls = self._walls()

    def _walls(self) -> np.ndarray:
        return wall_masks(np.array([self.wall_x]), np.array([self.door_y]))

    def blocked(self, p: np.ndarray) -> bool:
        """Whether point ``p`` lies in a wall or outside the border walls (:func:`blocked` for one point, in plain
        Python: the simulator search calls it millions of times)."""
        if not (BORDER + 1 <= p[0] <= IMG_SIZE - 2 - BORDER and BORDER + 1 <= p[1] <= IMG_SIZE - 2 - BORDER):
            return True
        return abs(p[0] - self.wall_x) <= WALL_HALF + 0.5 and abs(p[1] - self.door_y) > DOOR_HALF

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        rng = self.np_random
        if not self.fixed_layout:
            self.wall_x = int(rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1))
            self.door_y = int(rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1))
        self.walls = self._walls()
        pad = 2 * DOT_STD
        lo, hi = BORDER + 1 + pad, IMG_SIZE - 2 - BORDER - pad
        left = (lo, self.wall_x - WALL_HALF - 1 - pad)
        right = (self.wall_x + WALL_HALF + 1 + pad, hi)
        start = np.array([rng.uniform(*left), rng.uniform(lo, hi)])
        goal = np.array([rng.uniform(*right), rng.uniform(lo, hi)])
        if rng.random() < 0.5:
            start, goal = goal, start
        self.goal, self.position = goal, goal
        goal_image = self.render()
        expert = self._expert(start)
        self.position = start
        return self.position.copy(), {**self._info(), "goal_image": goal_image, "goal_proprio": goal.copy(),
                                      "expert_actions": expert}

    def _expert(self, start: np.ndarray) -> np.ndarray:
        """Actions along start -> door (this side) -> door (other side) -> goal, zero-padded to ``EXPERT_STEPS``."""
        side = np.sign(start[0] - self.wall_x)
        waypoints = [np.array([self.wall_x + side * 4.0, self.door_y]), np.array([self.wall_x - side * 4.0,
                                                                                  self.door_y]), self.goal]
        actions, here = [], start
        for target in waypoints:
            while np.linalg.norm(target - here) > 1e-9:
                step = np.clip(target - here, -MAX_STEP + 0.05, MAX_STEP - 0.05)
                actions.append(step)
                here = here + step
        out = np.zeros((EXPERT_STEPS, 2))
        out[: len(actions)] = actions[:EXPERT_STEPS]
        return out

    def _info(self) -> dict[str, Any]:
        return {"proprio": self.position.copy(), "is_success": self.goal_distance() < 1.0}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        # :func:`move` for one agent, in plain Python (10 x faster than numpy on a batch of one)
        delta = np.clip(np.asarray(action, np.float64), -MAX_STEP, MAX_STEP) / SUBSTEPS
        p, free = self.position.copy(), [True, True]
        for _ in range(SUBSTEPS):
            for axis in (0, 1):
                if free[axis] and delta[axis]:
                    q = p.copy()
                    q[axis] += delta[axis]
                    if self.blocked(q):
                        free[axis] = False
                    else:
                        p = q
        self.position = p
        info = self._info()
        return p.copy(), float(info["is_success"]), False, False, info

    def render(self) -> np.ndarray:
        return render(self.position[None], np.array([self.wall_x]), np.array([self.door_y]), self.walls)[0]

    def get_state(self) -> np.ndarray:
        return self.position.copy()

    def set_state(self, state: np.ndarray) -> None:
        self.position = np.array(state, np.float64)

    def goal_distance(self) -> float:
        return float(np.linalg.norm(self.position - self.goal)) / SUCCESS_RADIUS
