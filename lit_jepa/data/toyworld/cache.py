"""Generate-once cache of ToyWorld datasets, for DataModules that are given no data path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from lit_jepa.atomic import once
from lit_jepa.data.toyworld.writers import ANNOTATIONS, MANIFEST, generate, split_counts
from lit_jepa.progress import progress_bar

FORMAT_VERSION = 1  # bump when generated content changes, so old caches are not reused


def cache_root() -> Path:
    """``$LIT_JEPA_CACHE/toyworld``, default ``~/.cache/lit_jepa/toyworld``."""
    return Path(os.environ.get("LIT_JEPA_CACHE", "~/.cache/lit_jepa")).expanduser() / "toyworld"


def ensure_generated(
    task: str, root: str | Path | None = None, num: int = 240, seed: int = 0, split: str = "train",
    num_val: int | None = None, resolution: int = 64,
) -> Path:
    """Generate ``task`` unless already there, and return the annotation file of ``split`` (train or val).

    Without ``root`` the data goes to ``cache_root() / "<task>-<hash of the parameters>"``. A given ``root``
    that holds a dataset made with other parameters is an error, never overwritten. Safe from any number of
    processes at once (several ``fit`` runs, every rank of a multi-node job on a shared file system): the first
    generates under a file lock ``.<folder>.lock`` beside the dataset, the others wait and reuse its result; a
    complete dataset is read without taking the lock.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    params = {"task": task, "num": num, "seed": seed, "num_val": num_val, "resolution": resolution,
              "format": FORMAT_VERSION}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    out = Path(root) if root is not None else cache_root() / f"{task}-{key}"
    manifest = out / MANIFEST

    def make() -> None:
        if root is None and out.exists():  # left by a version that generated in place
            shutil.rmtree(out)
        counts = split_counts(num, num_val)
        with progress_bar(sum(counts.values()), f"generating ToyWorld {task} in {out}", "video") as bar:
            generate(task, out, num, seed, num_val, resolution, lambda frames: bar.update())

    once(out, MANIFEST, make)
    found = json.loads(manifest.read_text())
    wanted = {"task": task, "seed": seed, "resolution": resolution, "num": split_counts(num, num_val)}
    diff = {k: (found.get(k), v) for k, v in wanted.items() if found.get(k) != v}
    if diff:
        raise ValueError(f"{manifest}: dataset made with other parameters (found, wanted): {diff}")
    return out / ANNOTATIONS[task][split]
