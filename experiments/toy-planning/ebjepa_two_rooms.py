"""Issue 30 prototype: an EB-JEPA-style action-conditioned JEPA trained end to end on Two-Rooms, planned with the
library's CEM / MPPI (final or summed latent cost), to learn whether this recipe reaches EB-JEPA's 97 % on 2 CPU cores.

What it copies from EB-JEPA (`ebjepa-two-rooms-facts.md`, A2-A4), scaled to CPU:
- data made on the fly: heading-persistent random walks (heading += VonMises(0, 5), step ~ TruncNormal(1, 0.4,
  [0.2, 1.8]) px), a random wall and door per trajectory, ``--cross`` of them started near the door heading through;
- a CNN encoder to one vector + LayerNorm, a GRU predictor on the 2-D action whose output passes through the same
  LayerNorm; end-to-end training, no EMA, no stop-gradient;
- loss: autoregressive rollout MSE over ``--rollout`` steps + VICReg variance (16) and covariance (8) over all
  frames + temporal smoothness (12) + inverse dynamics MSE (1);
- planning: replan every ``--replan`` env steps, horizon min(H, steps left), summed or final per-step MSE to the goal
  image's latent.

    python experiments/toy-planning/ebjepa_two_rooms.py train --steps 2000 --out runs/exp30/ebjepa.pt
    python experiments/toy-planning/ebjepa_two_rooms.py plan --model runs/exp30/ebjepa.pt --episodes 10
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import (
    BORDER,
    DOOR_HALF,
    DOOR_RANGE,
    DOT_STD,
    IMG_SIZE,
    MAX_STEP,
    SUBSTEPS,
    WALL_HALF,
    WALL_RANGE,
    TwoRooms,
)
from lit_jepa.losses import vicreg_covariance, vicreg_variance
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.mppi import MPPIConfig, mppi

HERE = Path(__file__).resolve().parent
MEAN, STD = torch.tensor([0.0026, 0.0989]).view(1, 2, 1, 1), torch.tensor([0.0369, 0.2986]).view(1, 2, 1, 1)
GRID = np.stack(np.meshgrid(np.arange(IMG_SIZE), np.arange(IMG_SIZE), indexing="xy"), -1).astype(np.float32)


# ----------------------------------------------------------------------------------------------- data (vectorised)
def blocked(p: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """TwoRooms.blocked for points ``(B, 2)`` with per-row layouts."""
    lo, hi = BORDER + 1, IMG_SIZE - 2 - BORDER
    out = (p[:, 0] < lo) | (p[:, 0] > hi) | (p[:, 1] < lo) | (p[:, 1] > hi)
    return out | ((np.abs(p[:, 0] - wall_x) <= WALL_HALF + 0.5) & (np.abs(p[:, 1] - door_y) > DOOR_HALF))


def move(p: np.ndarray, action: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> np.ndarray:
    """TwoRooms.step's dynamics for ``(B, 2)`` positions."""
    delta = np.clip(action, -MAX_STEP, MAX_STEP) / SUBSTEPS
    p, free = p.copy(), np.ones_like(p, bool)
    for _ in range(SUBSTEPS):
        for axis in (0, 1):
            q = p.copy()
            q[:, axis] += delta[:, axis]
            ok = free[:, axis] & ~blocked(q, wall_x, door_y)
            free[:, axis] &= ok | (delta[:, axis] == 0)
            p[ok, axis] = q[ok, axis]
    return p


def render(pos: np.ndarray, wall_x: np.ndarray, door_y: np.ndarray) -> Tensor:
    """Normalised 2-channel images ``(B, 2, 65, 65)``: the dot and the walls (EB-JEPA's channels)."""
    d2 = ((GRID[None] - pos[:, None, None].astype(np.float32)) ** 2).sum(-1)
    dot = np.exp(-d2 / (2 * DOT_STD**2))
    x, y = GRID[None, ..., 0], GRID[None, ..., 1]
    inner = (np.abs(x - wall_x[:, None, None]) <= WALL_HALF) & (np.abs(y - door_y[:, None, None]) > DOOR_HALF)
    border = (x == BORDER) | (y == BORDER) | (x == IMG_SIZE - 1 - BORDER) | (y == IMG_SIZE - 1 - BORDER)
    img = torch.from_numpy(np.stack([dot, (inner | border).astype(np.float32)], 1))
    return (img - MEAN) / STD


