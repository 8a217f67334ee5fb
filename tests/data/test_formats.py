"""Each official annotation format, read through its dataset: shapes, dtypes, labels and frame indices."""

from __future__ import annotations

import json
import os

import av
import h5py
import numpy as np
import pytest
import torch

from lit_jepa.data.datasets import (
    EK100,
    AnnotationError,
    CsvVideoList,
    Diving48,
    DroidTrajectories,
    ImageFolder,
    SSv2,
    WeightedMixture,
    infer_format,
)
from lit_jepa.data.datasets.droid import euler_xyz_to_matrix, matrix_to_euler_xyz, poses_to_actions
from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.transforms import ShortSideResize

from .videos import frame_ids, write_video

SPEC = ClipSpec(frames_per_clip=4, frame_step=2)


def test_csv_list_with_delimiter_fallback_and_relative_paths(tmp_path, videos):
    lst = tmp_path / "train.csv"
    spaced = write_video(tmp_path / "with space.mp4", 24)
    lst.write_text(f"vids/a.mp4 2\n\n{videos['b']} 0\n{spaced}::5\n")
    ds = CsvVideoList(str(lst), spec=SPEC, train=False)
    assert len(ds) == 3 and ds.num_classes == 6 and infer_format(str(lst)) == "csv"
    s = ds[0]
    assert s["video"].dtype == torch.uint8 and s["video"].shape == (1, 3, 4, 32, 48)
    assert s["frame_indices"].dtype == torch.int64 and s["frame_indices"].tolist() == [[8, 10, 12, 14]]
    assert np.array_equal(frame_ids(s["video"]), s["frame_indices"].numpy())  # the pixels are those frames
    assert s["label"].dtype == torch.int64 and s["label"].item() == 2 and s["index"].item() == 0
    assert ds[2]["label"].item() == 5
    b = ds[1]  # 40 frames: 33 free, centred start 16
    assert b["frame_indices"].tolist() == [[16, 18, 20, 22]] and b["label"].item() == 0


def test_malformed_line_names_file_and_line(tmp_path, videos):
    lst = tmp_path / "bad.csv"
    lst.write_text(f"{videos['a']} 1\n{videos['b']} not-a-label\n")
    with pytest.raises(AnnotationError, match=rf"{lst}:2: expected '<video path> <integer label>'"):
        CsvVideoList(str(lst))


def test_negative_labels_are_rejected_at_parse_time(tmp_path, videos, ek100):
    lst = tmp_path / "neg.csv"
    lst.write_text(f"{videos['a']} 1\n{videos['b']} -1\n")
    with pytest.raises(AnnotationError, match=rf"{lst}:2: label -1 is negative; expected a class index >= 0"):
        CsvVideoList(str(lst))
    lst.write_text(f"{videos['a']}::-3\n")
    with pytest.raises(AnnotationError, match=rf"{lst}:1: label -3 is negative"):
        CsvVideoList(str(lst))
    ann = tmp_path / "Diving48_V2_train.json"
    ann.write_text(json.dumps([{"vid_name": "a", "label": 2, "start_frame": 0, "end_frame": 9},
                               {"vid_name": "a", "label": -1, "start_frame": 0, "end_frame": 9}]))
    with pytest.raises(AnnotationError, match=r"Diving48_V2_train.json\[1\]: label -1 is negative"):
        Diving48(str(ann))
    train, _ = ek100
    lines = train.read_text().splitlines(keepends=True)
    train.write_text("".join(lines[:2]) + lines[2].replace(",1,n7,7,", ",-1,n7,7,"))
    with pytest.raises(AnnotationError, match=rf"{train}:3: verb_class -1 negative; expected class ids >= 0"):
        EK100(str(train))


def test_segments_and_views_are_segment_major(tmp_path, videos):
    lst = tmp_path / "l.csv"
    lst.write_text(f"{videos['a']} 1\n")
    spec = ClipSpec(frames_per_clip=4, frame_step=2, num_segments=2, num_views=3)
    s = CsvVideoList(str(lst), spec=spec, transform=ShortSideResize(24), train=False)[0]
    assert s["video"].shape == (6, 3, 4, 24, 24) and s["frame_indices"].shape == (2, 4)
    ids = frame_ids(s["video"])  # views 0-2 show segment 0, views 3-5 segment 1
    assert ids[:3].tolist() == [[2, 4, 6, 8]] * 3 and ids[3:].tolist() == [[14, 16, 18, 20]] * 3


