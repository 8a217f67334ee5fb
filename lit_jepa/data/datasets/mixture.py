"""Weighted mixtures of datasets (VideoMix22M's ``datasets_weights``).

Samples of all members are concatenated; the sampling probability of one sample is ``weight / len(member)``
(weights renormalised), so a member's share of each epoch follows its weight whatever its size, as the official
``DistributedWeightedSampler``. :class:`~lit_jepa.data.loader.ResumableSampler` reads :meth:`sample_weights`. The
sample's ``"index"`` is its index in the mixture. Members must return the same keys.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset


class WeightedMixture(Dataset):
    """Concatenation of ``datasets`` drawn with probabilities proportional to ``weights``.

    Args:
        datasets: the member datasets.
        weights: relative sampling weight of each member (>= 0, positive sum).
    """

    epoch_keys = True  # passes (index, epoch) keys on to members that accept them

    def __init__(self, datasets: list[Dataset], weights: list[float]) -> None:
        if len(datasets) != len(weights) or not datasets:
            raise ValueError(f"WeightedMixture: {len(datasets)} datasets but {len(weights)} weights")
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"WeightedMixture: weights must be >= 0 with a positive sum, got {weights}")
        self.datasets, self.weights = datasets, [w / sum(weights) for w in weights]
        self.offsets = np.cumsum([0] + [len(d) for d in datasets]).tolist()

    def __len__(self) -> int:
        return self.offsets[-1]

    def sample_weights(self) -> np.ndarray:
        """Per-sample probabilities, summing to 1."""
        return np.concatenate([np.full(len(d), w / max(len(d), 1)) for d, w in zip(self.datasets, self.weights)])

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        index, epoch = (int(key[0]), int(key[1])) if isinstance(key, (tuple, list)) else (int(key), 0)
        member = bisect.bisect_right(self.offsets, index) - 1
        dataset, local = self.datasets[member], index - self.offsets[member]
        sample = dataset[(local, epoch)] if getattr(dataset, "epoch_keys", False) else dataset[local]
        return {**sample, "index": torch.tensor(index, dtype=torch.int64)}
