"""Diving-48 from its official JSON (``Diving48_V2_{train,test}.json``): a list of ``{"vid_name", "label",
"start_frame", "end_frame"}``; videos are ``{video_root}/{vid_name}.mp4``. Clips are sampled inside
``[start_frame, end_frame)``, clipped to the frames that decode. Class names come from the optional
``Diving48_vocab.json`` (a list of 48 ``[takeoff, somersault, twist, flight]`` lists).
"""

from __future__ import annotations

import os

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset, load_json
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform

KEYS = ("vid_name", "label", "start_frame", "end_frame")


class Diving48(VideoClipDataset):
    """Diving-48 clips: 48 classes, or as many as the ``vocab`` file lists (ToyWorld ``fine`` has 24).

    Args:
        annotation: the official JSON annotation file.
        video_root: video folder (default: the annotation's folder).
        vocab: the class vocabulary file (``Diving48_vocab.json``; default: 48 classes).
        extension: video file extension.
    """

    def __init__(
        self,
        annotation: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        video_root: str | None = None,
        vocab: str | None = None,
        extension: str = ".mp4",
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec, transform, train, seed, reader, max_retries)
        root = video_root or os.path.dirname(os.path.abspath(annotation))
        rows = load_json(annotation)
        if not isinstance(rows, list):
            raise AnnotationError(f"{annotation}: expected a JSON list of {{{', '.join(KEYS)}}} rows")
        for i, row in enumerate(rows):
            where = f"{annotation}[{i}]"
            missing = [k for k in KEYS if not isinstance(row, dict) or k not in row]
            if missing:
                raise AnnotationError(f"{where}: missing key(s) {missing}; expected {list(KEYS)}")
            try:
                label, start, end = int(row["label"]), int(row["start_frame"]), int(row["end_frame"])
            except (TypeError, ValueError) as e:
                raise AnnotationError(f"{where}: label, start_frame and end_frame must be integers ({e})") from e
            if label < 0:
                raise AnnotationError(f"{where}: label {label} is negative; expected a class index >= 0")
            path = os.path.join(root, f"{row['vid_name']}{extension}")
            self.entries.append(ClipEntry(path, {"label": label}, frames=(start, end), source=where))
        names = load_json(vocab) if vocab else None
        self.num_classes = len(names) if names else 48
        self.class_names = [" ".join(n) for n in names] if names else [str(i) for i in range(self.num_classes)]
