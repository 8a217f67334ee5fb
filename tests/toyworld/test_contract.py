"""In-memory datasets return the sample contract and the same content as the files on disk."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import h5py
import numpy as np
import torch

from lit_jepa.data.toyworld import ToyAnticipation, ToyClips, ToyTrajectories
from lit_jepa.data.toyworld.tasks.anticipation import MAX_ACTION_FRAMES, AnticipationTask
from lit_jepa.data.toyworld.video import read_mp4
from lit_jepa.data.toyworld.writers import CAMERA_SERIAL, video_id


def _check_common(sample: dict[str, torch.Tensor], frames: int, size: int = 64) -> None:
    assert sample["video"].dtype == torch.uint8 and sample["video"].shape == (1, 3, frames, size, size)
    assert sample["index"].dtype == torch.int64 and sample["index"].ndim == 0
    assert sample["frame_indices"].dtype == torch.int64 and sample["frame_indices"].shape == (1, frames)


def test_clip_samples_match_disk(toy_root: dict[str, Path], toy_seed: int) -> None:
    motion = ToyClips("motion", 48, seed=toy_seed, split="val")
    lines = (toy_root["motion"] / "val.csv").read_text().splitlines()
    for i in range(3):
        sample = motion[i]
        _check_common(sample, 16)
        path, label = lines[i].split(" ")
        assert Path(path).is_absolute() and int(label) == sample["label"].item() == i % 24
        decoded = torch.from_numpy(read_mp4(path)).permute(3, 0, 1, 2)
        assert (decoded.float() - sample["video"][0].float()).abs().mean() < 4.0  # only compression differs
    fine = ToyClips("fine", 24, seed=toy_seed)
    rows = json.loads((toy_root["fine"] / "Diving48_V2_train.json").read_text())
    assert rows[5] == {"vid_name": "toy_train_000005", "label": 5, "start_frame": 0, "end_frame": 32}
    _check_common(fine[5], 32)
    assert len(json.loads((toy_root["fine"] / "Diving48_vocab.json").read_text())) == fine.num_classes == 24


def test_anticipation_clip_ends_before_the_action(toy_root: dict[str, Path], toy_seed: int) -> None:
    data = ToyAnticipation(6, seed=toy_seed)
    with open(toy_root["anticipation"] / "EPIC_100_train.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(data) == 6 * AnticipationTask().num_actions
    fps = AnticipationTask().fps
    for i in range(0, len(data), 7):
        sample, row = data[i], rows[i]
        _check_common(sample, 16)
        start, stop = int(row["start_frame"]), int(row["stop_frame"])
        assert sample["frame_indices"].max() < start - fps + 1  # context ends 1 s before the start
        assert stop - start + 1 <= MAX_ACTION_FRAMES <= fps  # so "1 s before the end" also ends before the start
        assert (sample["verb"].item(), sample["noun"].item()) == (int(row["verb_class"]), int(row["noun_class"]))
        assert sample["action"].item() == sample["verb"].item() * data.num_nouns + sample["noun"].item()
    pid, vid = video_id("train", 0)
    assert rows[0]["participant_id"] == pid and rows[0]["video_id"] == vid
    assert (toy_root["anticipation"] / pid / "videos" / f"{vid}.MP4").is_file()


def test_trajectory_samples_match_disk(toy_root: dict[str, Path], toy_seed: int) -> None:
    data = ToyTrajectories(12, seed=toy_seed, num_frames=8, frameskip=2)
    sample = data[3]
    _check_common(sample, 8)
    assert sample["states"].dtype == torch.float32 and sample["states"].shape == (8, 7)
    assert sample["actions"].shape == (7, 7) and sample["label"].item() == -1
    torch.testing.assert_close(sample["actions"], sample["states"][1:] - sample["states"][:-1])
    directory = Path((toy_root["tabletop"] / "train_trajectories.csv").read_text().splitlines()[3])
    meta = json.loads(next(directory.glob("metadata_*.json")).read_text())
    assert (directory / meta["left_mp4_path"]).is_file()
    idx = sample["frame_indices"][0].numpy()
    with h5py.File(directory / "trajectory.h5") as f:
        pose = f["observation/robot_state/cartesian_position"][:]
        grip = f["observation/robot_state/gripper_position"][:]
        assert f[f"observation/camera_extrinsics/{CAMERA_SERIAL}_left"].shape == (len(pose), 6)
        assert f["observation/toyworld/block_position"].shape == (len(pose), 2)
    states = np.concatenate([pose, grip[:, None]], 1)[idx]
    np.testing.assert_allclose(states, sample["states"].numpy(), atol=1e-6)
    assert np.all(states[:, 2:6] == 0)
