"""ToyWorld planning benchmark (issue 7, issue 30): V-JEPA 2-AC world model + CEM/MPPI MPC to image goals.

Worlds (``--world``): ``tabletop`` (reach and push) and ``two_rooms`` (PLDM's and EB-JEPA's Two-Rooms,
``lit_jepa.data.toyworld.two_rooms``: goals in the other room, world-model data from Ornstein-Uhlenbeck random
walks recorded through ``EnvTrajectories``). Both go through the planning environment protocol
(``lit_jepa.planning.env``).

Trains the AC predictor of the world's recipe (``recipes/toy/ac-<world>-64px-6f.yaml`` plus overrides, through the
CLI's parser) on cached features of the frozen toy-pretrained encoder and, as the control, of the same encoder
architecture at random initialisation; plans ``reach`` and ``push`` episodes (goals 25 steps ahead on
held-out scripted rollouts) with a fixed step budget, next to ground-truth replay, random actions and CEM
through the true simulator on the same episodes. Also the energy-landscape diagnostic on held-out transitions.

The world models take DINO-WM's schedule: one model step spans ``frame_step`` = 5 environment steps (clips of
frames 5 apart, the action is their pose difference), and CEM plans ``horizon`` = 5 model steps, shrinking to
the budget left, so that every plan ends at the end of the 25-step budget; the first model action is executed
in 5 equal environment steps, then CEM replans. The baselines plan single environment steps.

:func:`run` is the ``plan`` kind of the benchmark runner (``lit-jepa bench --suite planning``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import numpy as np
import torch
import yaml

from lit_jepa import hub
from lit_jepa.bench.records import sha256_file
from lit_jepa.data.datamodule import TrajectoryDataModule
from lit_jepa.data.env_trajectories import EnvTrajectories
from lit_jepa.data.toyworld.env import Tabletop
from lit_jepa.data.toyworld.memory import ToyTrajectories
from lit_jepa.data.trajectory_features import FeatureDataModule
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.env import draw_goals, make_env
from lit_jepa.planning.landscape import energy_landscape
from lit_jepa.planning.model import LatentWorldModel
from lit_jepa.planning.mpc import (
    LatentPlanner,
    RandomPlanner,
    ReplayPlanner,
    SimulatorPlanner,
    check_coarse_to_fine,
    run_mpc,
    summarise,
)
from lit_jepa.planning.mppi import MPPIConfig
from lit_jepa.recipes import resolve

TOY_CEM = dict(horizon=1, momentum_mean=0.15, momentum_std=0.15, init_std=1.0, bound=1.0, bound_kind="box",
               scale=(0.05, 0.05, 0.0, 0.0, 0.0, 0.0, 1.0), free_dims=(0, 1))
WORLDS: dict[str, dict] = {
    "tabletop": {"tasks": ("reach", "push"), "action_dims": 7, "step_bound": Tabletop().max_delta,
                 "cem": TOY_CEM, "protocol": "ToyWorld tabletop 64 px",
                 "goal": "make_goal(task, 1_000_000 + seed + i): state 25 steps ahead on a held-out scripted rollout"},
    "two_rooms": {"tasks": ("two_rooms",), "action_dims": 2, "step_bound": 2.45,
                  "cem": {**TOY_CEM, "scale": (2.45, 2.45), "free_dims": (0, 1)},
                  "protocol": "Two-Rooms 65 px (PLDM / EB-JEPA geometry, random wall and door per episode)",
                  "goal": "TwoRooms.reset(seed=1_000_000 + seed + i): random start and goal in opposite rooms"},
}


def world_env(world: str, task: str):
    """One planning env of ``world`` for ``task`` (tabletop: the task; two_rooms: its only task)."""
    return make_env(world, **({"task": task} if world == "tabletop" else {}))


def world_source(world: str, num_train: int, num_val: int, seed: int) -> TrajectoryDataModule:
    """Whole 51-frame exploration trajectories of ``world``, rendered in memory: tabletop's scripted ones (the same
    samples `lit-jepa data toyworld --task tabletop` writes as DROID folders), two_rooms' random walks."""
    if world == "tabletop":
        train, val = (ToyTrajectories(n, seed, split, num_frames=51) for n, split in ((num_train, "train"),
                                                                                      (num_val, "val")))
    else:
        train, val = (EnvTrajectories(world, n, s, num_steps=50) for n, s in ((num_train, 2 * seed),
                                                                             (num_val, 2 * seed + 1)))
    return TrajectoryDataModule(train_dataset=train, val_dataset=val, batch_size=1)


