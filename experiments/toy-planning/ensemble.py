"""Plan Two-Rooms with an ensemble of independently trained recurrent world models, each with its own encoder
(:class:`lit_jepa.planning.RecurrentEnsemble`: the planner's energy is the mean of the members' own energies, so a
plan must fool every member at once). Writes ``results/ensemble_<tag>.json``. (The records of 2026-12-07 were made
with this script's own copy of that class, which moved into the library unchanged.)

    python experiments/toy-planning/ensemble.py runs/a.ckpt runs/b.ckpt --frame_step 5 --horizon 12 --tag ab
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import MAX_STEP, TwoRooms
from lit_jepa.planning.env import draw_goals
from lit_jepa.planning.model import RecurrentEnsemble, RecurrentLatentModel
from lit_jepa.planning.mpc import LatentPlanner, run_mpc, summarise
from lit_jepa.planning.mppi import MPPIConfig

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--frame_step", type=int, default=5)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--replan_every", type=int, default=5)
    p.add_argument("--cost", default="final")
    p.add_argument("--solver", default="mppi")
    p.add_argument("--episodes", type=int, default=40)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--tag", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    model = RecurrentEnsemble([RecurrentLatentModel.load(c) for c in args.checkpoints])
    envs = [TwoRooms() for _ in range(args.episodes)]
    seeds = [args.seed + i for i in range(args.episodes)]
    goals = draw_goals(envs, seeds)
    cfg = MPPIConfig(samples=100, iterations=10, elites=10, horizon=args.horizon, momentum_mean=0, momentum_std=0,
                     init_std=0.8, free_dims=(0, 1), temperature=0.1, scale=(MAX_STEP * args.frame_step,) * 2)
    planner = LatentPlanner(model, cfg, goals.images, seed=0, frame_step=args.frame_step, budget=args.budget,
                            replan_every=args.replan_every, solver=args.solver, cost=args.cost, distance="l2")
    out = summarise(run_mpc(planner, envs, seeds, args.budget, progress=True))
    out = {"command": "python experiments/toy-planning/ensemble.py " + " ".join(args.checkpoints) + " " + " ".join(
        f"--{k} {v}" for k, v in vars(args).items() if k != "checkpoints"), "machine": machine(), **out}
    atomic_write_json(HERE / "results" / f"ensemble_{args.tag}.json", out)
    print(args.tag, out["sr_final"], out["sr_final_wilson95"])


if __name__ == "__main__":
    main()
