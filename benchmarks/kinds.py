"""What each kind of benchmark run does. A kind takes the run's ``params`` and a :class:`Context` and returns
``{"metrics": {...}, "protocol": str, "selection_rule": str, "checkpoint": path | None, "seed": int, "extra": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Context:
    """Where a suite writes, and the records of the runs before this one (for ``from_run`` references)."""

    workdir: Path
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)

    def checkpoint_of(self, run: str) -> str:
        if run not in self.previous or not self.previous[run].get("checkpoint"):
            raise KeyError(f"run {run!r} has no checkpoint; runs so far: {sorted(self.previous)}")
        return self.previous[run]["checkpoint"]


def toyworld(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Generate ToyWorld tasks into the suite's data folder (reused when present)."""
    from lit_jepa.data.toyworld import ensure_generated

    out = {}
    for task in params["tasks"]:
        ann = ensure_generated(task, ctx.workdir / "data" / task, params["num"][task], params.get("seed", 0))
        out[task] = str(ann.parent)
    return {"metrics": {f"num_{t}": params["num"][t] for t in params["tasks"]}, "seed": params.get("seed", 0),
            "protocol": "ToyWorld generation, 64 px, official formats", "extra": {"folders": out}}


def _scalars(log_dir: Path, tags: list[str]) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(log_dir), size_guidance={"scalars": 0}).Reload()
    have = set(events.Tags()["scalars"])
    return {t: [(e.step, e.value) for e in events.Scalars(t)] for t in tags if t in have}


def pretrain(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run a pretraining recipe through ``lit-jepa fit``; the official-layout export is the checkpoint.
    ``{workdir}`` in an override is the suite's working folder."""
    from lit_jepa.cli import main

    save_dir = ctx.workdir / "runs"
    name = params["name"]
    overrides = [o.format(workdir=ctx.workdir) for o in params.get("overrides", [])]
    args = ["fit", "--config", str(ROOT / params["recipe"]), "--trainer.logger.init_args.save_dir", str(save_dir),
            "--trainer.logger.init_args.name", name, "--trainer.logger.init_args.version", "bench",
            "--trainer.enable_progress_bar", "false", *overrides]
    main(args)
    log_dir = save_dir / name / "bench"
    curves = _scalars(log_dir, ["train/loss", "val/loss", "collapse/target_effective_rank"])
    metrics = {f"final_{k.replace('/', '_')}": v[-1][1] for k, v in curves.items() if v}
    metrics.update({f"first_{k.replace('/', '_')}": v[0][1] for k, v in curves.items() if v})
    return {"metrics": metrics, "checkpoint": log_dir / "export" / "vjepa2.pt", "seed": params.get("seed", 0),
            "protocol": f"lit-jepa fit --config {params['recipe']} " + " ".join(params.get("overrides", [])),
            "extra": {"curves": curves, "log_dir": str(log_dir)}}


def perf(params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Run a throughput script of ``benchmarks/`` (its ``main(argv)``) and read the record it wrote."""
    import importlib

    module = importlib.import_module(f"benchmarks.{params['script']}")
    argv = [str(a) for a in params.get("args", [])]
    module.main(argv)
    record = json.loads((ROOT / "benchmarks" / "results" / f"{params['record']}.json").read_text())
    return {"metrics": {k: v for k, v in _flatten(record).items() if isinstance(v, int | float)},
            "protocol": f"python benchmarks/{params['script']}.py {' '.join(argv)}",
            "selection_rule": "median of interleaved repeats", "extra": {"record": record}}


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in ("machine", "command"):
                continue
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            key = v.get("preset", i) if isinstance(v, dict) else i
            out.update(_flatten(v, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: obj}


KINDS: dict[str, Callable[[dict[str, Any], Context], dict[str, Any]]] = {
    "toyworld": toyworld,
    "pretrain": pretrain,
    "perf": perf,
}
