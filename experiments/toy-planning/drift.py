"""Where an imagined push into the Two-Rooms wall goes wrong: agents 8 px beside the inner wall (away from the door)
pushed straight at it for three model steps of 7.35 px, positions decoded by nearest encoding (``walls.nearest_x``);
the same push from the true encoding of an agent at the wall; how far the latent predicted after the first push lies
from the true encoding at the wall; and whether projecting every imagined latent onto the encodings' top principal
directions changes the pushes. Writes ``results/drift_<checkpoint stem>.json``.

    python experiments/toy-planning/drift.py runs/exp34/res256-s1-2k.ckpt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from walls import latents, nearest_x

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import DOOR_HALF, DOOR_RANGE, MAX_STEP, WALL_RANGE, render
from lit_jepa.planning.model import RecurrentLatentModel

HERE = Path(__file__).resolve().parent


@torch.no_grad()
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--cases", type=int, default=60)
    args = p.parse_args()
    torch.set_num_threads(1)
    model = RecurrentLatentModel.load(args.checkpoint)
    z_fit = latents(model, np.random.default_rng(0), 256, 5)[0].float()
    mean = z_fit.mean(0)
    _, s, v = torch.linalg.svd(z_fit - mean, full_matrices=False)
    share = (s**2) / (s**2).sum()
    rng = np.random.default_rng(0)
    n = 4 * args.cases
    wall_x = rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1, n).astype(float)
    door_y = rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1, n).astype(float)
    side, y = rng.choice([-1.0, 1.0], n), rng.uniform(8, 56, n)
    keep = np.flatnonzero(np.abs(y - door_y) > DOOR_HALF + 4)[: args.cases]
    wall_x, door_y, side, y = wall_x[keep], door_y[keep], side[keep], y[keep]
    push = torch.from_numpy(np.stack([-side * MAX_STEP * 0.6 * 5, np.zeros_like(side)], 1)).float()
    z_start = model.net.encode(torch.from_numpy(render(np.stack([wall_x + side * 8.0, y], 1), wall_x, door_y)))
    z_wall = model.net.encode(torch.from_numpy(render(np.stack([wall_x + side * 1.6, y], 1), wall_x, door_y)))

    def beside(z: torch.Tensor) -> list[float]:
        d = (nearest_x(model, z, wall_x, door_y, y) - wall_x) * side
        return [round(float(np.median(d)), 2), round(float(np.mean(d < 0)), 3)]

    def pushes(k: int | None) -> list[list[float]]:
        """Median px from the wall's centre (own side positive) and share beyond it after each of three pushes,
        each imagined latent projected onto the top ``k`` principal directions (None: not projected)."""
        z, out = z_start, []
        for _ in range(3):
            z = model.net.rollout(z, push[:, None])[:, 0]
            if k is not None:
                z = model.net.norm((z - mean) @ (v[:k].T @ v[:k]) + mean)
            out.append(beside(z))
        return out

    first = model.net.rollout(z_start, push[:, None])[:, 0]
    err = first - z_wall
    out = {"command": f"python experiments/toy-planning/drift.py {args.checkpoint} --cases {args.cases}",
           "machine": machine(), "cases": len(keep),
           "variance_share_top_8_16_32_64": [round(float(share[:k].sum()), 4) for k in (8, 16, 32, 64)],
           "pushes_from_8px": pushes(None),
           "one_push_from_true_encoding_at_wall": beside(model.net.rollout(z_wall, push[:, None])[:, 0]),
           "first_push_mse_to_true_encoding_at_wall": round(float(err.pow(2).mean()), 5),
           "first_push_error_share_in_top_16_32_64": [
               round(float(((err @ (v[:k].T @ v[:k])) ** 2).sum() / (err**2).sum()), 3) for k in (16, 32, 64)],
           "pushes_projected_top_16_32_64": {k: pushes(k) for k in (16, 32, 64)}}
    atomic_write_json(HERE / "results" / f"drift_{Path(args.checkpoint).stem}.json", out)
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "command")}))


if __name__ == "__main__":
    main()
