"""Closed-loop MPC in any :class:`~lit_jepa.planning.env.GoalEnv` with a fixed step budget, and the baseline planners.

The runner shows planners only observations (rendered images and proprio); success (the env's ``is_success``) is
read by the runner after each executed step and never fed back. Every planner plans all episodes at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, Protocol

import numpy as np
import torch

from lit_jepa.metrics import wilson
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.energy import blur_levels, multiscale_energy, proprio_energy
from lit_jepa.planning.env import GoalEnv, Observation, SimulatableEnv
from lit_jepa.planning.model import LatentWorldModel, RecurrentEnsemble, RecurrentLatentModel, check_ensemble
from lit_jepa.planning.mppi import SOLVERS
from lit_jepa.progress import progress_bar

COSTS = ("final", "sum")
DISTANCES = {"l1": 1.0, "l2": 2.0}  # the planning energy's exponent of |prediction - goal|


class Planner(Protocol):
    def plan(self, obs: Observation, step: int) -> np.ndarray:
        """The actions ``(E, A)`` to execute now."""


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
    maps at each sigma (:func:`~lit_jepa.planning.energy.multiscale_energy`); the default ``(0,)`` is the
    paper's plain L1. ``coarse_sigmas`` with ``coarse_until`` makes the energy coarse-to-fine: plans made before
    environment step ``coarse_until`` use the sigmas ``coarse_sigmas`` instead (e.g. ``(1, 2)``, without the sharp
    level), later ones ``blur_sigmas``. Far from the goal the sharp level of a learned model's energy is mostly noise
    (``experiments/toy-energy/toy_energy_fidelity.py``), so the coarse levels steer the arm there and the sharp one
    places it.

    ``model`` may be a list of world models that share one encoder (the same weights and token pooling), e.g.
    predictors trained with different seeds: the energy is then the mean of their energies (an ensemble, as in
    PETS), which averages out errors the predictors do not share. Observations and goals are encoded once.

    ``frame_step`` > 1 plans with a world model whose steps span that many environment steps (DINO-WM's
    frameskip): the first planned model action is executed in ``frame_step`` equal parts, and CEM replans every
    ``replan_every`` environment steps (default ``frame_step``: once per model step; 1: after every environment
    step, a receding horizon that executes one part of each fresh plan). With ``budget`` (environment steps) the
    horizon shrinks so that the plan never runs past the end of the budget: ``min(cfg.horizon, ceil(steps left /
    frame_step))`` model steps. ``hold`` > 1 searches macro actions: each searched action is held for ``hold`` model
    steps (the search has ``ceil(horizon / hold)`` actions). ``replan_every`` may exceed ``frame_step``, up to the
    plan's ``frame_step * horizon`` environment steps: the plan's actions are then executed in turn. White-noise
    action sequences rarely find a detour (a door in a wall); held ones do.

    ``solver`` picks the search (``cem``: :func:`~lit_jepa.planning.cem.cem`; ``mppi``:
    :func:`~lit_jepa.planning.mppi.mppi`, which needs an :class:`~lit_jepa.planning.mppi.MPPIConfig`); ``cost``
    ``"final"`` scores the final predicted frame (V-JEPA 2-AC), ``"sum"`` the sum over every imagined frame
    (EB-JEPA's ``sum_all_diffs``); ``distance`` ``"l1"`` is the mean absolute difference (V-JEPA 2-AC), ``"l2"`` the
    mean squared difference (EB-JEPA's).

    ``model`` may also be a :class:`~lit_jepa.planning.model.RecurrentLatentModel` (one latent vector per frame) or
    a :class:`~lit_jepa.planning.model.RecurrentEnsemble` of them.
    """

    def __init__(self, model: LatentWorldModel | Sequence[LatentWorldModel], cfg: CEMConfig, goal_images: np.ndarray,
                 goal_states: np.ndarray | None = None, proprio_weight: float = 0.0, seed: int = 0,
                 frame_step: int = 1, budget: int | None = None, blur_sigmas: tuple[float, ...] = (0.0,),
                 replan_every: int | None = None, coarse_sigmas: tuple[float, ...] = (),
                 coarse_until: int = 0, solver: str = "cem", cost: Literal["final", "sum"] = "final",
                 hold: int = 1, distance: Literal["l1", "l2"] = "l1") -> None:
        if solver not in SOLVERS:
            raise ValueError(f"LatentPlanner: solver must be one of {sorted(SOLVERS)}, got {solver!r}")
        if cost not in COSTS:
            raise ValueError(f"LatentPlanner: cost must be one of {COSTS}, got {cost!r}")
        if not blur_sigmas:
            raise ValueError("LatentPlanner: blur_sigmas needs at least one sigma (0 = the plain L1)")
        check_coarse_to_fine(coarse_sigmas, coarse_until)
        if proprio_weight and goal_states is None:
            raise ValueError("LatentPlanner: proprio_weight needs goal_states")
        if frame_step < 1 or hold < 1:
            raise ValueError(f"LatentPlanner: frame_step and hold must be >= 1, got {frame_step} and {hold}")
        if distance not in DISTANCES:
            raise ValueError(f"LatentPlanner: distance must be one of {tuple(DISTANCES)}, got {distance!r}")
        replan_every = frame_step if replan_every is None else replan_every
        if not 1 <= replan_every <= frame_step * cfg.horizon:
            raise ValueError(f"LatentPlanner: replan_every must be in 1..frame_step * horizon "
                             f"({frame_step * cfg.horizon}: the planned environment steps), got {replan_every}")
        self.replan_every, self.solver, self.cost = replan_every, SOLVERS[solver], cost
        self.hold, self.p = hold, DISTANCES[distance]
        single = isinstance(model, LatentWorldModel | RecurrentLatentModel | RecurrentEnsemble)
        self.models = check_ensemble([model] if single else list(model))
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
        self.queue = np.zeros((len(goal_images), 1, len(cfg.scale)))  # the env actions of the current plan
        self.planned_at = 0

    @property
    def model(self) -> LatentWorldModel | RecurrentLatentModel | RecurrentEnsemble:
        """The first world model: it encodes observations and goals for the whole ensemble."""
        return self.models[0]

    def sigmas_at(self, step: int) -> tuple[float, ...]:
        """The energy's blur sigmas for a plan made at environment step ``step``."""
        return self.coarse_sigmas if step < self.coarse_until else self.blur_sigmas

    def energy(self, z0: torch.Tensor, s0: torch.Tensor, actions: torch.Tensor,
               sigmas: tuple[float, ...] | None = None, horizon: int | None = None) -> torch.Tensor:
        """Energies ``(E, S)`` of physical actions ``(E, S, K, A)`` (``K`` searched actions, each held ``hold``
        model steps): one predictor call per model step and world model; the mean over the world models
        (``cost="sum"``: each summed over the imagined frames). ``sigmas``: ``blur_sigmas`` (default) or
        ``coarse_sigmas``; ``horizon``: model steps to imagine (default ``K * hold``)."""
        sigmas = self.blur_sigmas if sigmas is None else sigmas
        actions = self.held(actions, actions.shape[2] * self.hold if horizon is None else horizon)
        E, S = actions.shape[:2]
        z0, s0, actions = z0.repeat_interleave(S, 0), s0.repeat_interleave(S, 0), actions.flatten(0, 1)
        e = 0.0
        for model in self.models:
            z, s = model.rollout(z0, s0, actions, every_step=self.cost == "sum")  # s: the same for every model
            for frame in z.unbind(1) if self.cost == "sum" else (z,):
                e = e + multiscale_energy(blur_levels(model.maps(frame), sigmas).unflatten(1, (E, S)),
                                          self.goal_levels[sigmas], self.p)
        e = e / len(self.models)
        if self.proprio_weight:
            e = e + self.proprio_weight * proprio_energy(s, self.goal_states.repeat_interleave(S, 0)).view(E, S)
        return e

    def horizon(self, step: int) -> int:
        """Model steps planned at environment step ``step`` (:func:`planned_horizon`)."""
        return planned_horizon(self.cfg.horizon, step, self.frame_step, self.budget)

    def held(self, actions: torch.Tensor, horizon: int) -> torch.Tensor:
        """Searched actions ``(..., K, A)`` held ``hold`` model steps each, cut to ``horizon`` model steps."""
        return actions if self.hold == 1 else actions.repeat_interleave(self.hold, dim=-2)[..., :horizon, :]

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        if step % self.replan_every == 0:
            z0 = self.model.encode(torch.from_numpy(obs.images))
            s0 = torch.as_tensor(obs.states, dtype=torch.float32, device=z0.device)
            horizon = self.horizon(step)
            cfg = replace(self.cfg, horizon=math.ceil(horizon / self.hold))
            sigmas = self.sigmas_at(step)
            actions, best = self.solver(lambda a: self.energy(z0, s0, a, sigmas, horizon), len(z0), cfg,
                                        self.generator, z0.device)
            self.last_energy = best.cpu().numpy()
            per_env_step = self.held(actions, horizon).double().cpu().numpy() / self.frame_step
            self.queue, self.planned_at = per_env_step.repeat(self.frame_step, axis=1), step
        return self.queue[:, min(step - self.planned_at, self.queue.shape[1] - 1)]


