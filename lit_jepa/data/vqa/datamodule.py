"""DataModules for video QA: annotation files of any :data:`~lit_jepa.data.vqa.formats.READERS` format, or ToyWorld VQA
generated on first use."""

from __future__ import annotations

from pathlib import Path

from lit_jepa.data.datamodule import ClipDataModule
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import BatchTransform, ShortSideResize
from lit_jepa.data.vqa.dataset import VideoQADataset
from lit_jepa.data.vqa.toy import ensure_toyvqa


class VideoQADataModule(ClipDataModule):
    """Video-QA splits (no augmentation: alignment sees the evaluation view).

    Args:
        train_annotations: annotation file of the training split (``None``: none).
        val_annotations: annotation file of the validation split (``None``: none).
        test_annotations: annotation file of the test split (``None``: none).
        format: ``jsonl``, ``perception_test``, ``tempcompass`` or ``mvp``.
        video_root: video folder (``jsonl``: default each file's folder).
        spec: clip sampling (default 16 frames at step 4).
        crop_size: short-side resize and centre crop to this size (``None``: frames as decoded).
        batch_size: per-device batch size.
        num_workers: loader worker processes.
        seed: seed of the epoch order.
        batch_transform: the device-side stage (default: normalisation only).
    """

    def __init__(self, train_annotations: str | None = None, val_annotations: str | None = None,
                 test_annotations: str | None = None, format: str = "jsonl", video_root: str | None = None,
                 spec: ClipSpec | None = None, crop_size: int | None = None, batch_size: int = 8,
                 num_workers: int = 0, seed: int = 0, batch_transform: BatchTransform | None = None) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, batch_transform=batch_transform)
        self.annotations = {"train": train_annotations, "val": val_annotations, "test": test_annotations}
        self.format, self.video_root, self.spec = format, video_root, spec or ClipSpec()
        self.transform = None if crop_size is None else ShortSideResize(crop_size)

    def setup(self, stage: str) -> None:
        for split, path in self.annotations.items():
            if path is not None and self.datasets[split] is None:
                self.datasets[split] = VideoQADataset(path, self.video_root, self.format, self.spec, self.transform,
                                                      train=split == "train", seed=self.seed)


class ToyVQADataModule(VideoQADataModule):
    """ToyWorld VQA (:mod:`lit_jepa.data.vqa.toy`) under ``root``, generated in ``prepare_data`` when missing; the
    ``val`` questions serve as validation and test split. Clips: 16 frames at step 1.

    Args:
        root: folder of the generated questions and videos.
        num: training questions generated (as ``lit-jepa data toyvqa``).
        num_val: validation questions generated (default ``num // 4``).
        seed: generator seed, also the seed of the epoch order.
        resolution: frame size in pixels (even).
        batch_size: per-device batch size.
        num_workers: loader worker processes.
    """

    def __init__(self, root: str = "runs/toy/vqa-data", num: int = 960, num_val: int | None = None, seed: int = 0,
                 resolution: int = 64, batch_size: int = 16, num_workers: int = 0) -> None:
        files = {s: str(Path(root) / f"{s}.jsonl") for s in ("train", "val")}
        super().__init__(files["train"], files["val"], files["val"], spec=ClipSpec(frames_per_clip=16, frame_step=1),
                         batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root, self.num, self.num_val, self.resolution = root, num, num_val, resolution

    def prepare_data(self) -> None:
        ensure_toyvqa(self.root, self.num, self.num_val, self.seed, self.resolution)
