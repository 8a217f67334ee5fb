"""Closed-loop MPC on the ToyWorld ``Tabletop`` with a fixed step budget, and the baseline planners.

The runner shows planners only observations (rendered images and the 7-D proprio pose); success is scored by
the runner after each executed step and never fed back. Every planner plans all episodes at once.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import torch
from tqdm import tqdm

from lit_jepa.data.toyworld.env import TOLERANCES, Tabletop, success
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import blur_levels, multiscale_l1_energy, proprio_energy
from lit_jepa.planning.model import LatentWorldModel, check_ensemble


@dataclass
class Observation:
    """What a planner may see: images ``(E, H, W, 3)`` uint8 and proprio poses ``(E, 7)``."""

    images: np.ndarray
    states: np.ndarray


class Planner(Protocol):
    def plan(self, obs: Observation, step: int) -> np.ndarray:
        """The 7-D actions ``(E, 7)`` to execute now."""


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def planned_horizon(horizon: int, step: int, frame_step: int = 1, budget: int | None = None) -> int:
    """Model steps to plan at environment step ``step``: ``horizon``, shrunk so that a plan of model steps of
    ``frame_step`` environment steps never runs past ``budget`` (no budget: ``horizon``)."""
    if budget is None:
        return horizon
    return max(1, min(horizon, math.ceil((budget - step) / frame_step)))


def check_coarse_to_fine(coarse_sigmas: Sequence[float], coarse_until: int) -> None:
    """Raise ``ValueError`` unless the coarse-to-fine settings go together: both set (sigmas and a step > 0) or
    neither."""
    if bool(coarse_sigmas) != (coarse_until > 0):
        raise ValueError("coarse_sigmas and coarse_until > 0 go together (the coarse-to-fine energy), got "
                         f"{tuple(coarse_sigmas)} and {coarse_until}")


class LatentPlanner:
    """CEM through the world model to goal images (V-JEPA 2-AC); executes the first planned action.

    Energy: L1 between the final predicted frame and the goal tokens, plus ``proprio_weight`` times the L1 between
    the final integrated pose and ``goal_states`` (0 by default: image-only, the headline setting). ``blur_sigmas``
    (token units) makes the image term multi-scale: the sum of the L1 between Gaussian-blurred copies of both token
    maps at each sigma (:func:`~lit_jepa.planning.energy.multiscale_l1_energy`); the default ``(0,)`` is the
    paper's plain L1. ``coarse_sigmas`` with ``coarse_until`` makes the energy coarse-to-fine: plans made before
    environment step ``coarse_until`` use the sigmas ``coarse_sigmas`` instead (e.g. ``(1, 2)``, without the sharp
    level), later ones ``blur_sigmas``. Far from the goal the sharp level of a learned model's energy is mostly noise
    (``benchmarks/toy_energy_fidelity.py``), so the coarse levels steer the arm there and the sharp one places it.

    ``model`` may be a list of world models that share one encoder (the same weights and token pooling), e.g.
    predictors trained with different seeds: the energy is then the mean of their energies (an ensemble, as in
    PETS), which averages out errors the predictors do not share. Observations and goals are encoded once.

    ``frame_step`` > 1 plans with a world model whose steps span that many environment steps (DINO-WM's
    frameskip): the first planned model action is executed in ``frame_step`` equal parts, and CEM replans every
    ``replan_every`` environment steps (default ``frame_step``: once per model step; 1: after every environment
    step, a receding horizon that executes one part of each fresh plan). With ``budget`` (environment steps) the
    horizon shrinks so that the plan never runs past the end of the budget: ``min(cfg.horizon, ceil(steps left /
    frame_step))`` model steps.
    """

    def __init__(self, model: LatentWorldModel | Sequence[LatentWorldModel], cfg: CEMConfig, goal_images: np.ndarray,
                 goal_states: np.ndarray | None = None, proprio_weight: float = 0.0, seed: int = 0,
                 frame_step: int = 1, budget: int | None = None, blur_sigmas: tuple[float, ...] = (0.0,),
                 replan_every: int | None = None, coarse_sigmas: tuple[float, ...] = (),
                 coarse_until: int = 0) -> None:
        if not blur_sigmas:
            raise ValueError("LatentPlanner: blur_sigmas needs at least one sigma (0 = the plain L1)")
        check_coarse_to_fine(coarse_sigmas, coarse_until)
        if proprio_weight and goal_states is None:
            raise ValueError("LatentPlanner: proprio_weight needs goal_states")
        if frame_step < 1:
            raise ValueError(f"LatentPlanner: frame_step must be >= 1, got {frame_step}")
        replan_every = frame_step if replan_every is None else replan_every
        if not 1 <= replan_every <= frame_step:
            raise ValueError(f"LatentPlanner: replan_every must be in 1..frame_step ({frame_step}), "
                             f"got {replan_every}")
        self.replan_every = replan_every
        self.models = check_ensemble([model] if isinstance(model, LatentWorldModel) else list(model))
        self.cfg, self.proprio_weight = cfg, proprio_weight
        self.frame_step, self.budget, self.blur_sigmas = frame_step, budget, tuple(blur_sigmas)
        self.coarse_sigmas, self.coarse_until = tuple(coarse_sigmas), coarse_until
        goal = self.model.maps(self.model.encode(torch.from_numpy(goal_images)))
        self.goal_levels = {sigmas: blur_levels(goal, sigmas).unsqueeze(2)  # (L, E, 1, D, H, W)
                            for sigmas in {self.blur_sigmas, self.coarse_sigmas} if sigmas}
        self.goal_states = None if goal_states is None else torch.as_tensor(goal_states, dtype=torch.float32,
                                                                            device=self.model.device)
        self.generator = torch.Generator().manual_seed(seed)
        self.last_energy = np.zeros(len(goal_images))
        self.current = np.zeros((len(goal_images), len(cfg.scale)))

    @property
    def model(self) -> LatentWorldModel:
        """The first world model: it encodes observations and goals for the whole ensemble."""
        return self.models[0]

    def sigmas_at(self, step: int) -> tuple[float, ...]:
        """The energy's blur sigmas for a plan made at environment step ``step``."""
        return self.coarse_sigmas if step < self.coarse_until else self.blur_sigmas

    def energy(self, z0: torch.Tensor, s0: torch.Tensor, actions: torch.Tensor,
               sigmas: tuple[float, ...] | None = None) -> torch.Tensor:
        """Energies ``(E, S)`` of physical actions ``(E, S, H, 7)``: one predictor call per horizon step and
        world model; the mean over the world models. ``sigmas``: ``blur_sigmas`` (default) or ``coarse_sigmas``."""
        sigmas = self.blur_sigmas if sigmas is None else sigmas
        E, S = actions.shape[:2]
        z0, s0, actions = z0.repeat_interleave(S, 0), s0.repeat_interleave(S, 0), actions.flatten(0, 1)
        e = 0.0
        for model in self.models:
            z, s = model.rollout(z0, s0, actions)  # s: the integrated pose, the same for every model
            e = e + multiscale_l1_energy(blur_levels(model.maps(z), sigmas).unflatten(1, (E, S)),
                                         self.goal_levels[sigmas])
        e = e / len(self.models)
        if self.proprio_weight:
            e = e + self.proprio_weight * proprio_energy(s, self.goal_states.repeat_interleave(S, 0)).view(E, S)
        return e

    def horizon(self, step: int) -> int:
        """Model steps planned at environment step ``step`` (:func:`planned_horizon`)."""
        return planned_horizon(self.cfg.horizon, step, self.frame_step, self.budget)

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        if step % self.replan_every == 0:
            z0 = self.model.encode(torch.from_numpy(obs.images))
            s0 = torch.as_tensor(obs.states, dtype=torch.float32, device=z0.device)
            cfg = replace(self.cfg, horizon=self.horizon(step))
            sigmas = self.sigmas_at(step)
            actions, best = cem(lambda a: self.energy(z0, s0, a, sigmas), len(z0), cfg, self.generator, z0.device)
            self.last_energy = best.cpu().numpy()
            self.current = actions[:, 0].double().cpu().numpy() / self.frame_step
        return self.current


