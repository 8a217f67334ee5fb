"""Where Two-Rooms episodes end: plan with a recurrent world model (a lit_jepa checkpoint) and report, per episode,
the final distance to the goal, whether the agent ended in the goal's room, and the start's and goal's distance to
the door; and, from each start, one plan's model energy beside the expert path's (held in model steps) and where
each ends in the true dynamics: an expert rated worse than the plan means the model is exploited, a plan rated
worse than the expert means the search missed. Writes ``results/failures_<checkpoint stem>_<tag>.json``.

    python experiments/toy-planning/failures.py runs/exp32/fs5-1000.ckpt --frame_step 5 --horizon 12
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import MAX_STEP, TwoRooms, move
from lit_jepa.data.toyworld.two_rooms_walks import walk_batch
from lit_jepa.planning.env import draw_goals
from lit_jepa.planning.model import RecurrentLatentModel
from lit_jepa.planning.mpc import LatentPlanner, Observation, run_mpc
from lit_jepa.planning.mppi import MPPIConfig

HERE = Path(__file__).resolve().parent


def mppi_config(horizon: int, frame_step: int, samples: int = 100, iterations: int = 10, elites: int = 10,
                init_std: float = 0.8, temperature: float = 0.1, bound_kind: str = "box",
                bound: float = 1.0) -> MPPIConfig:
    """The protocol's search (sessions 22-26): 100 x 10, 10 elites, no momentum, the 2-D action scaled to the
    longest commanded move of one model step."""
    return MPPIConfig(samples=samples, iterations=iterations, elites=elites, horizon=horizon, momentum_mean=0,
                      momentum_std=0, init_std=init_std, free_dims=(0, 1), temperature=temperature,
                      bound_kind=bound_kind, bound=bound, scale=(MAX_STEP * frame_step,) * 2)


def path(env: TwoRooms, per_env_step: np.ndarray) -> np.ndarray:
    """Positions ``(T, 2)`` after each of ``per_env_step`` actions ``(T, 2)`` from the env's position."""
    p, wall, door, out = env.position[None], np.array([env.wall_x], float), np.array([env.door_y], float), []
    for a in per_env_step:
        p = move(p, np.clip(a, -MAX_STEP, MAX_STEP)[None], wall, door)
        out.append(p[0])
    return np.array(out)


@torch.no_grad()
def position_probe(model: RecurrentLatentModel, frame_step: int):
    """A ridge readout of the agent's position from a latent, fitted on 256 walks of the training distribution."""
    walks = walk_batch(np.random.default_rng(5), 256, 12, frame_step=frame_step)
    z = model.net.encode(walks["frames"]).reshape(-1, model.net.dim).double()
    xb = torch.cat([z, torch.ones(len(z), 1, dtype=z.dtype)], 1)
    w = torch.linalg.solve(xb.T @ xb + 1e-2 * torch.eye(xb.shape[1], dtype=z.dtype),
                           xb.T @ walks["positions"].reshape(-1, 2).double())
    return lambda v: (torch.cat([v.double(), torch.ones(len(v), 1, dtype=torch.double)], 1) @ w).numpy()