class SimulatorPlanner:
    """The planner's ceiling: the same search, scored by rolling the live environments themselves forward from their
    current state and restoring it (privileged: it reads and sets simulator state). Energy: the env's
    ``goal_distance`` after each action sequence."""

    def __init__(self, envs: Sequence[SimulatableEnv], cfg: CEMConfig, seed: int = 0, solver: str = "cem") -> None:
        missing = [type(e).__name__ for e in envs if not isinstance(e, SimulatableEnv)]
        if missing:
            raise TypeError(f"SimulatorPlanner needs get_state, set_state and goal_distance; {missing[0]} lacks them")
        self.envs, self.cfg, self.solver = list(envs), cfg, SOLVERS[solver]
        self.generator = torch.Generator().manual_seed(seed)

    def energy(self, actions: torch.Tensor) -> torch.Tensor:
        out = np.empty(actions.shape[:2])
        for e, env in enumerate(self.envs):
            start = env.get_state()
            for s, seq in enumerate(actions[e].double().numpy()):
                env.set_state(start)
                for a in seq:
                    env.step(a)
                out[e, s] = env.goal_distance()
            env.set_state(start)
        return torch.from_numpy(out).float()

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        actions, _ = self.solver(self.energy, len(self.envs), self.cfg, self.generator)
        return actions[:, 0].double().numpy()


