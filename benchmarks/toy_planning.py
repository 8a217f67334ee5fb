"""ToyWorld planning benchmark (issue 7, issue 30): V-JEPA 2-AC world model + CEM/MPPI MPC to image goals.

Worlds (``--world``): ``tabletop`` (reach and push) and ``two_rooms`` (PLDM's and EB-JEPA's Two-Rooms,
``lit_jepa.data.toyworld.two_rooms``: goals in the other room, world-model data from Ornstein-Uhlenbeck random
walks recorded through ``EnvTrajectories``). Both go through the planning environment protocol
(``lit_jepa.planning.env``).

Trains the AC predictor on cached features of the frozen toy-pretrained encoder and, as the control, of the same
encoder architecture at random initialisation; plans ``reach`` and ``push`` episodes (goals 25 steps ahead on
held-out scripted rollouts) with a fixed step budget, next to ground-truth replay, random actions and CEM
through the true simulator on the same episodes. Also the energy-landscape diagnostic on held-out transitions.

The world models take DINO-WM's schedule: one model step spans ``frame_step`` = 5 environment steps (clips of
frames 5 apart, the action is their pose difference), and CEM plans ``horizon`` = 5 model steps, shrinking to
the budget left, so that every plan ends at the end of the 25-step budget; the first model action is executed
in 5 equal environment steps, then CEM replans. The baselines plan single environment steps.

    python benchmarks/toy_planning.py            # full run (887 s on 2 idle AMD EPYC cores)
    python benchmarks/toy_planning.py --smoke    # under a minute

Writes ``benchmarks/results/toy_planning[_smoke].json``; ``run(...)`` is the entry point for the runner.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import command, machine, write_record  # noqa: E402
from benchmarks.records import sha256_file  # noqa: E402
from lit_jepa import hub  # noqa: E402
from lit_jepa.data.datamodule import TrajectoryDataModule  # noqa: E402
from lit_jepa.data.env_trajectories import EnvTrajectories  # noqa: E402
from lit_jepa.data.toyworld.env import Tabletop  # noqa: E402
from lit_jepa.data.toyworld.memory import ToyTrajectories  # noqa: E402
from lit_jepa.data.trajectory_features import FeatureDataModule  # noqa: E402
from lit_jepa.nn import VisionTransformer  # noqa: E402
from lit_jepa.nn.ac_predictor import ACPredictor  # noqa: E402
from lit_jepa.planning.cem import CEMConfig  # noqa: E402
from lit_jepa.planning.cli import add_coarse_to_fine_arguments, coarse_to_fine_arguments  # noqa: E402
from lit_jepa.planning.env import draw_goals, make_env  # noqa: E402
from lit_jepa.planning.landscape import energy_landscape  # noqa: E402
from lit_jepa.planning.model import LatentWorldModel, token_width  # noqa: E402
from lit_jepa.planning.mpc import (  # noqa: E402
    LatentPlanner,
    RandomPlanner,
    ReplayPlanner,
    SimulatorPlanner,
    check_coarse_to_fine,
    run_mpc,
    summarise,
)
from lit_jepa.planning.mppi import MPPIConfig  # noqa: E402
from lit_jepa.tasks.world_model import ACWorldModel  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENCODER = ROOT / "runs/toy/pretrain-vitt-64px-16f/version_0/export/vjepa2.pt"
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
    recipe = yaml.safe_load((ROOT / "recipes/toy/pretrain-vitt-64px-16f.yaml").read_text())
    return recipe["model"]["init_args"]["encoder"]["init_args"]


def ensure_encoder(path: Path = ENCODER) -> Path:
    """The toy-pretrained encoder; pretrains it (about 4 minutes) when ``runs/`` lacks it."""
    if not path.is_file():
        from lit_jepa.cli import main

        main(["fit", "--config", str(ROOT / "recipes/toy/pretrain-vitt-64px-16f.yaml")])
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pretraining did not export the encoder")
    return path


def train_world_model(encoder: VisionTransformer, encoder_path: str | None, source: TrajectoryDataModule,
                      steps: int, pool: int, pool_mode: str, width: int, depth: int, batch_size: int, frames: int,
                      frame_step: int, rollout_steps: int, loss_exp: float, logdir: Path, name: str,
                      accelerator: str, max_minutes: float | None = None, loss_blur_sigmas: tuple[float, ...] = (0.0,),
                      world: str = "tabletop") -> tuple[LatentWorldModel, FeatureDataModule, dict]:
    grid = encoder.img_size // encoder.patch_size // pool
    predictor = ACPredictor(img_size=grid * encoder.patch_size, patch_size=encoder.patch_size,
                            embed_dim=token_width(encoder.embed_dim, pool, pool_mode),
                            predictor_embed_dim=width, depth=depth, num_heads=4,
                            residual=True, action_scale=WORLDS[world]["step_bound"] * frame_step,
                            action_dim=WORLDS[world]["action_dims"])
    model = ACWorldModel(encoder, predictor, encoder_path=encoder_path, encoder_key="target_encoder", pool=pool,
                         pool_mode=pool_mode, rollout_steps=rollout_steps, loss_exp=loss_exp,
                         loss_blur_sigmas=loss_blur_sigmas, lr=1e-3, start_lr=1e-4,
                         final_lr=0.0, warmup_steps=max(steps // 10, 1), decay_steps=max(steps // 5, 1))
    data = FeatureDataModule(source, frames=frames, frame_step=frame_step, batch_size=batch_size)
    logger = L.pytorch.loggers.TensorBoardLogger(str(logdir), name=name)
    trainer = L.Trainer(
        accelerator=accelerator, devices=1, max_steps=steps, logger=logger, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, log_every_n_steps=10, limit_val_batches=10,
        val_check_interval=None, check_val_every_n_epoch=None,
        max_time=None if max_minutes is None else {"seconds": round(max_minutes * 60)})
    t0 = time.perf_counter()
    trainer.fit(model, data)
    trainer.validate(model, data, verbose=False)
    metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items() if k.startswith(("train/", "val/"))}
    wm = LatentWorldModel(model.encoder, model.predictor, pool, pool_mode).to(model.device)
    return wm, data, {"train_seconds": time.perf_counter() - t0, "steps_done": trainer.global_step, "metrics": metrics}


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
              solvers: tuple[str, ...] = ("cem",), costs: tuple[str, ...] = ("final",)) -> dict:
    """Every planner on the same ``episodes`` goals (env seeds ``seed + i``); the baselines plan single environment
    steps with ``cfg``, the world models plan model steps of ``frame_step`` environment steps with ``model_cfg``
    (energy: ``blur_sigmas``, coarse-to-fine with ``coarse_sigmas`` before environment step ``coarse_until``, as
    ``LatentPlanner``), once per ``solvers`` x ``costs`` (named ``world_model_<encoder>`` for CEM with the final-frame
    cost, ``world_model_<encoder>_<solver>_<cost>`` otherwise)."""
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
                                               coarse_until=coarse_until, solver=solver, cost=cost)
    results = {}
    for name, planner in planners.items():
        t0 = time.perf_counter()
        results[name] = summarise(run_mpc(planner, envs, seeds, budget))
        results[name]["wall_seconds"] = round(time.perf_counter() - t0, 2)
        results[name]["seconds_per_episode"] = round(results[name]["wall_seconds"] / episodes, 3)
        r = results[name]
        print(f"  {task:5s} {name:28s} SR_final {r['sr_final']:.2f} {r['sr_final_wilson95']}  SR_any {r['sr_any']:.2f}"
              f"  plan s/env-step {r['plan_seconds_per_env_step']:.4f}", flush=True)
    return results


def run(smoke: bool = False, num_train: int = 200, num_val: int = 12, train_steps: int = 4000, episodes: int = 50,
        budget: int = 25, samples: int = 64, iterations: int = 3, elites: int = 8, pool: int = 2,
        pool_mode: str = "avg", width: int = 96, depth: int = 2, frames: int = 6, frame_step: int = 5,
        horizon: int = 5, rollout_steps: int = 2, loss_exp: float = 1.0, batch_size: int = 32,
        landscape_transitions: int = 200, max_minutes: float | None = None,
        blur_sigmas: tuple[float, ...] = (0.0,), loss_blur_sigmas: tuple[float, ...] = (0.0,),
        coarse_sigmas: tuple[float, ...] = (), coarse_until: int = 0,
        tasks: tuple[str, ...] | None = None, encoders: tuple[str, ...] = ("pretrained", "random"),
        seed: int = 0, train_seed: int | None = None, threads: int = 2,
        logdir: str = "runs/toy/ac-tabletop", encoder: str | None = None, accelerator: str = "cpu",
        write: bool = True, export: bool | None = None, record_name: str | None = None,
        world: str = "tabletop", solvers: tuple[str, ...] = ("cem",), costs: tuple[str, ...] = ("final",),
        temperature: float = 0.1, argv: list[str] | None = None) -> dict:
    """The whole benchmark; returns (and with ``write`` writes to ``benchmarks/results``) the JSON record.
    ``smoke`` shrinks every size; ``encoder`` replaces the toy-pretrained encoder; ``accelerator`` trains and
    plans there (the simulator and the baselines stay on the CPU); ``export`` writes the world models to
    ``logdir`` (default: when writing and not ``smoke``); ``record_name`` names the JSON file; ``encoders``
    picks the world models (``pretrained``, ``random``: its random-initialised control); ``blur_sigmas`` sets
    their planners' energy (``LatentPlanner``; ``(0,)``: the paper's plain L1; ``coarse_sigmas`` replaces them in
    plans made before environment step ``coarse_until``: the coarse-to-fine energy) and ``loss_blur_sigmas`` their
    training loss (``ACWorldModel``); ``train_seed`` (default ``seed``) seeds only the world models' initialisation
    and batch order, so that models differing in it see the same data and plan the same goals; ``max_minutes`` stops
    each world model's training early (Lightning's ``max_time``; ``steps_done`` in the record says where); ``world``
    picks the environment (:data:`WORLDS`; ``tasks`` defaults to its tasks); ``solvers`` and ``costs`` the world-model
    planners' searches (``cem``, ``mppi`` with ``temperature``) and energies (``final``, ``sum``)."""
    check_coarse_to_fine(coarse_sigmas, coarse_until)  # before training, not after it
    if world not in WORLDS:
        raise ValueError(f"world must be one of {sorted(WORLDS)}, got {world!r}")
    tasks = WORLDS[world]["tasks"] if tasks is None else tuple(tasks)
    unknown = set(encoders) - {"pretrained", "random"}
    if unknown or not encoders:
        raise ValueError(f"encoders must be a non-empty subset of ('pretrained', 'random'), got {encoders}")
    if smoke:
        num_train, num_val, train_steps, episodes, budget, landscape_transitions = 4, 2, 10, 4, 3, 16
        samples, iterations = 16, 2
    export = write and not smoke if export is None else export
    train_seed = seed if train_seed is None else train_seed
    blur_sigmas, coarse_sigmas = tuple(float(x) for x in blur_sigmas), tuple(float(x) for x in coarse_sigmas)
    torch.set_num_threads(threads)
    L.seed_everything(seed, verbose=False)
    start = time.perf_counter()
    encoder_path = Path(encoder) if encoder else ensure_encoder() if "pretrained" in encoders else None
    source = world_source(world, num_train, num_val, seed)
    arch = hub.encoder_config(hub.load_encoder(encoder_path)) if encoder_path else recipe_encoder_arch()
    cfg = CEMConfig(samples=samples, iterations=iterations, elites=elites, **WORLDS[world]["cem"])
    model_cfg = MPPIConfig(**{**cfg.__dict__, "horizon": horizon, "scale": tuple(x * frame_step for x in cfg.scale)},
                           temperature=temperature)
    models, training, landscapes, planning = {}, {}, {}, {}
    record = {
        "benchmark": "toy_planning", "smoke": smoke, "command": command(__file__, argv),
        "machine": machine(), "complete": False, "wall_seconds": 0.0,
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
        "world_model": {"encoder": str(encoder_path) if encoder_path else None,
                        "encoder_sha256": sha256_file(encoder_path) if encoder_path else None,
                        "encoder_arch": arch, "pool": pool,
                        "pool_mode": pool_mode,
                        "predictor": {"width": width, "depth": depth, "heads": 4, "residual": True,
                                      "action_scale": WORLDS[world]["step_bound"] * frame_step},
                        "train_trajectories": num_train,
                        "val_trajectories": num_val,
                        "data": "ToyTrajectories (in memory, lossless)" if world == "tabletop" else
                                "EnvTrajectories: Ornstein-Uhlenbeck random walks, 50 steps (in memory, lossless)",
                        "train_steps": train_steps, "max_minutes": max_minutes, "accelerator": accelerator,
                        "clip_frames": frames, "frame_step": frame_step, "batch_size": batch_size,
                        "rollout_steps": rollout_steps, "loss_exp": loss_exp,
                        "train_seed": train_seed,
                        "loss_blur_sigmas": list(loss_blur_sigmas)},
        "training": training, "landscape": landscapes, "planning": planning,
    }
    name = record_name or ("toy_planning_smoke" if smoke else "toy_planning")

    def save(complete: bool = False) -> Path | None:
        """(Re)write the record after every stage, so an interrupted run keeps what it finished."""
        record.update(complete=complete, wall_seconds=round(time.perf_counter() - start, 1))
        return write_record(name, record) if write else None

    paths = {"pretrained": str(encoder_path) if encoder_path else None, "random": None}
    for key, path in ((f"{k}_encoder", paths[k]) for k in encoders):
        torch.manual_seed(train_seed)
        wm, data, info = train_world_model(VisionTransformer(**arch), path, source, train_steps, pool, pool_mode,
                                           width, depth, batch_size, frames, frame_step, rollout_steps, loss_exp,
                                           ROOT / logdir, key, accelerator, max_minutes, loss_blur_sigmas, world)
        models[key], training[key] = wm, info
        if export:  # for `lit-jepa plan --checkpoint`
            device = wm.device
            info["export"] = str(hub.export_official(ROOT / logdir / f"{key}.pt", encoder=wm.encoder.cpu(),
                                                     predictor=wm.predictor.cpu()))
            wm.to(device)
        landscapes[key] = landscape(wm, data, landscape_transitions, seed, WORLDS[world]["step_bound"])
        land = landscapes[key]
        print(f"trained {key}: {info}  landscape argmin err {land['argmin_error']:.4f} sign "
              f"{land['sign_agreement']:.2f} change ratio {land['change_ratio']:.2f}", flush=True)
        save()
    for task in tasks:
        planning[task] = plan_task(task, episodes, budget, 1_000_000 + seed, cfg, model_cfg, frame_step, models,
                                   blur_sigmas, coarse_sigmas, coarse_until, world, solvers, costs)
        save()
    path = save(complete=True)
    print(f"{record['command']}  on {record['machine'].get('cpu_model')}  ({record['wall_seconds']} s) -> {path}")
    return record


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--budget", type=int, default=25)
    p.add_argument("--train-steps", type=int, default=4000)
    p.add_argument("--num-train", type=int, default=200)
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--elites", type=int, default=8)
    p.add_argument("--pool", type=int, default=2, help="merge pool x pool windows of the encoder's token grid")
    p.add_argument("--pool-mode", choices=["avg", "stack"], default="avg",
                   help="avg: average each window; stack: concatenate its tokens along features (the full grid's "
                        "L1 energy at the pooled token count)")
    p.add_argument("--encoder", type=Path, help="the frozen encoder of the 'pretrained' world model, an official-"
                   "layout export (default: the toy recipe's, pretrained first when runs/ lacks it)")
    p.add_argument("--encoders", nargs="+", choices=["pretrained", "random"], default=["pretrained", "random"],
                   help="world models to train and plan: on the toy-pretrained encoder, on its random control")
    p.add_argument("--width", type=int, default=96, help="predictor width")
    p.add_argument("--depth", type=int, default=2, help="predictor blocks")
    p.add_argument("--frame-step", type=int, default=5, help="environment steps per world-model step")
    p.add_argument("--horizon", type=int, default=5, help="world-model steps CEM plans (shrunk to the budget)")
    p.add_argument("--frames", type=int, default=6, help="frames per world-model training clip")
    p.add_argument("--rollout-steps", type=int, default=2, help="model steps of the training rollout loss (at most "
                   "frames - 1; official 2)")
    p.add_argument("--loss-exp", type=float, default=1.0, help="training loss |pred - target| ** p (1 = official "
                   "L1; the planning energy stays L1)")
    p.add_argument("--blur-sigmas", type=float, nargs="+", default=[0.0],
                   help="world-model planners' energy: sum of the L1 between token maps blurred at each sigma (token "
                        "units); 0 alone is the paper's plain L1")
    p.add_argument("--loss-blur-sigmas", type=float, nargs="+", default=[0.0],
                   help="world-model training loss: summed over token maps blurred at each sigma (token units), like "
                        "the multi-scale energy; 0 alone is the plain loss")
    add_coarse_to_fine_arguments(p)
    p.add_argument("--train-seed", type=int, help="seed of the world models' initialisation and batch order only "
                   "(default: the benchmark seed 0); data and goals stay the same")
    p.add_argument("--world", choices=sorted(WORLDS), default="tabletop", help="the planning environment")
    p.add_argument("--tasks", nargs="+", help="tabletop tasks (default: reach push)")
    p.add_argument("--solvers", nargs="+", choices=["cem", "mppi"], default=["cem"],
                   help="world-model planners' search (each with each --costs)")
    p.add_argument("--costs", nargs="+", choices=["final", "sum"], default=["final"],
                   help="world-model planners' energy: the final imagined frame, or the sum over all of them")
    p.add_argument("--temperature", type=float, default=0.1, help="MPPI elite-weight temperature")
    p.add_argument("--accelerator", default="cpu", help="cpu, cuda: where the world models train and plan")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--num-val", type=int, default=12, help="validation trajectories")
    p.add_argument("--batch-size", type=int, default=32, help="world-model training clips per step")
    p.add_argument("--max-minutes", type=float, help="stop each world model's training after this long")
    p.add_argument("--logdir", default="runs/toy/ac-tabletop", help="TensorBoard logs and world-model exports")
    p.add_argument("--record", help="JSON record name (default toy_planning[_smoke])")
    a = p.parse_args(argv)
    coarse_sigmas, coarse_until = coarse_to_fine_arguments(p, a)
    run(smoke=a.smoke, episodes=a.episodes, budget=a.budget, train_steps=a.train_steps, num_train=a.num_train,
        num_val=a.num_val, batch_size=a.batch_size, max_minutes=a.max_minutes, logdir=a.logdir,
        samples=a.samples, iterations=a.iterations, elites=a.elites, pool=a.pool, pool_mode=a.pool_mode,
        width=a.width, depth=a.depth, frame_step=a.frame_step, horizon=a.horizon, frames=a.frames,
        rollout_steps=a.rollout_steps, loss_exp=a.loss_exp, blur_sigmas=tuple(a.blur_sigmas),
        loss_blur_sigmas=tuple(a.loss_blur_sigmas), coarse_sigmas=coarse_sigmas,
        coarse_until=coarse_until, tasks=tuple(a.tasks) if a.tasks else None, encoder=a.encoder, world=a.world,
        solvers=tuple(a.solvers), costs=tuple(a.costs), temperature=a.temperature,
        encoders=tuple(a.encoders), train_seed=a.train_seed, accelerator=a.accelerator, threads=a.threads,
        record_name=a.record, argv=argv)


if __name__ == "__main__":
    main()