def test_ssv2_official_json(tmp_path, videos):
    root = tmp_path / "ssv2"
    root.mkdir()
    for vid in ("101", "102"):
        write_video(root / f"{vid}.webm.mp4", 24)
    (root / "something-something-v2-labels.json").write_text(
        json.dumps({"Holding something": "0", "Pushing something from left to right": "1"}))
    rows = [{"id": "101", "label": "pushing a cup", "template": "Pushing [something] from left to right",
             "placeholders": ["a cup"]}, {"id": "102", "template": "Holding [something]"}]
    (root / "something-something-v2-train.json").write_text(json.dumps(rows))
    ds = SSv2(str(root / "something-something-v2-train.json"), spec=SPEC, extension=".webm.mp4", train=False)
    assert ds.num_classes == 2 and ds.class_names[1] == "Pushing something from left to right"
    assert [ds[i]["label"].item() for i in range(2)] == [1, 0]
    assert infer_format(str(root / "something-something-v2-train.json")) == "ssv2"
    (root / "something-something-v2-test.json").write_text(json.dumps([{"id": "101"}, {"id": "102"}]))
    test = SSv2(str(root / "something-something-v2-test.json"), spec=SPEC, extension=".webm.mp4", train=False)
    assert [test[i]["label"].item() for i in range(2)] == [-1, -1]  # the test file: unlabelled
    (root / "mixed.json").write_text(json.dumps([rows[0], {"id": "102"}]))
    with pytest.raises(AnnotationError, match=r"mixed.json\[1\]: no 'template' \(label\) while other rows"):
        SSv2(str(root / "mixed.json"))
    rows[0]["template"] = "Unknown [something]"
    (root / "bad.json").write_text(json.dumps(rows))
    with pytest.raises(AnnotationError, match=r"bad.json\[0\]: template 'Unknown something'"):
        SSv2(str(root / "bad.json"))


def test_diving48_samples_inside_the_annotated_range(tmp_path):
    write_video(tmp_path / "dive_01.mp4", 40)
    ann = tmp_path / "Diving48_V2_train.json"
    ann.write_text(json.dumps([{"vid_name": "dive_01", "label": 7, "start_frame": 10, "end_frame": 30},
                               {"vid_name": "dive_01", "label": 3, "start_frame": 30, "end_frame": 90}]))
    ds = Diving48(str(ann), spec=SPEC, train=False)
    s = ds[0]  # range [10, 30): 13 free frames, centred: start 16
    assert s["label"].item() == 7 and s["frame_indices"].tolist() == [[16, 18, 20, 22]]
    assert np.array_equal(frame_ids(s["video"]), s["frame_indices"].numpy())
    assert ds[1]["frame_indices"].max() < 40  # end_frame beyond the decodable frames is clipped
    assert infer_format(str(ann)) == "diving48" and ds.num_classes == 48
    ann.write_text(json.dumps([{"vid_name": "x", "label": 1}]))
    with pytest.raises(AnnotationError, match=r"\[0\]: missing key\(s\) \['start_frame', 'end_frame'\]"):
        Diving48(str(ann))


def test_ek100_presets_hand_computed(ek100):
    train, _ = ek100
    spec = ClipSpec(frames_per_clip=4, frame_step=None, fps=8)  # 16 fps video: stride 2, 1 s = 16 frames
    paper = EK100(str(train), spec=spec, train=False)
    official = EK100(str(train), spec=spec, protocol="official_code", train=False)
    p, o = paper[0], official[0]
    assert p["frame_indices"].tolist() == [[6, 8, 10, 12]]  # ends before 30 - 16 = 14 (action start - 1 s)
    assert o["frame_indices"].tolist() == [[14, 16, 18, 20]]  # ends before 38 - 16 = 22 (action end - 1 s)
    assert np.array_equal(frame_ids(o["video"]), o["frame_indices"].numpy())
    assert paper[2]["frame_indices"].tolist() == [[0, 0, 0, 0]]  # before the video start: clamped to 0
    assert (p["verb"].item(), p["noun"].item(), p["action"].item()) == (1, 1, 2)  # sorted vocabularies
    assert paper.num_verbs == 2 and paper.num_nouns == 2 and paper.num_classes == 3
    assert paper.class_names == ["v1 n7", "v3 n2", "v3 n7"] and infer_format(str(train)) == "ek100"
    assert paper.entries[0].path.endswith(os.path.join("P01", "videos", "P01_01.MP4"))
    with pytest.raises(ValueError, match="protocol must be one of"):
        EK100(str(train), protocol="end")


def test_ek100_training_window_and_validation_vocabulary(ek100):
    train, val = ek100
    spec = ClipSpec(frames_per_clip=4, frame_step=None, fps=8)
    ds = EK100(str(train), spec=spec, train=True)
    for epoch in range(10):  # a in [0.25, 1.75] s, ap in [0, 0.25]: end in [30 - 28, 30 + 2 - 4]
        last = ds[(0, epoch)]["frame_indices"][0, -1].item() + 2
        assert 2 <= last <= 28
    v = EK100(str(val), spec=spec, vocabulary=str(train), train=False)
    assert len(v) == 1 and v.num_dropped == 1  # (1, 2) never occurs in train
    assert v[0]["action"].item() == 1 and v.num_classes == 3


