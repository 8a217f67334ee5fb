"""The lit_jepa video-QA JSONL format and readers for public multiple-choice annotation files.

One JSON object per line::

    {"video": "videos/0001.mp4", "question": "which way does the object move ?", "answer": "left",
     "choices": ["left", "right", "up", "down"], "start_frame": 0, "end_frame": 16, "kind": "direction"}

``video``, ``question`` and ``answer`` are required; ``choices`` (multiple choice: must contain ``answer``),
``start_frame``/``end_frame`` (decodable-frame window, ``end_frame`` exclusive), ``kind`` (a question-type
tag used to break accuracy down) and ``group`` (items scored together, e.g. the two videos of an MVP minimal pair:
see :func:`lit_jepa.vqa.scoring.paired_accuracy`) are optional. Relative video paths are resolved against
``video_root``.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lit_jepa.atomic import atomic_write_text
from lit_jepa.data.datasets.base import AnnotationError, load_json, resolve


@dataclass
class QAItem:
    """One question about one video (see the module docstring for the fields); ``source`` is ``file:line``.

    ``group`` comes last so that positional construction of the older fields keeps working.
    """

    video: str
    question: str
    answer: str
    choices: list[str] = field(default_factory=list)
    start_frame: int | None = None
    end_frame: int | None = None
    kind: str = ""
    source: str = ""
    group: str = ""

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "source" and v not in (None, "", [])}


def _item(obj: dict, where: str) -> QAItem:
    missing = [k for k in ("video", "question", "answer") if not isinstance(obj.get(k), str)]
    if missing:
        raise AnnotationError(f"{where}: missing or non-string {missing}; expected video, question, answer strings")
    choices = obj.get("choices") or []
    if choices and obj["answer"] not in choices:
        raise AnnotationError(f"{where}: answer {obj['answer']!r} is not one of choices {choices}")
    unknown = set(obj) - {"video", "question", "answer", "choices", "start_frame", "end_frame", "kind", "group"}
    if unknown:
        raise AnnotationError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(obj.get("group", ""), str):
        raise AnnotationError(f"{where}: group must be a string, got {obj['group']!r}")
    return QAItem(obj["video"], obj["question"], obj["answer"], list(choices), obj.get("start_frame"),
                  obj.get("end_frame"), obj.get("kind", ""), where, obj.get("group", ""))


def _jsonl_rows(path: Path) -> list[tuple[str, object]]:
    """``("file:line", parsed object)`` for every non-blank line of a JSON Lines file."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append((f"{path}:{n}", json.loads(line)))
            except json.JSONDecodeError as e:
                raise AnnotationError(f"{path}:{n}: not valid JSON ({e})") from e
    return rows


