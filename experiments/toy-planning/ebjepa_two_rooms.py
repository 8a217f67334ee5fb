"""Issue 30: what is left of the EB-JEPA-style Two-Rooms prototype now that its recipe lives in the library.

Training and planning moved into lit_jepa (``recipes/toy/wm-two-rooms-gru.yaml``,
:class:`lit_jepa.tasks.RecurrentWorldModelTask`, ``lit-jepa plan --hold --distance l2``); the records
``results/ebjepa_*.json`` made before that came from this script at commit d626de0. What remains:

- ``export``: turn a checkpoint of that script (``runs/exp30/*.pt``) into a lit_jepa checkpoint, which
  ``lit-jepa plan --checkpoint`` reads (the network's layout is the library's
  :class:`~lit_jepa.nn.RecurrentWorldModel`);
- ``oracle``: the search's bound, CEM / MPPI through the true dynamics with the squared pixel distance to the goal,
  held (macro) actions as the library planner searches them.

    python experiments/toy-planning/ebjepa_two_rooms.py export runs/exp30/ebjepa-covfix-4k.pt runs/exp30/covfix-4k.ckpt
    python experiments/toy-planning/ebjepa_two_rooms.py oracle --episodes 10 --repeat 5 --name oracle-repeat5
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from lit_jepa.atomic import atomic_save, atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.data.toyworld.two_rooms import MAX_STEP, SUCCESS_RADIUS, TwoRooms, move
from lit_jepa.nn import RecurrentWorldModel
from lit_jepa.nn.recurrent import CONFIG_KEY
from lit_jepa.planning.cem import CEMConfig, cem
from lit_jepa.planning.mppi import MPPIConfig, mppi

HERE = Path(__file__).resolve().parent
TWO_ROOMS_INPUT = {"img_size": 65, "channels": [0, 1], "mean": [0.0026, 0.0989], "std": [0.0369, 0.2986],
                   "action_dim": 2}


def export(a: argparse.Namespace) -> None:
    """A checkpoint of this script's ``train`` (d626de0) as a lit_jepa checkpoint of the same weights."""
    old = torch.load(a.src, map_location="cpu", weights_only=False)
    net = RecurrentWorldModel(**TWO_ROOMS_INPUT, dim=old["dim"], width=old["width"])
    net.load_state_dict(old["model"])  # strict: the layouts match
    atomic_save({"state_dict": {f"model.{k}": v for k, v in net.state_dict().items()},
                 "lit_jepa": {CONFIG_KEY: net.config()}, "source": str(a.src), "train_log_last": old["log"][-1],
                 "train_s": old["train_s"]}, a.dst)
    print(f"wrote {a.dst}")


def oracle_energy(envs: list[TwoRooms], cost: str, horizon: int, repeat: int):
    """Planned actions ``(E, S, K, 2)``, each held ``repeat`` steps -> the squared pixel distance to the goal after
    the true dynamics, at the last step (``final``) or summed over the steps, the start included (``sum``)."""

    def energy(actions: torch.Tensor) -> torch.Tensor:
        actions = actions.repeat_interleave(repeat, dim=2)[:, :, :horizon]
        E, S, H, _ = actions.shape

        def rep(v: list) -> np.ndarray:
            return np.repeat(np.asarray(v, float), S, 0)

        p, goal = rep([env.position for env in envs]), rep([env.goal for env in envs])
        wall_x, door_y = rep([env.wall_x for env in envs]), rep([env.door_y for env in envs])
        act = actions.reshape(E * S, H, 2).double().numpy()
        total = ((p - goal) ** 2).sum(-1) if cost == "sum" else 0
        for k in range(H):
            p = move(p, act[:, k], wall_x, door_y)
            if cost == "sum" or k == H - 1:
                total = total + ((p - goal) ** 2).sum(-1)
        return torch.from_numpy(total).float().view(E, S)

    return energy


def oracle(a: argparse.Namespace) -> None:
    """Closed-loop search through the simulator on EB-JEPA's protocol (env seeds 1000 + i, success within 4.5 px at
    the end of the budget)."""
    results = {}
    for solver in a.solvers:
        for cost in a.costs:
            envs = [TwoRooms() for _ in range(a.episodes)]
            for k, env in enumerate(envs):
                env.reset(seed=1000 + k)
            cfg_cls, fn = (MPPIConfig, mppi) if solver == "mppi" else (CEMConfig, cem)
            extra = {"temperature": a.temperature} if solver == "mppi" else {}
            start, t = time.perf_counter(), 0
            while t < a.budget:
                horizon = min(a.horizon, a.budget - t)
                cfg = cfg_cls(samples=a.samples, iterations=a.iterations, elites=a.elites, bound=1.0,
                              scale=(MAX_STEP,) * 2, free_dims=(0, 1), momentum_mean=0.0, momentum_std=0.0,
                              horizon=-(-horizon // a.repeat), init_std=a.init_std, **extra)
                best, _ = fn(oracle_energy(envs, cost, horizon, a.repeat), len(envs), cfg,
                             torch.Generator().manual_seed(t))
                best = best.repeat_interleave(a.repeat, dim=1)
                for k in range(min(a.replan, a.budget - t)):
                    for env, act in zip(envs, best[:, k].numpy()):
                        env.step(act)
                t += a.replan
            dist = [float(np.linalg.norm(env.position - env.goal)) for env in envs]
            key = f"{solver}/{cost}"
            results[key] = {"success": float(np.mean([d < SUCCESS_RADIUS for d in dist])), "episodes": len(envs),
                            "final_distances_px": [round(d, 1) for d in dist],
                            "s_per_episode": round((time.perf_counter() - start) / len(envs), 1)}
            print(key, json.dumps(results[key]), flush=True)
    if a.name:
        atomic_write_json(HERE / "results" / f"ebjepa_{a.name}.json",
                          {"oracle": True, "args": {k: str(v) for k, v in vars(a).items()}, "machine": machine(),
                           "results": results}, indent=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export")
    e.add_argument("src", type=Path)
    e.add_argument("dst", type=Path)
    q = sub.add_parser("oracle")
    q.add_argument("--episodes", type=int, default=10)
    q.add_argument("--budget", type=int, default=200)
    q.add_argument("--horizon", type=int, default=60)
    q.add_argument("--replan", type=int, default=2)
    q.add_argument("--repeat", type=int, default=5, help="env steps each planned action is held (macro actions)")
    q.add_argument("--samples", type=int, default=100)
    q.add_argument("--iterations", type=int, default=10)
    q.add_argument("--elites", type=int, default=10)
    q.add_argument("--init-std", type=float, default=0.8)
    q.add_argument("--temperature", type=float, default=0.1)
    q.add_argument("--solvers", nargs="+", default=["cem", "mppi"])
    q.add_argument("--costs", nargs="+", default=["final", "sum"])
    q.add_argument("--name", default="")
    a = p.parse_args()
    export(a) if a.cmd == "export" else oracle(a)


if __name__ == "__main__":
    main()