def truncated_normal(rng: np.random.Generator, mean: float, std: float, lo: float, hi: float, n: int) -> np.ndarray:
    out = rng.normal(mean, std, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, std, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def walks(rng: np.random.Generator, batch: int, length: int, cross: float
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random walks: positions ``(B, length + 1, 2)``, actions ``(B, length, 2)``, each walk's wall column and door
    row ``(B,)``."""
    wall_x = rng.integers(WALL_RANGE[0], WALL_RANGE[1] + 1, batch).astype(float)
    door_y = rng.integers(DOOR_RANGE[0], DOOR_RANGE[1] + 1, batch).astype(float)
    lo, hi = BORDER + 1 + 2 * DOT_STD, IMG_SIZE - 2 - BORDER - 2 * DOT_STD
    pos = rng.uniform(lo, hi, (batch, 2))
    heading = rng.uniform(0, 2 * np.pi, batch)
    through = rng.random(batch) < cross  # start beside the door, heading through it
    side = rng.choice([-1.0, 1.0], batch)
    pos[through, 0] = wall_x[through] + side[through] * rng.uniform(3, 3 + length * 0.5, through.sum())
    pos[through, 1] = door_y[through] + rng.uniform(-3, 3, through.sum())
    heading[through] = np.where(side[through] > 0, np.pi, 0.0) + rng.normal(0, 0.2, through.sum())
    inside = blocked(pos, wall_x, door_y)
    pos[inside, 0] = wall_x[inside] + np.where(pos[inside, 0] > wall_x[inside], 1, -1) * (WALL_HALF + 2.5)
    positions, actions = [pos], []
    for _ in range(length):
        heading = heading + rng.vonmises(0, 5.0, batch)
        step = truncated_normal(rng, 1.0, 0.4, 0.2, 1.8, batch)
        a = np.stack([np.cos(heading), np.sin(heading)], 1) * step[:, None]
        pos = move(pos, a, wall_x, door_y)
        positions.append(pos)
        actions.append(a)
    return np.stack(positions, 1), np.stack(actions, 1), wall_x, door_y


def trajectories(rng: np.random.Generator, batch: int, length: int, cross: float) -> tuple[Tensor, Tensor]:
    """``(B, length + 1, 2, 65, 65)`` frames and ``(B, length, 2)`` actions of :func:`walks`."""
    positions, actions, wall_x, door_y = walks(rng, batch, length, cross)
    frames = torch.stack([render(positions[:, k], wall_x, door_y) for k in range(length + 1)], 1)
    return frames, torch.from_numpy(actions).float()


# ------------------------------------------------------------------------------------------------------- model
class WorldModel(nn.Module):
    """CNN encoder -> ``dim`` + LayerNorm; GRU cell on the action, its output through the same LayerNorm."""

    def __init__(self, dim: int = 128, width: int = 32) -> None:
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            nn.Conv2d(2, w // 2, 3, 2, 1), nn.ReLU(), nn.Conv2d(w // 2, w, 3, 2, 1), nn.ReLU(),
            nn.Conv2d(w, w, 3, 2, 1), nn.ReLU(), nn.Conv2d(w, w, 3, 1, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(w * 9 * 9, dim))
        self.norm = nn.LayerNorm(dim)
        self.gru = nn.GRUCell(2, dim)
        self.idm = nn.Sequential(nn.Linear(2 * dim, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 2))

    def encode(self, frames: Tensor) -> Tensor:
        return self.norm(self.encoder(frames))

    def step(self, z: Tensor, action: Tensor) -> Tensor:
        return self.norm(self.gru(action, z))


def vc_terms(z: Tensor) -> tuple[Tensor, Tensor]:
    """VICReg variance hinge and EB-JEPA's covariance (the mean over off-diagonals, i.e. VICReg's / (D - 1))."""
    return vicreg_variance(z), vicreg_covariance(z) / (z.shape[-1] - 1)


def losses(model: WorldModel, frames: Tensor, actions: Tensor, rollout: int) -> dict[str, Tensor]:
    B, T1 = frames.shape[:2]
    z = model.encode(frames.flatten(0, 1)).unflatten(0, (B, T1))
    pred, h = [], z[:, 0]
    for k in range(rollout):
        h = model.step(h, actions[:, k])
        pred.append(h)
    pred_loss = F.mse_loss(torch.stack(pred, 1), z[:, 1 : rollout + 1])
    var, cov = vc_terms(z.flatten(0, 1))
    smooth = (z[:, 1:] - z[:, :-1]).pow(2).sum(-1).mean()
    idm = F.mse_loss(model.idm(torch.cat([z[:, :-1], z[:, 1:]], -1)), actions)
    total = pred_loss + 16 * var + 8 * cov + 12 * smooth / z.shape[-1] + idm
    return {"loss": total, "pred": pred_loss, "var": var, "cov": cov, "smooth": smooth, "idm": idm}


def train(a: argparse.Namespace) -> None:
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    model = WorldModel(a.dim, a.width)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-5)
    warm = max(1, a.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / (a.steps - warm))))
    log, start = [], time.perf_counter()
    for step in range(a.steps):
        frames, actions = trajectories(rng, a.batch, a.length, a.cross)
        out = losses(model, frames, actions, a.rollout)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == a.steps - 1:
            row = {"step": step, "s": round(time.perf_counter() - start),
                   **{k: round(v.item(), 4) for k, v in out.items()}}
            copy = F.mse_loss(model.encode(frames[:, 0]).detach(), model.encode(frames[:, 1]).detach()).item()
            row["copy_last"] = round(copy, 4)
            log.append(row)
            print(json.dumps(row), flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "args": {k: str(v) for k, v in vars(a).items()}, "log": log,
                "dim": a.dim, "width": a.width, "train_s": round(time.perf_counter() - start)}, a.out)


# ---------------------------------------------------------------------------------------------------- planning
def energy_fn(model: WorldModel, envs: list[TwoRooms], z0: Tensor, goal: Tensor, cost: str, horizon: int,
              repeat: int, oracle: bool):
    """Planned actions ``(E, S, ceil(horizon / repeat), 2)`` -> energies ``(E, S)``: each action held ``repeat`` steps,
    rolled out by the model (``oracle``: by the simulator, with the squared pixel distance), the latent MSE to the
    goal summed over the horizon (``cost="sum"``, the start included) or at its last step (``"final"``)."""

    def energy(actions: Tensor) -> Tensor:
        actions = actions.repeat_interleave(repeat, dim=2)[:, :, :horizon]
        E, S, H, _ = actions.shape
        if oracle:
            def rep(v: list) -> np.ndarray:
                return np.repeat(np.asarray(v, float), S, 0)

            p, goal_p = rep([env.position for env in envs]), rep([env.goal for env in envs])
            wall_x, door_y = rep([env.wall_x for env in envs]), rep([env.door_y for env in envs])
            act = actions.reshape(E * S, H, 2).numpy()
            total = ((p - goal_p) ** 2).sum(-1) if cost == "sum" else 0
            for k in range(H):
                p = move(p, act[:, k], wall_x, door_y)
                if cost == "sum" or k == H - 1:
                    total = total + ((p - goal_p) ** 2).sum(-1)
            return torch.from_numpy(total).float().view(E, S)
        h = z0[:, None].expand(E, S, -1).reshape(E * S, -1)
        g = goal[:, None].expand(E, S, -1).reshape(E * S, -1)
        total = (h - g).pow(2).mean(-1) if cost == "sum" else 0
        for k in range(H):
            h = model.step(h, actions[:, :, k].reshape(E * S, 2))
            if cost == "sum" or k == H - 1:
                total = total + (h - g).pow(2).mean(-1)
        return total.view(E, S)

    return energy


@torch.no_grad()
def plan(a: argparse.Namespace) -> None:
    torch.set_num_threads(a.threads)
    ckpt = torch.load(a.model, map_location="cpu", weights_only=False)
    model = WorldModel(ckpt["dim"], ckpt["width"])
    if not a.random:
        model.load_state_dict(ckpt["model"])
    model.eval()
    results = {}
    for solver in a.solvers:
        for cost in a.costs:
            envs = [TwoRooms() for _ in range(a.episodes)]
            infos = [env.reset(seed=1000 + k)[1] for k, env in enumerate(envs)]
            goal = model.encode(torch.stack([to_input(i["goal_image"]) for i in infos]))  # (E, D)
            base = dict(samples=a.samples, iterations=a.iterations, elites=a.elites, bound=1.0, scale=(MAX_STEP,) * 2,
                        free_dims=(0, 1), momentum_mean=0.0, momentum_std=0.0)
            cfg_cls, fn = (MPPIConfig, mppi) if solver == "mppi" else (CEMConfig, cem)
            extra = {"temperature": a.temperature} if solver == "mppi" else {}
            start = time.perf_counter()
            t = 0
            while t < a.budget:
                z0 = model.encode(torch.stack([to_input(env.render()) for env in envs]))
                horizon = min(a.horizon, a.budget - t)
                cfg = cfg_cls(**base, horizon=-(-horizon // a.repeat), init_std=a.init_std, **extra)

                energy = energy_fn(model, envs, z0, goal, cost, horizon, a.repeat, a.oracle)
                best, _ = fn(energy, len(envs), cfg, torch.Generator().manual_seed(t))
                best = best.repeat_interleave(a.repeat, dim=1)
                for k in range(min(a.replan, a.budget - t)):
                    for env, act in zip(envs, best[:, k].numpy()):
                        env.step(act)
                t += a.replan
            wall = time.perf_counter() - start
            dist = [float(np.linalg.norm(env.position - env.goal)) for env in envs]
            success = [d < 4.5 for d in dist]
            key = f"{solver}/{cost}"
            results[key] = {"success": float(np.mean(success)), "episodes": len(envs),
                            "mean_final_distance_px": round(float(np.mean(dist)), 2),
                            "final_distances_px": [round(d, 1) for d in dist],
                            "s_per_episode": round(wall / len(envs), 1)}
            print(key, json.dumps(results[key]), flush=True)
    record = {"model": str(a.model), "random": a.random, "args": {k: str(v) for k, v in vars(a).items()},
              "train_log_last": ckpt["log"][-1], "train_s": ckpt["train_s"], "machine": machine(), "results": results}
    if a.name:
        atomic_write_json(HERE / "results" / f"ebjepa_{a.name}.json", record, indent=1)


def to_input(image: np.ndarray) -> Tensor:
    img = torch.from_numpy(image[..., :2].astype(np.float32) / 255.0).permute(2, 0, 1)
    return ((img[None] - MEAN) / STD)[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--length", type=int, default=16, help="actions per trajectory (frames: length + 1)")
    t.add_argument("--rollout", type=int, default=8)
    t.add_argument("--cross", type=float, default=0.35)
    t.add_argument("--dim", type=int, default=128)
    t.add_argument("--width", type=int, default=32)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--out", type=Path, required=True)
    q = sub.add_parser("plan")
    q.add_argument("--model", type=Path, required=True)
    q.add_argument("--random", action="store_true", help="the same model at random initialisation")
    q.add_argument("--oracle", action="store_true",
                   help="plan through the simulator with the pixel distance (a bound on the search)")
    q.add_argument("--episodes", type=int, default=10)
    q.add_argument("--budget", type=int, default=200)
    q.add_argument("--horizon", type=int, default=60)
    q.add_argument("--replan", type=int, default=2)
    q.add_argument("--repeat", type=int, default=1, help="env steps each planned action is held (macro actions)")
    q.add_argument("--samples", type=int, default=100)
    q.add_argument("--iterations", type=int, default=10)
    q.add_argument("--elites", type=int, default=10)
    q.add_argument("--init-std", type=float, default=0.8)
    q.add_argument("--temperature", type=float, default=0.1)
    q.add_argument("--solvers", nargs="+", default=["cem", "mppi"])
    q.add_argument("--costs", nargs="+", default=["final", "sum"])
    q.add_argument("--threads", type=int, default=2)
    q.add_argument("--name", default="")
    a = p.parse_args()
    train(a) if a.cmd == "train" else plan(a)


if __name__ == "__main__":
    main()
