"""Pose integration for imagined rollouts (the official ``compute_new_pose``), in torch."""

from __future__ import annotations

import torch
from torch import Tensor


def euler_xyz_to_matrix(angles: Tensor) -> Tensor:
    """Rotation matrices ``(..., 3, 3)`` of extrinsic xyz Euler angles ``(..., 3)``: ``Rz(c) @ Ry(b) @ Rx(a)``."""
    a, b, c = angles.unbind(-1)
    ca, sa, cb, sb, cc, sc = a.cos(), a.sin(), b.cos(), b.sin(), c.cos(), c.sin()
    rows = [[cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa],
            [sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa],
            [-sb, cb * sa, cb * ca]]
    return torch.stack([torch.stack(r, dim=-1) for r in rows], dim=-2)


def matrix_to_euler_xyz(m: Tensor) -> Tensor:
    """Extrinsic xyz Euler angles of rotation matrices (inverse of :func:`euler_xyz_to_matrix`)."""
    b = torch.asin((-m[..., 2, 0]).clamp(-1.0, 1.0))
    a = torch.atan2(m[..., 2, 1], m[..., 2, 2])
    c = torch.atan2(m[..., 1, 0], m[..., 0, 0])
    return torch.stack([a, b, c], dim=-1)


def integrate_pose(state: Tensor, action: Tensor) -> Tensor:
    """Next 7-D pose ``(..., 7)`` after a pose-difference action: xyz added, rotation ``R(d) @ R(s)``, gripper
    ``clip(g + dg, 0, 1)``. Inside a CEM rollout these integrated poses are the state tokens, never readings."""
    rot = matrix_to_euler_xyz(euler_xyz_to_matrix(action[..., 3:6]) @ euler_xyz_to_matrix(state[..., 3:6]))
    grip = (state[..., 6:7] + action[..., 6:7]).clamp(0.0, 1.0)
    return torch.cat([state[..., :3] + action[..., :3], rot, grip], dim=-1)
