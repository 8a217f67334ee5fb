"""``ToyWorldDataModule``: a ToyWorld task through the real data path, generated on first use.

``prepare_data`` generates the task's train and validation files into the cache (or ``root``) once, in the
official format; ``setup`` reads them back with the same dataset classes as real data (official CSV list for
``motion`` and ``dynamics``, EK100 CSVs for ``anticipation``, Diving-48 JSON for ``fine``, DROID folders for
``tabletop``).
"""

from __future__ import annotations

from pathlib import Path

from lit_jepa.data.datamodule import AnticipationDataModule
from lit_jepa.data.datasets import open_annotation
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.toyworld.cache import ensure_generated
from lit_jepa.data.transforms import BatchTransform, ClipTransform


class ToyWorldDataModule(AnticipationDataModule):
    """Train and validation data of one ToyWorld task.

    Args:
        task: ``motion``, ``dynamics``, ``anticipation``, ``fine`` or ``tabletop``.
        num: training videos generated (as ``lit-jepa data toyworld``).
        num_val: validation videos generated (default ``num // 4``).
        seed: generator seed, also the seed of the epoch order.
        resolution: frame size in pixels (even).
        root: folder of the generated files (default: ``$LIT_JEPA_CACHE/toyworld``, ``~/.cache/lit_jepa``).
        spec: clip sampling (default: 16 frames at step 1, the whole toy clip).
        train_transform: CPU transform of training clips (default: none, frames stay at ``resolution``).
        eval_transform: CPU transform of validation clips (default: none).
        batch_size: per-device batch size.
        num_workers: loader worker processes.
        batch_transform: the device-side stage (default: normalisation only).
    """

    def __init__(self, task: str = "motion", num: int = 960, num_val: int | None = None, seed: int = 0,
                 resolution: int = 64, root: str | None = None, spec: ClipSpec | None = None,
                 train_transform: ClipTransform | None = None, eval_transform: ClipTransform | None = None,
                 batch_size: int = 8, num_workers: int = 0,
                 batch_transform: BatchTransform | None = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, batch_transform=batch_transform)
        self.task, self.num, self.num_val, self.resolution, self.root = task, num, num_val, resolution, root
        self.spec = spec or ClipSpec(frames_per_clip=16, frame_step=1)
        self.transforms = {"train": train_transform, "val": eval_transform}

    def annotation(self, split: str) -> Path:
        return ensure_generated(self.task, self.root, self.num, self.seed, split, self.num_val, self.resolution)

    def prepare_data(self) -> None:
        self.annotation("train")

    def setup(self, stage: str) -> None:
        train = self.annotation("train")
        for split in ("train", "val"):
            dataset = open_annotation(
                str(self.annotation(split)), spec=self.spec, transform=self.transforms[split], train=split == "train",
                seed=self.seed, vocab=str(train.parent / "Diving48_vocab.json"), vocabulary=str(train))
            self.datasets[split] = dataset