class SimulatorPlanner:
    """The planner's ceiling: the same CEM, scored by rolling out copies of the true simulator (privileged: it is
    built with the live environments and reads their full state). Energy: distances the success test checks,
    each divided by its tolerance."""

    def __init__(self, envs: list[Tabletop], task: str, goals: np.ndarray, cfg: CEMConfig, seed: int = 0) -> None:
        self.envs, self.goals, self.cfg = envs, goals, cfg
        self.tol = TOLERANCES[task]
        self.sim = Tabletop(envs[0].resolution, envs[0].max_delta)
        self.generator = torch.Generator().manual_seed(seed)

    def _distance(self, full: np.ndarray, goal: np.ndarray) -> float:
        d = 0.0
        if "agent" in self.tol:
            d += float(np.linalg.norm(full[:2] - goal[:2])) / self.tol["agent"]
        if "block" in self.tol:
            d += float(np.linalg.norm(full[3:5] - goal[3:5])) / self.tol["block"]
        return d

    def energy(self, actions: torch.Tensor) -> torch.Tensor:
        out = np.empty(actions.shape[:2])
        for e, env in enumerate(self.envs):
            start = env.full_state
            for s, seq in enumerate(actions[e].double().numpy()):
                self.sim.set_full_state(start)
                for a in seq:
                    self.sim.step(a)
                out[e, s] = self._distance(self.sim.full_state, self.goals[e])
        return torch.from_numpy(out).float()

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        actions, _ = cem(self.energy, len(self.envs), self.cfg, self.generator)
        return actions[:, 0].double().numpy()


