"""ToyWorld frozen probes through the CLI: the toy-pretrained encoder against the same architecture at random
initialisation, on ``motion`` (top-1), ``anticipation`` (mean-class recall@5) and ``fine`` (top-1).

    OMP_NUM_THREADS=1 python benchmarks/toy_probes.py [--tasks motion anticipation fine]

The encoder comes from ``recipes/toy/pretrain-vitt-64px-16f.yaml``; it is trained first (about 4 minutes) when
its export is missing. Each probe run is ``lit-jepa fit --config recipes/toy/probe-<task>-vitt-64px-16f.yaml``
(random initialisation: ``--model.init_args.encoder_ckpt null``). Writes ``benchmarks/results/toy_probes.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, machine, write_record  # noqa: E402
from lit_jepa.cli import main  # noqa: E402

PRETRAIN = "recipes/toy/pretrain-vitt-64px-16f.yaml"
ENCODER = Path("runs/toy/pretrain-vitt-64px-16f/version_0/export/vjepa2.pt")
# task -> (recipe, headline metric, goal: pretrained minus random, in points)
TASKS = {
    "motion": ("recipes/toy/probe-motion-vitt-64px-16f.yaml", "top1", 10.0),
    "anticipation": ("recipes/toy/probe-anticipation-vitt-64px-16f.yaml", "action_recall5", 10.0),
    "fine": ("recipes/toy/probe-fine-vitt-64px-16f.yaml", "top1", None),
}


def ensure_encoder() -> None:
    """Train the toy encoder when its export is missing (the export is not in git)."""
    if not ENCODER.exists():
        print(f"{ENCODER} missing: lit-jepa fit --config {PRETRAIN}", flush=True)
        main(["fit", "--config", PRETRAIN, "--trainer.logger.init_args.version", "0"])


def probe(recipe: str, encoder: str | Path | None, extra: Sequence[str] = (), save_dir: str | Path = "runs/toy",
          name: str | None = None, version: str = "probe") -> tuple[dict, float, list[str], Path]:
    """One probe sweep through the CLI (``encoder`` None: random initialisation); returns its
    ``probe_results.json``, wall seconds, the command's arguments and the log folder ``save_dir/name/version``
    (``version`` must not be a number: the logger would write to ``version_<n>``)."""
    name = name or Path(recipe).stem
    if version.isdigit():
        raise ValueError(f"probe version {version!r} is a number; TensorBoard would log to version_{version}")
    args = ["fit", "--config", str(recipe), "--trainer.logger.init_args.save_dir", str(save_dir),
            "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", version,
            "--model.init_args.encoder_ckpt", str(encoder) if encoder else "null", *extra]
    start = time.perf_counter()
    main(args)
    wall = time.perf_counter() - start
    log_dir = Path(save_dir) / name / version
    return json.loads((log_dir / "probe_results.json").read_text()), wall, args, log_dir


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("extra", nargs="*", help="further CLI overrides for every run")
    a = parser.parse_args(argv)
    torch.set_num_threads(1)
    ensure_encoder()
    previous = RESULTS / "toy_probes.json"  # tasks not rerun keep their earlier rows
    tasks = json.loads(previous.read_text())["tasks"] if previous.exists() else {}
    record = {"benchmark": "toy_probes", "machine": machine(), "tasks": tasks}
    for task in a.tasks:
        recipe, metric, goal = TASKS[task]
        rows = {}
        for init in ("pretrained", "random"):
            result, wall, args, _ = probe(recipe, ENCODER if init == "pretrained" else None, a.extra,
                                          version=init)
            rows[init] = {"metrics": {k: v["value"] for k, v in result["metrics"].items()},
                          "best_heads": {k: v["head"] for k, v in result["metrics"].items()},
                          "wall_s": round(wall, 1), "command": "lit-jepa " + " ".join(args)}
            print(f"{task:13s} {init:10s} {metric} {rows[init]['metrics'][metric]:.3f} ({wall:.0f} s): "
                  f"lit-jepa {' '.join(args)}", flush=True)
        delta = 100 * (rows["pretrained"]["metrics"][metric] - rows["random"]["metrics"][metric])
        record["tasks"][task] = {"recipe": recipe, "headline_metric": metric,
                                 "command": "python " + " ".join(sys.argv),
                                 "selection_rule": result["selection_rule"], **rows,
                                 "pretrained_minus_random_points": round(delta, 1),
                                 "goal_points": goal, "met": None if goal is None else delta >= goal}
        print(f"{task}: pretrained - random = {delta:+.1f} points on {metric} (goal: {goal})", flush=True)
        print(f"wrote {write_record('toy_probes', record)}")


if __name__ == "__main__":
    main_()
