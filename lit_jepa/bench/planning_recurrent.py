"""Two-Rooms planning with an end-to-end recurrent world model (EB-JEPA's recipe): the ``plan`` kind with
``model: recurrent``.

Trains the world model of recipe ``toy/wm-two-rooms-gru`` (:class:`lit_jepa.tasks.RecurrentWorldModelTask`, through
the CLI's parser) twice: end to end (``pretrained_encoder``) and with its encoder frozen at random initialisation
(``random_encoder``, the control), then plans the same Two-Rooms episodes with each, once per solver x cost, next to
ground-truth replay, random actions and CEM through the simulator (:func:`lit_jepa.bench.planning.plan_task`). The
world-model planners search macro actions (each held ``hold`` model steps) over ``horizon`` model steps of
``frame_step`` environment steps (a recipe trained on walks of that ``frame_step``) with the squared latent distance
(EB-JEPA's energy) and replan every ``replan_every`` environment steps.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import torch

from lit_jepa.bench.planning import WORLDS, plan_task
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.model import RecurrentEnsemble, RecurrentLatentModel
from lit_jepa.planning.mppi import MPPIConfig
from lit_jepa.recipes import resolve

ENCODERS = {"pretrained_encoder": "false", "random_encoder": "true"}  # model.init_args.freeze_encoder


def train(recipe: Path, overrides: Sequence[str], logdir: Path, name: str, seed: int, freeze: str,
          accelerator: str, frame_step: int = 1) -> tuple[RecurrentLatentModel, dict]:
    """Train ``recipe`` (``freeze``: its ``freeze_encoder``) and return the world model and what training did;
    ``ValueError`` before training when the recipe's walks are not ``frame_step`` environment steps apart."""
    from lit_jepa.cli import lightning_cli

    args = ["--config", str(recipe), "--seed_everything", str(seed), "--model.init_args.freeze_encoder", freeze,
            "--trainer.accelerator", accelerator, "--trainer.enable_progress_bar", "false",
            "--trainer.callbacks+=lit_jepa.callbacks.StatusLine", "--trainer.enable_model_summary", "false",
            "--trainer.logger.init_args.save_dir", str(logdir), "--trainer.logger.init_args.name", name,
            "--trainer.logger.init_args.version", "bench", *overrides]
    cli = lightning_cli(args, run=False)
    model, data, trainer = cli.model, cli.datamodule, cli.trainer
    if data.hparams.get("frame_step", 1) != frame_step:
        raise ValueError(f"{recipe}: its walks step {data.hparams.get('frame_step', 1)} environment steps per model "
                         f"step, the planners frame_step={frame_step}")
    t0 = time.perf_counter()
    trainer.fit(model, data)
    trainer.validate(model, data, verbose=False)
    metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items() if k.startswith(("train/", "val/"))}
    ckpt = trainer.checkpoint_callback.last_model_path if trainer.checkpoint_callback else ""
    return RecurrentLatentModel(model.model), {
        "train_seconds": round(time.perf_counter() - t0, 1), "steps_done": trainer.global_step,
        "max_steps": trainer.max_steps, "metrics": metrics, "checkpoint": ckpt,
        "hparams": dict(model.hparams), "data": dict(data.hparams)}


