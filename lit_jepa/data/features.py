"""Frozen-feature cache: run the frozen encoder once per (sample, view), train many probe epochs from disk.

:class:`FeatureCacheDataModule` wraps any clip DataModule. On the first request for a split's loader (the model is
then on its device) it runs the task module's ``clip_features(video)`` over the wrapped split once, in evaluation
order, and stores the result as memory-mapped ``.npy`` arrays (``(n, V, N, D)`` features plus the integer targets)
under ``cache_dir/<key>/``, where the key hashes the module's ``feature_signature()`` (encoder and predictor
sha256, output layers, ...) and the data (class, entries, clip spec, transforms). Later runs with the same key
reuse the files. Under DDP each rank extracts its own unpadded shard (``<split>.rank<r>.npy``); every rank then
reads all shards, so each sample is stored once and validated once.

The cache is only valid without training augmentation: random CPU or batch transforms raise an error. A training
split with random clip placement (``ClipSpec`` partitions longer than a clip) is frozen at the first epoch's
placement.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, Dataset

from lit_jepa.data.datamodule import ClipDataModule
from lit_jepa.data.loader import ResumableSampler, collate_clips
from lit_jepa.data.transforms import RandomResizedCrop
from lit_jepa.progress import progress_bar

TARGETS = ("label", "verb", "noun", "action")


def _describe(dataset: Dataset) -> dict[str, Any]:
    """What makes a dataset's clips: class, length, entries (paths and labels), clip spec and transform."""
    entries = getattr(dataset, "entries", None)
    return {"class": type(dataset).__qualname__, "len": len(dataset), "spec": repr(getattr(dataset, "spec", None)),
            "transform": repr(getattr(dataset, "transform", None)), "train": getattr(dataset, "train", None),
            "entries": hashlib.sha256(repr(entries).encode()).hexdigest() if entries is not None else None}


def check_no_augmentation(data: ClipDataModule) -> None:
    """Raise if the wrapped DataModule augments training clips (cached features would freeze one draw)."""
    bt, train = data.batch_transform, data.datasets.get("train")
    problems = []
    if bt.crop is not None or bt.rand_augment is not None or bt.erase_prob > 0:
        problems.append("batch_transform has crop_size/rand_augment/erase_prob")
    if isinstance(getattr(train, "transform", None), RandomResizedCrop):
        problems.append("the train dataset's transform is a RandomResizedCrop")
    if problems:
        raise ValueError(f"FeatureCacheDataModule: training augmentation is on ({'; '.join(problems)}); the feature "
                         "cache needs deterministic training clips; remove the augmentation or train without the "
                         "cache (use the DataModule directly)")


class CachedFeatures(Dataset):
    """Samples ``{"features": (V, N, D) float32, "index", <targets>}`` read from the shards of one split."""

    def __init__(self, shard_files: list[Path]) -> None:
        self.shards = [(np.load(f, mmap_mode="r"), np.load(f.with_suffix(".targets.npz"))) for f in shard_files]
        index = np.concatenate([t["index"] for _, t in self.shards])
        shard_of = np.concatenate([np.full(len(t["index"]), i) for i, (_, t) in enumerate(self.shards)])
        row = np.concatenate([np.arange(len(t["index"])) for _, t in self.shards])
        order = np.argsort(index, kind="stable")
        if not np.array_equal(index[order], np.arange(len(index))):
            raise ValueError(f"{shard_files[0].parent}: the cache shards do not hold samples 0..n-1 exactly once; "
                             "delete the folder to rebuild it")
        self.location = list(zip(shard_of[order].tolist(), row[order].tolist()))
        self.target_names = [k for k in TARGETS if k in self.shards[0][1]]

    def __len__(self) -> int:
        return len(self.location)

    def __getitem__(self, i: int) -> dict[str, Any]:
        s, r = self.location[i]
        features, targets = self.shards[s]
        sample = {"features": torch.from_numpy(np.array(features[r], dtype=np.float32)), "index": torch.tensor(i)}
        sample.update({k: torch.tensor(int(targets[k][r])) for k in self.target_names})
        return sample