def recipe_encoder_arch() -> dict:
    """The toy pretraining recipe's encoder arguments (the random-encoder control's architecture)."""
    recipe = yaml.safe_load(resolve("toy/pretrain-vitt-64px-16f").read_text())
    return recipe["model"]["init_args"]["encoder"]["init_args"]


def train_world_model(recipe: Path, overrides: Sequence[str], arch: dict, encoder_path: Path | None,
                      source: TrajectoryDataModule, logdir: Path, name: str, seed: int, accelerator: str,
                      max_minutes: float | None = None) -> tuple[LatentWorldModel, FeatureDataModule, dict]:
    """Train the world model of ``recipe`` (an ``ACWorldModel`` recipe) through the CLI's parser, then validate it.

    Args:
        recipe: the world-model recipe file.
        overrides: command-line overrides of the recipe, applied last.
        arch: the frozen encoder's ``VisionTransformer`` arguments.
        encoder_path: the frozen encoder's checkpoint (None: random initialisation).
        source: the whole trajectories, replacing the recipe's ``data.init_args.source``.
        logdir: the TensorBoard logger's folder.
        name: the run's name in ``logdir``.
        seed: ``seed_everything`` (the model's initialisation and the batch order).
        accelerator: where it trains (``cpu``, ``cuda``).
        max_minutes: stop training after this long (Lightning's ``max_time``).
    """
    from lit_jepa.cli import lightning_cli

    # the flags a config leaves out are off, not the recipe's (jsonargparse merges init_args into the recipe's)
    encoder = {"class_path": "lit_jepa.nn.VisionTransformer",
               "init_args": {"conv_stem": False, "abs_pos_embed": False, **arch}}
    args = ["--config", str(recipe), "--seed_everything", str(seed), "--model.init_args.encoder", json.dumps(encoder),
            "--model.init_args.encoder_path", str(encoder_path) if encoder_path else "null",
            "--trainer.accelerator", accelerator, "--trainer.enable_progress_bar", "false",
            "--trainer.callbacks+=lit_jepa.callbacks.StatusLine",
            "--trainer.enable_model_summary", "false", "--trainer.logger.init_args.save_dir", str(logdir),
            "--trainer.logger.init_args.name", name,
            *(["--trainer.max_time", json.dumps({"seconds": round(max_minutes * 60)})] if max_minutes else []),
            *overrides]
    cli = lightning_cli(args, run=False)
    model, data, trainer = cli.model, cli.datamodule, cli.trainer
    data.source = source
    t0 = time.perf_counter()
    trainer.fit(model, data)
    trainer.validate(model, data, verbose=False)
    metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items() if k.startswith(("train/", "val/"))}
    wm = LatentWorldModel(model.encoder, model.predictor, model.hparams.pool, model.hparams.pool_mode).to(model.device)
    return wm, data, {"train_seconds": time.perf_counter() - t0, "steps_done": trainer.global_step, "metrics": metrics,
                      "max_steps": trainer.max_steps, "hparams": {k: v for k, v in model.hparams.items()},
                      "frames": data.frames, "frame_step": data.frame_step, "batch_size": data.batch_size}


