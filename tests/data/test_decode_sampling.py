"""Readers and clip sampling: frame indices against hand-computed expectations and the files' content."""

from __future__ import annotations

import numpy as np
import pytest

from lit_jepa.data.decode import CORRUPT, MISSING, TOO_SHORT, UNREADABLE_HEADER, PyAVReader, SampleError
from lit_jepa.data.sampling import ClipSpec, sample_clips

from .videos import GREY_STEP, write_video


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
def test_pyav_reads_requested_frames_in_any_order(tmp_path, codec):
    path = write_video(tmp_path / f"{codec}.mp4", 40, fps=16, codec=codec)
    reader = PyAVReader()
    info = reader.probe(path)
    assert (info.num_frames, info.fps, info.height, info.width) == (40, 16.0, 32, 48)
    frames = reader.read(path, np.array([33, 2, 2, 17, 0]))  # seeks past the start, repeats, unsorted
    assert frames.dtype == np.uint8 and frames.shape == (5, 32, 48, 3)
    assert np.round(frames.reshape(5, -1).mean(1) / GREY_STEP).tolist() == [33, 2, 2, 17, 0]


def test_reader_errors_name_the_reason(tmp_path, bad_files):
    reader = PyAVReader()
    expected = {"missing": MISSING, "empty": UNREADABLE_HEADER, "text": UNREADABLE_HEADER}
    for name, reason in expected.items():
        with pytest.raises(SampleError) as e:
            reader.probe(bad_files[name])
        assert e.value.reason == reason and bad_files[name] in str(e.value)
    info = reader.probe(bad_files["truncated"])  # header intact, half the packets gone
    assert 0 < info.num_frames < 40
    with pytest.raises(SampleError) as e:
        reader.read(bad_files["truncated"], np.arange(info.num_frames + 1))
    assert e.value.reason in (TOO_SHORT, CORRUPT)


def test_deterministic_placement_hand_computed():
    spec = ClipSpec(frames_per_clip=4, frame_step=2)  # span 7
    assert sample_clips(spec, 24, 8.0, None).tolist() == [[8, 10, 12, 14]]  # 17 free frames, centred: start 8
    two = ClipSpec(frames_per_clip=4, frame_step=2, num_segments=2)  # partitions [0, 12) and [12, 24), room 5
    assert sample_clips(two, 24, 8.0, None).tolist() == [[2, 4, 6, 8], [14, 16, 18, 20]]
    assert sample_clips(two, 24, 8.0, None, first=100).tolist() == [[102, 104, 106, 108], [114, 116, 118, 120]]
    three = ClipSpec(frames_per_clip=4, frame_step=2, num_segments=3)  # partitions of 4 < span: overlapping
    assert sample_clips(three, 12, 8.0, None)[:, 0].tolist() == [0, 2, 5]


def test_fps_target_uses_measured_rate():
    spec = ClipSpec(frames_per_clip=3, frame_step=None, fps=4)
    assert spec.step(16.0) == 4 and spec.step(29.97) == 7 and spec.step(2.3) == 1
    assert sample_clips(spec, 40, 16.0, None).tolist() == [[15, 19, 23]]  # span 9, 31 free frames: start 15


def test_random_placement_stays_in_partition_and_is_seeded():
    spec = ClipSpec(frames_per_clip=4, frame_step=2, num_segments=2)
    draws = [sample_clips(spec, 24, 8.0, np.random.default_rng([0, 0, i])) for i in range(50)]
    starts = np.stack([d[:, 0] for d in draws])
    assert starts[:, 0].min() >= 0 and starts[:, 0].max() <= 5  # partition [0, 12): 5 free frames
    assert starts[:, 1].min() >= 12 and starts[:, 1].max() <= 17
    assert len(set(map(tuple, starts))) > 5  # actually random
    again = sample_clips(spec, 24, 8.0, np.random.default_rng([0, 0, 3]))
    assert np.array_equal(again, draws[3])


def test_too_short_raises_or_pads():
    spec = ClipSpec(frames_per_clip=4, frame_step=2)
    with pytest.raises(SampleError) as e:
        sample_clips(spec, 6, 8.0, None, path="x.mp4")
    assert e.value.reason == TOO_SHORT and "6 frames decode, a clip needs 7" in str(e.value)
    padded = ClipSpec(frames_per_clip=4, frame_step=2, pad_short=True)
    assert sample_clips(padded, 6, 8.0, None).tolist() == [[0, 2, 4, 5]]


def test_clip_spec_validation():
    with pytest.raises(ValueError, match="exactly one of frame_step and fps"):
        ClipSpec(frame_step=2, fps=4)
    with pytest.raises(ValueError, match=">= 1"):
        ClipSpec(frames_per_clip=0)


def test_real_avi_that_lies_about_its_frame_count(tmp_path, shared_dir):
    import av

    from lit_jepa.data.datasets import CsvVideoList

    path = str(shared_dir / "data" / "real" / "tree.avi")
    with av.open(path) as c:
        assert c.streams.video[0].frames == 444  # what the container claims
    info = PyAVReader().probe(path)
    assert info.num_frames == 68 and 2.0 < info.fps < 2.5  # 68 frames over 29.6 s of timestamps
    lst = tmp_path / "list.csv"
    lst.write_text(f"{path} 3\n")
    for train, segments in ((True, 1), (False, 2)):
        spec = ClipSpec(frames_per_clip=16, frame_step=4, num_segments=segments)
        ds = CsvVideoList(str(lst), spec=spec, train=train)
        for epoch in range(3):
            s = ds[(0, epoch)]
            assert "failures" not in s and s["label"] == 3
            assert s["video"].shape == (segments, 3, 16, 240, 320)
            assert s["frame_indices"].max() < 68 and s["frame_indices"].min() >= 0
    long = CsvVideoList(str(lst), spec=ClipSpec(frames_per_clip=16, frame_step=8), train=False)
    with pytest.raises(SampleError, match="68 frames decode, a clip needs 121"):
        long.load(0, None)
