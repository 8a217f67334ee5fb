"""``lit-jepa data check PATH``: decode what training will read from every entry of an annotation file and say
which fail and why.

The format is inferred from the file when ``--format`` is omitted (the official CSV list by default). By default every
clip window training or evaluation can place in each entry under the clip spec (``--spec.frames_per_clip``,
``--spec.frame_step`` or ``--spec.fps``, ``--spec.num_segments``: the ``spec`` of a recipe's dataset) is read, each
as its own seek and decode, as a training draw would; ``--windows ends``
reads only the first, the centred and the last one. The cost per window is reported (with the whole scan's estimate
under ``--windows ends``). Failures are grouped by reason (missing, unreadable header, corrupt, too short for the clip
spec) and listed with the first failing window (the first 50, then a count). Exit status 0 once the scan completed,
2 when the annotation file itself is unusable. ``--clip`` prints the frame indices and shapes of the first readable
entry's evaluation sample.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from typing import Literal

import numpy as np

from lit_jepa.data.datasets import AnnotationError, open_annotation
from lit_jepa.data.decode import REASONS, SampleError
from lit_jepa.data.sampling import ClipSpec
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


def check(path: str, format: str | None = None, video_root: str | None = None, spec: ClipSpec | None = None,
          reader: str = "pyav", windows: Literal["all", "ends"] = "all", clip: bool = False) -> int:
    """``lit-jepa data check``: read every entry of an annotation file as training would (module docstring).

    Args:
        path: annotation file (or image folder).
        format: annotation format (csv, ssv2, diving48, ek100, droid, image_folder; default: inferred).
        video_root: folder relative video paths are resolved against.
        spec: the clip spec, as a recipe's dataset takes it (default: 16 frames, frame step 4, one segment and view).
        reader: video reader (:data:`lit_jepa.data.decode.READERS`).
        windows: clip windows read per entry: every one training can place (``all``), or the first, centred and
            last (``ends``).
        clip: print the frame indices and shapes of one sample.
    """
    try:
        dataset = open_annotation(path, format, spec=spec or ClipSpec(), video_root=video_root, train=False,
                                  reader=reader)
    except (AnnotationError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed: list[tuple[str, SampleError]] = []
    readable: list[int] = []
    seconds: list[float] = []
    total_windows = 0
    for i in progress_bar(len(dataset), f"checking {path}", "entry", iterable=range(len(dataset))):
        try:
            total_windows += _read_windows(dataset, i, windows, seconds)
            readable.append(i)
        except SampleError as e:
            failed.append((dataset.entries[i].source, e))
    n = len(dataset)
    print(f"{path} ({type(dataset).__name__}, {n} entries): {n - len(failed)} readable, {len(failed)} failed")
    if seconds:
        per_window = statistics.median(seconds)
        line = (f"  {len(seconds)} clip windows read ({windows}): {1000 * per_window:.1f} ms per window (median), "
                f"{sum(seconds):.1f} s in all")
        if windows == "ends":
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
    if clip:
        example = dataset.load(readable[0], None) if readable else None
        print("one sample:\n" + _describe(example) if example else "one sample: none is readable")
    return 0
