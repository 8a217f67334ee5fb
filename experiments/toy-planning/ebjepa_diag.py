"""Diagnostics of a recurrent Two-Rooms world model (a lit_jepa checkpoint: ``RecurrentWorldModelTask``'s, or one
``ebjepa_two_rooms.py export`` wrote) on fresh random walks: rollout MSE against staying at the first latent,
one-step MSE against copying, a ridge probe of the agent's position from the latent (R^2); along the env's expert
paths, the rollout error against staying put at growing horizons; whether one long plan from each start exploits the
model (:func:`search_vs_expert`); and how well the latent cost to a goal ranks positions by their path length to it.
Writes ``results/ebjepa_diag_<checkpoint stem>.json``.

    python experiments/toy-planning/ebjepa_diag.py runs/exp30/covfix-4k.ckpt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import IMG_SIZE, MAX_STEP, SUCCESS_RADIUS, TwoRooms, move, render
from lit_jepa.data.toyworld.two_rooms_walks import walk_batch
from lit_jepa.nn import RecurrentWorldModel
from lit_jepa.planning.model import RecurrentLatentModel
from lit_jepa.planning.mpc import LatentPlanner, Observation
from lit_jepa.planning.mppi import MPPIConfig

HERE = Path(__file__).resolve().parent


@torch.no_grad()
def dynamics(model: RecurrentWorldModel, batch: int = 256, length: int = 8) -> dict:
    """Rollout and one-step MSE against their copy baselines, and the position probe's R^2 (x, y), on random walks
    of the training distribution (no door crossings forced)."""
    walks = walk_batch(np.random.default_rng(123), batch, length, cross=0.0)
    act = walks["actions"]
    z = model.encode(walks["frames"])
    pred = model.rollout(z[:, 0], act)
    one = model.step(z[:, :-1].flatten(0, 1), act.flatten(0, 1)).unflatten(0, (batch, length))
    x = z.flatten(0, 1).double()
    y = walks["positions"].reshape(-1, 2).double()
    n = len(x) // 2
    xb = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    w = torch.linalg.solve(xb[:n].T @ xb[:n] + 1e-2 * torch.eye(xb.shape[1], dtype=x.dtype), xb[:n].T @ y[:n])
    r2 = 1 - ((xb[n:] @ w - y[n:]) ** 2).sum(0) / ((y[n:] - y[n:].mean(0)) ** 2).sum(0)
    return {"rollout_mse": round(F.mse_loss(pred, z[:, 1:]).item(), 4),
            "stay_at_z0_mse": round(F.mse_loss(z[:, :1].expand_as(z[:, 1:]), z[:, 1:]).item(), 4),
            "one_step_mse": round(F.mse_loss(one, z[:, 1:]).item(), 4),
            "copy_last_mse": round(F.mse_loss(z[:, :-1], z[:, 1:]).item(), 4),
            "position_r2_xy": [round(v, 3) for v in r2.tolist()]}


@torch.no_grad()
def long_rollouts(model: RecurrentWorldModel, episodes: int = 40, steps: int = 48) -> dict:
    """Along the env's expert paths (near-maximal steps through the door; episodes of seeds 1000 + i), the MSE
    between the rollout and the encoded true frame at horizon k, and that of staying at the first latent."""
    envs = [TwoRooms() for _ in range(episodes)]
    actions = np.stack([env.reset(seed=1000 + k)[1]["expert_actions"][:steps] for k, env in enumerate(envs)])
    frames = [np.stack([env.render() for env in envs])]
    for k in range(steps):
        for env, a in zip(envs, actions[:, k]):
            env.step(a)
        frames.append(np.stack([env.render() for env in envs]))
    z = model.encode(torch.from_numpy(np.stack(frames, 1)))
    pred = model.rollout(z[:, 0], torch.from_numpy(actions).float())
    out = {}
    for k in (1, 4, 8, 16, 32, steps):
        out[str(k)] = {"rollout_mse": round((pred[:, k - 1] - z[:, k]).pow(2).mean().item(), 4),
                       "stay_mse": round((z[:, 0] - z[:, k]).pow(2).mean().item(), 4)}
    return out


@torch.no_grad()
def search_vs_expert(model: RecurrentLatentModel, episodes: int = 20, horizon: int = 90) -> dict:
    """From each episode's start (seeds 1000 + i), one MPPI plan (200 x 20, 20 elites, actions held 5 steps, the
    squared final-step distance): its latent energy beside the energy the model gives the expert path (zero-padded to
    the horizon), and the pixel distance to the goal the plan reaches in the true dynamics. A plan the model rates
    better than the expert but that ends far from the goal exploits the model's errors."""
    envs = [TwoRooms() for _ in range(episodes)]
    infos = [env.reset(seed=1000 + k)[1] for k, env in enumerate(envs)]
    goals = np.stack([i["goal_image"] for i in infos])
    cfg = MPPIConfig(samples=200, iterations=20, elites=20, horizon=horizon, momentum_mean=0, momentum_std=0,
                     init_std=0.8, scale=(MAX_STEP, MAX_STEP), free_dims=(0, 1), temperature=0.1)
    planner = LatentPlanner(model, cfg, goals, solver="mppi", hold=5, distance="l2")
    planner.plan(Observation(np.stack([env.render() for env in envs]), np.zeros((episodes, 2))), 0)
    plan = torch.from_numpy(planner.queue[:, :horizon]).float()
    expert = torch.zeros_like(plan)
    expert[:, :len(infos[0]["expert_actions"])] = torch.from_numpy(np.stack([i["expert_actions"] for i in infos]))
    z0 = model.encode(torch.from_numpy(np.stack([env.render() for env in envs])))[:, 0]
    goal = model.encode(torch.from_numpy(goals))[:, 0]
    energy = {k: (model.net.rollout(z0, a)[:, -1] - goal).pow(2).mean(-1) for k, a in (("plan", plan),
                                                                                        ("expert", expert))}
    reached = []
    for env, actions in zip(envs, plan.double().numpy()):
        p = env.position[None]
        for a in actions:
            p = move(p, a[None], np.array([env.wall_x], float), np.array([env.door_y], float))
        reached.append(float(np.linalg.norm(p[0] - env.goal)))
    return {"plan_energy": [round(v, 4) for v in energy["plan"].tolist()],
            "expert_energy": [round(v, 4) for v in energy["expert"].tolist()],
            "plan_reaches_px": [round(v, 1) for v in reached],
            "plan_rated_better_than_expert": float((energy["plan"] < energy["expert"]).float().mean()),
            "plan_reaches_goal": float(np.mean([d < SUCCESS_RADIUS for d in reached]))}


