"""Frozen-probe accuracy along a toy pretraining run: every step checkpoint of the run against the same
architecture at random initialisation, with the toy probe recipes.

    lit-jepa fit --config recipes/toy/pretrain-vitt-64px-16f-long.yaml
    python experiments/toy-probes/toy_probe_curve.py --run runs/toy/pretrain-vitt-64px-16f-long/version_0 \
        [--tasks motion]

It reads ``<run>/checkpoints/*step=<N>.ckpt`` (the target encoder, as the probes' protocol), runs
``lit-jepa fit --config recipes/toy/probe-<task>-vitt-64px-16f.yaml`` on each, and writes
``experiments/toy-probes/results/<record>.json`` with the headline metric per step and its margin over random
initialisation.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import torch
from lit_jepa.recipes import resolve

from lit_jepa.bench.common import command, machine, write_record
from lit_jepa.bench.probes import probe
from lit_jepa.metrics import wilson

RESULTS = Path(__file__).resolve().parent / "results"  # this study's records

# task -> (recipe, headline metric, goal: pretrained minus random, in points)
TASKS = {
    "motion": ("toy/probe-motion-vitt-64px-16f", "top1", 10.0),
    "anticipation": ("toy/probe-anticipation-vitt-64px-16f", "action_recall5", 10.0),
    "fine": ("toy/probe-fine-vitt-64px-16f", "top1", None),
}
STEP = re.compile(r"step=(\d+)\.ckpt$")


def step_checkpoints(run: Path) -> dict[int, Path]:
    """``{step: path}`` of the run's ``*step=N.ckpt`` files, in step order."""
    found = {int(m.group(1)): p for p in (run / "checkpoints").glob("*.ckpt") if (m := STEP.search(p.name))}
    if not found:
        raise FileNotFoundError(f"no '*step=N.ckpt' checkpoints under {run / 'checkpoints'}: pretrain with a "
                                f"ModelCheckpoint that keeps them (save_top_k: -1), as "
                                f"recipes/toy/pretrain-vitt-64px-16f-long.yaml does")
    return dict(sorted(found.items()))


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, required=True, help="the pretraining log folder (holds checkpoints/)")
    p.add_argument("--tasks", nargs="+", default=["motion"], choices=list(TASKS))
    p.add_argument("--steps", nargs="+", type=int, help="probe only these steps (default: every checkpoint)")
    p.add_argument("--workdir", type=Path, default=Path("runs/toy/probe-curve"), help="probe logs and cache")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--record", default="toy_probe_curve", help="JSON record name in benchmarks/results")
    p.add_argument("extra", nargs="*", help="further CLI overrides for every probe run")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    ckpts = step_checkpoints(a.run)
    if a.steps:
        if missing := sorted(set(a.steps) - set(ckpts)):
            raise SystemExit(f"no checkpoint for steps {missing} under {a.run / 'checkpoints'}; found {list(ckpts)}")
        ckpts = {step: ckpts[step] for step in sorted(a.steps)}
    record = {"benchmark": "toy_probe_curve", "command": command(__file__, argv), "machine": machine(),
              "run": str(a.run), "tasks": {}}
    for task in a.tasks:
        recipe, metric, goal = TASKS[task]
        extra = ["--trainer.enable_progress_bar", "false", "--data.init_args.cache_dir", str(a.workdir / "cache"),
                 "--data.init_args.data.init_args.root", str(a.workdir / f"data-{task}"), *a.extra]
        rows = {}
        for step, path in [(0, None), *ckpts.items()]:
            result, wall, _, _ = probe(str(resolve(recipe)), path, extra, a.workdir / "runs", f"{task}-step{step}",
                                       "curve")
            value, n = result["metrics"][metric]["value"], result["num_val_samples"]
            rows[step] = {"value": round(value, 4), "wall_s": round(wall, 1), "checkpoint": str(path or "random")}
            if metric.endswith("top1"):
                rows[step]["wilson95"] = [round(v, 4) for v in wilson(round(value * n), n)]
            rows[step]["minus_random_points"] = round(100 * (value - rows[0]["value"]), 1)
            print(f"{task} step {step:5d} ({'random init' if path is None else path.name}): {metric} {value:.3f} "
                  f"({rows[step]['minus_random_points']:+.1f} points over random; {wall:.0f} s)", flush=True)
        record["tasks"][task] = {"recipe": recipe, "metric": metric, "goal_points": goal, "n_val": n,
                                 "steps": rows}
        print(f"wrote {write_record(RESULTS, a.record, record)}", flush=True)
    return record


if __name__ == "__main__":
    main()
