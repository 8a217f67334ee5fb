"""ToyWorld "must show" figures: class balance, motion pixel baselines, tabletop contact rate, goal and replay checks.

Run ``python experiments/toyworld-baselines/toyworld_baselines.py [--num-train N --num-test M --trajectories K]``;
prints the figures and writes ``experiments/toyworld-baselines/results/toyworld_baselines.json``. Defaults take
about 20 s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from lit_jepa.bench.common import command, machine, write_record
from lit_jepa.data.toyworld import GOAL_TASKS, Tabletop, make_goal, success
from lit_jepa.data.toyworld.baselines import motion_baselines
from lit_jepa.data.toyworld.tasks.anticipation import AnticipationTask
from lit_jepa.data.toyworld.tasks.fine import FineTask
from lit_jepa.data.toyworld.tasks.motion import PAIRS, MotionTask
from lit_jepa.data.toyworld.tasks.tabletop import replay, trajectory

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records


def _spread(counts: Counter, num_classes: int) -> float:
    """Largest relative deviation of a class count from the mean count."""
    values = np.array([counts[c] for c in range(num_classes)], np.float64)
    return float(np.abs(values / values.mean() - 1).max())


def balance(num: int, seed: int) -> dict[str, float]:
    """Class-count spread of each labelled task's training split (labels only, nothing rendered)."""
    anticipation = AnticipationTask()
    segments = [s for i in range(num // 8) for s in anticipation.episode(seed, "train", i).segments]
    return {
        "motion": _spread(Counter(i % MotionTask().num_classes for i in range(num)), MotionTask().num_classes),
        "fine": _spread(Counter(i % FineTask().num_classes for i in range(num)), FineTask().num_classes),
        "anticipation_verb": _spread(Counter(s.verb for s in segments), anticipation.num_verbs),
        "anticipation_noun": _spread(Counter(s.noun for s in segments), anticipation.num_nouns),
    }


def tabletop_checks(num: int, seed: int, horizon: int = 25) -> dict[str, float]:
    """Contact rate of the exploration data; replay of held-out (val) trajectories from every 5th step to the state
    ``horizon`` steps later, scored by each success test, with the executed commands (``action/*`` in
    ``trajectory.h5``) and with the realised state differences (the world model's actions); replay of the
    actions ``make_goal`` returns."""
    env, contact, hits = Tabletop(), [], Counter()
    for i in range(num):
        traj = trajectory(seed, "val", i)
        contact.append(traj.contact.mean())
        for t0 in range(0, len(traj.states) - horizon, 5):
            goal = traj.full_states[t0 + horizon]
            hits["windows"] += 1
            for kind, actions in (("commands", traj.commands), ("state_differences", traj.actions)):
                reached = replay(env, traj.full_states[t0], actions[t0 : t0 + horizon])
                hits[f"{kind}_exact"] += bool(np.allclose(reached, goal, atol=1e-9))
                for task in GOAL_TASKS:
                    if task != "pick_place" or success(task, goal, goal):
                        hits[f"{kind}_{task}_tried"] += 1
                        hits[f"{kind}_{task}_ok"] += success(task, reached, goal)
    out = {"trajectories": num, "contact_rate": float(np.mean(contact)), "replay_windows": hits["windows"]}
    for kind in ("commands", "state_differences"):
        out[f"replay_{kind}_exact_share"] = hits[f"{kind}_exact"] / hits["windows"]
        for task in GOAL_TASKS:
            out[f"replay_{kind}_{task}_success"] = hits[f"{kind}_{task}_ok"] / hits[f"{kind}_{task}_tried"]
    for task in GOAL_TASKS:
        goals = [make_goal(task, s) for s in range(num)]
        solved = [success(task, replay(env, g.start, g.actions), g.goal) for g in goals]
        out[f"goal_{task}_replay_success"] = float(np.mean(solved))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-train", type=int, default=2400)
    parser.add_argument("--num-test", type=int, default=960)
    parser.add_argument("--trajectories", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = {
        "benchmark": "toyworld_baselines", "command": command(__file__, argv), "seed": args.seed,
        "machine": machine(),
        "class_balance_max_deviation": balance(args.num_train, args.seed),
        "motion_baselines": motion_baselines(args.num_train, args.num_test, args.seed),
        "tabletop": tabletop_checks(args.trajectories, args.seed),
    }
    result["motion_baselines"]["pairs"] = [f"{fwd} / {rev}" for fwd, rev, _ in PAIRS]
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=1))
    print(f"record: {write_record(RESULTS, 'toyworld_baselines', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