@torch.no_grad()
def landscape(model: RecurrentWorldModel, layouts: int = 8) -> dict:
    """Spearman correlation between the latent MSE to a goal's latent and the agent's path length to the goal
    (breadth-first over free pixels, 8-connected) for every free pixel of ``layouts`` random Two-Rooms layouts."""
    out = []
    for k in range(layouts):
        env = TwoRooms()
        env.reset(seed=1000 + k)
        free = [(x, y) for x in range(IMG_SIZE) for y in range(IMG_SIZE) if not env.blocked(np.array([x, y], float))]
        pts = np.array(free, float)
        wx, dy = np.full(len(pts), float(env.wall_x)), np.full(len(pts), float(env.door_y))
        z = torch.cat([model.encode(torch.from_numpy(render(pts[i:i + 512], wx[i:i + 512], dy[i:i + 512])))
                       for i in range(0, len(pts), 512)])
        g = model.encode(torch.from_numpy(render(env.goal[None], wx[:1], dy[:1])))
        cost = (z - g).pow(2).mean(-1).numpy()
        geo = bfs(env, np.round(env.goal).astype(int), {p: i for i, p in enumerate(free)})
        ok = np.isfinite(geo)
        rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
        out.append(float(np.corrcoef(rank(cost[ok]), rank(geo[ok]))[0, 1]))
    return {"spearman_cost_vs_path_length": [round(v, 3) for v in out], "mean": round(float(np.mean(out)), 3)}


def bfs(env, goal: np.ndarray, index: dict) -> np.ndarray:
    from collections import deque

    dist = np.full(len(index), np.inf)
    start = tuple(int(v) for v in goal)
    if start not in index:
        return dist
    dist[index[start]] = 0
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                q = (x + dx, y + dy)
                if q in index and not np.isfinite(dist[index[q]]):
                    dist[index[q]] = dist[index[(x, y)]] + 1
                    queue.append(q)
    return dist


if __name__ == "__main__":
    path = Path(sys.argv[1])
    torch.manual_seed(0)
    latent = RecurrentLatentModel.load(path)
    model = latent.net
    record = {"model": str(path), "machine": machine(), "dynamics": dynamics(model),
              "long_rollouts_expert_paths": long_rollouts(model), "search_vs_expert": search_vs_expert(latent),
              "landscape": landscape(model)}
    print(json.dumps(record))
    atomic_write_json(HERE / "results" / f"ebjepa_diag_{path.stem}.json", record, indent=1)
