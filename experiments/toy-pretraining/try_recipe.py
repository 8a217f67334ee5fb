"""One try of issue 27's search for a toy pretraining that beats random initialisation: pretrain with the toy
recipe plus overrides, then run the suite's frozen probes (motion top-1, anticipation action recall@5) on the
target encoder, and write a record to ``experiments/toy-pretraining/records/<name>.json``.

    python experiments/toy-pretraining/try_recipe.py --name sigreg005 -- --model.init_args.regularizer sigreg ...
    python experiments/toy-pretraining/try_recipe.py --name random --random     (the random-initialised twin)
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

import torch

from lit_jepa.atomic import atomic_write_json
from lit_jepa.bench.common import machine
from lit_jepa.bench.probes import probe
from lit_jepa.cli import main as cli

HERE = Path(__file__).resolve().parent
RECIPE = "recipes/toy/pretrain-vitt-64px-16f.yaml"
TASKS = {  # task -> (probe recipe, headline metric)
    "motion": ("recipes/toy/probe-motion-vitt-64px-16f.yaml", "top1"),
    "anticipation": ("recipes/toy/probe-anticipation-vitt-64px-16f.yaml", "action_recall5"),
    "fine": ("recipes/toy/probe-fine-vitt-64px-16f.yaml", "top1"),
}


def scalars(log_dir: Path) -> dict[str, float]:
    """Last value of each scalar of a TensorBoard log folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir)).Reload()
    return {tag: acc.Scalars(tag)[-1].value for tag in acc.Tags()["scalars"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True)
    p.add_argument("--record", help="the record's name (default: --name), to probe one pretraining several ways")
    p.add_argument("--recipe", default=RECIPE)
    p.add_argument("--random", action="store_true", help="probe the random-initialised encoder (no pretraining)")
    p.add_argument("--tasks", nargs="*", default=["motion", "anticipation"], choices=list(TASKS),
                   help="attentive probes to run after pretraining (none: only the probe curve)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=Path("runs/exp27"))
    p.add_argument("--note", default="")
    p.add_argument("--record-only", action="store_true",
                   help="write the record of an existing pretraining run of this name (no training, no wall time)")
    p.add_argument("--probe-key", default="target_encoder", choices=["target_encoder", "encoder"],
                   help="which encoder of the export the probes read (a frozen teacher: the student, `encoder`)")
    p.add_argument("--probe-num", type=int, help="labelled probe clips (default: the probe recipe's 480)")
    p.add_argument("--probe-val", type=int, help="held-out probe clips (default: the probe recipe's 240)")
    p.add_argument("--probe-seed", type=int, default=1, help="seed of the probe clips (the recipes use 1)")
    p.add_argument("--probe-overrides", default="",
                   help="further probe-recipe overrides in one string, e.g. the encoder architecture of the try")
    p.add_argument("overrides", nargs="*", help="lit-jepa fit overrides of the pretraining recipe")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    record = {"name": a.record or a.name, "run": a.name, "recipe": a.recipe, "overrides": a.overrides, "note": a.note,
              "machine": machine(),
              "threads": a.threads, "probe_key": a.probe_key, "probe_num": a.probe_num, "probe_val": a.probe_val,
              "probe_seed": a.probe_seed, "probe_overrides": a.probe_overrides, "probes": {}}
    encoder = None
    if not a.random:
        start = time.perf_counter()
        args = ["fit", "--config", a.recipe, "--trainer.logger.init_args.save_dir", str(a.workdir),
                "--trainer.logger.init_args.name", a.name, "--trainer.logger.init_args.version", "0",
                "--trainer.enable_progress_bar", "false", *a.overrides]
        if not a.record_only:
            cli(args)
        run = a.workdir / a.name / "version_0"
        wall = round(time.perf_counter() - start)
        if a.record_only:  # keep the wall time (and overrides, note) of the pretraining's own record, if any
            earlier = HERE / "records" / f"{a.name}.json"
            before = json.loads(earlier.read_text()) if earlier.exists() else {}
            wall = before.get("pretrain", {}).get("wall_s")
            if not a.overrides and before.get("overrides"):
                args += before["overrides"]
                record.update(overrides=before["overrides"], note=a.note or before.get("note", ""))
        record["pretrain"] = {"command": "lit-jepa " + " ".join(args), "wall_s": wall,
                              "final": {k: round(v, 4) for k, v in scalars(run).items()
                                        if k.split("/")[0] in ("train", "val", "collapse")}}
        encoder = run / "export" / "vjepa2.pt"
        if (run / "probe_curve.json").exists():
            record["pretrain"]["probe_curve"] = json.loads((run / "probe_curve.json").read_text())["points"]
        write(record)  # the pretraining's record, before any probe
    extra = ["--trainer.enable_progress_bar", "false", "--data.init_args.cache_dir", str(a.workdir / "cache"),
             "--model.init_args.checkpoint_key", a.probe_key,
             "--data.init_args.data.init_args.seed", str(a.probe_seed), *shlex.split(a.probe_overrides)]
    for flag, value in (("num", a.probe_num), ("num_val", a.probe_val)):
        if value is not None:
            extra += [f"--data.init_args.data.init_args.{flag}", str(value)]
    for task in a.tasks:
        recipe, metric = TASKS[task]
        result, wall, args, _ = probe(recipe, encoder, extra, a.workdir / a.name, f"probe-{task}",
                                      f"probe-{a.record}" if a.record else "probe")
        record["probes"][task] = {"metric": metric, "value": round(100 * result["metrics"][metric]["value"], 1),
                                  "all": {k: round(100 * v["value"], 1) for k, v in result["metrics"].items()},
                                  "wall_s": round(wall)}
        print(f"[{a.name}] {task} {metric} = {record['probes'][task]['value']:.1f} ({wall:.0f} s)", flush=True)
        write(record)  # after each probe, so a failed later probe keeps the earlier ones


def write(record: dict) -> None:
    out = HERE / "records" / f"{record['name']}.json"
    out.parent.mkdir(exist_ok=True)
    atomic_write_json(out, record, indent=1)
    print(f"wrote {out}", flush=True)


if __name__ == "__main__":
    main()
