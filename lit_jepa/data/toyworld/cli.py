"""``lit-jepa data toyworld --task NAME --out DIR --num N --seed S``: write a ToyWorld dataset to disk."""

from __future__ import annotations

import argparse
import time

from tqdm import tqdm

from lit_jepa.data.toyworld.writers import ANNOTATIONS, WRITERS, generate, split_counts


def main(argv: list[str]) -> int:
    """Parse ``argv`` (the arguments after ``toyworld``), generate, print where the annotations are; returns 0."""
    parser = argparse.ArgumentParser(prog="lit-jepa data toyworld", description=__doc__)
    parser.add_argument("--task", required=True, choices=sorted(WRITERS))
    parser.add_argument("--out", required=True, help="output folder: absent or empty (created in one step)")
    parser.add_argument("--num", type=int, default=240, help="training videos or trajectories (default 240)")
    parser.add_argument("--num-val", type=int, default=None, help="validation videos (default num // 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=64, help="frame size in pixels (even)")
    args = parser.parse_args(argv)
    counts = split_counts(args.num, args.num_val)
    frames, start = 0, time.perf_counter()
    with tqdm(total=sum(counts.values()), unit="video", desc=f"toyworld {args.task}") as bar:

        def progress(n: int) -> None:
            nonlocal frames
            frames += n
            bar.update(1)

        out = generate(args.task, args.out, args.num, args.seed, counts["val"], args.resolution, progress)
    seconds = time.perf_counter() - start
    print(f"wrote {frames} frames in {seconds:.1f} s ({frames / seconds:.0f} frames/s) to {out}")
    for split, name in ANNOTATIONS[args.task].items():
        print(f"  {split}: {out / name}")
    return 0
