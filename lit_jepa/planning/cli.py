"""``lit-jepa plan``: plan with a world-model checkpoint in an environment or toward recorded goal images.

    lit-jepa plan --checkpoint model.pt --env tabletop --task reach --episodes 50 --budget 25 --out plan.json
    lit-jepa plan --checkpoint model.pt --env two_rooms --solver mppi --cost sum --budget 200 --out plan.json
    lit-jepa plan --checkpoint model.pt --env my_package.envs:MyEnv --env-arg size=64 --out plan.json
    lit-jepa plan --checkpoint model.pt --goal-npz franka_example_traj.npz --out plan.json
    lit-jepa plan --checkpoint a.pt b.pt c.pt --env tabletop --task reach --out plan.json   # an ensemble

Env mode runs closed-loop MPC in a goal-image environment (:mod:`lit_jepa.planning.env`: a built-in name, a
registered gymnasium id or ``module:Class``; episode ``i`` resets with seed ``--seed + i``; success at the end of the
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
from dataclasses import replace

import numpy as np
import torch
import yaml
from torch.utils.tensorboard import SummaryWriter

from lit_jepa.atomic import atomic_write_json
from lit_jepa.data.env_trajectories import EnvTrajectories
from lit_jepa.geometry import poses_to_actions, state_differences
from lit_jepa.pictures import rollout_grid
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.env import action_bounds, draw_goals, make_env
from lit_jepa.planning.landscape import energy_landscape, heatmap
from lit_jepa.planning.model import LatentWorldModel, resize_frames
from lit_jepa.planning.mpc import COSTS, LatentPlanner, check_coarse_to_fine, run_mpc, summarise
from lit_jepa.planning.mppi import SOLVERS, MPPIConfig

DROID_SCALE = (0.05, 0.05, 0.05, 1.0, 1.0, 1.0, 0.75)
DROID_FREE_DIMS = (0, 1, 2, 6)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lit-jepa plan", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, nargs="+",
                   help="export or Lightning checkpoint with encoder + AC predictor; several (one encoder, "
                        "different predictors) plan as an ensemble with the mean of their energies; the landscape "
                        "uses the first")
    p.add_argument("--trust-checkpoint", action="store_true",
                   help="load pickled checkpoints with weights_only=False, which lets the file run code: only for "
                        "files you trust (files lit_jepa writes and official releases never need it)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--env", help="plan in an environment: tabletop, two_rooms, a registered gymnasium id or "
                     "module:Class (lit_jepa.planning.env)")
    src.add_argument("--goal-npz", help="plan toward the last frame of a recorded trajectory")
    p.add_argument("--task", help="the env's task keyword (tabletop: reach, push, pick_place; default: the env's)")
    p.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="keyword argument of the env (value parsed as YAML); repeatable")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--budget", type=int, default=25, help="environment steps per episode")
    p.add_argument("--seed", type=int, default=1_000_000, help="first goal seed (held out from training data)")
    p.add_argument("--solver", choices=sorted(SOLVERS), default="cem")
    p.add_argument("--temperature", type=float, default=0.1, help="MPPI elite-weight temperature (units of the "
                   "elites' energy range)")
    p.add_argument("--cost", choices=COSTS, default="final", help="energy of the final imagined frame or the sum "
                   "over all imagined frames (env mode)")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--elites", type=int, default=6)
    p.add_argument("--horizon", type=int, default=1, help="model steps planned (env mode: shrunk to the budget left)")
    p.add_argument("--frame-step", type=int, default=1,
                   help="environment steps per model step (the world model's training frame_step; env mode)")
    p.add_argument("--replan-every", type=int,
                   help="environment steps between CEM replans, 1..frame-step (default: frame-step, once per model "
                        "step; env mode)")
    p.add_argument("--momentum-mean", type=float, default=0.15)
    p.add_argument("--momentum-std", type=float, default=0.15)
    p.add_argument("--bound", type=float, default=1.0, help="action bound in normalised units")
    p.add_argument("--bound-kind", choices=["box", "l1"], default="box")
    p.add_argument("--scale", type=float, nargs="+",
                   help="physical units per normalised unit, per action dimension (goal mode default: DROID's 0.05 "
                        "0.05 0.05 1 1 1 0.75; env mode default: half the env's action range times --frame-step)")
    p.add_argument("--free-dims", type=int, nargs="+",
                   help="action dimensions searched (goal mode default: 0 1 2 6; env mode: those with a range)")
    p.add_argument("--proprio-weight", type=float, default=0.0)
    p.add_argument("--blur-sigmas", type=float, nargs="+", default=[0.0],
                   help="multi-scale energy: sum of the L1 between token maps blurred at each sigma (token units); "
                        "0 alone is the paper's plain L1")
    add_coarse_to_fine_arguments(p)
    p.add_argument("--landscape-dims", type=int, nargs=2, default=[0, 1])
    p.add_argument("--landscape-radius", type=float, default=0.05)
    p.add_argument("--landscape-points", type=int, default=7)
    p.add_argument("--landscape-trajectories", type=int, default=20,
                   help="held-out random trajectories recorded in the env (env mode)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--device", default="auto", help="where the world model runs: auto (cuda when available), cpu, "
                   "cuda, cuda:N")
    p.add_argument("--out", default="plan.json")
    p.add_argument("--logdir", default="runs/plan")
    return p


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


def plan_goal(models: list[LatentWorldModel], cfg: CEMConfig, args: argparse.Namespace,
              writer: SummaryWriter) -> dict:
    model = models[0]
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


def env_kwargs(p: argparse.ArgumentParser, args: argparse.Namespace) -> dict:
    """The env's keyword arguments from ``--env-arg KEY=VALUE`` (YAML values) and ``--task``."""
    out = {} if args.task is None else {"task": args.task}
    for item in args.env_arg:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            p.error(f"--env-arg {item!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def env_cem_config(cfg: CEMConfig, low: np.ndarray, high: np.ndarray, args: argparse.Namespace) -> CEMConfig:
    """``cfg`` with the env's action bounds as defaults: scale half the range times ``--frame-step`` (a model step
    spans that many env steps), free dims those with a range; ``ValueError`` for asymmetric bounds or an explicit
    ``--scale`` of another size."""
    if not np.allclose(low, -high):
        raise ValueError(f"--env {args.env}: CEM samples around 0 and needs symmetric action bounds, got low {low} "
                         f"high {high}")
    scale = tuple(args.scale) if args.scale else tuple(float(h) * args.frame_step for h in high)
    if len(scale) != len(high):
        raise ValueError(f"--scale has {len(scale)} values, the env's actions {len(high)} dimensions")
    free = tuple(args.free_dims) if args.free_dims else tuple(int(d) for d in np.flatnonzero(high > 0))
    return replace(cfg, scale=scale, free_dims=free)


def plan_env(models: list[LatentWorldModel], cfg: CEMConfig, args: argparse.Namespace,
             writer: SummaryWriter, kwargs: dict) -> dict:
    model = models[0]
    envs = [make_env(args.env, **kwargs) for _ in range(args.episodes)]
    cfg = env_cem_config(cfg, *action_bounds(envs[0]), args)
    seeds = [args.seed + i for i in range(args.episodes)]
    goals = draw_goals(envs, seeds)
    planner = LatentPlanner(models, cfg, goals.images, goals.proprio, args.proprio_weight, args.seed,
                            frame_step=args.frame_step, budget=args.budget, blur_sigmas=tuple(args.blur_sigmas),
                            replan_every=args.replan_every, coarse_sigmas=tuple(args.coarse_blur_sigmas),
                            coarse_until=args.coarse_until, solver=args.solver, cost=args.cost)
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


def main(argv: list[str]) -> int:
    p = parser()
    args = p.parse_args(argv)
    coarse_to_fine_arguments(p, args)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    kwargs = env_kwargs(p, args) if args.env else {}
    models = [LatentWorldModel.load(path, args.trust_checkpoint).to(device) for path in args.checkpoint]
    cfg = MPPIConfig(samples=args.samples, iterations=args.iterations, elites=args.elites, horizon=args.horizon,
                     momentum_mean=args.momentum_mean, momentum_std=args.momentum_std, bound=args.bound,
                     bound_kind=args.bound_kind, scale=tuple(args.scale or DROID_SCALE),
                     free_dims=tuple(args.free_dims or DROID_FREE_DIMS), temperature=args.temperature)
    writer = SummaryWriter(args.logdir)
    t0 = time.perf_counter()
    out = plan_goal(models, cfg, args, writer) if args.goal_npz else plan_env(models, cfg, args, writer, kwargs)
    writer.close()
    record = {"checkpoint": args.checkpoint[0], "checkpoints": args.checkpoint, "device": str(device),
              "cem": cfg.__dict__, "blur_sigmas": args.blur_sigmas, "replan_every": args.replan_every,
              "coarse_blur_sigmas": args.coarse_blur_sigmas, "coarse_until": args.coarse_until,
              "wall_seconds": time.perf_counter() - t0, **out}
    atomic_write_json(args.out, record, indent=2)
    print(json.dumps({k: v for k, v in record.items() if k not in ("landscape", "success_over_time")}, indent=1))
    return 0
