"""How faithfully a world model's planning energy follows the simulator's, per blur level, where planning starts.

For each of the first ``--episodes`` goals of ``benchmarks/toy_planning.py`` (``make_goal(task, 1_000_000 + i)``),
a ``--points`` x ``--points`` grid of one-model-step actions (+-``--scale`` on x and y) is scored twice from the
start state with the planner's multi-scale energy (``LatentPlanner``'s, at ``--blur-sigmas``): through the world
model's imagined frame, and through the true simulator (the action executed in ``--frame-step`` equal parts, the
frame rendered and encoded by the same frozen encoder). Per episode and blur level: the Pearson correlation of the
two landscapes over the grid and the ratio of their ranges (max - min; 1: the model's energy varies as much as the
true one); per episode: the cosine between the start-to-goal direction and each landscape's argmin action.
Episodes are split at ``--far`` (start-to-goal distance, arena units) into near and far goals.

    python experiments/toy-energy/toy_energy_fidelity.py --checkpoint runs/toy/ac-s12a/pretrained_encoder.pt \
        --record NAME

Writes ``experiments/toy-energy/results/<record>.json`` with per-episode rows and the near / far means.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from toy_energy_ceiling import render_plan

from lit_jepa.bench.common import command, machine, write_record
from lit_jepa.data.toyworld.env import Tabletop
from lit_jepa.data.toyworld.tasks.tabletop import Goal, make_goal
from lit_jepa.planning.energy import blur_levels, level_l1_energies
from lit_jepa.planning.model import LatentWorldModel

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


def action_grid(points: int, scale: float) -> np.ndarray:
    """``(points ** 2, 2)`` (dx, dy) moves of one model step on a regular grid over ``[-scale, scale] ** 2``."""
    axis = np.linspace(-scale, scale, points)
    return np.array([(x, y) for x in axis for y in axis])


@torch.no_grad()
def landscapes(model: LatentWorldModel, goal: Goal, grid: np.ndarray, frame_step: int,
               sigmas: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per-level energies ``(L, K)`` of the ``K`` grid moves from ``goal.start`` toward ``goal.image``: through the
    world model, and through the simulator (each move executed in ``frame_step`` equal parts, rendered, encoded)."""
    env = Tabletop(model.encoder.img_size)
    env.set_full_state(goal.start)
    z0, s0 = model.encode(torch.from_numpy(env.render()[None])), torch.from_numpy(env.state[None]).float()
    actions = np.zeros((len(grid), 1, 7))
    actions[:, 0, :2] = grid
    real = model.encode(torch.from_numpy(np.stack([render_plan(env, goal.start, a, frame_step) for a in actions])))
    k = len(grid)
    imagined, _ = model.rollout(z0.expand(k, -1, -1), s0.to(z0.device).expand(k, -1),
                                torch.from_numpy(actions).float().to(z0.device))
    goal_levels = blur_levels(model.maps(model.encode(torch.from_numpy(goal.image[None]))), sigmas)
    return tuple(level_l1_energies(blur_levels(model.maps(z), sigmas), goal_levels).cpu().numpy()
                 for z in (imagined, real))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant."""
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def episode_row(model_e: np.ndarray, sim_e: np.ndarray, grid: np.ndarray, direction: np.ndarray) -> dict:
    """Fidelity of one episode's landscapes ``(L, K)``: per-level ``corr`` and ``range_ratio``, the same for the
    summed energy, and the cosine of each landscape's argmin move with the unit ``direction`` to the goal (0 for a
    flat landscape)."""
    def cosine(e: np.ndarray) -> float:  # 0 for a flat landscape, which prefers no move
        if np.ptp(e) == 0:
            return 0.0
        move = grid[int(e.argmin())]
        norm = float(np.linalg.norm(move))
        return float(move @ direction / norm) if norm else 0.0

    sim_range = np.ptp(sim_e, axis=1)
    ratio = np.divide(np.ptp(model_e, axis=1), sim_range, out=np.full(len(sim_range), np.nan), where=sim_range > 0)
    total_m, total_s = model_e.sum(0), sim_e.sum(0)
    return {"corr": [pearson(m, s) for m, s in zip(model_e, sim_e)], "range_ratio": ratio.tolist(),
            "corr_total": pearson(total_m, total_s), "cos_model": cosine(total_m), "cos_simulator": cosine(total_s)}


def group_mean(group: list[dict], key: str) -> list[float] | float:
    """The NaN-ignoring mean of ``key`` (a number or a per-level list) over ``group``, rounded to 3 digits."""
    return np.nanmean(np.array([r[key] for r in group], dtype=float), axis=0).round(3).tolist()


def summarise(rows: list[dict], far: float) -> dict:
    """Means over the near (distance < ``far``) and far episodes: per-level correlation and range ratio, the summed
    energy's correlation, both argmin cosines, and the share of episodes whose model argmin points within 45 degrees
    of the goal direction."""
    out = {}
    for name, keep in (("near", lambda r: r["distance"] < far), ("far", lambda r: r["distance"] >= far)):
        group = [r for r in rows if keep(r)]
        if not group:
            continue
        out[name] = {"episodes": len(group), **{key: group_mean(group, key) for key in
                                                ("corr", "range_ratio", "corr_total", "cos_model", "cos_simulator")},
                     "model_toward_goal": round(float(np.mean([r["cos_model"] > 0.7071 for r in group])), 3)}
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True, help="world-model export (encoder + AC predictor)")
    p.add_argument("--task", default="reach", choices=["reach", "push", "pick_place"])
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--points", type=int, default=9, help="grid moves per axis")
    p.add_argument("--scale", type=float, default=0.25, help="largest move per model step and axis (arena units)")
    p.add_argument("--frame-step", type=int, default=5, help="environment steps per model step")
    p.add_argument("--blur-sigmas", type=float, nargs="+", default=[0.0, 1.0, 2.0])
    p.add_argument("--far", type=float, default=0.4, help="start-to-goal distance from which a goal counts as far")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--record", default="toy_energy_fidelity")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    model = LatentWorldModel.load(a.checkpoint)
    grid, sigmas, start, rows = action_grid(a.points, a.scale), tuple(a.blur_sigmas), time.perf_counter(), []
    for i in range(a.episodes):
        goal = make_goal(a.task, 1_000_000 + i)
        offset = goal.goal[:2] - goal.start[:2]
        distance = float(np.linalg.norm(offset))
        row = episode_row(*landscapes(model, goal, grid, a.frame_step, sigmas), grid, offset / distance)
        rows.append({"episode": i, "distance": round(distance, 4), **row})
    summary = summarise(rows, a.far)
    for name, s in summary.items():
        print(f"{name} ({s['episodes']} goals): corr per level {s['corr']} range ratio {s['range_ratio']} "
              f"argmin cosine model {s['cos_model']} simulator {s['cos_simulator']}", flush=True)
    record = {"benchmark": "toy_energy_fidelity", "command": command(__file__, argv), "machine": machine(),
              "checkpoint": a.checkpoint, "task": a.task, "blur_sigmas": a.blur_sigmas, "points": a.points,
              "scale": a.scale, "frame_step": a.frame_step, "far": a.far,
              "wall_seconds": round(time.perf_counter() - start, 1), "summary": summary, "episodes": rows}
    print(f"wrote {write_record(RESULTS, a.record, record)}")
    return record


if __name__ == "__main__":
    main()
