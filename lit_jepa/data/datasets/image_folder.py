"""Image folders as static clips (ImageNet in the VideoMix22M mixture, IN1K probes).

``root/<class>/<image>`` with classes in sorted folder order; each image is decoded once (PyAV reads JPEG and
PNG) and repeated ``frames_per_clip`` times in every segment, so ``frame_indices`` are all zero.
"""

from __future__ import annotations

import os

import numpy as np

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset
from lit_jepa.data.decode import VideoInfo
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


class ImageFolder(VideoClipDataset):
    """Static clips from ``root/<class>/*.jpg``.

    Args:
        root: the image folder, one subfolder per class.
    """

    def __init__(
        self,
        root: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec, transform, train, seed, reader, max_retries)
        if not os.path.isdir(root):
            raise AnnotationError(f"{root}: image folder not found")
        self.class_names = sorted(d.name for d in os.scandir(root) if d.is_dir())
        if not self.class_names:
            raise AnnotationError(f"{root}: expected one sub-folder per class, found none")
        self.num_classes = len(self.class_names)
        for label, name in enumerate(self.class_names):
            for file in sorted(os.listdir(os.path.join(root, name))):
                if file.lower().endswith(IMAGE_EXTENSIONS):
                    self.entries.append(ClipEntry(os.path.join(root, name, file), {"label": label}, source=root))

    def frame_indices(self, entry: ClipEntry, info: VideoInfo, rng: np.random.Generator | None) -> np.ndarray:
        return np.zeros((self.spec.num_segments, self.spec.frames_per_clip), dtype=np.int64)

    def windows(self, index: int) -> np.ndarray:
        self.reader.probe(self.entries[index].path)
        return np.zeros((1, self.spec.frames_per_clip), dtype=np.int64)