def landscape(wm: LatentWorldModel, data: FeatureDataModule, num: int, seed: int, step_bound: float) -> dict:
    """Energy landscape on ``num`` held-out (validation) model-step transitions, over one step's action bound."""
    val = data.split("val")
    rng = np.random.default_rng(seed)
    items = [val[int(i)] for i in rng.choice(len(val), min(num, len(val)), replace=False)]
    z0, z1 = (torch.stack([x["features"][j] for x in items]).float() for j in (0, 1))
    s0, a = torch.stack([x["states"][0] for x in items]), torch.stack([x["actions"][0] for x in items])
    radius = step_bound * val.frame_step
    out = energy_landscape(wm, *(x.to(wm.device) for x in (z0, s0, a, z1)), dims=(0, 1), radius=radius, points=7)
    out["landscape"] = out["landscape"].cpu().round(decimals=3).tolist()
    return out


def plan_task(task: str, episodes: int, budget: int, seed: int, cfg: CEMConfig, model_cfg: MPPIConfig,
              frame_step: int, models: dict[str, LatentWorldModel], blur_sigmas: tuple[float, ...] = (0.0,),
              coarse_sigmas: tuple[float, ...] = (), coarse_until: int = 0, world: str = "tabletop",
              solvers: tuple[str, ...] = ("cem",), costs: tuple[str, ...] = ("final",),
              models_plan: dict | None = None) -> dict:
    """Every planner on the same ``episodes`` goals (env seeds ``seed + i``); the baselines plan single environment
    steps with ``cfg``, the world models plan model steps of ``frame_step`` environment steps with ``model_cfg``
    (energy: ``blur_sigmas``, coarse-to-fine with ``coarse_sigmas`` before environment step ``coarse_until``, as
    ``LatentPlanner``), once per ``solvers`` x ``costs`` (named ``world_model_<encoder>`` for CEM with the final-frame
    cost, ``world_model_<encoder>_<solver>_<cost>`` otherwise). ``models_plan``: further ``LatentPlanner`` arguments
    of the world-model planners (``hold``, ``distance``, ``replan_every``)."""
    envs, seeds = [world_env(world, task) for _ in range(episodes)], [seed + i for i in range(episodes)]
    goals = draw_goals(envs, seeds)
    planners = {"replay": ReplayPlanner(goals.expert_actions),
                "random": RandomPlanner(cfg, seed),
                "simulator_cem": SimulatorPlanner(envs, cfg, seed)}
    for k, m in models.items():
        for solver in solvers:
            for cost in costs:
                name = f"world_model_{k}" + ("" if (solver, cost) == ("cem", "final") else f"_{solver}_{cost}")
                planners[name] = LatentPlanner(m, model_cfg, goals.images, seed=seed, frame_step=frame_step,
                                               budget=budget, blur_sigmas=blur_sigmas, coarse_sigmas=coarse_sigmas,
                                               coarse_until=coarse_until, solver=solver, cost=cost,
                                               **(models_plan or {}))
    results = {}
    for name, planner in planners.items():
        t0 = time.perf_counter()
        results[name] = summarise(run_mpc(planner, envs, seeds, budget, progress=True, desc=f"{task} {name}"))
        results[name]["wall_seconds"] = round(time.perf_counter() - t0, 2)
        results[name]["seconds_per_episode"] = round(results[name]["wall_seconds"] / episodes, 3)
        r = results[name]
        print(f"  {task:5s} {name:28s} SR_final {r['sr_final']:.2f} {r['sr_final_wilson95']}  SR_any {r['sr_any']:.2f}"
              f"  plan s/env-step {r['plan_seconds_per_env_step']:.4f}", flush=True)
    return results


