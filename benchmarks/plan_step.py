"""Planning seconds per environment step: CEM through the AC world model with every episode and CEM sample in one
predictor call (lit_jepa's ``LatentPlanner``), against the same planner run one episode at a time (how the
official notebooks plan), in the same process on the same weights.

    python benchmarks/plan_step.py [--episodes 16] [--samples 32] [--iterations 3] [--repeats 5]

Toy sizes (ViT-tiny 64 px encoder, 96-wide 2-deep AC predictor on the 4 x 4 pooled grid, horizon 1), random
weights (timing only). Writes ``plan_step.json`` to ``--out`` (default ``runs/benchmarks``).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lit_jepa.bench.common import add_out_argument, command, machine, time_interleaved, write_record
from lit_jepa.bench.planning import TOY_CEM
from lit_jepa.nn import VisionTransformer
from lit_jepa.nn.ac_predictor import ACPredictor
from lit_jepa.planning.cem import CEMConfig
from lit_jepa.planning.env import Observation
from lit_jepa.planning.model import LatentWorldModel
from lit_jepa.planning.mpc import LatentPlanner


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--iterations", type=int, default=3)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    add_out_argument(p)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    encoder = VisionTransformer(img_size=64, num_frames=16, patch_size=8, embed_dim=192, depth=6, num_heads=3)
    predictor = ACPredictor(img_size=32, patch_size=8, embed_dim=192, predictor_embed_dim=96, depth=2, num_heads=4)
    model = LatentWorldModel(encoder, predictor, pool=2)
    cfg = CEMConfig(samples=a.samples, iterations=a.iterations, elites=max(a.samples // 5, 1), **TOY_CEM)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (a.episodes, 64, 64, 3), dtype=np.uint8)
    states = np.zeros((a.episodes, 7))
    goals = rng.integers(0, 256, (a.episodes, 64, 64, 3), dtype=np.uint8)
    batched = LatentPlanner(model, cfg, goals)
    single = [LatentPlanner(model, cfg, goals[i:i + 1]) for i in range(a.episodes)]
    obs = Observation(images, states)
    fns = {"batched": lambda: batched.plan(obs, 0),
           "per_episode": lambda: [s.plan(Observation(images[i:i + 1], states[i:i + 1]), 0)
                                   for i, s in enumerate(single)]}
    fns["batched"](), fns["per_episode"]()  # warm-up
    secs = time_interleaved(fns, a.repeats, torch.device("cpu"))
    per_step = {k: v / a.episodes for k, v in secs.items()}
    record = {"benchmark": "plan_step", "command": command(__file__, argv), "machine": machine(),
              "protocol": f"{a.episodes} episodes, CEM {a.samples} samples x {a.iterations} iterations, horizon 1, "
                          "ViT-tiny 64 px encoder + 96x2 AC predictor, pool 2; median of interleaved repeats",
              "seconds_per_env_step": {k: round(v, 5) for k, v in per_step.items()},
              "speedup_ratio": round(secs["per_episode"] / secs["batched"], 2)}
    print(f"plan s/env-step: batched {per_step['batched']:.4f}, per episode {per_step['per_episode']:.4f}; "
          f"ratio {record['speedup_ratio']}x -> {write_record(a.out, 'plan_step', record)}")


if __name__ == "__main__":
    main()
