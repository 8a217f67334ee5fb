"""``lit-jepa data toyvqa --out DIR --num N --seed S``: write the ToyWorld VQA dataset (JSONL + MP4) to disk.

Writes ``train.jsonl``, ``val.jsonl``, the videos under ``videos/<split>/`` and ``toyvqa.json`` (the parameters)
into ``--out`` (see :mod:`lit_jepa.data.vqa.toy`), then prints the JSONL paths and the questions per kind.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from lit_jepa.data.toyworld.writers import split_counts
from lit_jepa.data.vqa.formats import read_jsonl
from lit_jepa.data.vqa.toy import generate_toyvqa


def main(argv: list[str]) -> int:
    """Parse ``argv`` (the arguments after ``toyvqa``), generate, print the files and kind counts; returns 0."""
    parser = argparse.ArgumentParser(prog="lit-jepa data toyvqa", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", "--root", dest="out", required=True,
                        help="output folder: absent or empty (created in one step)")
    parser.add_argument("--num", type=int, default=960, help="training questions, one video each (default 960)")
    parser.add_argument("--num-val", type=int, default=None, help="validation questions (default num // 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=64, help="frame size in pixels (even)")
    args = parser.parse_args(argv)
    if args.num < 1 or (args.num_val is not None and args.num_val < 1):
        parser.error("--num and --num-val must be at least 1")
    start = time.perf_counter()
    out = generate_toyvqa(args.out, args.num, args.num_val, args.seed, args.resolution)
    total = sum(split_counts(args.num, args.num_val).values())
    print(f"wrote {total} questions and videos in {time.perf_counter() - start:.1f} s to {out}")
    for split in ("train", "val"):
        path = out / f"{split}.jsonl"
        kinds = Counter(item.kind for item in read_jsonl(path))
        print(f"  {split}: {path} ({sum(kinds.values())} questions: "
              + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())) + ")")
    return 0
