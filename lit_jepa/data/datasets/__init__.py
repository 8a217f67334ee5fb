"""One module per annotation format; :data:`FORMATS` names them for the command-line tools.

``open_annotation(path, format)`` builds the dataset of any format (inferring it from the file when ``format`` is
``None``, the official CSV list by default), passing on the keyword arguments that format accepts.
"""

from __future__ import annotations

import csv
import inspect
import os

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset, load_json
from lit_jepa.data.datasets.csv_list import CsvVideoList
from lit_jepa.data.datasets.diving48 import Diving48
from lit_jepa.data.datasets.droid import DroidTrajectories
from lit_jepa.data.datasets.ek100 import EK100
from lit_jepa.data.datasets.image_folder import ImageFolder
from lit_jepa.data.datasets.mixture import WeightedMixture
from lit_jepa.data.datasets.ssv2 import SSv2

FORMATS: dict[str, type[VideoClipDataset]] = {
    "csv": CsvVideoList,
    "ssv2": SSv2,
    "diving48": Diving48,
    "ek100": EK100,
    "droid": DroidTrajectories,
    "image_folder": ImageFolder,
}

__all__ = ["FORMATS", "AnnotationError", "ClipEntry", "CsvVideoList", "Diving48", "DroidTrajectories", "EK100",
           "ImageFolder", "SSv2", "VideoClipDataset", "WeightedMixture", "infer_format",
           "open_annotation"]


def infer_format(path: str) -> str:
    """The format of ``path``: a folder is an image folder; JSON rows with ``vid_name`` are Diving-48, others SSv2;
    a CSV header with ``verb_class`` is EK100; a list whose first entry is a directory holding ``trajectory.h5`` is
    DROID; anything else is the official ``path label`` list."""
    if os.path.isdir(path):
        return "image_folder"
    if not os.path.isfile(path):
        raise AnnotationError(f"{path}: annotation file not found")
    if path.lower().endswith(".json"):
        rows = load_json(path)
        return "diving48" if rows and isinstance(rows, list) and "vid_name" in rows[0] else "ssv2"
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    if "verb_class" in next(csv.reader([first]), []):
        return "ek100"
    token = first.split()[0] if first.split() else ""
    return "droid" if os.path.isfile(os.path.join(token, "trajectory.h5")) else "csv"


def open_annotation(path: str, format: str | None = None, **kwargs) -> VideoClipDataset:
    """Dataset of ``path`` in ``format`` (inferred when ``None``); keyword arguments the format does not take
    (e.g. ``video_root`` for DROID) are dropped."""
    fmt = format or infer_format(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown annotation format {fmt!r}; expected one of {sorted(FORMATS)}")
    cls = FORMATS[fmt]
    accepted = inspect.signature(cls.__init__).parameters
    return cls(path, **{k: v for k, v in kwargs.items() if k in accepted})
