"""Ceilings of image-goal planning on ToyWorld ``tabletop`` with a perfect world model and the planner's L1
feature energy (layer-normed, optionally pooled tokens of the frozen encoder against the goal image's).

- ``--oracle greedy`` (one-step horizon): at every step, each action of a 7 x 7 grid over the step bound is
  executed in the true simulator, the frames are encoded, and the action whose frame is closest to the goal
  is taken. Whatever it misses, no learned world model planning one step ahead with this energy can reach.
- ``--oracle argmin`` (whole-budget horizon): the agent is drawn at every point of an n x n grid over the
  arena (the rest of the scene as in the goal image), and the episode counts as solved when the position of
  least energy is within the success tolerance of the goal. It is the ceiling of a planner whose horizon covers
  the whole budget: if the energy's global minimum is elsewhere, no world model finds the goal with it.

    python experiments/toy-energy/toy_energy_ceiling.py [--oracle greedy] [--episodes 20] [--pools 1 2] \
        [--free-gripper]
    python experiments/toy-energy/toy_energy_ceiling.py --oracle argmin --episodes 50 [--points 17]
    python experiments/toy-energy/toy_energy_ceiling.py --oracle cem --episodes 50 --pools 1 --blur-sigmas 0 1 2 \
        [--horizon 1]

- ``--oracle cem``: the world-model planner's protocol with a perfect world model: CEM (64 samples x 3
  iterations, top 8) over model steps of ``--frame-step`` environment steps (``--horizon`` of them, shrunk to the
  budget), every candidate executed in a copy of the true simulator, its last frame rendered and encoded, scored
  with the planner's energy (``--blur-sigmas``: the multi-scale L1 of ``LatentPlanner``); the first model step is
  executed in equal parts, then CEM replans. A learned world model planning with that energy can at best match it.

``--free-gripper`` adds the gripper command (-1, 0, +1) to the grid (147 candidates): 29 of the first 50 reach
goals show the gripper in the other open/closed state than at the start (the colour of the disc differs), which
a planner that pins the gripper can never match.

Same goals as ``benchmarks/toy_planning.py`` (``make_goal(task, 1_000_000 + i)``, 25-step budget). Writes
``experiments/toy-energy/results/toy_energy_ceiling[_free_gripper|_argmin|_cem].json`` (``--record`` renames it).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from lit_jepa import hub
from lit_jepa.bench.common import command, machine, write_record
from lit_jepa.bench.planning import TOY_CEM
from lit_jepa.data.toyworld.env import AGENT_RADIUS, Tabletop, success
from lit_jepa.data.toyworld.goal_env import TabletopGoalEnv
from lit_jepa.data.toyworld.tasks.tabletop import make_goal
from lit_jepa.metrics import wilson
from lit_jepa.nn import VisionTransformer
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.energy import blur_levels, l1_energy, multiscale_l1_energy
from lit_jepa.planning.env import Observation, draw_goals
from lit_jepa.planning.model import encode_frames, token_maps
from lit_jepa.planning.mpc import planned_horizon, run_mpc

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


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


def render_plan(sim: Tabletop, start: np.ndarray, plan: np.ndarray, frame_step: int) -> np.ndarray:
    """The frame after executing ``plan`` ``(H, 7)`` of model steps from full state ``start`` in ``sim``, each model
    step in ``frame_step`` equal environment steps."""
    sim.set_full_state(start)
    for a in plan:
        for _ in range(frame_step):
            sim.step(a / frame_step)
    return sim.render()


class SimulatorImagePlanner:
    """CEM over model steps of ``frame_step`` environment steps, scored by executing every candidate in the true
    simulator and comparing its encoded last frame with the goal image's (multi-scale L1 at ``sigmas``)."""

    def __init__(self, encoder: VisionTransformer, pool: int, sigmas: tuple[float, ...], envs: list[Tabletop],
                 goal_images: np.ndarray, cfg: CEMConfig, frame_step: int, budget: int, seed: int = 0) -> None:
        self.encoder, self.pool, self.sigmas, self.envs = encoder, pool, sigmas, envs
        self.cfg, self.frame_step, self.budget = cfg, frame_step, budget
        self.goal = self.levels(torch.from_numpy(goal_images)).unsqueeze(2)  # (L, E, 1, D, H, W)
        self.sim = Tabletop(envs[0].resolution, envs[0].max_delta)
        self.generator = torch.Generator().manual_seed(seed)
        self.current = np.zeros((len(envs), len(cfg.scale)))

    def levels(self, frames: torch.Tensor) -> torch.Tensor:
        return blur_levels(token_maps(encode_frames(self.encoder, frames, self.pool), self.pool), self.sigmas)

    def energy(self, actions: torch.Tensor) -> torch.Tensor:
        E, S = actions.shape[:2]
        frames = [render_plan(self.sim, env.full_state, plan, self.frame_step)
                  for env, plans in zip(self.envs, actions.double().numpy()) for plan in plans]
        return multiscale_l1_energy(self.levels(torch.from_numpy(np.stack(frames))).unflatten(1, (E, S)), self.goal)

    def plan(self, obs: Observation, step: int) -> np.ndarray:
        if step % self.frame_step == 0:
            horizon = planned_horizon(self.cfg.horizon, step, self.frame_step, self.budget)
            actions, _ = cem(self.energy, len(self.envs), replace(self.cfg, horizon=horizon), self.generator)
            self.current = actions[:, 0].double().numpy() / self.frame_step
        return self.current


