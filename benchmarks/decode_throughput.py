"""Decoding throughput of the data layer: clips per second for 16-frame clips at frame step 4 from 256-px videos.

Writes its own test videos (h264 and mpeg4 where the bundled FFmpeg encodes them) into a temporary folder, reads
random training clips through the dataset path (``CsvVideoList`` -> PyAV reader -> sampler, no spatial transform),
prints a table naming the machine and writes ``decode_throughput.json`` to ``--out`` (default ``runs/benchmarks``).

    python benchmarks/decode_throughput.py [--videos 8] [--frames 128] [--seconds 10] [--workers 0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch
from torch.utils.data import DataLoader

from lit_jepa.bench.common import add_out_argument, command, machine, write_record
from lit_jepa.data.datasets import CsvVideoList
from lit_jepa.data.loader import collate_clips
from lit_jepa.data.sampling import ClipSpec

CODECS = {"h264": "libx264", "mpeg4": "mpeg4"}


def write_video(path: str, codec: str, num_frames: int, size: int = 256, fps: int = 30) -> None:
    """A textured moving pattern (not flat colour, so the codec does real work)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    noise = np.random.default_rng(0).integers(0, 40, (size, size, 1), dtype=np.uint8)
    with av.open(path, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for t in range(num_frames):
            base = 127 + 100 * np.sin((xx + 3 * t) / 17.0)[..., None] * np.cos((yy - 2 * t) / 23.0)[..., None]
            img = np.clip(base + noise + np.array([0, 30, 60]), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def measure(annotation: str, seconds: float, workers: int) -> dict[str, float]:
    """Random 16x4 training clips for ``seconds`` (after a warm-up pass that fills the probe cache), timed per
    epoch over the videos; clips/s is the median epoch's (the machine is shared: epochs hit by other load vary)."""
    dataset = CsvVideoList(annotation, spec=ClipSpec(frames_per_clip=16, frame_step=4), train=True)
    loader = DataLoader(dataset, batch_size=1, shuffle=True, num_workers=workers, collate_fn=collate_clips,
                        persistent_workers=workers > 0)
    for _ in loader:  # warm-up
        pass
    rates, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        for batch in loader:
            assert batch["video"].shape[1:] == (1, 3, 16, 256, 256) and not batch["failures"]
        rates.append(len(dataset) / (time.perf_counter() - t0))
    return {"clips": len(rates) * len(dataset), "clips_per_s": round(statistics.median(rates), 1),
            "ms_per_clip": round(1000 / statistics.median(rates), 1),
            "clips_per_s_min_max": [round(min(rates), 1), round(max(rates), 1)]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--videos", type=int, default=8, help="videos per codec")
    p.add_argument("--frames", type=int, default=128, help="frames per video")
    p.add_argument("--seconds", type=float, default=10.0, help="measurement time per codec")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    add_out_argument(p)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    where = {**machine(), "load_average_1min_at_start": round(os.getloadavg()[0], 2)}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, codec in CODECS.items():
            if codec not in av.codecs_available:
                print(f"{name}: encoder {codec} not available, skipped", file=sys.stderr)
                continue
            paths = [os.path.join(tmp, f"{name}_{i}.mp4") for i in range(a.videos)]
            for path in paths:
                write_video(path, codec, a.frames)
            annotation = os.path.join(tmp, f"{name}.csv")
            Path(annotation).write_text("".join(f"{path} 0\n" for path in paths))
            rows[name] = measure(annotation, a.seconds, a.workers)
    record = {
        "benchmark": "decode_throughput",
        "command": command(__file__, argv),
        "protocol": f"16-frame clips, frame step 4, random training placement, {a.videos} videos x {a.frames} "
                    f"frames of 256x256 at 30 fps per codec, PyAV reader, batch 1, {a.workers} loader workers",
        "machine": where,
        "versions": {"av": av.__version__, "libavcodec": ".".join(map(str, av.library_versions["libavcodec"]))},
        "results": rows,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"machine: {where['platform']}, {where.get('cpu_model', where['processor'])}, {where['cpu_count']} CPUs, "
          f"load {where['load_average_1min_at_start']}")
    print(f"{'codec':<8}{'clips/s':>10}{'ms/clip':>10}{'min-max clips/s':>18}{'clips':>8}")
    for name, r in rows.items():
        spread = "{} - {}".format(*r["clips_per_s_min_max"])
        print(f"{name:<8}{r['clips_per_s']:>10}{r['ms_per_clip']:>10}{spread:>18}{r['clips']:>8}")
    print(f"written {write_record(a.out, 'decode_throughput', record)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
