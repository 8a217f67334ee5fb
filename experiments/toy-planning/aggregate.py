"""Data aggregation for a Two-Rooms recurrent world model (DAgger / Dreamer-style): plan closed loop with the model,
record the episodes the planner drives (frames every ``frame_step`` environment steps and the held actions), and
fine-tune the model on windows of them mixed with fresh random walks; repeat. Each round's collection runs on fresh
env seeds, so its success rate measures the model the previous round left. The last model is planned on the
standard episodes (env seeds 1000 + i). Writes ``results/aggregate_<tag>.json`` (after every round) and each
round's fine-tuned checkpoint to ``runs/aggregate/<tag>/round<r>.ckpt``.

    python experiments/toy-planning/aggregate.py runs/exp32/fs5-seed1-2k.ckpt --rounds 3 --tag s1
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from failures import mppi_config

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import MAX_STEP, TwoRooms
from lit_jepa.data.toyworld.two_rooms_walks import walk_batch
from lit_jepa.nn.recurrent import CONFIG_KEY, RecurrentWorldModel
from lit_jepa.planning.env import draw_goals
from lit_jepa.planning.model import RecurrentLatentModel
from lit_jepa.planning.mpc import LatentPlanner, run_mpc
from lit_jepa.tasks import RecurrentWorldModelTask

HERE = Path(__file__).resolve().parent


class RecordingTwoRooms(TwoRooms):
    """Two-Rooms that keeps its frames every ``frame_step`` environment steps and each block's summed action."""

    def __init__(self, frame_step: int) -> None:
        super().__init__()
        self.frame_step = frame_step

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        out = super().reset(seed=seed, options=options)
        self.frames, self.actions, self.block, self.steps = [self.render()], [], np.zeros(2), 0
        return out

    def step(self, action: np.ndarray):
        out = super().step(action)
        self.block = self.block + np.clip(np.asarray(action, np.float64), -MAX_STEP, MAX_STEP)
        self.steps += 1
        if self.steps % self.frame_step == 0:
            self.frames.append(self.render())
            self.actions.append(self.block)
            self.block = np.zeros(2)
        return out


