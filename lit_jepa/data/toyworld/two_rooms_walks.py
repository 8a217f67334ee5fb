"""EB-JEPA's Two-Rooms training data, made on the fly: random walks with a random layout each.

Each walk (``eb_jepa/datasets/two_rooms``: ``dot_dataset.py``, ``wall_dataset.py``) starts uniformly in the arena
(moved out of the wall if inside), keeps a heading that turns by VonMises(0, 5) per step and moves by a step length
from a normal (mean 1, std 0.4) truncated to [0.2, 1.8] px; a ``cross`` fraction of walks starts 3 to 3 + length / 2
px beside the door and heads through it, so that the data shows how the rooms connect; a ``push`` fraction starts
3 to 15 px beside the wall away from the door and heads into it, so that the data shows the wall stopping the agent
(not in EB-JEPA's data). Actions are the commanded displacements (what a planner commands), not the displacements
after a wall stopped the agent.
:class:`TwoRoomsWalkData` serves fresh batches for training and a fixed set for validation.
"""

from __future__ import annotations

from collections.abc import Iterator

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset

from lit_jepa.data.toyworld.two_rooms import (
    BORDER,
    DOOR_HALF,
    DOOR_RANGE,
    DOT_STD,
    IMG_SIZE,
    MAX_STEP,
    WALL_HALF,
    WALL_RANGE,
    blocked,
    move,
    render,
    wall_masks,
)


