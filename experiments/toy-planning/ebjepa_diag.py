"""Diagnostics of an ``ebjepa_two_rooms.py`` model on fresh random walks: rollout MSE against staying at the first
latent, one-step MSE against copying, a ridge probe of the agent's position from the latent (R^2), and how well the
latent cost to a goal ranks positions by their path length to it; writes ``results/ebjepa_diag_<model stem>.json``.

    python experiments/toy-planning/ebjepa_diag.py runs/exp30/ebjepa-covfix-4k.pt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ebjepa_two_rooms import HERE, WorldModel, render, walks  # noqa: E402

from lit_jepa.atomic import atomic_write_json  # noqa: E402
from lit_jepa.bench.common import machine  # noqa: E402
from lit_jepa.data.toyworld.two_rooms import IMG_SIZE  # noqa: E402


def load(path: str) -> WorldModel:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = WorldModel(ckpt["dim"], ckpt["width"])
    model.load_state_dict(ckpt["model"])
    return model.eval()


@torch.no_grad()
def dynamics(model: WorldModel, batch: int = 256, length: int = 8) -> dict:
    """Rollout and one-step MSE against their copy baselines, and the position probe's R^2 (x, y), on
    :func:`ebjepa_two_rooms.walks` of the training distribution (no door crossings forced)."""
    positions, actions, wall_x, door_y = walks(np.random.default_rng(123), batch, length, cross=0.0)
    frames = torch.stack([render(positions[:, k], wall_x, door_y) for k in range(length + 1)], 1)
    act = torch.from_numpy(actions).float()
    z = model.encode(frames.flatten(0, 1)).unflatten(0, (batch, length + 1))
    h, pred = z[:, 0], []
    for k in range(length):
        h = model.step(h, act[:, k])
        pred.append(h)
    pred = torch.stack(pred, 1)
    one = model.step(z[:, :-1].flatten(0, 1), act.flatten(0, 1)).unflatten(0, (batch, length))
    x = z.flatten(0, 1).double()
    y = torch.from_numpy(positions.reshape(-1, 2))
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
def landscape(model: WorldModel, layouts: int = 8) -> dict:
    """Spearman correlation between the latent MSE to a goal's latent and the agent's path length to the goal
    (breadth-first over free pixels, 8-connected) for every free pixel of ``layouts`` random Two-Rooms layouts."""
    from lit_jepa.data.toyworld.two_rooms import TwoRooms

    out = []
    for k in range(layouts):
        env = TwoRooms()
        env.reset(seed=1000 + k)
        free = [(x, y) for x in range(IMG_SIZE) for y in range(IMG_SIZE) if not env.blocked(np.array([x, y], float))]
        pts = np.array(free, float)
        wx, dy = np.full(len(pts), float(env.wall_x)), np.full(len(pts), float(env.door_y))
        z = torch.cat([model.encode(render(pts[i:i + 512], wx[i:i + 512], dy[i:i + 512]))
                       for i in range(0, len(pts), 512)])
        g = model.encode(render(env.goal[None], wx[:1], dy[:1]))
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
    model = load(str(path))
    record = {"model": str(path), "machine": machine(), "dynamics": dynamics(model), "landscape": landscape(model)}
    print(json.dumps(record))
    atomic_write_json(HERE / "results" / f"ebjepa_diag_{path.stem}.json", record, indent=1)
