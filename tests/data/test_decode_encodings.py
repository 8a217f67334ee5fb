"""The PyAV reader on the encodings real videos come in: every contiguous clip, read through the dataset path,
equals the same frames of one plain sequential FFmpeg decode (no clip reported corrupt, no frame swapped)."""

from __future__ import annotations

import numpy as np
import pytest

from lit_jepa.data.datasets import CsvVideoList
from lit_jepa.data.decode import PyAVReader
from lit_jepa.data.sampling import ClipSpec

from .videos import decode_all, remux_pts_as_dts, write_packed_avi, write_video

FRAMES = 48
CLIP = 8


@pytest.fixture(scope="module")
def hard_videos(tmp_path_factory) -> dict[str, str]:
    """Tiny 32x32 files, 48 frames, keyframes every 12 frames (so clips seek), each one kind of real encoding."""
    d = tmp_path_factory.mktemp("hard")
    times = np.cumsum(np.random.default_rng(0).uniform(0.01, 0.1, FRAMES)).tolist()
    h264 = write_video(d / "h264_b.mp4", FRAMES, (32, 32), 25, "libx264", b_frames=3, gop=12)
    return {
        "packed_b_avi": write_packed_avi(d / "packed_b.avi", FRAMES),
        "h264_pts_as_dts": remux_pts_as_dts(h264, d / "pts_as_dts.mp4"),
        "h264_pts_as_dts_edit_list": remux_pts_as_dts(h264, d / "pts_as_dts_neg.mp4", from_zero=False),
        "h264_open_gop_pts_as_dts": remux_pts_as_dts(
            write_video(d / "open_gop.mp4", FRAMES, (32, 32), 25, "libx264", b_frames=3, gop=12, open_gop=True),
            d / "open_gop_pts_as_dts.mp4"),
        "h264_vfr": write_video(d / "h264_vfr.mp4", FRAMES, (32, 32), 25, "libx264", b_frames=3, gop=12,
                                frame_times=times),
        "mpeg4_b_vfr": write_video(d / "mpeg4_vfr.mp4", FRAMES, (32, 32), 25, "mpeg4", b_frames=2, gop=12,
                                   frame_times=times),
        "mpeg4_b": write_video(d / "mpeg4_b.mp4", FRAMES, (32, 32), 25, "mpeg4", b_frames=2, gop=12),
    }


def test_the_encodings_are_the_hard_ones(hard_videos):
    """Guard the generators: the decoder really emits these files' timestamps out of order or irregularly."""
    import av

    def decoded_pts(name):
        with av.open(hard_videos[name]) as c:
            return np.array([f.pts for f in c.decode(video=0)])

    assert np.any(np.diff(decoded_pts("packed_b_avi")) < 0)  # 1, 3, 2, 5, 4, ...
    assert np.any(np.diff(decoded_pts("h264_pts_as_dts")) < 0)
    with av.open(hard_videos["h264_pts_as_dts"]) as c:
        assert all(p.pts == p.dts for p in c.demux(video=0) if p.size)
    gaps = np.diff(decoded_pts("h264_vfr"))
    assert gaps.min() > 0 and gaps.max() > 3 * gaps.min()
    assert len(decode_all(hard_videos["h264_pts_as_dts_edit_list"])) < FRAMES  # FFmpeg drops frames before t=0


@pytest.mark.parametrize("step", [1, 4])
@pytest.mark.parametrize("name", ["packed_b_avi", "h264_pts_as_dts", "h264_pts_as_dts_edit_list",
                                  "h264_open_gop_pts_as_dts", "h264_vfr", "mpeg4_b_vfr", "mpeg4_b"])
def test_every_window_matches_a_sequential_decode(hard_videos, tmp_path, name, step):
    path = hard_videos[name]
    truth = decode_all(path)
    lst = tmp_path / "list.csv"
    lst.write_text(f"{path} 0\n")
    dataset = CsvVideoList(str(lst), spec=ClipSpec(frames_per_clip=CLIP, frame_step=step), train=False)
    assert dataset.reader.probe(path).num_frames == len(truth)  # probe and read count the same frames
    windows = dataset.windows(0)
    assert len(windows) == len(truth) - (CLIP - 1) * step  # every contiguous clip
    mismatched = []
    for window in windows:  # raises SampleError ("corrupt") on a frame that did not decode
        video = dataset.load(0, None, window[None])["video"]  # (1, C, T, H, W)
        if not np.array_equal(video[0].permute(1, 2, 3, 0).numpy(), truth[window]):
            mismatched.append(int(window[0]))
    assert mismatched == []


def test_reads_in_any_order_and_across_keyframes(hard_videos):
    path = hard_videos["packed_b_avi"]
    truth = decode_all(path)
    indices = np.array([47, 3, 3, 25, 12, 11, 0])
    assert np.array_equal(PyAVReader().read(path, indices), truth[indices])


def test_real_avi_every_window(shared_dir):
    """The shared real AVI (68 decodable frames, 320x240): every 16-frame clip at steps 1 and 4."""
    path = str(shared_dir / "data" / "real" / "tree.avi")
    truth, reader = decode_all(path), PyAVReader()
    assert reader.probe(path).num_frames == len(truth) == 68
    for step in (1, 4):
        for start in range(len(truth) - 15 * step):
            indices = start + step * np.arange(16)
            assert np.array_equal(reader.read(path, indices), truth[indices]), (step, start)
