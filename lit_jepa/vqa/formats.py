"""The lit_jepa video-QA JSONL format and readers for public multiple-choice annotation files.

One JSON object per line::

    {"video": "videos/0001.mp4", "question": "which way does the object move ?", "answer": "left",
     "choices": ["left", "right", "up", "down"], "start_frame": 0, "end_frame": 16, "kind": "direction"}

``video``, ``question`` and ``answer`` are required; ``choices`` (multiple choice: must contain ``answer``),
``start_frame``/``end_frame`` (decodable-frame window, ``end_frame`` exclusive) and ``kind`` (a question-type
tag used to break accuracy down) are optional. Relative video paths are resolved against ``video_root``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lit_jepa.data.datasets.base import AnnotationError, load_json, resolve


@dataclass
class QAItem:
    """One question about one video (see the module docstring for the fields); ``source`` is ``file:line``."""

    video: str
    question: str
    answer: str
    choices: list[str] = field(default_factory=list)
    start_frame: int | None = None
    end_frame: int | None = None
    kind: str = ""
    source: str = ""

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "source" and v not in (None, "", [])}


def _item(obj: dict, where: str) -> QAItem:
    missing = [k for k in ("video", "question", "answer") if not isinstance(obj.get(k), str)]
    if missing:
        raise AnnotationError(f"{where}: missing or non-string {missing}; expected video, question, answer strings")
    choices = obj.get("choices") or []
    if choices and obj["answer"] not in choices:
        raise AnnotationError(f"{where}: answer {obj['answer']!r} is not one of choices {choices}")
    unknown = set(obj) - {"video", "question", "answer", "choices", "start_frame", "end_frame", "kind"}
    if unknown:
        raise AnnotationError(f"{where}: unknown keys {sorted(unknown)}")
    return QAItem(obj["video"], obj["question"], obj["answer"], list(choices), obj.get("start_frame"),
                  obj.get("end_frame"), obj.get("kind", ""), where)


def read_jsonl(path: str | Path, video_root: str | None = None) -> list[QAItem]:
    """Items of a JSONL file; video paths resolved against ``video_root`` (default: the file's folder)."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"{path}: annotation file not found")
    root = str(path.parent) if video_root is None else video_root
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise AnnotationError(f"{path}:{n}: not valid JSON ({e})") from e
        item = _item(obj, f"{path}:{n}")
        item.video = resolve(item.video, root)
        items.append(item)
    return items


def write_jsonl(path: str | Path, items: list[QAItem]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i.to_json()) + "\n" for i in items), encoding="utf-8")
    return path


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


READERS = {"jsonl": read_jsonl, "perception_test": read_perception_test, "tempcompass": read_tempcompass}