class FeatureCacheDataModule(L.LightningDataModule):
    """Serve frozen features instead of clips (see the module docstring).

    Args:
        data: the clip DataModule to cache (its datasets, batch transform and label counts are used).
        cache_dir: folder of the caches, one sub-folder per key.
        dtype: storage precision (``float16`` halves the disk and read cost).
        batch_size: probe batch size (default: the wrapped module's).
        extract_batch_size: clips per encoder call in the extraction pass (default: the wrapped batch size).
        num_workers: workers of the extraction loader (the cached loaders read memory maps in the main process).

    Training batches follow the wrapped DataModule's order (same sampler and seed), so a cached run trains on the
    batches an uncached run would.
    """

    def __init__(self, data: ClipDataModule, cache_dir: str = "runs/feature_cache",
                 dtype: Literal["float16", "float32"] = "float16", batch_size: int | None = None,
                 extract_batch_size: int | None = None, num_workers: int | None = None) -> None:
        super().__init__()
        self.data, self.cache_dir, self.dtype = data, Path(cache_dir), dtype
        self.batch_size = batch_size or data.batch_size
        self.extract_batch_size = extract_batch_size or data.batch_size
        self.num_workers = data.num_workers if num_workers is None else num_workers
        self.cached: dict[str, CachedFeatures] = {}

    # label counts of the wrapped data, for the task module
    @property
    def num_classes(self) -> int:
        return self.data.num_classes

    @property
    def class_names(self) -> list[str]:
        return self.data.class_names

    @property
    def num_verbs(self) -> int:
        return self.data.num_verbs

    @property
    def num_nouns(self) -> int:
        return self.data.num_nouns

    def prepare_data(self) -> None:
        self.data.prepare_data()

    def setup(self, stage: str) -> None:
        self.data.trainer = self.trainer
        self.data.setup(stage)
        check_no_augmentation(self.data)

    def _replicas(self) -> tuple[int, int]:
        t = self.trainer
        return (t.world_size, t.global_rank) if t is not None else (1, 0)

    def folder(self, split: str, module: L.LightningModule) -> Path:
        key = {"features": module.feature_signature(), "data": _describe(self.data.datasets[split]),
               "dtype": self.dtype}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return self.cache_dir / f"{split}-{digest}"

    @torch.no_grad()
    def extract(self, split: str, module: L.LightningModule, folder: Path, rank: int, replicas: int) -> None:
        """Compute and store this rank's shard of ``split``."""
        dataset = self.data.datasets[split]
        sampler = ResumableSampler(dataset, shuffle=False, num_replicas=replicas, rank=rank, pad=False)
        loader = DataLoader(dataset, batch_size=self.extract_batch_size, sampler=sampler,
                            num_workers=self.num_workers, collate_fn=collate_clips)
        out, n = folder / f"rank{rank}.npy", len(loader.sampler)
        features, targets, indices, row, skipped = None, {}, [], 0, 0
        bar = progress_bar(len(loader), f"caching {split} features", "batch", disable=rank != 0, iterable=loader)
        for batch in bar:
            skipped += len(batch.pop("failures", []))
            video = self.data.batch_transform.to(module.device)(batch["video"].to(module.device), training=False)
            f = module.clip_features(video).cpu().numpy()
            if features is None:
                features = np.lib.format.open_memmap(out, mode="w+", dtype=self.dtype, shape=(n, *f.shape[1:]))
            features[row:row + len(f)] = f
            row += len(f)
            indices.append(batch["index"].numpy())
            for k in TARGETS:
                if k in batch:
                    targets.setdefault(k, []).append(batch[k].numpy())
        if features is None:
            raise ValueError(f"{split}: rank {rank} got no samples to cache ({len(dataset)} samples, "
                             f"{replicas} ranks)")
        bar.close()
        features.flush()
        np.savez(out.with_suffix(".targets.npz"), index=np.concatenate(indices),
                 **{k: np.concatenate(v) for k, v in targets.items()})
        if skipped:
            rank_zero_warn(f"{split}: {skipped} clips failed to decode and were replaced while caching features")
        (folder / f"rank{rank}.done").write_text(json.dumps({"samples": n, "replicas": replicas}))

    def _cached(self, split: str) -> CachedFeatures | None:
        if self.data.datasets.get(split) is None:
            return None
        if split not in self.cached:
            module, (replicas, rank) = self.trainer.lightning_module, self._replicas()
            folder = self.folder(split, module)
            done = sorted(folder.glob("rank*.done"))
            complete = bool(done) and json.loads(done[0].read_text())["replicas"] == len(done)
            if not complete:
                folder.mkdir(parents=True, exist_ok=True)
                rank_zero_info(f"caching {split} features in {folder}")
                was_training = module.training
                module.eval()
                self.extract(split, module, folder, rank, replicas)
                module.train(was_training)
            self.trainer.strategy.barrier("feature_cache")
            shards = sorted(folder.glob("rank*.npy"), key=lambda p: int(p.stem[4:]))
            self.cached[split] = CachedFeatures(shards)
        return self.cached[split]

    def train_dataloader(self) -> DataLoader:
        dataset = self._cached("train")
        replicas, rank = self._replicas()
        # the wrapped DataModule's sampler and seed: the cached run sees the batches the uncached run would
        sampler = ResumableSampler(dataset, shuffle=True, seed=self.data.seed, num_replicas=replicas, rank=rank,
                                   drop_last=self.data.drop_last)
        return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler, drop_last=self.data.drop_last)

    def val_dataloader(self) -> DataLoader | list:
        dataset = self._cached("val")
        if dataset is None:
            return []
        replicas, rank = self._replicas()
        sampler = ResumableSampler(dataset, shuffle=False, num_replicas=replicas, rank=rank, pad=False)
        return DataLoader(dataset, batch_size=self.batch_size, sampler=sampler)
