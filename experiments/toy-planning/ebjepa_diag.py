"""Diagnostics of an ``ebjepa_two_rooms.py`` model on fresh random walks: rollout MSE against staying at the first
latent, one-step MSE against copying, and a ridge probe of the agent's position from the latent (R^2).

    python experiments/toy-planning/ebjepa_diag.py runs/exp30/ebjepa.pt
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ebjepa_two_rooms import WorldModel, blocked, move, render  # noqa: E402

from lit_jepa.data.toyworld.two_rooms import BORDER, DOOR_RANGE, DOT_STD, IMG_SIZE, WALL_RANGE  # noqa: E402


@torch.no_grad()
def main(path: str, random: bool = False) -> None:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = WorldModel(ckpt["dim"], ckpt["width"])
    if not random:
        model.load_state_dict(ckpt["model"])
    model.eval()
    rng = np.random.default_rng(123)
    B, L = 256, 8
    wall_x = rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1, B).astype(float)
    door_y = rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1, B).astype(float)
    lo, hi = BORDER + 1 + 2 * DOT_STD, IMG_SIZE - 2 - BORDER - 2 * DOT_STD
    pos = rng.uniform(lo, hi, (B, 2))
    inside = blocked(pos, wall_x, door_y)
    pos[inside, 0] += 4
    heading = rng.uniform(0, 2 * np.pi, B)
    positions, actions = [pos], []
    for _ in range(L):
        heading = heading + rng.vonmises(0, 5.0, B)
        a = np.stack([np.cos(heading), np.sin(heading)], 1) * 1.5
        pos = move(pos, a, wall_x, door_y)
        positions.append(pos)
        actions.append(a)
    frames = torch.stack([render(p, wall_x, door_y) for p in positions], 1)
    act = torch.from_numpy(np.stack(actions, 1)).float()
    z = model.encode(frames.flatten(0, 1)).unflatten(0, (B, L + 1))
    h, pred = z[:, 0], []
    for k in range(L):
        h = model.step(h, act[:, k])
        pred.append(h)
    pred = torch.stack(pred, 1)
    one = model.step(z[:, :-1].flatten(0, 1), act.flatten(0, 1)).unflatten(0, (B, L))
    x = z.flatten(0, 1).double()
    y = torch.from_numpy(np.stack(positions, 1).reshape(-1, 2))
    n = len(x) // 2
    xb = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], 1)
    w = torch.linalg.solve(xb[:n].T @ xb[:n] + 1e-2 * torch.eye(xb.shape[1], dtype=x.dtype), xb[:n].T @ y[:n])
    r2 = 1 - ((xb[n:] @ w - y[n:]) ** 2).sum(0) / ((y[n:] - y[n:].mean(0)) ** 2).sum(0)
    print(json.dumps({
        "rollout_mse": round(F.mse_loss(pred, z[:, 1:]).item(), 4),
        "stay_at_z0_mse": round(F.mse_loss(z[:, :1].expand_as(z[:, 1:]), z[:, 1:]).item(), 4),
        "one_step_mse": round(F.mse_loss(one, z[:, 1:]).item(), 4),
        "copy_last_mse": round(F.mse_loss(z[:, :-1], z[:, 1:]).item(), 4),
        "position_r2_xy": [round(v, 3) for v in r2.tolist()]}))




@torch.no_grad()
def landscape(path: str, layouts: int = 8) -> dict:
    """Spearman correlation between the latent MSE to a goal's latent and the agent's path length to the goal
    (breadth-first over free pixels, 8-connected) for every free pixel of ``layouts`` random Two-Rooms layouts."""
    from lit_jepa.data.toyworld.two_rooms import TwoRooms

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = WorldModel(ckpt["dim"], ckpt["width"])
    model.load_state_dict(ckpt["model"])
    model.eval()
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
    main(sys.argv[1], "--random" in sys.argv)
    if "--random" not in sys.argv:
        print(json.dumps(landscape(sys.argv[1])))
