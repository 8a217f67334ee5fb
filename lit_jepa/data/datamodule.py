"""The shared ``LightningDataModule`` and its task flavours.

:class:`ClipDataModule` takes ready datasets (any format of :mod:`lit_jepa.data.datasets`, a
:class:`~lit_jepa.data.datasets.WeightedMixture`, a :class:`~lit_jepa.data.streaming.StreamingClips` or any map-style
dataset keeping the sample contract), batches them with :class:`~lit_jepa.data.loader.ResumableLoader` (or
litdata's ``StreamingDataLoader`` for streamed data), and in ``on_after_batch_transfer`` counts the failure
records of skipped samples and runs the :class:`~lit_jepa.data.transforms.BatchTransform` (float, optional kornia
augmentation, normalisation). :class:`SkippedSamplesReport` reports the skipped samples at each epoch end.

Flavours expose what the task module links to: ``num_classes`` and ``class_names`` (classification),
``num_verbs``/``num_nouns``/``num_classes`` (anticipation), ``state_dim``/``action_dim`` (trajectories).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader, Dataset

from lit_jepa.data.loader import ResumableLoader
from lit_jepa.data.transforms import BatchTransform

STAGES = ("train", "val", "test", "predict")


class ClipDataModule(L.LightningDataModule):
    """Unlabelled clips (pretraining) and the base of every flavour.

    Args:
        train_dataset: the training dataset (``None``: no training loader).
        val_dataset: the validation dataset (``None``: no validation loader).
        test_dataset: the test dataset (``None``: no test loader).
        batch_size: per-device batch size.
        num_workers: loader worker processes.
        seed: seed of the epoch order (datasets carry their own sample seed).
        drop_last: drop the last incomplete training batch.
        pin_memory: pin the batches in page-locked memory (faster copies to a GPU).
        persistent_workers: keep the worker processes alive between epochs.
        batch_transform: the device-side stage (default: normalisation only).
    """

    def __init__(
        self,
        train_dataset: Dataset | None = None,
        val_dataset: Dataset | None = None,
        test_dataset: Dataset | None = None,
        batch_size: int = 8,
        num_workers: int = 0,
        seed: int = 0,
        drop_last: bool = True,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        batch_transform: BatchTransform | None = None,
    ) -> None:
        super().__init__()
        self.datasets = {"train": train_dataset, "val": val_dataset, "test": test_dataset}
        self.batch_size, self.num_workers, self.seed, self.drop_last = batch_size, num_workers, seed, drop_last
        self.pin_memory, self.persistent_workers = pin_memory, persistent_workers
        self.batch_transform = batch_transform or BatchTransform()
        self.skipped: dict[str, Counter] = {s: Counter() for s in STAGES}  # "path: reason" -> count, this epoch

    def _loader(self, stage: str) -> DataLoader | None:
        dataset, train = self.datasets[stage], stage == "train"
        if dataset is None:
            return None
        trainer = self.trainer
        replicas, rank = (trainer.world_size, trainer.global_rank) if trainer is not None else (1, 0)
        if hasattr(dataset, "input_dir"):  # litdata StreamingDataset: its own loader is resumable
            from lit_jepa.data.streaming import StreamingClipLoader

            return StreamingClipLoader(dataset, self.batch_size, self.num_workers, self.pin_memory)
        return ResumableLoader(dataset, self.batch_size, shuffle=train, seed=self.seed, num_replicas=replicas,
                               rank=rank, drop_last=self.drop_last and train, num_workers=self.num_workers,
                               pin_memory=self.pin_memory, persistent_workers=self.persistent_workers, pad=train)

    def train_dataloader(self):
        return self._loader("train")

    def val_dataloader(self):
        return self._loader("val") or []

    def test_dataloader(self):
        return self._loader("test") or []

    def _stage(self) -> str:
        t = self.trainer
        if t is None or t.training:
            return "train"
        return "val" if (t.validating or t.sanity_checking) else "test" if t.testing else "predict"

    def on_after_batch_transfer(self, batch: dict[str, Any], dataloader_idx: int) -> dict[str, Any]:
        stage = self._stage()
        self.skipped[stage].update(batch.pop("failures", []))
        self.batch_transform.to(batch["video"].device)
        batch["video"] = self.batch_transform(batch["video"], training=stage == "train")
        return batch

    def pop_skipped(self, stage: str) -> Counter:
        """Skipped-sample records of ``stage`` since the last call."""
        records, self.skipped[stage] = self.skipped[stage], Counter()
        return records

    def _first(self, attribute: str) -> Any:
        for dataset in self.datasets.values():
            if dataset is not None and hasattr(dataset, attribute):
                return getattr(dataset, attribute)
        raise AttributeError(f"{type(self).__name__}: no dataset defines {attribute!r}")


class ClassificationDataModule(ClipDataModule):
    """Labelled clips: ``num_classes`` and ``class_names`` come from the datasets."""

    @property
    def num_classes(self) -> int:
        return self._first("num_classes")

    @property
    def class_names(self) -> list[str]:
        return self._first("class_names")


class AnticipationDataModule(ClassificationDataModule):
    """EK100-style samples with ``verb``, ``noun`` and ``action`` targets (``num_classes`` counts actions)."""

    @property
    def num_verbs(self) -> int:
        return self._first("num_verbs")

    @property
    def num_nouns(self) -> int:
        return self._first("num_nouns")


class TrajectoryDataModule(ClipDataModule):
    """Clips with ``states`` ``(T, 7)`` and ``actions`` ``(T - 1, 7)`` (DROID: xyz, Euler xyz, gripper)."""

    state_dim = 7
    action_dim = 7


class SkippedSamplesReport(L.Callback):
    """At each train/validation epoch end: log ``data/skipped_<stage>`` and warn with the skipped files and
    reasons.

    Args:
        max_listed: skipped files listed per warning (the first ones).
    """

    def __init__(self, max_listed: int = 20) -> None:
        self.max_listed = max_listed

    def _report(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        dm = trainer.datamodule
        if not isinstance(dm, ClipDataModule):
            return
        records = dm.pop_skipped(stage)
        count = sum(records.values())
        pl_module.log(f"data/skipped_{stage}", float(count), on_epoch=True, on_step=False, reduce_fx="sum")
        if count:
            listed = "\n".join(f"  {r} (x{n})" for r, n in records.most_common(self.max_listed))
            more = f"\n  ... and {len(records) - self.max_listed} more" if len(records) > self.max_listed else ""
            rank_zero_warn(f"epoch {trainer.current_epoch}: {count} {stage} samples skipped and replaced:\n"
                           f"{listed}{more}")

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._report(trainer, pl_module, "train")

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._report(trainer, pl_module, "val")