class RandomPlanner:
    """Uniform random actions inside the CEM bound (box) on the free dimensions."""

    def __init__(self, cfg: CEMConfig, seed: int = 0) -> None:
        self.cfg, self.rng = cfg, np.random.default_rng(seed)

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        u = self.rng.uniform(-self.cfg.bound, self.cfg.bound, (len(obs.states), len(self.cfg.free_dims)))
        return self.cfg.physical(torch.from_numpy(u)).numpy()


class ReplayPlanner:
    """Replays the recorded actions ``(E, K, 7)`` that reach the goals, then holds still."""

    def __init__(self, actions: np.ndarray) -> None:
        self.actions = actions

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        if step < self.actions.shape[1]:
            return self.actions[:, step]
        return np.zeros((len(obs.states), 7))


def run_mpc(planner: Planner, envs: list[Tabletop], starts: np.ndarray, goals: np.ndarray, task: str,
            budget: int, progress: bool = False) -> dict:
    """Run ``budget`` closed-loop steps from full states ``starts`` toward ``goals`` (one env per episode).

    Returns ``success`` ``(E, budget + 1)`` (bool per step, step 0 = start), per-episode ``final`` and ``any``
    success, and ``plan_seconds`` (total time inside the planner; all episodes are planned together).
    ``progress`` shows a bar of the steps with the current success rate on stderr.
    """
    for env, start in zip(envs, starts):
        env.set_full_state(start)
    ok = np.zeros((len(envs), budget + 1), bool)
    ok[:, 0] = [success(task, env.full_state, g) for env, g in zip(envs, goals)]
    plan_seconds = 0.0
    bar = tqdm(total=budget, desc=f"planning {task}", unit="step", file=sys.stderr, disable=not progress)
    for step in range(budget):
        obs = Observation(np.stack([env.render() for env in envs]), np.stack([env.state for env in envs]))
        t0 = time.perf_counter()
        actions = planner.plan(obs, step)
        plan_seconds += time.perf_counter() - t0
        for e, (env, goal) in enumerate(zip(envs, goals)):
            env.step(np.asarray(actions[e], np.float64))
            ok[e, step + 1] = success(task, env.full_state, goal)
        bar.set_postfix(success=f"{ok[:, step + 1].mean():.2f}")
        bar.update()
    bar.close()
    return {"success": ok, "final": ok[:, -1], "any": ok.any(axis=1),
            "plan_seconds": plan_seconds, "budget": budget}


def summarise(result: dict) -> dict:
    """JSON-ready success rates with Wilson 95 % intervals and the success-over-time curve."""
    n = len(result["final"])
    steps = result["budget"]
    out = {"episodes": n, "budget": steps, "plan_seconds_per_step_all_episodes": result["plan_seconds"] / steps,
           "plan_seconds_per_env_step": result["plan_seconds"] / (steps * n),
           "success_over_time": result["success"].mean(axis=0).round(4).tolist()}
    for key in ("final", "any"):
        k = int(result[key].sum())
        out[f"sr_{key}"] = k / n
        out[f"sr_{key}_wilson95"] = [round(v, 4) for v in wilson(k, n)]
    return out
