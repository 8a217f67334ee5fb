"""Something-Something v2 from its official JSON files.

``something-something-v2-{train,validation}.json`` list ``{"id", "label", "template", "placeholders"}`` rows; the
class is the template with its brackets removed, looked up in ``something-something-v2-labels.json``
(``{"class name": "index"}``). Videos are ``{video_root}/{id}.webm``. Rows without a template (the test file)
are unlabelled (``label = -1``); a file mixing rows with and without one is an error naming the row.
"""

from __future__ import annotations

import os

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset, load_json
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform

LABELS_FILE = "something-something-v2-labels.json"


class SSv2(VideoClipDataset):
    """SSv2 clips.

    Args:
        annotation: the official JSON annotation file.
        video_root: video folder (default: the annotation's folder).
        labels: the class-name file (default: ``something-something-v2-labels.json`` beside ``annotation``).
        extension: video file extension.
    """

    def __init__(
        self,
        annotation: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        video_root: str | None = None,
        labels: str | None = None,
        extension: str = ".webm",
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec, transform, train, seed, reader, max_retries)
        labels = labels or os.path.join(os.path.dirname(os.path.abspath(annotation)), LABELS_FILE)
        names = load_json(labels)
        try:
            by_name = {name: int(i) for name, i in names.items()}
        except (AttributeError, ValueError) as e:
            raise AnnotationError(f"{labels}: expected {{'class name': 'index'}}, got {type(names).__name__}") from e
        self.class_names = [n for n, _ in sorted(by_name.items(), key=lambda kv: kv[1])]
        self.num_classes = len(self.class_names)
        root = video_root or os.path.dirname(os.path.abspath(annotation))
        rows = load_json(annotation)
        if not isinstance(rows, list):
            raise AnnotationError(f"{annotation}: expected a JSON list of {{'id', 'template', ...}} rows")
        for i, row in enumerate(rows):
            where = f"{annotation}[{i}]"
            if not isinstance(row, dict) or "id" not in row:
                raise AnnotationError(f"{where}: expected an object with key 'id', got {row!r}")
            label = -1
            if "template" in row:
                name = row["template"].replace("[", "").replace("]", "")
                if name not in by_name:
                    raise AnnotationError(f"{where}: template {name!r} is not a class of {labels}")
                label = by_name[name]
            path = os.path.join(root, f"{row['id']}{extension}")
            self.entries.append(ClipEntry(path, {"label": label}, source=where))
        labelled = [e.targets["label"] >= 0 for e in self.entries]
        if any(labelled) and not all(labelled):
            where = self.entries[labelled.index(False)].source
            raise AnnotationError(f"{where}: no 'template' (label) while other rows of {annotation} have one")
