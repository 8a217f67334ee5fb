"""Ceiling of image-goal planning on ToyWorld ``tabletop`` with a perfect world model: at every step, each action
of a 7 x 7 grid over the step bound is executed in the true simulator, the rendered frames are encoded by the
frozen encoder, and the action whose frame is closest to the goal image (the planner's L1 feature energy) is
taken. Whatever this greedy oracle misses, no learned world model with the same energy and horizon can reach.

    python benchmarks/toy_energy_ceiling.py [--episodes 20] [--pools 1 2] [--free-gripper]

``--free-gripper`` adds the gripper command (-1, 0, +1) to the grid (147 candidates): 29 of the first 50 reach
goals show the gripper in the other open/closed state than at the start (the colour of the disc differs), which
a planner that pins the gripper can never match.

Same goals as ``benchmarks/toy_planning.py`` (``make_goal(task, 1_000_000 + i)``, 25-step budget). Writes
``benchmarks/results/toy_energy_ceiling.json``.
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
from lit_jepa.data.toyworld.env import Tabletop, success  # noqa: E402
from lit_jepa.data.toyworld.tasks.tabletop import make_goal  # noqa: E402
from lit_jepa.nn import VisionTransformer  # noqa: E402
from lit_jepa.planning.model import encode_frames  # noqa: E402
from lit_jepa.planning.mpc import wilson  # noqa: E402


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
            energy = (encode_frames(encoder, torch.from_numpy(np.stack(frames)), pool) - z_goal).abs().mean((1, 2))
            env.set_full_state(state)
            env.step(grid[int(energy.argmin())])
        wins += bool(success(task, env.full_state, goal.goal))
    low, high = wilson(wins, episodes)
    return {"sr_final": wins / episodes, "wilson95": [round(low, 4), round(high, 4)], "episodes": episodes}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--budget", type=int, default=25)
    p.add_argument("--pools", type=int, nargs="+", default=[1, 2])
    p.add_argument("--task", default="reach")
    p.add_argument("--free-gripper", action="store_true", help="also try closing/opening the gripper")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    pretrained = hub.load_encoder(ensure_encoder()).eval()
    torch.manual_seed(0)
    encoders = {"pretrained": pretrained, "random": VisionTransformer(**hub.encoder_config(pretrained)).eval()}
    results = {}
    for name, encoder in encoders.items():
        for pool in a.pools:
            start = time.perf_counter()
            r = greedy_oracle(encoder, pool, a.task, a.episodes, a.budget, a.free_gripper)
            results[f"{name}_pool{pool}"] = {**r, "wall_seconds": round(time.perf_counter() - start, 1)}
            print(f"{a.task} {name} encoder, pool {pool}: greedy-oracle SR {r['sr_final']:.2f} {r['wilson95']}",
                  flush=True)
    record = {"benchmark": "toy_energy_ceiling", "command": command(__file__, argv), "machine": machine(),
              "protocol": f"{a.task}, goals make_goal(task, 1_000_000 + i), budget {a.budget}, greedy over a 7x7 "
                          f"(dx, dy){' x 3 gripper' if a.free_gripper else ''} action grid executed in the true "
                          "simulator, L1 energy on layer-normed (pooled) features",
              "results": results}
    name = "toy_energy_ceiling_free_gripper" if a.free_gripper else "toy_energy_ceiling"
    print(f"wrote {write_record(name, record)}")


if __name__ == "__main__":
    main()