def read_jsonl(path: str | Path, video_root: str | None = None) -> list[QAItem]:
    """Items of a JSONL file; video paths resolved against ``video_root`` (default: the file's folder)."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    root = str(path.parent) if video_root is None else video_root
    items = []
    for where, obj in _jsonl_rows(path):
        item = _item(obj, where)
        item.video = resolve(item.video, root)
        items.append(item)
    return items


def write_jsonl(path: str | Path, items: list[QAItem]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(i.to_json()) + "\n" for i in items))


def read_perception_test(path: str | Path, video_root: str, ext: str = ".mp4") -> list[QAItem]:
    """PerceptionTest multiple-choice questions (``mc_question_*.json`` / ``all_*.json``).

    Assumed layout: a JSON object keyed by video id, each value with ``"mc_question"``: a list of
    ``{"id", "question", "options": [three strings], "answer_id": int, "area", "reasoning", "tag"}``. The video is
    ``<video_root>/<video id><ext>``; ``kind`` is the ``area``. Questions without ``answer_id`` (the held-out test
    split) raise: score accuracy on the validation split.
    """
    data = load_json(str(path))
    items = []
    for vid, entry in data.items():
        for q in entry.get("mc_question", []):
            where = f"{path}: {vid} mc_question {q.get('id')}"
            if "answer_id" not in q or not isinstance(q.get("options"), list):
                raise AnnotationError(f"{where}: expected 'options' (list) and 'answer_id' (int)")
            items.append(QAItem(resolve(f"{vid}{ext}", video_root), q["question"], q["options"][q["answer_id"]],
                                list(q["options"]), kind=str(q.get("area", "")), source=where))
    return items


_OPTION = re.compile(r"^\s*([A-Z])[.)]\s*(.+?)\s*$")


def read_tempcompass(path: str | Path, video_root: str, ext: str = ".mp4") -> list[QAItem]:
    """TempCompass multiple-choice questions (``questions/multi-choice.json``).

    Assumed layout: ``{video_id: {dimension: [{"question": str, "answer": str}]}}`` where the question text
    lists its options one per line as ``"A. option"`` after the question line, and the answer is ``"B. option"``
    (a letter, a dot, the option). The video is ``<video_root>/<video_id><ext>``; ``kind`` is the dimension
    (action, speed, direction, order, attribute_change).
    """
    data = load_json(str(path))
    items = []
    for vid, dims in data.items():
        for dim, questions in dims.items():
            for k, q in enumerate(questions):
                where = f"{path}: {vid}/{dim}/{k}"
                lines = q["question"].strip().split("\n")
                options = [m.groups() for m in map(_OPTION.match, lines[1:]) if m]
                answer = _OPTION.match(q["answer"])
                letters = dict(options)
                if not options or answer is None or answer.group(1) not in letters:
                    raise AnnotationError(f"{where}: expected option lines 'A. ...' and an answer 'X. ...' naming "
                                          f"one of them, got {q!r}")
                items.append(QAItem(resolve(f"{vid}{ext}", video_root), lines[0].strip(), letters[answer.group(1)],
                                    [text for _, text in options], kind=dim, source=where))
    return items


def _mvp_rows(path: Path) -> list[tuple[str, object]]:
    """``(where, row)`` of a JSON list, a JSON Lines file or (with pyarrow) a Parquet file of MVP records."""
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as e:
            raise AnnotationError(f"{path}: reading Parquet needs pyarrow; install it or export the split to JSON "
                                  "Lines (datasets: load_dataset(...).to_json('mvp.jsonl'))") from e
        return [(f"{path}: row {n}", row) for n, row in enumerate(pq.read_table(path).to_pylist())]
    if path.suffix == ".jsonl":
        return _jsonl_rows(path)
    data = load_json(str(path))
    if not isinstance(data, list):
        raise AnnotationError(f"{path}: expected a JSON list of MVP records, got {type(data).__name__}")
    return [(f"{path}: record {n}", row) for n, row in enumerate(data)]


def read_mvp(path: str | Path, video_root: str, kind: str | None = None) -> list[QAItem]:
    """Minimal Video Pairs (MVP, Krojer et al. 2025) multiple-choice questions, one subset and split per file.

    Assumed layout: the records of one Hugging Face ``facebook/minimal_video_pairs`` subset
    (``human_object_interactions``, ``intuitive_physics``, ``robot_object_interactions``, ``temporal_reasoning``)
    and split (``mini`` / ``full``; released as ``<subset>/<split>-00000-of-00001.parquet``), each
    ``{"video_id", "video_path", "question", "answer", "candidates", "source"}`` with ``candidates`` a list of
    strings or its Python literal (``"['a', 'b']"``; the official prompt offers two, A and B, not enforced here)
    and ``answer`` one of them (compared as ``str(answer)``). Parquet is read with pyarrow when installed; a JSON
    list or JSON Lines export (``datasets``' ``to_json``) is read as is. The video is ``<video_root>/<video_path>``
    (``video_root``: the ``videos/`` folder the benchmark's ``make download_videos`` creates; a leading ``/`` of
    ``video_path`` is dropped). The minimal pair is ``video_id`` without its last ``_``-separated part, and each
    pair must hold exactly two records: this is how the official scorer groups ``pair_accuracy`` (see
    :func:`lit_jepa.vqa.scoring.paired_accuracy`). ``kind`` is the given ``kind`` (e.g. the subset name) or else the
    record's ``source``.
    Sources: github.com/facebookresearch/minimal_video_pairs ``tasks/mvp/utils.py`` (``video_path``,
    ``candidates``, ``answer``, the grouping in ``compute_metrics``), ``tasks/mvp/*.yaml`` and ``README.md``
    (subsets, splits, paired accuracy); the field list and types from the dataset's ``dataset_info.json``
    (as mirrored at huggingface.co/datasets/MatchLab/mvpbench). Not checked against the files themselves.
    """
    path = Path(path)
    items = []
    groups: dict[str, list[str]] = defaultdict(list)
    for where, row in _mvp_rows(path):
        if not isinstance(row, dict):
            raise AnnotationError(f"{where}: expected an object, got {row!r}")
        missing = [k for k in ("video_id", "video_path", "question") if not isinstance(row.get(k), str)]
        missing += [] if isinstance(row.get("answer"), (str, int, float)) else ["answer"]
        missing += [] if "candidates" in row else ["candidates"]
        if missing:
            raise AnnotationError(f"{where}: missing or wrong type {missing}; expected video_id, video_path, "
                                  "question strings, an answer and candidates")
        where = f"{where} ({row['video_id']})"
        candidates = row["candidates"]
        if isinstance(candidates, str):
            try:
                candidates = ast.literal_eval(candidates)
            except (ValueError, SyntaxError) as e:
                raise AnnotationError(f"{where}: candidates {row['candidates']!r} is not a list literal") from e
        answer = str(row["answer"])
        if not isinstance(candidates, (list, tuple)) or not all(isinstance(c, str) for c in candidates):
            raise AnnotationError(f"{where}: candidates must be a list of strings, got {row['candidates']!r}")
        if answer not in candidates:
            raise AnnotationError(f"{where}: answer {answer!r} is not one of candidates {list(candidates)}")
        group, _, role = row["video_id"].rpartition("_")
        if not group or not role:
            raise AnnotationError(f"{where}: video_id is not '<pair>_<n>' (the minimal pair and its member)")
        groups[group].append(row["video_id"])
        items.append(QAItem(resolve(row["video_path"].lstrip("/"), video_root), row["question"], answer,
                            list(candidates), kind=kind if kind is not None else str(row.get("source") or ""),
                            source=where, group=group))
    for group, ids in groups.items():
        if len(ids) != 2:
            raise AnnotationError(f"{path}: minimal pair {group!r} has {len(ids)} records {ids}; expected 2")
    return items


READERS = {"jsonl": read_jsonl, "perception_test": read_perception_test, "tempcompass": read_tempcompass,
           "mvp": read_mvp}