def _droid_dir(root, name, states):
    d = root / name
    write_video(d / "recordings" / "MP4" / "22008760.mp4", 24)
    (d / "metadata_x.json").write_text(json.dumps({"left_mp4_path": f"{name}/recordings/MP4/22008760.mp4"}))
    with h5py.File(d / "trajectory.h5", "w") as f:
        f["observation/robot_state/cartesian_position"] = states[:, :6]
        f["observation/robot_state/gripper_position"] = states[:, 6]
    return d


def test_droid_states_and_action_maths(tmp_path):
    t = np.arange(20, dtype=np.float32)  # 20 states, 24 video frames: only 20 usable
    states = np.stack([0.01 * t, 0 * t, 0.5 + 0 * t, 0.2 + 0 * t, 0 * t, 0.1 * t, t / 20], axis=1)
    d = _droid_dir(tmp_path, "traj0", states)
    lst = tmp_path / "droid_paths.csv"
    lst.write_text(f"{d}\n")
    ds = DroidTrajectories(str(lst), spec=SPEC, train=False)
    assert infer_format(str(lst)) == "droid"
    s = ds[0]  # 13 free frames of 20: centred start 6
    assert s["frame_indices"].tolist() == [[6, 8, 10, 12]] and s["label"].item() == -1
    assert s["states"].dtype == torch.float32 and s["states"].shape == (4, 7)
    assert torch.allclose(s["states"], torch.from_numpy(states[[6, 8, 10, 12]]))
    # R_t = Rz(0.1 t) Rx(0.2): R_{t+2} R_t^T = Rz(0.2) -> Euler (0, 0, 0.2); dx = 0.02, dgripper = 0.1
    expected = torch.tensor([[0.02, 0, 0, 0, 0, 0.2, 0.1]] * 3)
    assert s["actions"].shape == (3, 7) and torch.allclose(s["actions"], expected, atol=1e-5)
    assert np.array_equal(frame_ids(s["video"]), s["frame_indices"].numpy())


def test_euler_round_trip_and_relative_rotation():
    rng = np.random.default_rng(0)
    angles = rng.uniform(-1.2, 1.2, size=(50, 3))
    assert np.allclose(matrix_to_euler_xyz(euler_xyz_to_matrix(angles)), angles, atol=1e-9)
    rx = euler_xyz_to_matrix(np.array([0.3, 0.0, 0.0]))
    assert np.allclose(rx, [[1, 0, 0], [0, np.cos(0.3), -np.sin(0.3)], [0, np.sin(0.3), np.cos(0.3)]])
    s = np.zeros((2, 7), dtype=np.float32)
    s[1, 3:6] = [0.1, -0.2, 0.3]  # from identity, the relative rotation is the pose itself
    assert np.allclose(poses_to_actions(s)[0, 3:6], [0.1, -0.2, 0.3], atol=1e-6)


def test_droid_actions_on_the_real_franka_example(shared_dir):
    states = np.load(shared_dir / "data" / "real" / "franka_example_traj.npz")["states"][0]
    a = poses_to_actions(states)[0]
    assert np.allclose(a[:3], [0.0924, 0.0310, 0.0842], atol=1e-3) and abs(a[6]) < 1e-6
    assert np.abs(a[3:6]).max() < 0.05  # a small wrist rotation, not a wrapped angle jump


def _write_png(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with av.open(str(path), "w", format="image2") as c:
        stream = c.add_stream("png")
        stream.height, stream.width, stream.pix_fmt = 16, 20, "rgb24"
        frame = av.VideoFrame.from_ndarray(np.full((16, 20, 3), value, np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            c.mux(packet)


def test_image_folder_static_clips_and_weighted_mixture(tmp_path, videos):
    _write_png(tmp_path / "imgs" / "cat" / "1.png", 40)
    _write_png(tmp_path / "imgs" / "dog" / "2.png", 90)
    images = ImageFolder(str(tmp_path / "imgs"), spec=SPEC, train=False)
    assert images.class_names == ["cat", "dog"] and infer_format(str(tmp_path / "imgs")) == "image_folder"
    s = images[1]
    assert s["video"].shape == (1, 3, 4, 16, 20) and (s["video"] == 90).all() and s["label"].item() == 1
    assert s["frame_indices"].tolist() == [[0, 0, 0, 0]]
    lst = tmp_path / "l.csv"
    lst.write_text(f"{videos['a']} 0\n" * 6)
    clips = CsvVideoList(str(lst), spec=SPEC, transform=ShortSideResize(16), train=False)
    mix = WeightedMixture([clips, images], [0.25, 0.75])
    assert len(mix) == 8 and np.allclose(mix.sample_weights(), [0.25 / 6] * 6 + [0.375] * 2)
    assert mix[7]["index"].item() == 7 and mix[7]["label"].item() == 1 and mix[0]["video"].shape[-2:] == (16, 16)
