"""Is a recurrent Two-Rooms world model's latent cost a path length or a straight-line distance? For every free pixel
of 8 layouts (episodes of seeds 1000 + k), the squared latent distance (mean over features) to the goal's latent,
its Spearman correlation with the path length through the door (breadth-first) and with the Euclidean distance, and
its median at 4.5, 10 and 20 px from the goal in the goal's room, beside its minimum in the other room. Writes
``results/landscape_<checkpoint stem>.json``.

    python experiments/toy-planning/landscape.py runs/exp32/fs5-1500.ckpt
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from ebjepa_diag import bfs

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import IMG_SIZE, TwoRooms, render
from lit_jepa.planning.model import RecurrentLatentModel

HERE = Path(__file__).resolve().parent


def rank(v: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(v))


@torch.no_grad()
def layout(model, seed: int) -> dict:
    env = TwoRooms()
    env.reset(seed=seed)
    free = [(x, y) for x in range(IMG_SIZE) for y in range(IMG_SIZE) if not env.blocked(np.array([x, y], float))]
    pts = np.array(free, float)
    wx, dy = np.full(len(pts), float(env.wall_x)), np.full(len(pts), float(env.door_y))
    z = torch.cat([model.encode(torch.from_numpy(render(pts[i:i + 512], wx[i:i + 512], dy[i:i + 512])))
                   for i in range(0, len(pts), 512)])
    cost = (z - model.encode(torch.from_numpy(render(env.goal[None], wx[:1], dy[:1])))).pow(2).mean(-1).numpy()
    geo = bfs(env, np.round(env.goal).astype(int), {p: i for i, p in enumerate(free)})
    euc = np.linalg.norm(pts - env.goal, axis=1)
    ok = np.isfinite(geo)
    other = ok & (np.sign(pts[:, 0] - env.wall_x) != np.sign(env.goal[0] - env.wall_x))
    same = ok & ~other
    out = {"spearman_path_length": np.corrcoef(rank(cost[ok]), rank(geo[ok]))[0, 1],
           "spearman_euclidean": np.corrcoef(rank(cost[ok]), rank(euc[ok]))[0, 1],
           **{f"cost_goal_room_{d}px": np.median(cost[same & (np.abs(euc - d) < 1)]) for d in (4.5, 10, 20)},
           "cost_other_room_min": cost[other].min()}
    return {k: round(float(v), 4) for k, v in out.items()}


def main() -> None:
    path = Path(sys.argv[1])
    torch.set_num_threads(1)
    model = RecurrentLatentModel.load(path).net
    rows = [layout(model, 1000 + k) for k in range(8)]
    record = {"command": f"python experiments/toy-planning/landscape.py {path}", "machine": machine(),
              "layouts": rows, "mean": {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}}
    atomic_write_json(HERE / "results" / f"landscape_{path.stem}.json", record, indent=1)
    print(record["mean"])


if __name__ == "__main__":
    main()
