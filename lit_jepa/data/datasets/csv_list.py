"""The official video list: a space-separated ``<video path> <integer label>`` file without header.

As in the official ``VideoDataset``, a line that does not split on whitespace into a path and an integer is
re-read with the ``::`` delimiter (paths containing spaces). Relative paths are resolved against ``video_root``,
or the list's own folder when ``video_root`` is not given. Image paths (``.jpg``, ``.jpeg``, ``.png``) are static
clips: the image repeated ``frames_per_clip`` times.
"""

from __future__ import annotations

import os

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset, resolve
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform


def parse_line(line: str, source: str) -> tuple[str, int]:
    """``(path, label)`` of one list line; ``source`` (``file:line``) names it in the error. A negative label is an
    error: classification targets are class indices."""
    for parts in (line.rsplit(maxsplit=1), line.rsplit("::", 1)):
        if len(parts) == 2:
            try:
                path, label = parts[0].strip(), int(parts[1])
            except ValueError:
                continue
            if label < 0:
                raise AnnotationError(f"{source}: label {label} is negative; expected a class index >= 0")
            return path, label
    raise AnnotationError(f"{source}: expected '<video path> <integer label>' (or 'path::label'), got {line[:120]!r}")


def read_video_list(path: str, root: str | None = None) -> list[ClipEntry]:
    """Entries of a video list file; blank lines are ignored, malformed ones raise :class:`AnnotationError`."""
    if not os.path.isfile(path):
        raise AnnotationError(f"{path}: annotation file not found")
    root = root if root is not None else os.path.dirname(os.path.abspath(path))
    entries = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                video, label = parse_line(line.rstrip("\n"), f"{path}:{n}")
                entries.append(ClipEntry(resolve(video, root), {"label": label}, source=f"{path}:{n}"))
    return entries


class CsvVideoList(VideoClipDataset):
    """Clips from the official ``path label`` list. ``num_classes`` is ``max(label) + 1``.

    Args:
        annotation: the list file, one ``path label`` per line.
        video_root: folder relative video paths are resolved against (default: the list's folder).
    """

    def __init__(
        self,
        annotation: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        video_root: str | None = None,
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec, transform, train, seed, reader, max_retries)
        self.entries = read_video_list(annotation, video_root)
        self.num_classes = max((e.targets["label"] for e in self.entries), default=-1) + 1
        self.class_names = [str(i) for i in range(self.num_classes)]
