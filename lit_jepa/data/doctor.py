"""``lit-jepa data check PATH``: decode what training will read from every entry of an annotation file and say
which fail and why.

The format is inferred from the file when ``--format`` is omitted (the official CSV list by default). By default every
clip window training or evaluation can place in each entry under the clip spec (``--frames``, ``--frame-step`` or
``--fps``, ``--segments``) is read, each as its own seek and decode, as a training draw would; ``--windows ends``
reads only the first, the centred and the last one. The cost per window is reported (with the whole scan's estimate
under ``--windows ends``). Failures are grouped by reason (missing, unreadable header, corrupt, too short for the clip
spec) and listed with the first failing window (the first 50, then a count). Exit status 0 once the scan completed,
2 when the annotation file itself is unusable. ``--clip`` prints the frame indices and shapes of the first readable
entry's evaluation sample.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter

import numpy as np

from lit_jepa.data.datasets import AnnotationError, add_annotation_arguments, open_annotation, spec_from_arguments
from lit_jepa.data.decode import READERS, REASONS, SampleError
from lit_jepa.progress import progress_bar

MAX_LISTED = 50


def _describe(sample: dict) -> str:
    lines = [f"  frame_indices: {sample['frame_indices'].tolist()}"]
    for k, v in sample.items():
        value = f" = {v.item()}" if v.ndim == 0 else ""
        lines.append(f"  {k}: {tuple(v.shape)} {str(v.dtype).replace('torch.', '')}{value}")
    return "\n".join(lines)


def _read_windows(dataset, index: int, which: str, seconds: list[float]) -> int:
    """Read the clip windows of entry ``index`` (``all`` or ``ends``), appending each read's seconds; returns how
    many windows ``all`` holds. A failing window raises its :class:`SampleError`, naming the window."""
    windows = dataset.windows(index)
    chosen = windows if which == "all" else windows[np.unique([0, len(windows) // 2, len(windows) - 1])]
    for w in chosen:
        start = time.perf_counter()
        try:
            dataset.load(index, None, w[None])
        except SampleError as e:
            k = int(np.flatnonzero((windows == w).all(axis=1))[0])
            raise SampleError(e.path, e.reason, f"{e.detail}; window {k + 1} of {len(windows)}: frames "
                              f"{w[0]}..{w[-1]}".lstrip("; ")) from e
        seconds.append(time.perf_counter() - start)
    return len(windows)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lit-jepa data check", description=__doc__.split("\n\n")[0])
    p.add_argument("path", help="annotation file (or image folder)")
    add_annotation_arguments(p)
    p.add_argument("--reader", default="pyav", choices=sorted(READERS), help="video reader")
    p.add_argument("--windows", default="all", choices=("all", "ends"),
                   help="clip windows read per entry: every one training can place, or the first, centred and last")
    p.add_argument("--clip", action="store_true", help="print the frame indices and shapes of one sample")
    a = p.parse_args(argv)
    try:
        spec = spec_from_arguments(a)
        dataset = open_annotation(a.path, a.format, spec=spec, video_root=a.video_root, train=False, reader=a.reader)
    except (AnnotationError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed: list[tuple[str, SampleError]] = []
    readable: list[int] = []
    seconds: list[float] = []
    total_windows = 0
    for i in progress_bar(len(dataset), f"checking {a.path}", "entry", iterable=range(len(dataset))):
        try:
            total_windows += _read_windows(dataset, i, a.windows, seconds)
            readable.append(i)
        except SampleError as e:
            failed.append((dataset.entries[i].source, e))
    n = len(dataset)
    print(f"{a.path} ({type(dataset).__name__}, {n} entries): {n - len(failed)} readable, {len(failed)} failed")
    if seconds:
        per_window = statistics.median(seconds)
        line = (f"  {len(seconds)} clip windows read ({a.windows}): {1000 * per_window:.1f} ms per window (median), "
                f"{sum(seconds):.1f} s in all")
        if a.windows == "ends":
            line += f"; all {total_windows} windows of the readable entries: about {per_window * total_windows:.0f} s"
        print(line)
    counts = Counter(e.reason for _, e in failed)
    for reason in REASONS:
        if counts[reason]:
            print(f"  {reason}: {counts[reason]}")
    for source, e in failed[:MAX_LISTED]:
        print(f"  {source}: {e}")
    if len(failed) > MAX_LISTED:
        print(f"  ... and {len(failed) - MAX_LISTED} more")
    if a.clip:
        example = dataset.load(readable[0], None) if readable else None
        print("one sample:\n" + _describe(example) if example else "one sample: none is readable")
    return 0