def windows(envs: list[RecordingTwoRooms], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``length`` model steps of the recorded episodes: frames ``(N, length + 1, H, W, C)`` uint8 and
    actions ``(N, length, 2)``."""
    frames, actions = [], []
    for env in envs:
        f, a = np.stack(env.frames), np.stack(env.actions)
        for s in range(len(a) - length + 1):
            frames.append(f[s : s + length + 1])
            actions.append(a[s : s + length])
    return np.stack(frames), np.stack(actions).astype(np.float32)


def planner_for(net: RecurrentWorldModel, goal_images: np.ndarray, args: argparse.Namespace, seed: int):
    """The protocol's MPPI planner (final-step squared latent distance, 100 x 10, 10 elites) on a frozen copy."""
    cfg = mppi_config(args.horizon, args.frame_step)
    model = RecurrentLatentModel(copy.deepcopy(net))
    return LatentPlanner(model, cfg, goal_images, seed=seed, frame_step=args.frame_step, budget=args.budget,
                         replan_every=args.frame_step, solver="mppi", cost="final", distance="l2")


def play(net: RecurrentWorldModel, seeds: list[int], args: argparse.Namespace, seed: int, desc: str):
    """Closed-loop episodes (one per env seed): the recording envs and the per-episode final success."""
    envs = [RecordingTwoRooms(args.frame_step) for _ in seeds]
    goals = draw_goals(envs, seeds)
    result = run_mpc(planner_for(net, goals.images, args, seed), envs, seeds, args.budget, progress=True,
                     desc=desc)
    return envs, result["final"]


def finetune(task: RecurrentWorldModelTask, frames: np.ndarray, actions: np.ndarray, args: argparse.Namespace,
             rng: np.random.Generator, length: int) -> list[float]:
    """``args.steps`` AdamW steps (cosine from ``args.lr`` to 0) on batches of recorded windows and fresh walks."""
    net = task.model.train().requires_grad_(True)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-5)
    n_replay = round(args.batch * args.replay)
    losses = []
    for k in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * k / args.steps))
        walks = walk_batch(rng, args.batch - n_replay, length, cross=0.35, step_scale=1.5,
                           frame_step=args.frame_step)
        pick = rng.integers(0, len(frames), n_replay)
        batch = {"frames": torch.cat([walks["frames"], torch.from_numpy(frames[pick])]),
                 "actions": torch.cat([walks["actions"], torch.from_numpy(actions[pick])])}
        terms = task.loss_terms(batch)
        opt.zero_grad()
        terms["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 2.0)
        opt.step()
        losses.append(float(terms["rollout"].detach()))
        if k % 100 == 0:
            print(f"  step {k}: rollout {terms['rollout']:.4f} stay {terms['stay']:.4f}", flush=True)
    net.eval()
    return losses


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--episodes", type=int, default=100, help="episodes collected per round")
    p.add_argument("--eval_episodes", type=int, default=100)
    p.add_argument("--steps", type=int, default=500, help="fine-tuning steps per round")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--replay", type=float, default=0.5, help="share of each batch drawn from the planner's episodes")
    p.add_argument("--frame_step", type=int, default=5)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    net = RecurrentLatentModel.load(args.checkpoint).net
    h = torch.load(args.checkpoint, map_location="cpu", weights_only=False)["hyper_parameters"]  # the loss weights
    task = RecurrentWorldModelTask(net, rollout_steps=h["rollout_steps"], std_coeff=h["std_coeff"],
                                   cov_coeff=h["cov_coeff"], smooth_coeff=h["smooth_coeff"], idm_coeff=h["idm_coeff"])
    length = h["rollout_steps"]
    rng = np.random.default_rng(args.seed)
    out_dir = HERE.parents[1] / "runs" / "aggregate" / args.tag
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = np.zeros((0, length + 1, 65, 65, 3), np.uint8)
    actions = np.zeros((0, length, 2), np.float32)
    rounds = []
    record = HERE / "results" / f"aggregate_{args.tag}.json"
    head = {"command": "python experiments/toy-planning/aggregate.py " + " ".join(
        f"--{k} {v}" if k != "checkpoint" else str(v) for k, v in vars(args).items()), "machine": machine()}
    for r in range(args.rounds):
        t0 = time.time()
        seeds = [20_000 + 1_000 * r + 10_000 * args.seed + i for i in range(args.episodes)]
        envs, ok = play(net, seeds, args, seed=r, desc=f"collect {r}")
        f, a = windows(envs, length)
        frames, actions = np.concatenate([frames, f]), np.concatenate([actions, a])
        t1 = time.time()
        losses = finetune(task, frames, actions, args, rng, length)
        torch.save({"state_dict": {f"model.{k}": v for k, v in net.state_dict().items()},
                    "hyper_parameters": h, "lit_jepa": {CONFIG_KEY: net.config()}}, out_dir / f"round{r}.ckpt")
        rounds.append({"round": r, "collect_success": float(np.mean(ok)), "windows": len(frames),
                       "collect_seconds": round(t1 - t0), "finetune_seconds": round(time.time() - t1),
                       "rollout_first_last_100": [float(np.mean(losses[:100])), float(np.mean(losses[-100:]))]})
        print(json.dumps(rounds[-1]), flush=True)
        atomic_write_json(record, {**head, "rounds": rounds})  # a stopped run keeps its rounds
    seeds = [1000 + i for i in range(args.eval_episodes)]
    _, ok = play(net, seeds, args, seed=0, desc="evaluate")
    out = {**head, "rounds": rounds, "success": float(np.mean(ok)), "final_per_episode": ok.astype(int).tolist()}
    atomic_write_json(record, out)
    print({k: v for k, v in out.items() if k not in ("final_per_episode", "machine")})


if __name__ == "__main__":
    main()
