"""EPIC-KITCHENS-100 action anticipation from the official CSVs (``EPIC_100_train.csv``, ``EPIC_100_validation.csv``).

Columns used: ``video_id``, ``start_frame``, ``stop_frame``, ``verb_class``, ``noun_class`` (and ``verb``/``noun`` for
names). Videos follow the official layout: ``{video_root}/{P01}/videos/{P01_01}.MP4`` (``layout=0``, the configs'
``file_format 0``) or ``{video_root}/{P01}/{P01_01}.MP4`` (``layout=1``). Frame numbers are used as decodable frame
indices, as the official code does.

The context clip is ``frames_per_clip`` frames at stride ``spec.step(video_fps)`` (``fps=8``: 6 at 50 fps) ending
just before ``af``. The anticipation window is a named protocol:

* ``paper`` (default): ``af = start + ap * (stop - start) - a * video_fps``: the context ends ``a`` seconds before
  the action *starts* (paper, standard EK100 protocol);
* ``official_code``: ``af = ap * start + (1 - ap) * stop - a * video_fps``: as the released code, which with
  ``ap = 0`` ends the context ``a`` seconds before the action *ends* (vjepa2 issue #173).

Training draws ``a ~ U(train_anticipation_s)`` and ``ap ~ U(train_anticipation_point)``; evaluation uses
``a = anticipation_s`` and ``ap = 0``. Indices below 0 are clamped to 0.

Verb, noun and action (verb, noun pair) classes are built from ``vocabulary`` (the train CSV; default: the file
itself), ``sorted`` by original id or in the ``official`` ``enumerate(set(...))`` order needed to reuse released
probes; rows whose pair never occurs in the vocabulary file are dropped (counted in ``num_dropped``).
"""

from __future__ import annotations

import csv
import os

import numpy as np

from lit_jepa.data.datasets.base import AnnotationError, ClipEntry, VideoClipDataset
from lit_jepa.data.decode import VideoInfo
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ClipTransform

COLUMNS = ("video_id", "start_frame", "stop_frame", "verb_class", "noun_class")
PROTOCOLS = ("paper", "official_code")


def read_ek100_csv(path: str) -> list[dict[str, str | int]]:
    """Rows of an official EK100 CSV with the used columns as ints; errors name the file, line and column."""
    if not os.path.isfile(path):
        raise AnnotationError(f"{path}: annotation file not found")
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise AnnotationError(f"{path}:1: header lacks column(s) {missing}; expected EPIC_100_train.csv columns")
        rows = []
        for n, row in enumerate(reader, 2):
            try:
                rows.append({**row, **{c: int(row[c]) for c in COLUMNS[1:]}, "line": f"{path}:{n}"})
            except (TypeError, ValueError) as e:
                raise AnnotationError(f"{path}:{n}: columns {list(COLUMNS[1:])} must be integers ({e})") from e
            negative = [f"{c} {rows[-1][c]}" for c in ("verb_class", "noun_class") if rows[-1][c] < 0]
            if negative:
                raise AnnotationError(f"{path}:{n}: {', '.join(negative)} negative; expected class ids >= 0")
    return rows


def _vocab(keys: list, order: str) -> dict:
    ordered = list(set(keys)) if order == "official" else sorted(set(keys))
    return {k: i for i, k in enumerate(ordered)}


def anticipation_end(start: int, stop: int, seconds: float, point: float, fps: float, protocol: str) -> int:
    """The frame ``af`` the context clip ends before, under ``protocol`` (see the module docstring)."""
    if protocol == "paper":
        return int(start + point * (stop - start) - int(seconds * fps))
    return int(start * point + (1 - point) * stop - int(seconds * fps))


