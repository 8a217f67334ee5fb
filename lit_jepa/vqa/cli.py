"""``lit-jepa data toyvqa --out DIR --num N --seed S``: write the ToyWorld VQA dataset (JSONL + MP4) to disk.

Writes ``train.jsonl``, ``val.jsonl``, the videos under ``videos/<split>/`` and ``toyvqa.json`` (the parameters)
into ``out`` (see :mod:`lit_jepa.data.vqa.toy`), then prints the JSONL paths and the questions per kind.
"""

from __future__ import annotations

import time
from collections import Counter

from lit_jepa.data.toyworld.writers import split_counts
from lit_jepa.data.vqa.formats import read_jsonl
from lit_jepa.data.vqa.toy import generate_toyvqa


def toyvqa(out: str, num: int = 960, num_val: int | None = None, seed: int = 0, resolution: int = 64) -> int:
    """``lit-jepa data toyvqa``: generate the ToyWorld VQA dataset, print the files and kind counts; returns 0.

    Args:
        out: output folder: absent or empty (created in one step).
        num: training questions, one video each.
        num_val: validation questions (default ``num // 4``).
        seed: generator seed.
        resolution: frame size in pixels (even).
    """
    if num < 1 or (num_val is not None and num_val < 1):
        raise ValueError(f"lit-jepa data toyvqa: num and num_val must be at least 1, got {num} and {num_val}")
    start = time.perf_counter()
    folder = generate_toyvqa(out, num, num_val, seed, resolution)
    total = sum(split_counts(num, num_val).values())
    print(f"wrote {total} questions and videos in {time.perf_counter() - start:.1f} s to {folder}")
    for split in ("train", "val"):
        path = folder / f"{split}.jsonl"
        kinds = Counter(item.kind for item in read_jsonl(path))
        print(f"  {split}: {path} ({sum(kinds.values())} questions: "
              + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())) + ")")
    return 0
