"""Does a recurrent Two-Rooms world model know where the wall is? Two measurements on a lit_jepa checkpoint:
(1) how well ridge readouts fitted on training-distribution walks recover the agent's position, the wall's column
and the door's row from one latent (R^2 on held-out walks); (2) imagined pushes into the wall: agents start 3-12 px
from the wall, away from the door, and push straight across it for ``steps`` model steps at the full action bound;
the true agent stays in its room, so the fraction whose probed imagined position ends beyond the wall is how often
the model tunnels; (3) steps of the data's walks that push into the wall from beside it, decoded on the latents'
manifold (nearest encoding), one step from the true latent and along the walk's rollout. Writes
``results/walls_<checkpoint stem>_s<steps>_p<push>.json``.

    python experiments/toy-planning/walls.py runs/exp32/seed2-2000.ckpt --frame_step 5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import (
    BORDER,
    DOOR_HALF,
    DOOR_RANGE,
    MAX_STEP,
    WALL_HALF,
    WALL_RANGE,
    move,
    render,
    wall_masks,
)
from lit_jepa.data.toyworld.two_rooms_walks import random_walks
from lit_jepa.planning.model import RecurrentLatentModel

HERE = Path(__file__).resolve().parent


def latents(model: RecurrentLatentModel, rng: np.random.Generator, walks: int, frame_step: int):
    """Latents ``(walks * 13, dim)`` of every frame of training-distribution walks, with position, wall column and
    door row ``(walks * 13, 4)``, and the walks' commanded actions ``(walks, 12, 2)``."""
    pos, actions, wall_x, door_y = random_walks(rng, walks, 12, step_scale=1.5, frame_step=frame_step)
    walls = wall_masks(wall_x, door_y)
    frames = np.stack([render(pos[:, k], wall_x, door_y, walls) for k in range(pos.shape[1])], 1)
    z = model.net.encode(torch.from_numpy(frames)).reshape(-1, model.net.dim).double()
    t = pos.shape[1]
    target = np.concatenate([pos.reshape(-1, 2), np.repeat(wall_x, t)[:, None], np.repeat(door_y, t)[:, None]], 1)
    return z, torch.from_numpy(target), torch.from_numpy(actions).float()


def ridge(z: torch.Tensor, y: torch.Tensor, lam: float = 1e-2) -> torch.Tensor:
    xb = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], 1)
    return torch.linalg.solve(xb.T @ xb + lam * torch.eye(xb.shape[1], dtype=z.dtype), xb.T @ y)


def apply(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], 1) @ w


@torch.no_grad()
def nearest_x(model: RecurrentLatentModel, z: torch.Tensor, wall_x: np.ndarray, door_y: np.ndarray,
              rows: np.ndarray) -> np.ndarray:
    """The agent's column in each latent ``z`` ``(N, dim)`` decoded on the latents' manifold: the nearest encoding of
    the same layout with the agent on a grid (0.5 px across, 1 px along the wall within +- 4 px of ``rows``,
    outside the wall), since a linear readout misreads predicted latents."""
    xs, ys = np.arange(BORDER + 2.0, 65 - BORDER - 2.0, 0.5), np.arange(-4.0, 4.5, 1.0)
    out = []
    for i in range(len(z)):
        grid = np.stack(np.meshgrid(xs, rows[i] + ys), -1).reshape(-1, 2)
        grid = grid[np.abs(grid[:, 0] - wall_x[i]) > WALL_HALF + 0.5]
        enc = model.net.encode(torch.from_numpy(render(grid, np.full(len(grid), wall_x[i]),
                                                       np.full(len(grid), door_y[i]))))
        out.append(grid[int((enc - z[i]).pow(2).mean(-1).argmin()), 0])
    return np.array(out)


