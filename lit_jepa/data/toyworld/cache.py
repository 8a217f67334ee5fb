"""Generate-once cache of ToyWorld datasets, for DataModules that are given no data path."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from lit_jepa.data.toyworld.writers import ANNOTATIONS, generate, split_counts

FORMAT_VERSION = 1  # bump when generated content changes, so old caches are not reused


def cache_root() -> Path:
    """``$LIT_JEPA_CACHE/toyworld``, default ``~/.cache/lit_jepa/toyworld``."""
    return Path(os.environ.get("LIT_JEPA_CACHE", "~/.cache/lit_jepa")).expanduser() / "toyworld"


def ensure_generated(
    task: str, root: str | Path | None = None, num: int = 240, seed: int = 0, split: str = "train",
    num_val: int | None = None, resolution: int = 64,
) -> Path:
    """Generate ``task`` unless already there, and return the annotation file of ``split`` (train or val).

    Without ``root`` the data goes to ``cache_root() / "<task>-<hash of the parameters>"``; an incomplete cache
    folder (no ``toyworld.json``, e.g. after an interrupted run) is removed and regenerated. A given ``root``
    that holds a dataset made with other parameters is an error, never overwritten. Call it from one process
    (``prepare_data``) when training on several.
    """
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    params = {"task": task, "num": num, "seed": seed, "num_val": num_val, "resolution": resolution,
              "format": FORMAT_VERSION}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    out = Path(root) if root is not None else cache_root() / f"{task}-{key}"
    manifest = out / "toyworld.json"
    if manifest.is_file():
        found = json.loads(manifest.read_text())
        wanted = {"task": task, "seed": seed, "resolution": resolution,
                  "num": split_counts(num, num_val)}
        diff = {k: (found.get(k), v) for k, v in wanted.items() if found.get(k) != v}
        if diff:
            raise ValueError(f"{manifest}: dataset made with other parameters (found, wanted): {diff}")
    else:
        if root is None and out.exists():
            shutil.rmtree(out)
        generate(task, out, num, seed, num_val, resolution)
    return out / ANNOTATIONS[task][split]
