"""Write ToyWorld tasks to disk in the official formats the data layer reads.

Layouts under ``out`` (``<split>`` is ``train`` or ``val``; file names follow each official dataset):

- ``motion`` and ``dynamics`` (SSv2 / official video list): ``videos/<split>/<index>.mp4``; ``train.csv`` and
  ``val.csv`` with lines ``<absolute video path> <label>`` (space-separated, no header); ``classes.json`` (names
  by label).
- ``anticipation`` (EPIC-KITCHENS-100): ``<PID>/videos/<PID>_<NNN>.MP4``; ``EPIC_100_train.csv``,
  ``EPIC_100_validation.csv`` (official columns, frame numbers are 0-based decodable frame indices,
  ``stop_frame`` inclusive), ``EPIC_100_verb_classes.csv``, ``EPIC_100_noun_classes.csv``.
- ``fine`` (Diving-48): ``<vid_name>.mp4`` beside ``Diving48_V2_train.json``, ``Diving48_V2_test.json`` (lists of
  ``{vid_name, label, start_frame, end_frame}``, ``end_frame`` exclusive); ``Diving48_vocab.json``.
- ``tabletop`` (DROID raw): ``<split>/<name>/{trajectory.h5, metadata_<name>.json, recordings/MP4/<serial>.mp4}``
  and ``train_trajectories.csv``, ``val_trajectories.csv`` (one absolute trajectory directory per line).
  ``trajectory.h5`` holds DROID's keys (``observation/robot_state/*``, ``observation/camera_extrinsics/*``, and
  ``action/{cartesian_position, gripper_position}``: the executed command as a target pose) plus
  ``observation/toyworld/{block_position, block_attached}``.

Every writer writes under ``out`` and names files in annotations by their final folder ``root`` (``out`` is a
temporary folder that :func:`generate` renames to ``root`` once complete).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

from lit_jepa.atomic import atomic_write_json, staged_folder
from lit_jepa.data.toyworld.tasks.anticipation import NOUNS, VERBS, AnticipationTask
from lit_jepa.data.toyworld.tasks.base import ClipTask
from lit_jepa.data.toyworld.tasks.dynamics import DynamicsTask
from lit_jepa.data.toyworld.tasks.fine import VOCAB, FineTask
from lit_jepa.data.toyworld.tasks.motion import MotionTask
from lit_jepa.data.toyworld.tasks.tabletop import trajectory
from lit_jepa.data.toyworld.video import write_mp4

SPLITS: tuple[str, ...] = ("train", "val")
CAMERA_SERIAL = "11000001"
TABLETOP_FPS = 10
# overhead camera at the arena centre, 1.5 units up, looking down (xyz, extrinsic Euler xyz)
CAMERA_EXTRINSICS = np.array([0.5, 0.5, 1.5, np.pi, 0.0, 0.0])
Progress = Callable[[int], None]
MANIFEST = "toyworld.json"  # the parameters of a dataset
Writer = Callable[[Path, Path, str, int, int, int, Progress], None]  # (out, root, split, num, seed, resolution, ...)

ANNOTATIONS: dict[str, dict[str, str]] = {
    "motion": {"train": "train.csv", "val": "val.csv"},
    "dynamics": {"train": "train.csv", "val": "val.csv"},
    "anticipation": {"train": "EPIC_100_train.csv", "val": "EPIC_100_validation.csv"},
    "fine": {"train": "Diving48_V2_train.json", "val": "Diving48_V2_test.json"},
    "tabletop": {"train": "train_trajectories.csv", "val": "val_trajectories.csv"},
}


def _text(path: Path, lines: list[str]) -> None:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def _clips(task: ClipTask, out: Path, split: str, num: int, seed: int, progress: Progress) -> list[tuple[str, int]]:
    """Render and encode ``num`` clips of ``task``; returns ``(stem, label)`` per clip (videos under ``out``)."""
    rows = []
    for i in range(num):
        scene, label = task.sample(seed, split, i)
        stem = f"toy_{split}_{i:06d}"
        rows.append((stem, label))
        frames = scene.render()
        write_mp4(out / f"{stem}.mp4", frames, task.fps)
        progress(len(frames))
    return rows


def video_list_writer(task_class: type[ClipTask]) -> Writer:
    """A writer of ``task_class`` clips in the official video-list format (SSv2 style: ``path label`` lines)."""

    def write(out: Path, root: Path, split: str, num: int, seed: int, resolution: int, progress: Progress) -> None:
        task = task_class(resolution)
        rows = _clips(task, out / "videos" / split, split, num, seed, progress)
        videos = root / "videos" / split
        _text(out / ANNOTATIONS[task.name][split], [f"{videos / stem}.mp4 {label}" for stem, label in rows])
        (out / "classes.json").write_text(json.dumps(list(task.class_names), indent=1) + "\n")

    return write


def write_fine(out: Path, root: Path, split: str, num: int, seed: int, resolution: int, progress: Progress) -> None:
    task = FineTask(resolution)
    rows = _clips(task, out, split, num, seed, progress)
    entries = [{"vid_name": s, "label": lb, "start_frame": 0, "end_frame": task.num_frames} for s, lb in rows]
    (out / ANNOTATIONS["fine"][split]).write_text(json.dumps(entries, indent=1) + "\n")
    (out / "Diving48_vocab.json").write_text(json.dumps([list(v) for v in VOCAB], indent=1) + "\n")


def _timestamp(frame: int, fps: int) -> str:
    seconds = frame / fps
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}"


EK100_COLUMNS = (
    "narration_id", "participant_id", "video_id", "narration_timestamp", "start_timestamp", "stop_timestamp",
    "start_frame", "stop_frame", "narration", "verb", "verb_class", "noun", "noun_class", "all_nouns",
    "all_noun_classes",
)


def video_id(split: str, index: int) -> tuple[str, str]:
    """``(participant_id, video_id)`` of anticipation video ``index``: 100 videos per participant; validation
    participants start at P51 so the two splits never share a file."""
    pid = f"P{index // 100 + (1 if split == 'train' else 51):02d}"
    return pid, f"{pid}_{index % 100 + 1:03d}"


def write_anticipation(out: Path, root: Path, split: str, num: int, seed: int, resolution: int, progress: Progress
                       ) -> None:
    task = AnticipationTask(resolution)
    rows = []
    for i in range(num):
        pid, vid = video_id(split, i)
        episode = task.episode(seed, split, i)
        frames = episode.scene.render()
        write_mp4(out / pid / "videos" / f"{vid}.MP4", frames, task.fps)
        progress(len(frames))
        for k, seg in enumerate(episode.segments):
            verb, noun = VERBS[seg.verb], NOUNS[seg.noun]
            start, stop = _timestamp(seg.start, task.fps), _timestamp(seg.stop, task.fps)
            rows.append((f"{vid}_{k}", pid, vid, start, start, stop, seg.start, seg.stop, f"{verb} {noun}", verb,
                         seg.verb, noun, seg.noun, f"['{noun}']", f"[{seg.noun}]"))
    with open(out / ANNOTATIONS["anticipation"][split], "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(EK100_COLUMNS)
        writer.writerows(rows)
    for name, vocab in (("verb", VERBS), ("noun", NOUNS)):  # "instances" lists the synonyms, as in EK100
        with open(out / f"EPIC_100_{name}_classes.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(("id", "key", "instances", "category"))
            writer.writerows((i, key, f"['{key}']", "toyworld") for i, key in enumerate(vocab))


def write_tabletop(out: Path, root: Path, split: str, num: int, seed: int, resolution: int, progress: Progress
                   ) -> None:
    dirs = []
    for i in range(num):
        traj = trajectory(seed, split, i, resolution=resolution)
        name = f"toy_{split}_{i:06d}"
        d = out / split / name
        write_mp4(d / "recordings" / "MP4" / f"{CAMERA_SERIAL}.mp4", traj.frames, TABLETOP_FPS)
        t = len(traj.states)
        with h5py.File(d / "trajectory.h5", "w") as f:
            f["observation/robot_state/cartesian_position"] = traj.states[:, :6].astype(np.float64)
            f["observation/robot_state/gripper_position"] = traj.states[:, 6].astype(np.float64)
            f[f"observation/camera_extrinsics/{CAMERA_SERIAL}_left"] = np.tile(CAMERA_EXTRINSICS, (t, 1))
            # commanded targets as DROID's action group (absolute pose and gripper; the last row holds still)
            target = traj.states.astype(np.float64)
            target[:-1] += traj.commands
            f["action/cartesian_position"] = target[:, :6]
            f["action/gripper_position"] = target[:, 6]
            f["observation/toyworld/block_position"] = traj.full_states[:, 3:5]
            f["observation/toyworld/block_attached"] = traj.full_states[:, 5].astype(np.int8)
        meta = {
            "uuid": name, "left_mp4_path": f"recordings/MP4/{CAMERA_SERIAL}.mp4", "trajectory_length": t,
            "fps": TABLETOP_FPS, "behaviour": traj.behaviour, "contact_rate": round(float(traj.contact.mean()), 4),
            "seed": seed, "split": split, "index": i,
        }
        (d / f"metadata_{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
        dirs.append(str(root / split / name))
        progress(t)
    _text(out / ANNOTATIONS["tabletop"][split], dirs)


WRITERS: dict[str, Writer] = {
    "motion": video_list_writer(MotionTask),
    "dynamics": video_list_writer(DynamicsTask),
    "anticipation": write_anticipation,
    "fine": write_fine,
    "tabletop": write_tabletop,
}


def split_counts(num: int, num_val: int | None = None) -> dict[str, int]:
    """Samples per split: ``num`` for train, ``num_val`` (default ``max(num // 4, 1)``) for val."""
    return {"train": num, "val": max(num // 4, 1) if num_val is None else num_val}


def generate(
    task: str, out: str | Path, num: int, seed: int, num_val: int | None = None, resolution: int = 64,
    progress: Progress = lambda frames: None,
) -> Path:
    """Write ``num`` training and ``num_val`` (default ``max(num // 4, 1)``) validation samples of ``task``.

    ``num`` counts videos (clips, anticipation videos of 8 actions each, or trajectories). The dataset is built
    in a temporary folder beside ``out`` and renamed to ``out`` once complete (manifest ``toyworld.json`` with
    the parameters included), so ``out`` never holds half a dataset or the files of two runs: an ``out`` that
    is not an empty folder, checked before and after generating, is a ``FileExistsError``. Returns ``out``.
    """
    if task not in WRITERS:
        raise ValueError(f"unknown ToyWorld task {task!r}; expected one of {sorted(WRITERS)}")
    counts = split_counts(num, num_val)
    with staged_folder(out, _holding) as tmp:
        root = Path(out).resolve()
        for split in SPLITS:
            WRITERS[task](tmp, root, split, counts[split], seed, resolution, progress)
        manifest = {"task": task, "seed": seed, "resolution": resolution, "num": counts,
                    "annotations": ANNOTATIONS[task]}
        atomic_write_json(tmp / MANIFEST, manifest, indent=1)
    return Path(out)


def _holding(out: Path) -> str:
    """What an occupied output folder holds, for the refusal message."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return " (no ToyWorld manifest)"
    found = json.loads(manifest.read_text())
    return f" (a ToyWorld {found.get('task')} dataset, seed {found.get('seed')}, num {found.get('num')})"
