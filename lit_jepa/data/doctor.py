"""``lit-jepa data check PATH``: decode every entry of an annotation file and say which fail and why.

The format is inferred from the file when ``--format`` is omitted (the official CSV list by default). Each entry
is read as one evaluation sample of the clip spec (``--frames``, ``--frame-step`` or ``--fps``, ``--segments``);
failures are grouped by reason (missing, unreadable header, corrupt, too short for the clip spec) and listed
(the first 50, then a count). Exit status 0 once the scan completed, 2 when the annotation file itself is
unusable. ``--clip`` prints the frame indices and shapes the first readable sample produces.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from tqdm import tqdm

from lit_jepa.data.datasets import AnnotationError, add_annotation_arguments, open_annotation, spec_from_arguments
from lit_jepa.data.decode import READERS, REASONS, SampleError

MAX_LISTED = 50


def _describe(sample: dict) -> str:
    lines = [f"  frame_indices: {sample['frame_indices'].tolist()}"]
    for k, v in sample.items():
        value = f" = {v.item()}" if v.ndim == 0 else ""
        lines.append(f"  {k}: {tuple(v.shape)} {str(v.dtype).replace('torch.', '')}{value}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lit-jepa data check", description=__doc__.split("\n\n")[0])
    p.add_argument("path", help="annotation file (or image folder)")
    add_annotation_arguments(p)
    p.add_argument("--reader", default="pyav", choices=sorted(READERS), help="video reader")
    p.add_argument("--clip", action="store_true", help="print the frame indices and shapes of one sample")
    a = p.parse_args(argv)
    try:
        spec = spec_from_arguments(a)
        dataset = open_annotation(a.path, a.format, spec=spec, video_root=a.video_root, train=False, reader=a.reader)
    except (AnnotationError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed: list[tuple[str, SampleError]] = []
    example = None
    for i in tqdm(range(len(dataset)), desc=f"checking {a.path}", unit="entry", file=sys.stderr):
        try:
            sample = dataset.load(i, None)
            example = example or sample
        except SampleError as e:
            failed.append((dataset.entries[i].source, e))
    n = len(dataset)
    print(f"{a.path} ({type(dataset).__name__}, {n} entries): {n - len(failed)} readable, {len(failed)} failed")
    counts = Counter(e.reason for _, e in failed)
    for reason in REASONS:
        if counts[reason]:
            print(f"  {reason}: {counts[reason]}")
    for source, e in failed[:MAX_LISTED]:
        print(f"  {source}: {e}")
    if len(failed) > MAX_LISTED:
        print(f"  ... and {len(failed) - MAX_LISTED} more")
    if a.clip:
        print("one sample:\n" + _describe(example) if example else "one sample: none is readable")
    return 0
