"""``lit-jepa data toyworld --task NAME --out DIR --num N --seed S``: write a ToyWorld dataset to disk."""

from __future__ import annotations

import time

from tqdm import tqdm

from lit_jepa.data.toyworld.writers import ANNOTATIONS, WRITERS, generate, split_counts


def toyworld(task: str, out: str, num: int = 240, num_val: int | None = None, seed: int = 0,
             resolution: int = 64) -> int:
    """``lit-jepa data toyworld``: generate a ToyWorld dataset, print where the annotations are; returns 0.

    Args:
        task: the ToyWorld task written: anticipation, fine, motion or tabletop
            (:data:`~lit_jepa.data.toyworld.writers.WRITERS`).
        out: output folder: absent or empty (created in one step).
        num: training videos or trajectories.
        num_val: validation videos (default ``num // 4``).
        seed: generator seed.
        resolution: frame size in pixels (even).
    """
    if task not in WRITERS:
        raise ValueError(f"unknown ToyWorld task {task!r}; expected one of {sorted(WRITERS)}")
    counts = split_counts(num, num_val)
    frames, start = 0, time.perf_counter()
    with tqdm(total=sum(counts.values()), unit="video", desc=f"toyworld {task}") as bar:

        def progress(n: int) -> None:
            nonlocal frames
            frames += n
            bar.update(1)

        folder = generate(task, out, num, seed, counts["val"], resolution, progress)
    seconds = time.perf_counter() - start
    print(f"wrote {frames} frames in {seconds:.1f} s ({frames / seconds:.0f} frames/s) to {folder}")
    for split, name in ANNOTATIONS[task].items():
        print(f"  {split}: {folder / name}")
    return 0
