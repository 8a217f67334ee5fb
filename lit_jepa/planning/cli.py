"""``lit-jepa plan``: plan with a world-model checkpoint in an environment or toward recorded goal images.

    lit-jepa plan --checkpoint model.pt --env tabletop --task reach --episodes 50 --budget 25 --out plan.json
    lit-jepa plan --checkpoint model.pt --env two_rooms --solver mppi --cost sum --budget 200 --out plan.json
    lit-jepa plan --checkpoint wm.ckpt --env two_rooms --distance l2 --hold 5 --replan_every 2 --horizon 90 ...
    lit-jepa plan --checkpoint model.pt --env my_package.envs:MyEnv --env_kwargs.size 64 --out plan.json
    lit-jepa plan --checkpoint model.pt --goal_npz franka_example_traj.npz --out plan.json
    lit-jepa plan --checkpoint [a.pt,b.pt,c.pt] --env tabletop --task reach --out plan.json   # an ensemble
    lit-jepa plan --config plan.yaml                  # the same keys (:class:`PlanConfig`); --print_config writes one

Env mode runs closed-loop MPC in a goal-image environment (:mod:`lit_jepa.planning.env`: a built-in name, a
registered gymnasium id or ``module:Class``; episode ``i`` resets with seed ``seed + i``; success at the end of the
budget and at any time, Wilson 95 % intervals); the action bounds come from the env's ``action_space``. Goal mode
(an npz with ``observations`` ``(1, T, H, W, 3)`` uint8 and ``states`` ``(1, T, 7)``, the official
``franka_example_traj.npz`` layout) plans one action from frame 0 toward the last frame. Both write a results
JSON and TensorBoard figures (success over time, the energy landscape around the true action; env mode: each
episode's start, reached and goal images, ``plan/rollouts``).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from lit_jepa.atomic import atomic_write_json
from lit_jepa.data.env_trajectories import EnvTrajectories
from lit_jepa.geometry import poses_to_actions, state_differences
from lit_jepa.pictures import rollout_grid
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.env import action_bounds, draw_goals, make_env
from lit_jepa.planning.landscape import energy_landscape, heatmap
from lit_jepa.planning.model import (
    LatentWorldModel,
    RecurrentEnsemble,
    RecurrentLatentModel,
    load_world_models,
    resize_frames,
)
from lit_jepa.planning.mpc import LatentPlanner, check_coarse_to_fine, run_mpc, summarise
from lit_jepa.planning.mppi import MPPIConfig

DROID_SCALE = (0.05, 0.05, 0.05, 1.0, 1.0, 1.0, 0.75)
DROID_FREE_DIMS = (0, 1, 2, 6)


@dataclass
class PlanConfig:
    """The options of ``lit-jepa plan`` (``--config plan.yaml`` takes the same keys).

    Args:
        checkpoint: export or Lightning checkpoint with encoder + AC predictor, or a checkpoint of the end-to-end
            recurrent world model (``lit_jepa.tasks.RecurrentWorldModelTask``, env mode); a list plans as an
            ensemble with the mean of their energies: AC predictors on one encoder, or recurrent world models, each
            with its own encoder (:class:`~lit_jepa.planning.model.RecurrentEnsemble`); the landscape uses the
            first AC model or the whole recurrent ensemble.
        trust_checkpoint: load pickled checkpoints with ``weights_only=False``, which lets the file run code: only
            for files you trust (files lit_jepa writes and official releases never need it).
        env: plan in an environment: tabletop, two_rooms, a registered gymnasium id or module:Class
            (:mod:`lit_jepa.planning.env`); set exactly one of ``env`` and ``goal_npz``.
        goal_npz: plan toward the last frame of a recorded trajectory (npz in the official layout).
        task: the env's task keyword (tabletop: reach, push, pick_place; default: the env's).
        env_kwargs: further keyword arguments of the env (``--env_kwargs.size 64``).
        episodes: episodes planned (env mode); episode ``i`` resets with seed ``seed + i``.
        budget: environment steps per episode.
        seed: first goal seed (held out from training data).
        solver: the sampling planner: ``cem`` or ``mppi``.
        temperature: MPPI elite-weight temperature (units of the elites' energy range).
        cost: energy of the final imagined frame or the sum over all imagined frames (env mode).
        samples: action sequences sampled per planner iteration.
        iterations: planner refinement iterations per plan.
        elites: best samples the sampling distribution is refitted to.
        horizon: model steps planned (env mode: shrunk to the budget left).
        frame_step: environment steps per model step (the world model's training frame_step; env mode).
        replan_every: environment steps between replans, 1..frame_step * horizon (default: frame_step, once per
            model step; env mode).
        hold: model steps each searched action is held (macro actions; env mode).
        distance: the energy's distance to the goal: ``l1`` (mean absolute, V-JEPA 2-AC) or ``l2`` (mean
            squared, EB-JEPA).
        init_std: the sampling Gaussian's initial std in normalised units.
        momentum_mean: momentum of the sampling mean's updates.
        momentum_std: momentum of the sampling std's updates.
        bound: action bound in normalised units.
        bound_kind: shape of the bound: ``box``, ``l1`` or ``l2``.
        scale: physical units per normalised unit, per action dimension (goal mode default: DROID's
            ``[0.05, 0.05, 0.05, 1, 1, 1, 0.75]``; env mode default: half the env's action range times
            ``frame_step``).
        free_dims: action dimensions searched (goal mode default: ``[0, 1, 2, 6]``; env mode: those with a range).
        proprio_weight: weight of the L1 between the imagined final pose and the goal pose in the energy.
        blur_sigmas: multi-scale energy: sum of the L1 between token maps blurred at each sigma (token units);
            ``[0]`` alone is the paper's plain L1.
        coarse_blur_sigmas: coarse-to-fine energy: these sigmas (e.g. ``[1, 2]``) for plans made before
            ``coarse_until`` (closed-loop planning).
        coarse_until: environment step from which plans use ``blur_sigmas`` again (with ``coarse_blur_sigmas``).
        landscape_dims: the two action dimensions of the energy-landscape figure.
        landscape_radius: half-width of the landscape grid, in physical action units.
        landscape_points: grid points per landscape axis.
        landscape_trajectories: held-out random trajectories recorded in the env for the landscape (env mode).
        threads: torch CPU threads (0: torch's default).
        device: where the world model runs: auto (cuda when available), cpu, cuda, cuda:N.
        out: the results JSON written.
        logdir: TensorBoard folder of the figures.
    """

    checkpoint: str | list[str]
    trust_checkpoint: bool = False
    env: str | None = None
    goal_npz: str | None = None
    task: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    episodes: int = 50
    budget: int = 25
    seed: int = 1_000_000
    solver: Literal["cem", "mppi"] = "cem"
    temperature: float = 0.1
    cost: Literal["final", "sum"] = "final"
    samples: int = 32
    iterations: int = 3
    elites: int = 6
    horizon: int = 1
    frame_step: int = 1
    replan_every: int | None = None
    hold: int = 1
    distance: Literal["l1", "l2"] = "l1"
    init_std: float = 1.0
    momentum_mean: float = 0.15
    momentum_std: float = 0.15
    bound: float = 1.0
    bound_kind: Literal["box", "l1", "l2"] = "box"
    scale: list[float] | None = None
    free_dims: list[int] | None = None
    proprio_weight: float = 0.0
    blur_sigmas: list[float] = field(default_factory=lambda: [0.0])
    coarse_blur_sigmas: list[float] = field(default_factory=list)
    coarse_until: int = 0
    landscape_dims: tuple[int, int] = (0, 1)
    landscape_radius: float = 0.05
    landscape_points: int = 7
    landscape_trajectories: int = 20
    threads: int = 0
    device: str = "auto"
    out: str = "plan.json"
    logdir: str = "runs/plan"

    def __post_init__(self) -> None:
        if isinstance(self.checkpoint, str):
            self.checkpoint = [self.checkpoint]
        if (self.env is None) == (self.goal_npz is None):
            raise ValueError(f"PlanConfig: set exactly one of env and goal_npz, got env={self.env!r}, "
                             f"goal_npz={self.goal_npz!r}")
        check_coarse_to_fine(self.coarse_blur_sigmas, self.coarse_until)


def add_coarse_to_fine_arguments(p: argparse.ArgumentParser) -> None:
    """``--coarse-blur-sigmas`` and ``--coarse-until`` (``LatentPlanner(coarse_sigmas=..., coarse_until=...)``);
    :func:`coarse_to_fine_arguments` reads them back."""
    p.add_argument("--coarse-blur-sigmas", type=float, nargs="+", default=[],
                   help="coarse-to-fine energy: these sigmas (e.g. 1 2) for plans made before --coarse-until "
                        "(closed-loop planning)")
    p.add_argument("--coarse-until", type=int, default=0,
                   help="environment step from which plans use --blur-sigmas again (with --coarse-blur-sigmas)")


def coarse_to_fine_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[tuple[float, ...], int]:
    """The checked ``(coarse_sigmas, coarse_until)`` of :func:`add_coarse_to_fine_arguments`; a usage error
    (``p.error``) when only one is set."""
    try:
        check_coarse_to_fine(args.coarse_blur_sigmas, args.coarse_until)
    except ValueError as err:
        p.error(f"--coarse-blur-sigmas and --coarse-until: {err}")
    return tuple(args.coarse_blur_sigmas), args.coarse_until


def load_npz(path: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames ``(T, size, size, 3)`` uint8 and states ``(T, 7)`` of the first trajectory in ``path``; non-finite
    observations, states or actions are a ``ValueError`` naming the file and key."""
    with np.load(path) as f:
        missing = {"observations", "states"} - set(f.files)
        if missing:
            raise KeyError(f"{path}: missing keys {sorted(missing)}; expected observations and states")
        obs, states = f["observations"], f["states"]
        for key in ("observations", "states", "actions"):
            bad = int((~np.isfinite(f[key])).sum()) if key in f.files else 0
            if bad:
                raise ValueError(f"{path}: {key} holds {bad} non-finite values (NaN or inf)")
    if obs.ndim != 5 or obs.shape[-1] != 3 or obs.shape[1] < 2 or states.shape[:2] != obs.shape[:2]:
        raise ValueError(f"{path}: expected observations (N, T>=2, H, W, 3) and states (N, T, 7), "
                         f"got {obs.shape} and {states.shape}")
    frames = torch.from_numpy(obs[0])
    if frames.shape[1:3] != (size, size):
        frames = resize_frames(frames, size)
    return frames, torch.from_numpy(states[0]).float()


def landscape_figures(writer: SummaryWriter, out: dict) -> dict:
    img = out.pop("landscape")
    writer.add_image("plan/energy_landscape", heatmap(img), 0)
    out["landscape"] = img.round(decimals=3).tolist()
    return out


def plan_goal(models: list[LatentWorldModel], cfg: CEMConfig, args: PlanConfig, writer: SummaryWriter) -> dict:
    model = models[0]
    if isinstance(model, RecurrentLatentModel | RecurrentEnsemble):
        raise SystemExit("lit-jepa plan: --goal_npz plans DROID trajectories with an encoder + AC predictor; "
                         f"{args.checkpoint[0]} is a recurrent world model (use --env)")
    frames, states = load_npz(args.goal_npz, model.encoder.img_size)
    z = model.encode(frames)
    true = torch.from_numpy(poses_to_actions(states.numpy())).to(z.device)
    states = states.to(z.device)
    t0 = time.perf_counter()
    planner = LatentPlanner(models, cfg, frames[-1:].numpy(), blur_sigmas=tuple(args.blur_sigmas))
    action, best = cem(lambda a: planner.energy(z[:1], states[:1], a), 1, cfg, planner.generator, z.device)
    seconds = time.perf_counter() - t0
    free = torch.tensor([s * args.bound for s in cfg.scale], device=z.device) + 1e-6
    land = energy_landscape(model, z[:-1], states[:-1], true, z[1:], tuple(args.landscape_dims),
                            args.landscape_radius, args.landscape_points)
    return {"goal_npz": args.goal_npz, "frames": list(frames.shape), "action_dim": int(action.shape[-1]),
            "planned_action": action[0, 0].tolist(), "true_action": true[-1].tolist(), "best_energy": float(best[0]),
            "within_bounds": bool((action[0].abs() <= free).all()), "plan_seconds": seconds,
            "landscape": landscape_figures(writer, land)}


def env_kwargs(args: PlanConfig) -> dict:
    """The env's keyword arguments: ``env_kwargs`` and ``task``."""
    return {**args.env_kwargs, **({} if args.task is None else {"task": args.task})}


def env_cem_config(cfg: CEMConfig, low: np.ndarray, high: np.ndarray, args: PlanConfig) -> CEMConfig:
    """``cfg`` with the env's action bounds as defaults: scale half the range times ``frame_step`` (a model step
    spans that many env steps), free dims those with a range; ``ValueError`` for asymmetric bounds or an explicit
    ``scale`` of another size."""
    if not np.allclose(low, -high):
        raise ValueError(f"env {args.env}: CEM samples around 0 and needs symmetric action bounds, got low {low} "
                         f"high {high}")
    scale = tuple(args.scale) if args.scale else tuple(float(h) * args.frame_step for h in high)
    if len(scale) != len(high):
        raise ValueError(f"scale has {len(scale)} values, the env's actions {len(high)} dimensions")
    free = tuple(args.free_dims) if args.free_dims else tuple(int(d) for d in np.flatnonzero(high > 0))
    return replace(cfg, scale=scale, free_dims=free)


def plan_env(models: list[LatentWorldModel], cfg: CEMConfig, args: PlanConfig, writer: SummaryWriter,
             kwargs: dict) -> dict:
    model = models[0]
    envs = [make_env(args.env, **kwargs) for _ in range(args.episodes)]
    cfg = env_cem_config(cfg, *action_bounds(envs[0]), args)
    seeds = [args.seed + i for i in range(args.episodes)]
    goals = draw_goals(envs, seeds)
    planner = LatentPlanner(models, cfg, goals.images, goals.proprio, args.proprio_weight, args.seed,
                            frame_step=args.frame_step, budget=args.budget, blur_sigmas=tuple(args.blur_sigmas),
                            replan_every=args.replan_every, coarse_sigmas=tuple(args.coarse_blur_sigmas),
                            coarse_until=args.coarse_until, solver=args.solver, cost=args.cost, hold=args.hold,
                            distance=args.distance)
    result = run_mpc(planner, envs, seeds, args.budget, progress=True)
    out = summarise(result)
    for step, rate in enumerate(out["success_over_time"]):
        writer.add_scalar("plan/success_rate", rate, step)
    writer.add_image("plan/rollouts", rollout_grid(result["start"], result["reached"], goals.images), 0)
    trajs = [EnvTrajectories(args.env, args.landscape_trajectories, seed=args.seed + 1, env_kwargs=kwargs)[i]
             for i in range(args.landscape_trajectories)]
    k = args.frame_step  # transitions one model step apart
    z = [model.encode(t["video"][0].permute(1, 2, 3, 0)) for t in trajs]
    z0, z1 = torch.cat([x[:-k] for x in z]), torch.cat([x[k:] for x in z])
    s0 = torch.cat([t["states"][:-k] for t in trajs]).to(z0.device)
    a = torch.cat([torch.from_numpy(state_differences(t["states"][:-k].numpy(), t["states"][k:].numpy()))
                   for t in trajs]).to(z0.device)
    out["landscape"] = landscape_figures(writer, energy_landscape(
        model, z0, s0, a, z1, tuple(args.landscape_dims), args.landscape_radius, args.landscape_points))
    return {"env": args.env, "env_kwargs": kwargs, "solver": args.solver, "cost": args.cost, "seed": args.seed,
            "cem": cfg.__dict__, **out}


def resolve_device(name: str) -> torch.device:
    """``auto``: the first GPU when CUDA is available, else the CPU; a CUDA device without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"lit-jepa plan: --device {name}, but this torch build sees no CUDA device")
    return device


def plan(args: PlanConfig) -> int:
    """Plan as ``args`` says (module docstring), write the results JSON and print its summary; returns 0."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    kwargs = env_kwargs(args) if args.env else {}
    models = [m.to(device) for m in load_world_models(args.checkpoint, args.trust_checkpoint)]
    cfg = MPPIConfig(samples=args.samples, iterations=args.iterations, elites=args.elites, horizon=args.horizon,
                     momentum_mean=args.momentum_mean, momentum_std=args.momentum_std, init_std=args.init_std,
                     bound=args.bound,
                     bound_kind=args.bound_kind, temperature=args.temperature,
                     # env mode: env_cem_config sets both from args and the env's action space
                     scale=tuple(DROID_SCALE if args.env or not args.scale else args.scale),
                     free_dims=tuple(DROID_FREE_DIMS if args.env or not args.free_dims else args.free_dims))
    writer = SummaryWriter(args.logdir)
    t0 = time.perf_counter()
    out = plan_goal(models, cfg, args, writer) if args.goal_npz else plan_env(models, cfg, args, writer, kwargs)
    writer.close()
    record = {"checkpoint": args.checkpoint[0], "checkpoints": args.checkpoint, "device": str(device),
              "cem": cfg.__dict__, "blur_sigmas": args.blur_sigmas, "replan_every": args.replan_every,
              "coarse_blur_sigmas": args.coarse_blur_sigmas, "coarse_until": args.coarse_until, "hold": args.hold,
              "distance": args.distance,
              "wall_seconds": time.perf_counter() - t0, **out}
    atomic_write_json(args.out, record, indent=2)
    print(json.dumps({k: v for k, v in record.items() if k not in ("landscape", "success_over_time")}, indent=1))
    return 0