def truncated_normal(rng: np.random.Generator, mean: float, std: float, lo: float, hi: float, n: int) -> np.ndarray:
    """``n`` draws of a normal truncated to ``[lo, hi]`` (by rejection)."""
    out = rng.normal(mean, std, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, std, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def random_walks(rng: np.random.Generator, batch: int, length: int, cross: float = 0.35, step_scale: float = 1.0,
                 frame_step: int = 1, random_actions: float = 0.0, push: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``batch`` walks of ``length`` steps: positions ``(B, length + 1, 2)``, commanded actions ``(B, length, 2)``,
    each walk's wall column and door row ``(B,)``. ``step_scale`` scales the step-length distribution (mean, std
    and bounds) to show the model the longer steps a planner commands (Two-Rooms' bound: 2.45 px per axis).
    ``frame_step`` > 1 makes each step that many environment steps of one held action (a frameskip world model's
    step, DINO-WM's and PLDM's): the recorded action is the displacement commanded over them (``frame_step`` x the
    held action), what :class:`lit_jepa.planning.LatentPlanner` splits into equal parts at ``frame_step``.
    A ``random_actions`` fraction of walks instead draws each action uniformly from the env's action box
    (``MAX_STEP`` per axis), independently per step: the actions a planner's samples propose, walls hit included.
    A ``push`` fraction of the other walks starts 3 to 15 px beside the inner wall, at least 3 px above or below
    the door, heading into the wall (+- N(0, 0.5) rad): a planner pushing at the wall sees it hold."""
    wall_x = rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1, batch).astype(float)
    door_y = rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1, batch).astype(float)
    lo, hi = BORDER + 1 + 2 * DOT_STD, IMG_SIZE - 2 - BORDER - 2 * DOT_STD
    pos = rng.uniform(lo, hi, (batch, 2))
    heading = rng.uniform(0, 2 * np.pi, batch)
    through = rng.random(batch) < cross
    side = rng.choice([-1.0, 1.0], batch)
    n = int(through.sum())
    pos[through, 0] = wall_x[through] + side[through] * rng.uniform(3, 3 + length * frame_step * 0.5, n)
    pos[through, 1] = door_y[through] + rng.uniform(-3, 3, n)
    heading[through] = np.where(side[through] > 0, np.pi, 0.0) + rng.normal(0, 0.2, n)
    if push > 0:
        into = ~through & (rng.random(batch) < push)
        m = int(into.sum())
        pos[into, 0] = wall_x[into] + side[into] * rng.uniform(3, 15, m)
        y, door = rng.uniform(lo, hi, m), door_y[into]
        near = np.abs(y - door) < DOOR_HALF + 3
        while near.any():
            y[near] = rng.uniform(lo, hi, int(near.sum()))
            near = np.abs(y - door) < DOOR_HALF + 3
        pos[into, 1] = y
        heading[into] = np.where(side[into] > 0, np.pi, 0.0) + rng.normal(0, 0.5, m)
    inside = blocked(pos, wall_x, door_y)
    pos[inside, 0] = wall_x[inside] + np.where(pos[inside, 0] > wall_x[inside], 1, -1) * (WALL_HALF + 2.5)
    positions, actions = [pos], []
    uniform = rng.random(batch) < random_actions if random_actions > 0 else np.zeros(batch, bool)
    for _ in range(length):
        heading = heading + rng.vonmises(0, 5.0, batch)
        step = step_scale * truncated_normal(rng, 1.0, 0.4, 0.2, 1.8, batch)
        a = np.stack([np.cos(heading), np.sin(heading)], 1) * step[:, None]
        if uniform.any():
            a[uniform] = rng.uniform(-MAX_STEP, MAX_STEP, (int(uniform.sum()), 2))
        for _ in range(frame_step):
            pos = move(pos, a, wall_x, door_y)
        positions.append(pos)
        actions.append(a * frame_step)
    return np.stack(positions, 1), np.stack(actions, 1), wall_x, door_y


def walk_batch(rng: np.random.Generator, batch: int, length: int, cross: float = 0.35, step_scale: float = 1.0,
               frame_step: int = 1, random_actions: float = 0.0, push: float = 0.0) -> dict[str, Tensor]:
    """One batch of :func:`random_walks`, rendered: ``frames`` uint8 ``(B, length + 1, 65, 65, 3)``, ``actions``
    float ``(B, length, 2)`` and ``positions`` float ``(B, length + 1, 2)``."""
    positions, actions, wall_x, door_y = random_walks(rng, batch, length, cross, step_scale, frame_step,
                                                      random_actions, push)
    walls = wall_masks(wall_x, door_y)
    frames = np.stack([render(positions[:, k], wall_x, door_y, walls) for k in range(length + 1)], 1)
    return {"frames": torch.from_numpy(frames), "actions": torch.from_numpy(actions).float(),
            "positions": torch.from_numpy(positions).float()}


class WalkBatches(IterableDataset):
    """Batches of :func:`walk_batch`: ``num_batches`` of them (``None``: endless), the same ones on every pass when
    ``fixed`` (validation), fresh ones on every pass otherwise."""

    def __init__(self, batch_size: int, length: int, cross: float, seed: int, num_batches: int | None = None,
                 fixed: bool = False, step_scale: float = 1.0, frame_step: int = 1,
                 random_actions: float = 0.0, push: float = 0.0) -> None:
        self.batch_size, self.length, self.cross, self.seed = batch_size, length, cross, seed
        self.step_scale, self.frame_step, self.random_actions = step_scale, frame_step, random_actions
        self.push = push
        self.num_batches, self.fixed, self.passes = num_batches, fixed, 0

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        rng = np.random.default_rng([self.seed, 0 if self.fixed else self.passes])
        self.passes += 1
        k = 0
        while self.num_batches is None or k < self.num_batches:
            yield walk_batch(rng, self.batch_size, self.length, self.cross, self.step_scale, self.frame_step,
                             self.random_actions, self.push)
            k += 1


class TwoRoomsWalkData(L.LightningDataModule):
    """Two-Rooms random walks (:func:`random_walks`) for the end-to-end world model
    (:class:`lit_jepa.tasks.RecurrentWorldModelTask`), made on the fly in the main process.

    Args:
        batch_size: walks per batch (EB-JEPA: 384).
        length: actions per walk (frames: ``length + 1``; EB-JEPA's windows: 16).
        cross: fraction of walks that start beside the door and head through it (EB-JEPA: 0.35).
        seed: seed of the walks (training and validation draw from different streams).
        val_batches: validation batches, the same walks at every validation.
        step_scale: scale of the step lengths (:func:`random_walks`; EB-JEPA: 1).
        frame_step: environment steps per walk step, one action held over them (:func:`random_walks`; EB-JEPA: 1).
        random_actions: fraction of walks with independent uniform actions in the action box (EB-JEPA: 0).
        push: fraction of the walks not crossing the door that head into the wall away from the door (EB-JEPA: 0).
    """

    def __init__(self, batch_size: int = 64, length: int = 8, cross: float = 0.35, seed: int = 0,
                 val_batches: int = 4, step_scale: float = 1.0, frame_step: int = 1,
                 random_actions: float = 0.0, push: float = 0.0) -> None:
        super().__init__()
        if length < 1 or batch_size < 2:
            raise ValueError(f"TwoRoomsWalkData: need length >= 1 and batch_size >= 2, got {length}, {batch_size}")
        if not all(0.0 <= f <= 1.0 for f in (cross, random_actions, push)):
            raise ValueError(f"TwoRoomsWalkData: cross, random_actions and push must be in [0, 1], got {cross}, "
                             f"{random_actions} and {push}")
        if step_scale <= 0:
            raise ValueError(f"TwoRoomsWalkData: step_scale must be > 0, got {step_scale}")
        if frame_step < 1:
            raise ValueError(f"TwoRoomsWalkData: frame_step must be >= 1, got {frame_step}")
        self.save_hyperparameters()
        walks = {"step_scale": step_scale, "frame_step": frame_step, "random_actions": random_actions, "push": push}
        self.train_set = WalkBatches(batch_size, length, cross, seed, **walks)
        self.val_set = WalkBatches(batch_size, length, cross, seed + 1_000_003, val_batches, fixed=True, **walks)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_set, batch_size=None)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=None)
