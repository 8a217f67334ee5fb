"""ToyWorld VQA: templated multiple-choice questions about ToyWorld clips, written as JSONL + MP4.

Every 8 consecutive samples hold one ``turns`` question (``fine`` dives), one ``next`` question and six
``motion`` questions (``action``, or a ``direction`` / ``rotation`` / ``size`` / ``fade`` / ``speed`` question
when the class has one, each half the time). Labels cycle, so every kind is balanced over its answers, and every
kind offers the same choices whatever the answer (``action``: the class, its time reversal and another reversal
pair, shuffled), so a model that never sees the video is at chance:

- ``action``: what happens in the video? (24 ``motion`` class names; 4 choices)
- ``direction``: which way does the object move? (left, right, up, down)
- ``rotation``: which way does the object turn? (clockwise, counter-clockwise; ``turn`` and ``orbit`` classes)
- ``size`` / ``fade`` / ``speed``: bigger or smaller, appear or disappear, speed up or slow down.
- ``next``: what happens next? The first 16 of 32 rendered frames (``start_frame``/``end_frame``) of a
  ``sideways then up`` / ``down then sideways`` / ``speeding up`` / ``slowing down`` clip; the answer is the
  second half (it moves up, it moves sideways, it moves faster, it stops).
- ``turns``: how many turns does the diver make? (``fine`` dives at 16 frames; half, one and a half, two and a half)

Layout under ``out``: ``videos/<split>/toyqa_<split>_<index>.mp4``, ``train.jsonl``, ``val.jsonl`` (relative
video paths) and ``toyvqa.json`` (the parameters, written last: its presence marks a complete dataset).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lit_jepa.atomic import atomic_write_json, once, staged_folder
from lit_jepa.data.toyworld.tasks.base import sample_rng
from lit_jepa.data.toyworld.tasks.fine import SOMERSAULTS, FineTask
from lit_jepa.data.toyworld.tasks.motion import MotionTask
from lit_jepa.data.toyworld.video import write_mp4
from lit_jepa.data.toyworld.writers import split_counts
from lit_jepa.data.vqa.formats import QAItem, write_jsonl
from lit_jepa.progress import progress_bar

FORMAT_VERSION = 1
MANIFEST = "toyvqa.json"
NUM_FRAMES = 16
# motion label -> (kind, question, answer); the choices of a kind are all answers of that kind
SPECIFIC: dict[int, tuple[str, str, str]] = {
    0: ("direction", "which way does the object move ?", "right"),
    1: ("direction", "which way does the object move ?", "left"),
    2: ("direction", "which way does the object move ?", "down"),
    3: ("direction", "which way does the object move ?", "up"),
    6: ("size", "does the object get bigger or smaller ?", "bigger"),
    7: ("size", "does the object get bigger or smaller ?", "smaller"),
    8: ("rotation", "which way does the object turn ?", "counter-clockwise"),
    9: ("rotation", "which way does the object turn ?", "clockwise"),
    16: ("rotation", "which way does the object turn ?", "counter-clockwise"),
    17: ("rotation", "which way does the object turn ?", "clockwise"),
    18: ("speed", "does the object speed up or slow down ?", "it speeds up"),
    19: ("speed", "does the object speed up or slow down ?", "it slows down"),
    20: ("fade", "does the object appear or disappear ?", "it appears"),
    21: ("fade", "does the object appear or disappear ?", "it disappears"),
}
NEXT: dict[int, str] = {22: "it moves up", 23: "it moves sideways", 18: "it moves faster", 19: "it stops"}
TURNS: tuple[str, ...] = ("half a turn", "one and a half turns", "two and a half turns")
QUESTIONS = {"action": "what happens in the video ?", "next": "what happens next ?",
             "turns": "how many turns does the diver make ?"}


def _choices(kind: str) -> list[str]:
    return sorted({a for k, _, a in SPECIFIC.values() if k == kind})


def _action_choices(label: int, rng: np.random.Generator, names: tuple[str, ...]) -> list[str]:
    pair = label // 2
    other = int(rng.choice([p for p in range(len(names) // 2) if p != pair]))
    return [names[2 * pair], names[2 * pair + 1], names[2 * other], names[2 * other + 1]]


def toy_question(seed: int, split: str, index: int, resolution: int = 64) -> tuple[np.ndarray, QAItem]:
    """Frames ``(T, H, W, 3)`` and the question (no video path yet) of sample ``index`` of ``split``."""
    rng = sample_rng(seed, f"{split}/vqa", index)
    group, cycle = index % 8, index // 8
    if group == 0:
        task = FineTask(resolution, NUM_FRAMES)
        label = cycle % task.num_classes
        frames = task.scene(rng, label).render()
        turns = float(task.class_names[label].split(" / ")[1].split()[0])
        item = QAItem("", QUESTIONS["turns"], TURNS[SOMERSAULTS.index(turns)], list(TURNS), kind="turns")
    elif group == 1:
        labels = sorted(NEXT)
        label = labels[cycle % len(labels)]
        frames = MotionTask(resolution, 2 * NUM_FRAMES).scene(rng, label).render()
        item = QAItem("", QUESTIONS["next"], NEXT[label], sorted(NEXT.values()), 0, NUM_FRAMES, kind="next")
    else:
        task = MotionTask(resolution, NUM_FRAMES)
        label = (cycle * 6 + group - 2) % task.num_classes
        frames = task.scene(rng, label).render()
        if label in SPECIFIC and rng.random() < 0.5:
            kind, question, answer = SPECIFIC[label]
            item = QAItem("", question, answer, _choices(kind), kind=kind)
        else:
            choices = _action_choices(label, rng, task.class_names)
            item = QAItem("", QUESTIONS["action"], task.class_names[label], choices, kind="action")
    item.choices = [item.choices[i] for i in rng.permutation(len(item.choices))]
    return frames, item


def generate_toyvqa(out: str | Path, num: int = 960, num_val: int | None = None, seed: int = 0,
                    resolution: int = 64) -> Path:
    """Write ``num`` training and ``num_val`` (default ``num // 4``) validation questions; returns ``out``.

    Built in a temporary folder renamed to ``out`` once complete: ``out`` must be absent or empty
    (``FileExistsError``), and never holds half a dataset or the files of two runs.
    """
    counts = split_counts(num, num_val)
    bar = progress_bar(sum(counts.values()), f"generating ToyWorld VQA in {out}", "question")
    with bar, staged_folder(out) as tmp:
        for split, n in counts.items():
            items = []
            for i in range(n):
                frames, item = toy_question(seed, split, i, resolution)
                item.video = f"videos/{split}/toyqa_{split}_{i:06d}.mp4"
                write_mp4(tmp / item.video, frames, 8)
                items.append(item)
                bar.update()
            write_jsonl(tmp / f"{split}.jsonl", items)
        manifest = {"seed": seed, "resolution": resolution, "num": counts, "format": FORMAT_VERSION}
        atomic_write_json(tmp / MANIFEST, manifest, indent=1)
    return Path(out)


def ensure_toyvqa(out: str | Path, num: int = 960, num_val: int | None = None, seed: int = 0,
                  resolution: int = 64) -> Path:
    """Generate unless ``out`` already holds this dataset; a dataset made with other parameters is an error.
    Concurrent callers (several runs, every rank of a job) wait for the first and share its result."""
    manifest = Path(out) / MANIFEST
    wanted = {"seed": seed, "resolution": resolution, "num": split_counts(num, num_val), "format": FORMAT_VERSION}
    once(out, MANIFEST, lambda: generate_toyvqa(out, num, num_val, seed, resolution))
    found = json.loads(manifest.read_text())
    if found != wanted:
        raise ValueError(f"{manifest}: dataset made with other parameters: found {found}, wanted {wanted}")
    return Path(out)


def toy_vocabulary() -> list[str]:
    """Every question, choice and answer text ToyWorld VQA can produce (the word tokenizer's vocabulary)."""
    specific = [t for _, q, a in SPECIFIC.values() for t in (q, a)]
    return [*QUESTIONS.values(), *specific, *NEXT.values(), *TURNS, *MotionTask().class_names]
