"""ToyWorld generation speed on one core: frames/s per task, rendering only and rendering + MP4 writing.

Run ``python benchmarks/toyworld_generation.py [--num N]``; prints a table and the machine, and writes
``toyworld_generation.json`` to ``--out`` (default ``runs/benchmarks``). numpy and torch run on one thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from lit_jepa.bench.common import add_out_argument, command, machine, write_record  # noqa: E402
from lit_jepa.data.toyworld import ToyAnticipation, ToyClips, ToyTrajectories, generate  # noqa: E402
from lit_jepa.data.toyworld.memory import CLIP_TASKS  # noqa: E402
from lit_jepa.data.toyworld.tasks.anticipation import AnticipationTask  # noqa: E402
from lit_jepa.data.toyworld.tasks.tabletop import trajectory  # noqa: E402


def _render_only(task: str, num: int) -> tuple[int, float]:
    """Frames rendered and seconds for ``num`` full videos (what ``generate`` renders, without encoding)."""
    start, frames = time.perf_counter(), 0
    for i in range(num):
        if task in ("motion", "fine"):
            frames += CLIP_TASKS[task]().sample(0, "train", i)[0].render().shape[0]
        elif task == "anticipation":
            frames += AnticipationTask().episode(0, "train", i).scene.render().shape[0]
        else:
            frames += trajectory(0, "train", i).frames.shape[0]
    return frames, time.perf_counter() - start


def _written(task: str, num: int) -> tuple[int, float]:
    """Frames written and seconds for ``generate`` (render + H.264 + annotations), train split ``num``."""
    frames = [0]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate(task, Path(tmp) / task, num, 0, num_val=0, progress=lambda n: frames.__setitem__(0, frames[0] + n))
        return frames[0], time.perf_counter() - start


def _memory_samples(task: str, num: int) -> float:
    """In-memory dataset samples per second (what fast tests and toy training read)."""
    data = {"motion": ToyClips("motion", num), "fine": ToyClips("fine", num), "anticipation": ToyAnticipation(num),
            "tabletop": ToyTrajectories(num)}[task]
    start = time.perf_counter()
    for i in range(num):
        data[i]
    return num / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num", type=int, default=48, help="videos per task (anticipation: a quarter)")
    add_out_argument(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    where = machine()
    print(f"machine: {where}")
    rows = {}
    for task in ("motion", "anticipation", "fine", "tabletop"):
        num = max(args.num // 4, 2) if task == "anticipation" else args.num
        r_frames, r_sec = _render_only(task, num)
        w_frames, w_sec = _written(task, num)
        rows[task] = {
            "videos": num, "frames": w_frames, "render_fps": round(r_frames / r_sec, 1),
            "write_fps": round(w_frames / w_sec, 1), "memory_samples_per_s": round(_memory_samples(task, num), 1),
        }
    print(f"{'task':<13}{'videos':>7}{'frames':>8}{'render f/s':>12}{'render+mp4 f/s':>16}{'memory samples/s':>18}")
    for task, r in rows.items():
        print(f"{task:<13}{r['videos']:>7}{r['frames']:>8}{r['render_fps']:>12}{r['write_fps']:>16}"
              f"{r['memory_samples_per_s']:>18}")
    record = {"benchmark": "toyworld_generation", "command": command(__file__, argv), "resolution": 64,
              "threads": 1, "machine": where, "tasks": rows}
    print(f"record: {write_record(args.out, 'toyworld_generation', record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