def cem_oracle(encoder: VisionTransformer, pool: int, sigmas: tuple[float, ...], task: str, episodes: int,
               budget: int, frame_step: int, horizon: int) -> dict:
    """The world-model planner's CEM and energy (``toy_planning``'s settings) with the true simulator as model."""
    envs, seeds = [TabletopGoalEnv(task) for _ in range(episodes)], [1_000_000 + i for i in range(episodes)]
    goals = draw_goals(envs, seeds)
    cfg = CEMConfig(samples=64, iterations=3, elites=8, **{**TOY_CEM, "horizon": horizon,
                                                           "scale": tuple(x * frame_step for x in TOY_CEM["scale"])})
    planner = SimulatorImagePlanner(encoder, pool, sigmas, [e.sim for e in envs], goals.images, cfg, frame_step,
                                    budget, seed=1_000_000)
    out = run_mpc(planner, envs, seeds, budget, progress=True)
    return {**success_rate(int(out["final"].sum()), episodes), "sr_any": float(out["any"].mean())}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--oracle", choices=["greedy", "argmin", "cem"], default="greedy")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--budget", type=int, default=25, help="greedy: steps per episode")
    p.add_argument("--points", type=int, default=17, help="argmin: agent positions per arena side")
    p.add_argument("--pools", type=int, nargs="+", default=[1, 2])
    p.add_argument("--task", default="reach")
    p.add_argument("--free-gripper", action="store_true", help="greedy: also try closing/opening the gripper")
    p.add_argument("--blur-sigmas", type=float, nargs="+", default=[0.0], help="cem: the energy's blur levels")
    p.add_argument("--frame-step", type=int, default=5, help="cem: environment steps per model step")
    p.add_argument("--horizon", type=int, default=5, help="cem: model steps planned (shrunk to the budget)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--record", help="JSON record name (default from the oracle)")
    p.add_argument("--encoder", default="runs/toy/pretrain-vitt-64px-16f/version_0/export/vjepa2.pt",
                   help="the toy-pretrained encoder (lit-jepa fit --config toy/pretrain-vitt-64px-16f exports it)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    pretrained = hub.load_encoder(a.encoder).eval()
    torch.manual_seed(0)
    encoders = {"pretrained": pretrained, "random": VisionTransformer(**hub.encoder_config(pretrained)).eval()}
    results = {}
    for name, encoder in encoders.items():
        start = time.perf_counter()
        if a.oracle == "argmin":
            per_pool = argmin_oracle(encoder, a.pools, a.task, a.episodes, a.points)
        elif a.oracle == "cem":
            per_pool = {pool: cem_oracle(encoder, pool, tuple(a.blur_sigmas), a.task, a.episodes, a.budget,
                                         a.frame_step, a.horizon) for pool in a.pools}
        else:
            per_pool = {pool: greedy_oracle(encoder, pool, a.task, a.episodes, a.budget, a.free_gripper)
                        for pool in a.pools}
        for pool, r in per_pool.items():
            results[f"{name}_pool{pool}"] = {**r, "encoder_wall_seconds": round(time.perf_counter() - start, 1)}
            print(f"{a.task} {name} encoder, pool {pool}: {a.oracle} oracle SR {r['sr_final']:.2f} {r['wilson95']}",
                  flush=True)
    if a.oracle == "cem":
        protocol = (f"{a.task}, goals make_goal(task, 1_000_000 + i), budget {a.budget}; CEM 64 x 3 (top 8) over "
                    f"{a.horizon} model steps of {a.frame_step} env steps (0.25 box per model step, shrunk to the "
                    "budget), candidates executed in the true simulator, last frame encoded; energy: L1 summed over "
                    f"token maps blurred at sigmas {a.blur_sigmas}; first model step executed in equal parts, replan")
        name = "toy_energy_ceiling_cem"
    elif a.oracle == "argmin":
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
    print(f"wrote {write_record(RESULTS, a.record or name, record)}")


if __name__ == "__main__":
    main()
