"""Video-QA samples: the clip-dataset contract plus the question, choices and answer as one JSON string.

``"qa"`` is a JSON string (``{"question", "answer", "choices", "kind", "group"}``) so that ``default_collate``
batches it as a list of strings; :func:`qa_fields` decodes a batch's list.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lit_jepa.data.datasets.base import ClipEntry, VideoClipDataset
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform
from lit_jepa.data.vqa.formats import READERS, QAItem


class VideoQADataset(VideoClipDataset):
    """Questions read by one of :data:`lit_jepa.data.vqa.formats.READERS` (``jsonl``, ``perception_test``,
    ``tempcompass``, ``mvp``); other arguments as :class:`VideoClipDataset`.

    Args:
        annotations: the annotation file.
        video_root: folder of the videos (``jsonl``: default the annotation file's folder).
        format: the reader.
    """

    targets = ()

    def __init__(self, annotations: str, video_root: str | None = None, format: str = "jsonl",
                 spec: ClipSpec | None = None, transform: ClipTransform | None = None, train: bool = True,
                 seed: int = 0, reader: str = "pyav", max_retries: int = 10) -> None:
        super().__init__(spec, transform, train, seed, reader, max_retries)
        if format not in READERS:
            raise ValueError(f"{annotations}: unknown QA format {format!r}; expected one of {sorted(READERS)}")
        if format != "jsonl" and video_root is None:
            raise ValueError(f"{annotations}: format {format!r} needs video_root")
        self.items: list[QAItem] = READERS[format](annotations, video_root)
        self.entries = [ClipEntry(i.video, frames=None if i.start_frame is None else (i.start_frame, i.end_frame),
                                  source=i.source) for i in self.items]

    def load(self, index: int, rng: np.random.Generator | None, indices: np.ndarray | None = None) -> dict[str, Any]:
        item = self.items[index]
        qa = {"question": item.question, "answer": item.answer, "choices": item.choices, "kind": item.kind,
              "group": item.group}
        return {**super().load(index, rng, indices), "qa": json.dumps(qa)}


def qa_fields(batch_qa: list[str]) -> list[dict[str, Any]]:
    """Decode a batch's ``"qa"`` strings."""
    return [json.loads(s) for s in batch_qa]
