"""The DataLoader ``collate_fn`` that batches samples and draws their multi-block masks (or, through
:meth:`MaskCollator.draw`, draws them for a batch collated elsewhere)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from lit_jepa.data.loader import collate_clips
from lit_jepa.masks.multiblock import VJEPA2_MASKS, MaskSpec, MultiBlockMaskGenerator


class MaskCollator:
    """:func:`~lit_jepa.data.loader.collate_clips` plus ``batch["masks_enc"]`` / ``batch["masks_pred"]``: lists
    with one ``(B, K)`` LongTensor per spec, on the token grid of ``batch["video"]`` ``(B, V, C, T, H, W)``.

    Seeding: each spec's ``torch.Generator`` is seeded with a stable hash (BLAKE2b) of ``(seed, spec position,
    batch["index"])``. Masks are therefore a function of the batch content only: the same whatever the worker
    count or process, and a resumed run that replays the same batches draws the same masks, with no shared
    iteration counter to fast-forward (the official collator's ``step()``). A batch whose index sequence recurs
    (e.g. sequential order across epochs) gets the same masks again.

    Args:
        specs: one mask generator per entry (V-JEPA 2: short- and long-range).
        patch_size: spatial patch size of the encoder.
        tubelet_size: temporal patch size of the encoder.
        seed: base seed of the mask draws.
    """

    def __init__(self, specs: list[MaskSpec] = VJEPA2_MASKS, patch_size: int = 16, tubelet_size: int = 2,
                 seed: int = 0) -> None:
        self.specs, self.patch_size, self.tubelet_size, self.seed = list(specs), patch_size, tubelet_size, seed

    def grid(self, video_shape: Sequence[int]) -> tuple[int, int, int]:
        """Token grid ``(T / tubelet, H / patch, W / patch)`` of a video batch shaped ``(..., T, H, W)``."""
        T, H, W = video_shape[-3:]
        if T % self.tubelet_size or H % self.patch_size or W % self.patch_size:
            raise ValueError(f"video (T, H, W) = {(T, H, W)} must be divisible by tubelet_size {self.tubelet_size} "
                             f"and patch_size {self.patch_size}")
        return T // self.tubelet_size, H // self.patch_size, W // self.patch_size

    def generator(self, indices: Tensor, position: int) -> torch.Generator:
        """The generator of spec ``position`` for a batch of sample ``indices``."""
        key = torch.as_tensor(indices).to("cpu", torch.int64).numpy().tobytes()
        digest = hashlib.blake2b(f"{self.seed},{position},".encode() + key, digest_size=8).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest, "little") >> 1)

    def draw(self, indices: Tensor, video_shape: Sequence[int]) -> tuple[list[Tensor], list[Tensor]]:
        """``(masks_enc, masks_pred)``, one CPU LongTensor per spec, for the samples ``indices`` of a video batch
        shaped ``(..., T, H, W)``; usable outside the DataLoader (e.g. in a ``training_step``)."""
        grid = self.grid(video_shape)
        masks = [MultiBlockMaskGenerator(spec, grid)(len(indices), self.generator(indices, j))
                 for j, spec in enumerate(self.specs)]
        return [enc for enc, _ in masks], [pred for _, pred in masks]

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = collate_clips(samples)
        batch["masks_enc"], batch["masks_pred"] = self.draw(batch["index"], batch["video"].shape)
        return batch
