"""Pose math shared by the DROID data path and imagined rollouts: extrinsic xyz Euler angles, pose differences
(the official ``poses_to_diffs``) and their integration (the official ``compute_new_pose``), in torch.

A 7-D state is a DROID pose (xyz, extrinsic xyz Euler angles in radians, gripper). States of any other size
(e.g. a point agent's position) are plain vectors: their difference is ``after - before`` and an action is added.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

POSE_DIM = 7


def euler_xyz_to_matrix(angles: Tensor) -> Tensor:
    """Rotation matrices ``(..., 3, 3)`` of extrinsic xyz Euler angles ``(..., 3)``: ``Rz(c) @ Ry(b) @ Rx(a)``."""
    a, b, c = angles.unbind(-1)
    ca, sa, cb, sb, cc, sc = a.cos(), a.sin(), b.cos(), b.sin(), c.cos(), c.sin()
    rows = [[cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa],
            [sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa],
            [-sb, cb * sa, cb * ca]]
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def matrix_to_euler_xyz(m: Tensor) -> Tensor:
    """Extrinsic xyz Euler angles of rotation matrices (inverse of :func:`euler_xyz_to_matrix`); at gimbal lock
    (``cos(pitch) ~ 0``) the whole yaw goes to the last angle."""
    b = torch.asin((-m[..., 2, 0]).clamp(-1.0, 1.0))
    a = torch.atan2(m[..., 2, 1], m[..., 2, 2])
    c = torch.atan2(m[..., 1, 0], m[..., 0, 0])
    locked = b.cos().abs() < 1e-6
    a = torch.where(locked, torch.zeros_like(a), a)
    c = torch.where(locked, torch.atan2(-m[..., 0, 1], m[..., 1, 1]), c)
    return torch.stack([a, b, c], dim=-1)


def integrate_pose(state: Tensor, action: Tensor) -> Tensor:
    """Next 7-D pose ``(..., 7)`` after a pose-difference action: xyz added, rotation ``R(d) @ R(s)``, gripper
    ``clip(g + dg, 0, 1)``. Inside a CEM rollout these integrated poses are the state tokens, never readings."""
    rot = matrix_to_euler_xyz(euler_xyz_to_matrix(action[..., 3:6]) @ euler_xyz_to_matrix(state[..., 3:6]))
    grip = (state[..., 6:7] + action[..., 6:7]).clamp(0.0, 1.0)
    return torch.cat([state[..., :3] + action[..., :3], rot, grip], dim=-1)


def integrate_state(state: Tensor, action: Tensor) -> Tensor:
    """The state after ``action``: :func:`integrate_pose` for 7-D poses, ``state + action`` otherwise."""
    return integrate_pose(state, action) if state.shape[-1] == POSE_DIM else state + action


def pose_differences(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Actions ``(..., 7)`` float32 taking poses ``before`` to ``after`` (xyz, Euler xyz, gripper): position
    difference, relative rotation ``R_after R_before^T`` as Euler xyz, gripper difference."""
    b, a = torch.as_tensor(np.asarray(before, np.float64)), torch.as_tensor(np.asarray(after, np.float64))
    rel = euler_xyz_to_matrix(a[..., 3:6]) @ euler_xyz_to_matrix(b[..., 3:6]).transpose(-1, -2)
    out = torch.cat([a[..., :3] - b[..., :3], matrix_to_euler_xyz(rel), a[..., 6:7] - b[..., 6:7]], dim=-1)
    return out.numpy().astype(np.float32)


def state_differences(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Actions float32 taking states ``before`` to ``after``: :func:`pose_differences` for 7-D poses, the plain
    difference otherwise (the inverse of :func:`integrate_state`)."""
    if np.shape(before)[-1] == POSE_DIM:
        return pose_differences(before, after)
    return (np.asarray(after, np.float64) - np.asarray(before, np.float64)).astype(np.float32)


def poses_to_actions(states: np.ndarray) -> np.ndarray:
    """``(T, 7)`` states -> ``(T - 1, 7)`` actions between consecutive poses (:func:`pose_differences`)."""
    return pose_differences(states[:-1], states[1:])
