"""Feature-cache speed-up of a probe sweep: the same 20-head, 20-epoch ToyWorld ``motion`` sweep through the CLI,
once encoding every clip in every epoch (the DataModule directly) and once from the feature cache (first pass
included: the cache folder starts empty), with the per-head validation top-1 of both.

    OMP_NUM_THREADS=1 python benchmarks/probe_cache.py [--num 64 --num-val 32 --epochs 20]

Writes ``probe_cache.json`` to ``--out`` (default ``runs/benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
import yaml
from lit_jepa.recipes import resolve

from lit_jepa.bench.common import add_out_argument, command, machine, write_record
from lit_jepa.cli import main as cli_main

RECIPE = "toy/probe-motion-vitt-64px-16f"
OFFICIAL_GRID = {"lrs": [5e-3, 3e-3, 1e-3, 3e-4, 1e-4], "weight_decays": [0.01, 0.1, 0.4, 0.8]}


def configs(a: argparse.Namespace, cache_dir: str) -> dict[str, dict]:
    """The cached recipe and its uncached twin (the wrapped DataModule used directly)."""
    cfg = yaml.safe_load(resolve(RECIPE).read_text())
    cfg["trainer"].update(max_epochs=a.epochs, enable_progress_bar=False)
    cfg["model"]["init_args"].update(encoder_ckpt=a.encoder, **OFFICIAL_GRID)
    cfg["data"]["init_args"].update(cache_dir=cache_dir, dtype=a.dtype)
    cfg["data"]["init_args"]["data"]["init_args"].update(num=a.num, num_val=a.num_val)
    uncached = {**cfg, "data": cfg["data"]["init_args"]["data"]}
    return {"uncached": uncached, "cached": cfg}


def run(name: str, cfg: dict, folder: Path) -> tuple[dict, float]:
    cfg["trainer"]["logger"]["init_args"].update(save_dir=str(folder), name=name, version=0)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    start = time.perf_counter()
    cli_main(["fit", "--config", str(path)])
    wall = time.perf_counter() - start
    return json.loads((folder / name / "version_0" / "probe_results.json").read_text()), wall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=64, help="training clips")
    parser.add_argument("--num-val", type=int, default=32, help="validation clips")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--dtype", default="float32", choices=["float16", "float32"], help="cache storage")
    parser.add_argument("--encoder", help="the frozen encoder, an official-layout export (default: the recipe's "
                                          "architecture at random initialisation; the timing does not depend on it)")
    add_out_argument(parser)
    a = parser.parse_args(argv)
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="probe_cache_"))
    results, walls = {}, {}
    for name, cfg in configs(a, str(folder / "cache")).items():
        results[name], walls[name] = run(name, cfg, folder)
        print(f"{name:9s} {walls[name]:7.1f} s  best top1 {results[name]['metrics']['top1']['value']:.4f}", flush=True)
    heads = {k: [h["top1"] for h in r["heads"]] for k, r in results.items()}
    diff = max(abs(u - c) for u, c in zip(heads["uncached"], heads["cached"]))
    speedup = walls["uncached"] / walls["cached"]
    record = {"benchmark": "probe_cache", "command": command(__file__, argv), "machine": machine(),
              "recipe": RECIPE, "settings": {**vars(a), "out": str(a.out), "heads": 20},
              "wall_s": {k: round(v, 1) for k, v in walls.items()}, "speedup_ratio": round(speedup, 2),
              "goal_speedup": 5.0,
              "met": speedup >= 5.0, "best_top1": {k: r["metrics"]["top1"] for k, r in results.items()},
              "per_head_top1": heads, "max_abs_head_top1_diff": diff}
    print(f"speed-up {speedup:.2f}x (goal 5x); max per-head top-1 difference {diff:.4f}")
    print(f"wrote {write_record(a.out, 'probe_cache', record)}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
