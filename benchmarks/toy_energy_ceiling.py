"""Ceilings of image-goal planning on ToyWorld ``tabletop`` with a perfect world model and the planner's L1
feature energy (layer-normed, optionally pooled tokens of the frozen encoder against the goal image's).

- ``--oracle greedy`` (one-step horizon): at every step, each action of a 7 x 7 grid over the step bound is
  executed in the true simulator, the frames are encoded, and the action whose frame is closest to the goal
  is taken. Whatever it misses, no learned world model planning one step ahead with this energy can reach.
- ``--oracle argmin`` (whole-budget horizon): the agent is drawn at every point of an n x n grid over the
  arena (the rest of the scene as in the goal image), and the episode counts as solved when the position of
  least energy is within the success tolerance of the goal. It is the ceiling of a planner whose horizon covers
  the whole budget: if the energy's global minimum is elsewhere, no world model finds the goal with it.

    python benchmarks/toy_energy_ceiling.py [--oracle greedy] [--episodes 20] [--pools 1 2] [--free-gripper]
    python benchmarks/toy_energy_ceiling.py --oracle argmin --episodes 50 [--points 17]

``--free-gripper`` adds the gripper command (-1, 0, +1) to the grid (147 candidates): 29 of the first 50 reach
goals show the gripper in the other open/closed state than at the start (the colour of the disc differs), which
a planner that pins the gripper can never match.

Same goals as ``benchmarks/toy_planning.py`` (``make_goal(task, 1_000_000 + i)``, 25-step budget). Writes
``benchmarks/results/toy_energy_ceiling[_free_gripper|_argmin].json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import command, machine, write_record  # noqa: E402
from benchmarks.toy_planning import ensure_encoder  # noqa: E402
from lit_jepa import hub  # noqa: E402
from lit_jepa.data.toyworld.env import AGENT_RADIUS, Tabletop, success  # noqa: E402
from lit_jepa.data.toyworld.tasks.tabletop import make_goal  # noqa: E402
from lit_jepa.nn import VisionTransformer  # noqa: E402
from lit_jepa.planning.energy import l1_energy  # noqa: E402
from lit_jepa.planning.model import encode_frames  # noqa: E402
from lit_jepa.planning.mpc import wilson  # noqa: E402


def success_rate(wins: int, episodes: int) -> dict:
    """``sr_final`` with its Wilson 95 % interval."""
    low, high = wilson(wins, episodes)
    return {"sr_final": wins / episodes, "wilson95": [round(low, 4), round(high, 4)], "episodes": episodes}


def greedy_oracle(encoder: VisionTransformer, pool: int, task: str, episodes: int, budget: int,
                  free_gripper: bool = False) -> dict:
    env = Tabletop()
    axis = np.linspace(-env.max_delta, env.max_delta, 7)
    grips = (-1.0, 0.0, 1.0) if free_gripper else (0.0,)
    grid = [np.array([dx, dy, 0, 0, 0, 0, dg]) for dx in axis for dy in axis for dg in grips]
    wins = 0
    for i in range(episodes):
        goal = make_goal(task, 1_000_000 + i)
        z_goal = encode_frames(encoder, torch.from_numpy(goal.image[None]), pool)
        env.set_full_state(goal.start)
        for _ in range(budget):
            state, frames = env.full_state, []
            for action in grid:
                env.set_full_state(state)
                env.step(action)
                frames.append(env.render())
            energy = l1_energy(encode_frames(encoder, torch.from_numpy(np.stack(frames)), pool), z_goal)
            env.set_full_state(state)
            env.step(grid[int(energy.argmin())])
        wins += bool(success(task, env.full_state, goal.goal))
    return success_rate(wins, episodes)


def argmin_oracle(encoder: VisionTransformer, pools: list[int], task: str, episodes: int, points: int) -> dict:
    """Per pool: the share of episodes whose least-energy agent position (over a ``points`` x ``points`` grid of
    the arena, the rest of the scene as in the goal) solves ``task``."""
    env = Tabletop()
    axis = np.linspace(AGENT_RADIUS, 1 - AGENT_RADIUS, points)
    wins = dict.fromkeys(pools, 0)
    for i in range(episodes):
        goal = make_goal(task, 1_000_000 + i)
        states, frames = [], []
        for x in axis:
            for y in axis:
                env.set_full_state(np.array([x, y, *goal.goal[2:]]))
                states.append(env.full_state)
                frames.append(env.render())
        images = torch.from_numpy(np.stack([goal.image, *frames]))
        for pool in pools:
            z = encode_frames(encoder, images, pool)
            best = int(l1_energy(z[1:], z[:1]).argmin())
            wins[pool] += bool(success(task, states[best], goal.goal))
    return {pool: success_rate(k, episodes) for pool, k in wins.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--oracle", choices=["greedy", "argmin"], default="greedy")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--budget", type=int, default=25, help="greedy: steps per episode")
    p.add_argument("--points", type=int, default=17, help="argmin: agent positions per arena side")
    p.add_argument("--pools", type=int, nargs="+", default=[1, 2])
    p.add_argument("--task", default="reach")
    p.add_argument("--free-gripper", action="store_true", help="greedy: also try closing/opening the gripper")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    pretrained = hub.load_encoder(ensure_encoder()).eval()
    torch.manual_seed(0)
    encoders = {"pretrained": pretrained, "random": VisionTransformer(**hub.encoder_config(pretrained)).eval()}
    results = {}
    for name, encoder in encoders.items():
        start = time.perf_counter()
        if a.oracle == "argmin":
            per_pool = argmin_oracle(encoder, a.pools, a.task, a.episodes, a.points)
        else:
            per_pool = {pool: greedy_oracle(encoder, pool, a.task, a.episodes, a.budget, a.free_gripper)
                        for pool in a.pools}
        for pool, r in per_pool.items():
            results[f"{name}_pool{pool}"] = {**r, "encoder_wall_seconds": round(time.perf_counter() - start, 1)}
            print(f"{a.task} {name} encoder, pool {pool}: {a.oracle} oracle SR {r['sr_final']:.2f} {r['wilson95']}",
                  flush=True)
    if a.oracle == "argmin":
        protocol = (f"{a.task}, goals make_goal(task, 1_000_000 + i); the agent drawn at each of {a.points} x "
                    f"{a.points} arena positions (rest of the scene as in the goal); solved when the least-energy "
                    "position succeeds; L1 energy on layer-normed (pooled) features")
        name = "toy_energy_ceiling_argmin"
    else:
        protocol = (f"{a.task}, goals make_goal(task, 1_000_000 + i), budget {a.budget}, greedy over a 7x7 (dx, dy)"
                    f"{' x 3 gripper' if a.free_gripper else ''} action grid executed in the true simulator, L1 "
                    "energy on layer-normed (pooled) features")
        name = "toy_energy_ceiling_free_gripper" if a.free_gripper else "toy_energy_ceiling"
    record = {"benchmark": "toy_energy_ceiling", "oracle": a.oracle, "command": command(__file__, argv),
              "machine": machine(), "protocol": protocol, "results": results}
    print(f"wrote {write_record(name, record)}")


if __name__ == "__main__":
    main()
