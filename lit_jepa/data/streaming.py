"""The litdata path: materialise pre-sampled clips into litdata chunks, stream them back through the same
sample contract.

``lit-jepa data materialize ANNOTATION OUTPUT_DIR`` decodes each entry once (deterministic placement, or the
seeded random placement with ``--train``), applies the evaluation resize, and writes uint8 clips, frame indices
and targets as litdata chunks (litdata's ``BinaryWriter``, in this process; decoding may use worker processes).
Entries that fail are skipped and listed. :class:`StreamingClips` reads the chunks; under Lightning the state of
:class:`StreamingClipLoader` is checkpointed, so a run resumes mid-epoch. litdata is optional
(``pip install lit-jepa[litdata]``).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from lit_jepa.data.datasets import VideoClipDataset, open_annotation
from lit_jepa.data.decode import SampleError
from lit_jepa.data.loader import collate_clips
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ShortSideResize
from lit_jepa.progress import progress_bar

try:
    from litdata import StreamingDataLoader, StreamingDataset
except ImportError:  # optional dependency: materialize/StreamingClips raise a clear error instead
    StreamingDataLoader = StreamingDataset = object


def _require_litdata() -> None:
    if StreamingDataset is object:
        raise ImportError("the litdata path needs litdata: pip install 'lit-jepa[litdata]'")


class _Encoded(Dataset):
    """Samples of ``dataset`` as numpy arrays and ints, or the failure message, for parallel decoding."""

    def __init__(self, dataset: VideoClipDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any] | str:
        try:
            sample = self.dataset.load(index, self.dataset.rng(index))
        except SampleError as e:
            return f"{self.dataset.entries[index].source}: {e}"
        return {k: (v.item() if v.ndim == 0 else v.numpy()) for k, v in sample.items()}


def materialize(
    dataset: VideoClipDataset, output_dir: str, num_workers: int = 0, chunk_bytes: str = "64MB"
) -> tuple[int, list[str]]:
    """Write every readable sample of ``dataset`` into litdata chunks in ``output_dir`` (new or empty), decoding
    with ``num_workers`` processes; returns the number written and the failure messages of the others."""
    _require_litdata()
    from litdata.streaming.writer import BinaryWriter

    if os.path.isdir(output_dir) and os.listdir(output_dir):
        raise FileExistsError(f"{output_dir}: output folder is not empty")
    os.makedirs(output_dir, exist_ok=True)
    writer = BinaryWriter(output_dir, chunk_bytes=chunk_bytes)
    loader = DataLoader(_Encoded(dataset), batch_size=None, num_workers=num_workers)
    written, failures = 0, []
    for item in progress_bar(len(loader), f"materialising {output_dir}", "sample", iterable=loader):
        if isinstance(item, str):
            failures.append(item)
        else:
            writer.add_item(written, item)
            written += 1
    writer.done()
    writer.merge()
    return written, failures


class StreamingClips(StreamingDataset):
    """Materialised clips as contract samples (``torch`` tensors; ``"index"`` is the original annotation index)."""

    def __init__(self, input_dir: str, shuffle: bool = True, drop_last: bool = False, seed: int = 0) -> None:
        _require_litdata()
        super().__init__(input_dir, shuffle=shuffle, drop_last=drop_last, seed=seed)

    def __getitem__(self, index: Any) -> dict[str, torch.Tensor]:
        raw = super().__getitem__(index)  # arrays come back as tensors, scalars as Python numbers
        return {k: torch.as_tensor(v, dtype=torch.int64 if isinstance(v, int) else None) for k, v in raw.items()}


class StreamingClipLoader(StreamingDataLoader):
    """litdata's resumable loader, batching with :func:`~lit_jepa.data.loader.collate_clips`.

    Lightning stops an epoch after ``len(loader)`` batches without exhausting the iterator, so litdata never clears
    its ``restore`` flag after a resumed epoch and the next epoch would continue the restored state; the flag is
    cleared here once the epoch's last batch is yielded.
    """

    def __init__(self, dataset: StreamingClips, batch_size: int = 1, num_workers: int = 0, pin_memory: bool = False):
        super().__init__(dataset, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_clips,
                         pin_memory=pin_memory)

    def __iter__(self):
        for batch in super().__iter__():
            if self._num_samples_yielded_streaming >= len(self) * self.batch_size:
                self.restore = False
            yield batch


def materialize_annotation(annotation: str, output_dir: str, format: str | None = None, video_root: str | None = None,
                           spec: ClipSpec | None = None, size: int = 256, train: bool = False, seed: int = 0,
                           workers: int = 0) -> int:
    """``lit-jepa data materialize``: decode an annotation file's clips into litdata chunks (module docstring).

    Args:
        annotation: annotation file (or image folder).
        output_dir: litdata output folder (new or empty).
        format: annotation format (csv, ssv2, diving48, ek100, droid, image_folder; default: inferred).
        video_root: folder relative video paths are resolved against.
        spec: the clip spec, as a recipe's dataset takes it (default: 16 frames, frame step 4, one segment and view).
        size: short side resize and square crop size.
        train: seeded random clip placement instead of centred.
        seed: seed of the random clip placement.
        workers: decoding worker processes.
    """
    dataset = open_annotation(annotation, format, spec=spec or ClipSpec(), transform=ShortSideResize(size),
                              video_root=video_root, train=train, seed=seed)
    written, failures = materialize(dataset, output_dir, workers)
    print(f"{written} of {len(dataset)} samples written to {os.path.abspath(output_dir)}; {len(failures)} skipped")
    for failure in failures:
        print(f"  {failure}")
    return 0