def run(encoder: str | None = None, logdir: str = "runs/bench/plan", world: str = "tabletop",
        recipe: str | None = None, overrides: Sequence[str] = (), smoke: bool = False, num_train: int = 200,
        num_val: int = 12, episodes: int = 50, budget: int = 25, samples: int = 64, iterations: int = 3,
        elites: int = 8, horizon: int = 5, landscape_transitions: int = 200, max_minutes: float | None = None,
        blur_sigmas: Sequence[float] = (0.0,), coarse_sigmas: Sequence[float] = (), coarse_until: int = 0,
        tasks: Sequence[str] | None = None, encoders: Sequence[str] = ("pretrained", "random"), seed: int = 0,
        train_seed: int | None = None, threads: int = 2, accelerator: str = "cpu", export: bool | None = None,
        solvers: Sequence[str] = ("cem",), costs: Sequence[str] = ("final",), temperature: float = 0.1) -> dict:
    """The whole benchmark: world models trained from ``recipe``, then every planner on the same goals; returns its
    record (the runner's ``plan`` kind stores it).

    Args:
        encoder: the frozen encoder of the ``pretrained`` world model, an official-layout export.
        logdir: folder of the world models' TensorBoard logs and checkpoints (and exports, with ``export``).
        world: the planning environment (:data:`WORLDS`).
        recipe: the world models' recipe, a name or path (:func:`lit_jepa.recipes.resolve`; default
            ``toy/ac-<world>-64px-6f``): model, loss, schedule, clip windows and trainer.
        overrides: command-line overrides of the recipe (``--trainer.max_steps 2000``); the model step
            (``data.init_args.frame_step``) also sets the planners' step.
        smoke: shrink data, training (10 steps), episodes and search to a smoke test.
        num_train: training trajectories (rendered in memory; they replace the recipe's data source).
        num_val: validation trajectories.
        episodes: goals per task.
        budget: environment steps per episode.
        samples: CEM / MPPI samples per iteration.
        iterations: CEM / MPPI iterations per plan.
        elites: CEM elites.
        horizon: model steps the world-model planners plan (shrunk to the budget left).
        landscape_transitions: held-out transitions of the energy-landscape diagnostic.
        max_minutes: stop each world model's training after this long (``steps_done`` in the record says where).
        blur_sigmas: the world-model planners' energy, summed over token maps blurred at these sigmas (``(0,)``: L1).
        coarse_sigmas: the sigmas instead for plans made before environment step ``coarse_until``.
        coarse_until: the environment step where the coarse-to-fine energy switches (0: never coarse).
        tasks: the world's tasks to plan (default: all of :data:`WORLDS`'s).
        encoders: the world models: ``pretrained`` (on ``encoder``) and/or ``random`` (its random-initialised twin).
        seed: seed of the data and goals.
        train_seed: seed of the world models' initialisation and batch order only (default ``seed``).
        threads: torch CPU threads.
        accelerator: where the world models train and plan (the simulator and the baselines stay on the CPU).
        export: write each world model to ``logdir/<name>.pt`` for ``lit-jepa plan`` (default: not ``smoke``).
        solvers: the world-model planners' searches (``cem``, ``mppi``), each with each of ``costs``.
        costs: the world-model planners' energies (``final``: the last imagined frame, ``sum``: every frame).
        temperature: MPPI's elite-weight temperature.
    """
    check_coarse_to_fine(coarse_sigmas, coarse_until)  # before training, not after it
    if world not in WORLDS:
        raise ValueError(f"world must be one of {sorted(WORLDS)}, got {world!r}")
    tasks = WORLDS[world]["tasks"] if tasks is None else tuple(tasks)
    unknown = set(encoders) - {"pretrained", "random"}
    if unknown or not encoders:
        raise ValueError(f"encoders must be a non-empty subset of ('pretrained', 'random'), got {encoders}")
    if "pretrained" in encoders and not encoder:
        raise ValueError("the 'pretrained' world model needs an encoder (or encoders: [random] alone)")
    recipe = recipe or f"toy/ac-{world.replace('_', '-')}-64px-6f"
    recipe_path = resolve(recipe)
    overrides = [str(o) for o in overrides]
    if smoke:
        num_train, num_val, episodes, budget, landscape_transitions = 4, 2, 4, 3, 16
        samples, iterations = 16, 2
        overrides += ["--trainer.max_steps", "10"]
    export = not smoke if export is None else export
    train_seed = seed if train_seed is None else train_seed
    blur_sigmas, coarse_sigmas = tuple(float(x) for x in blur_sigmas), tuple(float(x) for x in coarse_sigmas)
    torch.set_num_threads(threads)
    L.seed_everything(seed, verbose=False)
    start = time.perf_counter()
    encoder_path = Path(encoder) if encoder and "pretrained" in encoders else None
    source = world_source(world, num_train, num_val, seed)
    arch = hub.encoder_config(hub.load_encoder(encoder_path)) if encoder_path else recipe_encoder_arch()
    models, training, landscapes, planning = {}, {}, {}, {}
    paths = {"pretrained": encoder_path, "random": None}
    for key, path in ((f"{k}_encoder", paths[k]) for k in encoders):
        wm, data, info = train_world_model(recipe_path, overrides, arch, path, source, Path(logdir), key, train_seed,
                                           accelerator, max_minutes)
        models[key], training[key] = wm, info
        if export:  # for `lit-jepa plan --checkpoint`
            device = wm.device
            info["export"] = str(hub.export_official(Path(logdir) / f"{key}.pt", encoder=wm.encoder.cpu(),
                                                     predictor=wm.predictor.cpu()))
            wm.to(device)
        landscapes[key] = landscape(wm, data, landscape_transitions, seed, WORLDS[world]["step_bound"])
        land = landscapes[key]
        print(f"trained {key}: {info}  landscape argmin err {land['argmin_error']:.4f} sign "
              f"{land['sign_agreement']:.2f} change ratio {land['change_ratio']:.2f}", flush=True)
    frame_step = data.frame_step
    cfg = CEMConfig(samples=samples, iterations=iterations, elites=elites, **WORLDS[world]["cem"])
    model_cfg = MPPIConfig(**{**cfg.__dict__, "horizon": horizon, "scale": tuple(x * frame_step for x in cfg.scale)},
                           temperature=temperature)
    for task in tasks:
        planning[task] = plan_task(task, episodes, budget, 1_000_000 + seed, cfg, model_cfg, frame_step, models,
                                   blur_sigmas, coarse_sigmas, coarse_until, world, solvers, costs)
    return {
        "benchmark": "toy_planning", "smoke": smoke, "wall_seconds": round(time.perf_counter() - start, 1),
        "protocol": {"env": WORLDS[world]["protocol"], "world": world, "tasks": list(tasks), "episodes": episodes,
                     "goal": WORLDS[world]["goal"], "budget_env_steps": budget,
                     "success": "the env's info['is_success']", "solvers": list(solvers), "costs": list(costs),
                     "energy": "L1 on the final predicted frame (cost 'sum': summed over every predicted frame), "
                               "image only"
                               + ("" if blur_sigmas == (0.0,) else
                                  f", summed over token maps blurred at sigmas {blur_sigmas}")
                               + (f"; sigmas {coarse_sigmas} instead for plans made before env step {coarse_until}"
                                  if coarse_until else ""),
                     "blur_sigmas": list(blur_sigmas), "coarse_blur_sigmas": list(coarse_sigmas),
                     "coarse_until": coarse_until, "cem": {**cfg.__dict__},
                     "world_model_cem": {**model_cfg.__dict__}, "frame_step": frame_step,
                     "mpc": f"baselines: execute the first planned env step, replan; world models: plan {horizon} "
                            f"model steps of {frame_step} env steps (fewer when the budget ends sooner), execute "
                            f"the first in {frame_step} equal env steps, replan", "seed": seed},
        "world_model": {"recipe": recipe, "overrides": overrides,
                        "encoder": str(encoder_path) if encoder_path else None,
                        "encoder_sha256": sha256_file(encoder_path) if encoder_path else None,
                        "encoder_arch": arch, "train_trajectories": num_train, "val_trajectories": num_val,
                        "data": "ToyTrajectories (in memory, lossless)" if world == "tabletop" else
                                "EnvTrajectories: Ornstein-Uhlenbeck random walks, 50 steps (in memory, lossless)",
                        "train_steps": info["max_steps"], "max_minutes": max_minutes, "accelerator": accelerator,
                        "train_seed": train_seed},
        "training": training, "landscape": landscapes, "planning": planning,
    }
