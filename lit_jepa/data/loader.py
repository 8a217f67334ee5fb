"""Batching that survives bad files and resumes mid-epoch.

* :class:`ResumableSampler`: a ``DistributedSampler`` (so Lightning keeps it under DDP) whose order for an epoch
  is a function of ``(seed, epoch)`` only, optionally weighted (mixtures), and which can start mid-epoch. For
  datasets that declare ``epoch_keys = True`` (the file-backed ones) it yields ``(index, epoch)`` keys so they seed
  their random draws per sample and epoch; other datasets get plain ``int`` indices.
* :class:`ResumableLoader`: a ``DataLoader`` with ``state_dict``/``load_state_dict`` (epoch, batches yielded),
  which Lightning stores in checkpoints and restores, so a resumed run yields the batches the uninterrupted run
  would have.
* :func:`collate_clips`: ``default_collate`` that moves the samples' ``"failures"`` records into one list,
  ``batch["failures"]``, for the DataModule to count and report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import DataLoader, Dataset, DistributedSampler, default_collate


def collate_clips(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack contract samples; failure records of substituted samples go to ``batch["failures"]``."""
    failures = [f for s in samples for f in s.get("failures", [])]
    batch = default_collate([{k: v for k, v in s.items() if k != "failures"} for s in samples])
    batch["failures"] = failures
    return batch


class ResumableSampler(DistributedSampler):
    """Seeded per-epoch order (shuffled, sequential, or weighted with replacement), rank-strided, resumable.
    ``pad=False`` (evaluation) drops ``DistributedSampler``'s padding: every sample is seen exactly once across
    ranks, and shards may differ in length by one."""

    def __init__(
        self,
        dataset: Dataset,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
        weights: np.ndarray | None = None,
        epoch_keys: bool = False,
        pad: bool = True,
    ) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=shuffle, seed=seed,
                         drop_last=drop_last)
        self.weights, self.epoch_keys, self.start, self.pad = weights, epoch_keys, 0, pad
        if not pad and weights is None:  # evaluation: every sample exactly once over the ranks
            self.num_samples = len(range(rank, len(dataset), num_replicas))

    def epoch_indices(self) -> np.ndarray:
        """This rank's indices for the current epoch."""
        n, rng = len(self.dataset), np.random.default_rng([self.seed, self.epoch])
        if self.weights is not None:
            order = rng.choice(n, size=self.total_size, p=self.weights / self.weights.sum())
        else:
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            if self.pad:
                order = np.resize(order, self.total_size)  # pads by repeating from the start, or truncates
        return order[self.rank :: self.num_replicas]

    def __iter__(self):
        start, self.start = self.start, 0
        indices = self.epoch_indices()[start:].tolist()
        return iter([(i, self.epoch) for i in indices] if self.epoch_keys else indices)


class ResumableLoader(DataLoader):
    """``DataLoader`` over a :class:`ResumableSampler` that checkpoints its position (see the module docstring)."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        drop_last: bool = False,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        pad: bool = True,
    ) -> None:
        weights = dataset.sample_weights() if hasattr(dataset, "sample_weights") else None
        epoch_keys = getattr(dataset, "epoch_keys", False)
        sampler = ResumableSampler(dataset, shuffle, seed, num_replicas, rank, drop_last, weights, epoch_keys, pad)
        super().__init__(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                         num_workers=num_workers, collate_fn=collate_clips, pin_memory=pin_memory,
                         persistent_workers=persistent_workers and num_workers > 0)
        self.batches_yielded, self._resume_at = 0, 0

    def __iter__(self):
        self.batches_yielded, self._resume_at = self._resume_at, 0
        for batch in super().__iter__():
            self.batches_yielded += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.sampler.epoch, "batches": self.batches_yielded}

    def load_state_dict(self, state: dict[str, int]) -> None:
        epoch, batches = state["epoch"], state["batches"]
        if batches >= len(self):
            epoch, batches = epoch + 1, 0
        self.sampler.set_epoch(epoch)
        self.sampler.start, self._resume_at = batches * self.batch_size, batches
