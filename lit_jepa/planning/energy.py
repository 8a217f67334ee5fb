"""Planning energies: L1 between the final predicted frame and the goal (paper Eq. 5), optional proprio term."""

from __future__ import annotations

from torch import Tensor


def l1_energy(pred: Tensor, goal: Tensor) -> Tensor:
    """``mean |pred - goal|`` over the tokens and features of one frame: ``(..., N, D)`` -> ``(...)``."""
    return (pred - goal).abs().mean(dim=(-2, -1))


def proprio_energy(state: Tensor, goal_state: Tensor) -> Tensor:
    """``mean |state - goal_state|`` over the position (xyz) and gripper of 7-D poses: ``(..., 7)`` -> ``(...)``."""
    diff = (state - goal_state).abs()
    return (diff[..., :3].sum(-1) + diff[..., 6]) / 4