class EK100(VideoClipDataset):
    """EK100 anticipation clips with ``verb``, ``noun`` and ``action`` targets (module docstring).

    Args:
        annotation: the official CSV (``EPIC_100_train.csv``, ``EPIC_100_validation.csv``).
        video_root: video folder (default: the annotation's folder).
        layout: ``0``: ``{video_root}/{P01}/videos/{P01_01}.MP4``; ``1``: ``{video_root}/{P01}/{P01_01}.MP4``.
        protocol: the anticipation window: ``paper`` (before the action starts) or ``official_code``.
        anticipation_s: seconds between the context's end and the anticipated point in evaluation.
        train_anticipation_s: range that training draws the anticipation seconds from.
        train_anticipation_point: range that training draws the anticipated point (fraction of the action) from.
        vocabulary: the CSV the verb, noun and action classes are built from (default: ``annotation``).
        vocab_order: class order: ``sorted`` by original id or ``official`` (to reuse released probes).
        extension: video file extension.
    """

    targets = ("verb", "noun", "action")

    def __init__(
        self,
        annotation: str,
        spec: ClipSpec | None = None,
        transform: ClipTransform | None = None,
        video_root: str | None = None,
        layout: int = 0,
        protocol: str = "paper",
        anticipation_s: float = 1.0,
        train_anticipation_s: tuple[float, float] = (0.25, 1.75),
        train_anticipation_point: tuple[float, float] = (0.0, 0.25),
        vocabulary: str | None = None,
        vocab_order: str = "sorted",
        extension: str = ".MP4",
        train: bool = True,
        seed: int = 0,
        reader: str = "pyav",
        max_retries: int = 10,
    ) -> None:
        super().__init__(spec or ClipSpec(frames_per_clip=32, frame_step=None, fps=8), transform, train, seed,
                         reader, max_retries)
        if protocol not in PROTOCOLS:
            raise ValueError(f"EK100 protocol must be one of {PROTOCOLS}, got {protocol!r}")
        if layout not in (0, 1) or vocab_order not in ("sorted", "official"):
            raise ValueError(f"EK100: layout must be 0 or 1 and vocab_order 'sorted' or 'official' ({layout=})")
        self.protocol, self.anticipation_s = protocol, anticipation_s
        self.train_anticipation_s, self.train_anticipation_point = train_anticipation_s, train_anticipation_point
        vocab_rows = read_ek100_csv(vocabulary) if vocabulary else None
        rows = read_ek100_csv(annotation)
        vocab_rows = vocab_rows or rows
        self.verbs = _vocab([r["verb_class"] for r in vocab_rows], vocab_order)
        self.nouns = _vocab([r["noun_class"] for r in vocab_rows], vocab_order)
        self.actions = _vocab([(r["verb_class"], r["noun_class"]) for r in vocab_rows], vocab_order)
        names = {("verb", r["verb_class"]): r.get("verb", "") for r in vocab_rows}
        names.update({("noun", r["noun_class"]): r.get("noun", "") for r in vocab_rows})
        self.verb_names = [names["verb", k] or str(k) for k in self.verbs]
        self.noun_names = [names["noun", k] or str(k) for k in self.nouns]
        self.class_names = [f"{names['verb', v] or v} {names['noun', n] or n}" for v, n in self.actions]
        self.num_verbs, self.num_nouns, self.num_classes = len(self.verbs), len(self.nouns), len(self.actions)
        root = video_root or os.path.dirname(os.path.abspath(annotation))
        self.num_dropped = 0
        for r in rows:
            pair = (r["verb_class"], r["noun_class"])
            if pair not in self.actions:
                self.num_dropped += 1
                continue
            pid = r.get("participant_id") or str(r["video_id"]).split("_")[0]
            folder = os.path.join(root, pid, "videos") if layout == 0 else os.path.join(root, pid)
            targets = {"verb": self.verbs[pair[0]], "noun": self.nouns[pair[1]], "action": self.actions[pair]}
            path = os.path.join(folder, f"{r['video_id']}{extension}")
            self.entries.append(ClipEntry(path, targets, (r["start_frame"], r["stop_frame"]), str(r["line"])))

    def frame_indices(self, entry: ClipEntry, info: VideoInfo, rng: np.random.Generator | None) -> np.ndarray:
        if not self.train or rng is None:
            seconds, point = self.anticipation_s, 0.0
        else:
            seconds, point = rng.uniform(*self.train_anticipation_s), rng.uniform(*self.train_anticipation_point)
        end = anticipation_end(*entry.frames, seconds, point, info.fps, self.protocol)
        return self._context(end, info)[None, :]

    def _context(self, end: int, info: VideoInfo) -> np.ndarray:
        step = self.spec.step(info.fps)
        return np.clip(np.arange(end - self.spec.frames_per_clip * step, end, step), 0, info.num_frames - 1)

    def windows(self, index: int) -> np.ndarray:
        """Context clips for every end frame a training or evaluation draw can reach (the end is monotonic in
        the anticipation time and point, so their ranges' corners bound it)."""
        entry = self.entries[index]
        info = self.reader.probe(entry.path)
        seconds, points = (*self.train_anticipation_s, self.anticipation_s), (*self.train_anticipation_point, 0.0)
        ends = [anticipation_end(*entry.frames, s, p, info.fps, self.protocol) for s in seconds for p in points]
        return np.unique(np.stack([self._context(end, info) for end in range(min(ends), max(ends) + 1)]), axis=0)
