"""Shared helpers for benchmark scripts and run kinds: machine description, timing, JSON records, run folders."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from lit_jepa.atomic import atomic_write_json


def machine() -> dict:
    """Where a figure was measured."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return info


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(fns: dict[str, Callable[[], None]], repeats: int, device: torch.device) -> dict[str, float]:
    """Median seconds per call of each function, calls interleaved so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def add_out_argument(parser: argparse.ArgumentParser) -> None:
    """``--out DIR``: where a benchmark script writes its JSON record and any scratch files (never tracked files)."""
    parser.add_argument("--out", type=Path, default=Path("runs/benchmarks"),
                        help="folder for the JSON record and scratch files (default: runs/benchmarks)")


def write_record(out: Path, name: str, record: dict) -> Path:
    """Write ``record`` to ``out/<name>.json`` atomically (a reader never sees half a record).

    Args:
        out: the script's ``--out`` folder.
        name: the record's file name without ``.json``.
        record: the JSON-serialisable record.
    """
    return atomic_write_json(Path(out) / f"{name}.json", record, indent=2)


def command(script: str, argv: list[str] | None) -> str:
    """The command line that reproduces a figure: ``python <script> <args>``, the script relative to the current
    directory where it lies below it (``benchmarks/encoder_throughput.py`` from a clone's root).

    Args:
        script: the script's ``__file__``.
        argv: its arguments (None: ``sys.argv[1:]``).
    """
    import sys

    path, here = Path(script).resolve(), Path.cwd().resolve()
    shown = path.relative_to(here) if path.is_relative_to(here) else path
    return " ".join(["python", str(shown), *(sys.argv[1:] if argv is None else argv)])


def clear_run_folder(log_dir: Path) -> None:
    """Remove what an earlier, unfinished try of a run left in its own log folder (a run is redone only when its
    record is missing, failed or stale), so that its curves and checkpoints are this try's alone."""
    if log_dir.exists():
        print(f"removing {log_dir}: left by an earlier try of this run", flush=True)
        shutil.rmtree(log_dir)