@torch.no_grad()
def plan_vs_expert(model: RecurrentLatentModel, envs: list[TwoRooms], goal_images: np.ndarray,
                   expert: np.ndarray, planner: LatentPlanner, frame_step: int, horizon: int) -> list[dict]:
    """Per episode, at its start: model energy (squared final-step distance) and true end distance of one plan and
    of the expert path (its per-step actions summed over ``frame_step``, each sum held as one model action); for
    the plan, whether the model (read by a position probe) and the true dynamics end it in the goal's room, and the
    largest gap between the probed and the true positions along it."""
    obs = Observation(np.stack([env.render() for env in envs]), np.zeros((len(envs), 2)))
    planner.plan(obs, 0)
    plan_env = planner.queue[:, :horizon * frame_step]
    steps = -(-expert.shape[1] // frame_step)
    padded = np.zeros((len(envs), max(steps, horizon) * frame_step, 2))
    padded[:, :expert.shape[1]] = expert
    grouped = padded.reshape(len(envs), -1, frame_step, 2).sum(2)[:, :horizon]
    z0 = model.encode(torch.from_numpy(obs.images))[:, 0]
    goal = model.encode(torch.from_numpy(goal_images))[:, 0]
    probe = position_probe(model, frame_step)
    rows = [{} for _ in envs]
    for name, acts in (("plan", plan_env.reshape(len(envs), -1, frame_step, 2).sum(2)), ("expert", grouped)):
        zs = model.net.rollout(z0, torch.from_numpy(acts).float())
        energy = (zs[:, -1] - goal).pow(2).mean(-1).tolist()
        per_step = np.repeat(acts / frame_step, frame_step, axis=1)
        for i, env in enumerate(envs):
            true = path(env, per_step[i])[frame_step - 1::frame_step]
            rows[i][f"{name}_energy"] = round(energy[i], 4)
            rows[i][f"{name}_end_px"] = round(float(np.linalg.norm(true[-1] - env.goal)), 1)
            if name == "plan":
                pred = probe(zs[i])
                side = np.sign(env.goal[0] - env.wall_x)
                rows[i]["plan_model_ends_in_goal_room"] = bool(np.sign(pred[-1, 0] - env.wall_x) == side)
                rows[i]["plan_truly_ends_in_goal_room"] = bool(np.sign(true[-1, 0] - env.wall_x) == side)
                rows[i]["plan_max_model_error_px"] = round(float(np.linalg.norm(pred - true, axis=1).max()), 1)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--frame_step", type=int, default=1)
    p.add_argument("--hold", type=int, default=1)
    p.add_argument("--horizon", type=int, default=12)
    p.add_argument("--replan_every", type=int, default=5)
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--elites", type=int, default=10)
    p.add_argument("--init_std", type=float, default=0.8)
    p.add_argument("--bound_kind", default="box")
    p.add_argument("--bound", type=float, default=1.0)
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--solver", default="mppi")
    p.add_argument("--cost", default="final")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--tag", default="")
    args = p.parse_args()
    torch.set_num_threads(1)
    model = RecurrentLatentModel.load(args.checkpoint)
    envs = [TwoRooms() for _ in range(args.episodes)]
    seeds = [args.seed + i for i in range(args.episodes)]
    goals = draw_goals(envs, seeds)
    starts = [env.position.copy() for env in envs]
    cfg = mppi_config(args.horizon, args.frame_step, args.samples, args.iterations, args.elites, args.init_std,
                      args.temperature, args.bound_kind, args.bound)
    planner = LatentPlanner(model, cfg, goals.images, seed=0, frame_step=args.frame_step, budget=args.budget,
                            replan_every=args.replan_every, solver=args.solver, cost=args.cost, hold=args.hold,
                            distance="l2")
    probe = LatentPlanner(model, cfg, goals.images, seed=0, frame_step=args.frame_step, budget=args.budget,
                          replan_every=args.replan_every, solver=args.solver, cost=args.cost, hold=args.hold,
                          distance="l2")
    at_start = plan_vs_expert(model, envs, goals.images, goals.expert_actions, probe, args.frame_step, args.horizon)
    result = run_mpc(planner, envs, seeds, args.budget, progress=True)
    rows = []
    for env, start, ok, first in zip(envs, starts, result["final"], at_start):
        door = np.array([env.wall_x, env.door_y], float)
        rows.append({"success": bool(ok), "final_px": round(float(np.linalg.norm(env.position - env.goal)), 1),
                     "same_room": bool(np.sign(env.position[0] - env.wall_x) == np.sign(env.goal[0] - env.wall_x)),
                     "start_to_door": round(float(np.linalg.norm(start - door)), 1),
                     "goal_to_door": round(float(np.linalg.norm(env.goal - door)), 1),
                     "final_to_door": round(float(np.linalg.norm(env.position - door)), 1), **first})
    out = {"command": "python experiments/toy-planning/failures.py " + " ".join(
        f"{k} {v}" if k != "checkpoint" else str(v) for k, v in vars(args).items()), "machine": machine(),
        "success": float(np.mean([r["success"] for r in rows])),
        "first_plan_rated_better_than_expert": float(np.mean([r["plan_energy"] < r["expert_energy"] for r in rows])),
        "first_plan_model_wrong_about_room": float(np.mean([r["plan_model_ends_in_goal_room"]
                                                            != r["plan_truly_ends_in_goal_room"] for r in rows])),
        "first_plan_median_max_error_px": float(np.median([r["plan_max_model_error_px"] for r in rows])),
        "episodes": rows}
    name = f"failures_{Path(args.checkpoint).stem}{'_' + args.tag if args.tag else ''}.json"
    atomic_write_json(HERE / "results" / name, out)
    for r in rows:
        print(json.dumps(r))
    print({k: v for k, v in out.items() if k not in ("episodes", "machine", "command")})


if __name__ == "__main__":
    main()