@torch.no_grad()
def blocked_steps(model: RecurrentLatentModel, frame_step: int, w: torch.Tensor, cases: int = 150) -> dict:
    """Steps of training-distribution walks where the agent stands at most 3 px from the inner wall's face, away from
    the door, and the command pushes into the wall (more than 5 px across): where the model puts the agent after
    the step, one step from the true latent and in the walk's rollout from its first frame (:func:`nearest_x`; and,
    for the one step, by the ridge readout ``w``, which misreads predicted latents)."""
    pos, act, wall_x, door_y = random_walks(np.random.default_rng(3), 400, 12, step_scale=1.5, frame_step=frame_step)
    p0, p1, a = pos[:, :-1].reshape(-1, 2), pos[:, 1:].reshape(-1, 2), act.reshape(-1, 2)
    wx, dy = np.repeat(wall_x, 12), np.repeat(door_y, 12)
    side = np.sign(p0[:, 0] - wx)
    pick = np.flatnonzero(((p0[:, 0] - wx) * side < WALL_HALF + 3.5) & (-a[:, 0] * side > 5)
                          & (np.abs(p0[:, 1] - dy) > DOOR_HALF + 4))[:cases]
    one = model.net.rollout(model.net.encode(torch.from_numpy(render(p0[pick], wx[pick], dy[pick]))),
                            torch.from_numpy(a[pick]).float()[:, None])[:, 0]
    first = render(pos[:, 0], wall_x, door_y)
    rolled = model.net.rollout(model.net.encode(torch.from_numpy(first)), torch.from_numpy(act).float())
    rolled = rolled.reshape(-1, model.net.dim)[pick]
    decoded = {"one_step": nearest_x(model, one, wx[pick], dy[pick], p1[pick, 1]),
               "rollout": nearest_x(model, rolled, wx[pick], dy[pick], p1[pick, 1])}
    true = np.median((p1[pick, 0] - wx[pick]) * side[pick])
    ridge_x = apply(w, one.double()).numpy()[:, 0]
    out = {"cases": len(pick), "true_px_from_wall_centre": round(float(true), 2),
           "one_step_beyond_wall_ridge": round(float(np.mean((ridge_x - wx[pick]) * side[pick] < 0)), 3)}
    for name, x in decoded.items():
        beside = (x - wx[pick]) * side[pick]
        out[f"{name}_beyond_wall"] = round(float(np.mean(beside < 0)), 3)
        out[f"{name}_px_from_wall_centre"] = round(float(np.median(beside)), 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--frame_step", type=int, default=5)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--pushes", type=int, default=400)
    p.add_argument("--push", type=float, default=1.0, help="push per env step, a fraction of the action bound")
    args = p.parse_args()
    torch.set_num_threads(1)
    model = RecurrentLatentModel.load(args.checkpoint)
    rng = np.random.default_rng(0)
    z_fit, y_fit, _ = latents(model, rng, 256, args.frame_step)
    z_test, y_test, a_test = latents(model, rng, 128, args.frame_step)
    w = ridge(z_fit, y_fit)
    pred = apply(w, z_test)
    r2 = 1 - ((pred - y_test) ** 2).sum(0) / ((y_test - y_test.mean(0)) ** 2).sum(0)
    rmse = ((pred - y_test) ** 2).mean(0).sqrt()
    # one model step from each true latent, on the walks' own actions: blocked steps (moved < half the command)
    zt = z_test.view(len(a_test), 13, -1)
    one = model.net.rollout(zt[:, :-1].reshape(-1, zt.shape[-1]).float(), a_test.reshape(-1, 1, 2))[:, 0].double()
    pos = y_test[:, :2].view(len(a_test), 13, 2)
    moved = (pos[:, 1:] - pos[:, :-1]).norm(dim=-1).reshape(-1)
    blocked_step = moved < 0.5 * a_test.norm(dim=-1).reshape(-1).double()
    err = (apply(w, one)[:, :2] - pos[:, 1:].reshape(-1, 2)).norm(dim=-1)
    stay = (pos[:, :-1] - pos[:, 1:]).reshape(-1, 2).norm(dim=-1)

    # imagined rollouts along walks of the data: ordinary walks, and walks that head into the wall (push=1)
    along = {}
    for kind, push in (("ordinary", 0.0), ("push", 1.0)):
        wpos, wact, wx, dy = random_walks(np.random.default_rng(7), 256, args.steps, cross=0.35 * (1 - push),
                                          step_scale=1.5, frame_step=args.frame_step, push=push)
        f0 = render(wpos[:, 0], wx, dy, wall_masks(wx, dy))
        zr = model.net.rollout(model.net.encode(torch.from_numpy(f0)), torch.from_numpy(wact).float())
        end = apply(w, zr[:, -1].double()).numpy()[:, :2]
        along[kind] = round(float(np.median(np.linalg.norm(end - wpos[:, -1], axis=1))), 2)

    n = args.pushes
    wall_x = rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1, n).astype(float)
    door_y = rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1, n).astype(float)
    side = rng.choice([-1.0, 1.0], n)
    y = rng.uniform(8, 56, n)
    far = np.abs(y - door_y) > DOOR_HALF + 4
    wall_x, door_y, side, y = wall_x[far], door_y[far], side[far], y[far]
    start = np.stack([wall_x + side * rng.uniform(3, 12, len(y)), y], 1)
    start[:, 0] = np.clip(start[:, 0], 7, 57)
    frame = render(start, wall_x, door_y, wall_masks(wall_x, door_y))
    per_env = np.stack([-side * MAX_STEP * args.push, np.zeros_like(side)], 1)
    pos = start
    for _ in range(args.steps * args.frame_step):
        pos = move(pos, per_env, wall_x, door_y)
    actions = torch.from_numpy(np.repeat((per_env * args.frame_step)[:, None], args.steps, 1)).float()
    zs = model.net.rollout(model.net.encode(torch.from_numpy(frame)), actions)
    imagined = apply(w, zs[:, -1].double()).numpy()
    tunnel = np.sign(imagined[:, 0] - wall_x) != side
    m = min(100, len(y))
    near_end = nearest_x(model, zs[:m, -1], wall_x[:m], door_y[:m], y[:m])
    stays = np.sign(pos[:, 0] - wall_x) == side
    # the same pushes at the border wall (always in the same place) instead of the inner wall
    bstart = np.stack([BORDER + 1 + rng.uniform(3, 12, len(y)), y], 1)
    bwall = np.full(len(y), 48.0)
    bpos = bstart
    for _ in range(args.steps * args.frame_step):
        bpos = move(bpos, np.stack([-np.full(len(y), MAX_STEP * args.push), np.zeros(len(y))], 1), bwall, door_y)
    bframe = render(bstart, bwall, door_y, wall_masks(bwall, door_y))
    bact = torch.from_numpy(np.repeat(np.array([[-MAX_STEP * args.push * args.frame_step, 0.0]]), args.steps, 0)
                            ).float().expand(len(y), -1, -1)
    bz = model.net.rollout(model.net.encode(torch.from_numpy(bframe)), bact)
    border_err = float(np.median(np.abs(apply(w, bz[:, -1].double()).numpy()[:, 0] - bpos[:, 0])))
    out = {"command": f"python experiments/toy-planning/walls.py {args.checkpoint} --frame_step {args.frame_step} "
                      f"--steps {args.steps} --pushes {args.pushes} --push {args.push}", "machine": machine(),
           "readout_r2": dict(zip(["x", "y", "wall_x", "door_y"], [round(float(v), 3) for v in r2])),
           "readout_rmse_px": dict(zip(["x", "y", "wall_x", "door_y"], [round(float(v), 2) for v in rmse])),
           "one_step_blocked_fraction": round(float(blocked_step.double().mean()), 3),
           "one_step_error_px_free_blocked": [round(float(err[~blocked_step].median()), 2),
                                              round(float(err[blocked_step].median()), 2)],
           "one_step_true_move_px_free_blocked": [round(float(stay[~blocked_step].median()), 2),
                                                  round(float(stay[blocked_step].median()), 2)],
           "walks_end_error_px_ordinary_push": [along["ordinary"], along["push"]],
           "pushes": int(len(y)), "true_stays_in_room": float(stays.mean()),
           "imagined_tunnels": float(tunnel.mean()),
           "imagined_tunnels_nearest_encoding": round(float(np.mean(np.sign(near_end - wall_x[:m]) != side[:m])), 3),
           "imagined_end_px_from_true_median": round(float(np.median(np.abs(imagined[:, 0] - pos[:, 0]))), 2),
           "border_pushes_end_px_from_true_median": round(border_err, 2),
           "blocked_steps_nearest_encoding": blocked_steps(model, args.frame_step, w)}
    atomic_write_json(HERE / "results" / f"walls_{Path(args.checkpoint).stem}_s{args.steps}_p{args.push}.json", out)
    print(json.dumps({k: v for k, v in out.items() if k not in ("machine", "command")}))


if __name__ == "__main__":
    main()