def run(logdir: str = "runs/bench/plan-gru", recipe: str = "toy/wm-two-rooms-gru", overrides: Sequence[str] = (),
        smoke: bool = False, episodes: int = 20, budget: int = 200, samples: int = 100, iterations: int = 10,
        elites: int = 10, horizon: int = 60, hold: int = 5, replan_every: int = 2, init_std: float = 0.8,
        temperature: float = 0.1, frame_step: int = 1, solvers: Sequence[str] = ("mppi", "cem"),
        costs: Sequence[str] = ("final", "sum"), ensemble: int = 1,
        encoders: Sequence[str] = tuple(ENCODERS), seed: int = 0, train_seed: int = 1, threads: int = 2,
        accelerator: str = "cpu", world: str = "two_rooms") -> dict:
    """The benchmark (module docstring); returns the record the runner's ``plan`` kind stores.

    Args:
        logdir: folder of the world models' TensorBoard logs and checkpoints.
        recipe: the world model's recipe, a name or path (:func:`lit_jepa.recipes.resolve`).
        overrides: command-line overrides of the recipe (``--trainer.max_steps 2000``).
        smoke: shrink training (10 steps), episodes, budget and search to a smoke test.
        episodes: Two-Rooms episodes (env seeds ``1_000_000 + seed + i``).
        budget: environment steps per episode (EB-JEPA: 200).
        samples, iterations, elites: the world-model planners' search sizes (EB-JEPA: 200, 20, 20).
        horizon: model steps imagined per plan, shrunk to the budget left (EB-JEPA: 90).
        hold: model steps each searched action is held.
        replan_every: environment steps between plans (EB-JEPA: 1).
        init_std: the search's initial std, in units of the action bound.
        temperature: MPPI's elite-weight temperature.
        frame_step: environment steps per model step (the recipe's ``data.init_args.frame_step``; EB-JEPA: 1).
        solvers, costs: the world-model planners (each solver with each cost).
        ensemble: world models per encoder setting, planned as one :class:`~lit_jepa.planning.RecurrentEnsemble`
            (member ``k`` > 0: initialisation seed ``train_seed + k``, walks of data seed ``k``; EB-JEPA: 1).
        encoders: ``pretrained_encoder`` (trained end to end) and/or ``random_encoder`` (frozen at initialisation).
        seed: seed of the episodes.
        train_seed: seed of the world models' initialisation and walks.
        threads: torch CPU threads.
        accelerator: where the world models train (planning runs on the CPU).
        world: the planning environment; only ``two_rooms`` has a recipe.
    """
    if world != "two_rooms":
        raise ValueError(f"the recurrent world model has a recipe for two_rooms only, got world {world!r}")
    unknown = set(encoders) - set(ENCODERS)
    if unknown or not encoders:
        raise ValueError(f"encoders must be a non-empty subset of {tuple(ENCODERS)}, got {tuple(encoders)}")
    if ensemble < 1:
        raise ValueError(f"ensemble must be >= 1, got {ensemble}")
    overrides = [str(o) for o in overrides]
    if smoke:
        episodes, budget, samples, iterations, elites, horizon = 2, 6, 8, 2, 2, 6
        overrides += ["--trainer.max_steps", "4", "--trainer.val_check_interval", "2",
                      "--data.init_args.batch_size", "4", "--data.init_args.val_batches", "1"]
    torch.set_num_threads(threads)
    start = time.perf_counter()
    recipe_path = resolve(recipe)
    models, training = {}, {}
    for key in encoders:
        members, runs = [], []
        for k in range(ensemble):
            name, more = (key, []) if k == 0 else (f"{key}_{k}", ["--data.init_args.seed", str(k)])
            member, info = train(recipe_path, [*overrides, *more], Path(logdir), name, train_seed + k, ENCODERS[key],
                                 accelerator, frame_step)
            members.append(member.cpu())
            runs.append(info)
            print(f"trained {name}: {json.dumps({k: info[k] for k in ('steps_done', 'train_seconds')})} "
                  f"{info['metrics']}", flush=True)
        models[key] = members[0] if ensemble == 1 else RecurrentEnsemble(members)
        training[key] = runs[0] if ensemble == 1 else {**runs[0], "ensemble": runs[1:]}
    cfg = CEMConfig(samples=samples, iterations=iterations, elites=elites, **WORLDS[world]["cem"])
    model_cfg = MPPIConfig(**{**cfg.__dict__, "horizon": horizon, "init_std": init_std, "momentum_mean": 0.0,
                              "momentum_std": 0.0, "scale": tuple(x * frame_step for x in cfg.scale)},
                           temperature=temperature)
    models_plan = {"hold": hold, "distance": "l2", "replan_every": replan_every}
    planning = {"two_rooms": plan_task("two_rooms", episodes, budget, 1_000_000 + seed, cfg, model_cfg, frame_step,
                                       models, world=world, solvers=tuple(solvers), costs=tuple(costs),
                                       models_plan=models_plan)}
    energy = "squared latent distance (mean over features) of the final imagined frame (cost 'sum': every frame)"
    return {
        "benchmark": "toy_planning_recurrent", "smoke": smoke, "wall_seconds": round(time.perf_counter() - start, 1),
        "protocol": {"env": WORLDS[world]["protocol"], "world": world, "tasks": ["two_rooms"], "episodes": episodes,
                     "goal": WORLDS[world]["goal"], "budget_env_steps": budget,
                     "success": "the env's info['is_success'] (within 4.5 px)", "solvers": list(solvers),
                     "costs": list(costs), "energy": energy, "cem": {**cfg.__dict__},
                     "world_model_cem": {**model_cfg.__dict__}, "frame_step": frame_step, **models_plan,
                     "mpc": f"baselines: one env step per plan; world models: plan {horizon} model steps of "
                            f"{frame_step} env steps as {-(-horizon // hold)} actions held {hold} model steps each "
                            f"(fewer when the budget ends sooner), execute {replan_every} env steps, replan",
                     "seed": seed},
        "world_model": {"recipe": recipe, "overrides": overrides, "encoder": None, "train_seed": train_seed,
                        "ensemble": ensemble,
                        "train_steps": next(iter(training.values()))["max_steps"], "accelerator": accelerator,
                        "data": "TwoRoomsWalkData: EB-JEPA's random walks, made on the fly"},
        "training": training, "landscape": {}, "planning": planning,
    }