class RandomPlanner:
    """Uniform random actions inside the CEM bound (box) on the free dimensions."""

    def __init__(self, cfg: CEMConfig, seed: int = 0) -> None:
        self.cfg, self.rng = cfg, np.random.default_rng(seed)

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        u = self.rng.uniform(-self.cfg.bound, self.cfg.bound, (len(obs.states), len(self.cfg.free_dims)))
        return self.cfg.physical(torch.from_numpy(u)).numpy()


class ReplayPlanner:
    """Replays the recorded actions ``(E, K, A)`` that reach the goals, then holds still."""

    def __init__(self, actions: np.ndarray) -> None:
        self.actions = actions

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        if step < self.actions.shape[1]:
            return self.actions[:, step]
        return np.zeros((len(obs.states), self.actions.shape[-1]))


def run_mpc(planner: Planner, envs: Sequence[GoalEnv], seeds: Sequence[int], budget: int,
            progress: bool = False, desc: str = "planning") -> dict:
    """Reset each env with its seed (one env per episode) and run ``budget`` closed-loop steps.

    Returns ``success`` ``(E, budget + 1)`` (the envs' ``is_success`` per step, step 0 = start), per-episode
    ``final`` and ``any`` success, ``plan_seconds`` (total time inside the planner; all episodes are planned
    together) and the ``start`` and ``reached`` images ``(E, H, W, 3)`` (first and last observation). ``progress``
    shows a bar of the steps with the current success rate on stderr, labelled ``desc``.
    """
    infos = [env.reset(seed=seed)[1] for env, seed in zip(envs, seeds, strict=True)]
    executed = [np.zeros(np.shape(env.action_space.low)) for env in envs]  # the dead-reckoned proprio
    ok = np.zeros((len(envs), budget + 1), bool)
    ok[:, 0] = [bool(info["is_success"]) for info in infos]
    plan_seconds = 0.0
    start = np.stack([env.render() for env in envs])
    bar = progress_bar(budget, desc, "step", disable=not progress)
    for step in range(budget):
        states = np.stack([info.get("proprio", done) for info, done in zip(infos, executed)])
        obs = Observation(np.stack([env.render() for env in envs]), states)
        t0 = time.perf_counter()
        actions = planner.plan(obs, step)
        plan_seconds += time.perf_counter() - t0
        for e, env in enumerate(envs):
            action = np.asarray(actions[e], np.float64)
            infos[e] = env.step(action)[4]
            executed[e] = executed[e] + action
            ok[e, step + 1] = bool(infos[e]["is_success"])
        bar.set_postfix(success=f"{ok[:, step + 1].mean():.2f}", refresh=False)  # update() refreshes at its pace
        bar.update()
    bar.close()
    return {"success": ok, "final": ok[:, -1], "any": ok.any(axis=1), "plan_seconds": plan_seconds,
            "budget": budget, "start": start, "reached": np.stack([env.render() for env in envs])}


def summarise(result: dict) -> dict:
    """JSON-ready success rates with Wilson 95 % intervals, each episode's final success and the success-over-time
    curve."""
    n = len(result["final"])
    steps = result["budget"]
    out = {"episodes": n, "budget": steps, "plan_seconds_per_step_all_episodes": result["plan_seconds"] / steps,
           "plan_seconds_per_env_step": result["plan_seconds"] / (steps * n),
           "success_over_time": result["success"].mean(axis=0).round(4).tolist(),
           "final_per_episode": result["final"].astype(int).tolist()}
    for key in ("final", "any"):
        k = int(result[key].sum())
        out[f"sr_{key}"] = k / n
        out[f"sr_{key}_wilson95"] = [round(v, 4) for v in wilson(k, n)]
    return out
