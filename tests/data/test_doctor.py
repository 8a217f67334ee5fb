"""``lit-jepa data check``: counts, reasons, the failed-entry list, exit statuses and ``--clip``."""

from __future__ import annotations

import json

from lit_jepa.cli import dispatch
from lit_jepa.data.decode import CORRUPT, PyAVReader, SampleError

from .videos import remux_pts_as_dts, write_packed_avi, write_video


def test_check_reports_each_failure_with_its_reason(tmp_path, videos, bad_files, capsys):
    lst = tmp_path / "list.csv"
    lst.write_text("".join(f"{p} 1\n" for p in [videos["a"], videos["b"], videos["short"], *bad_files.values()]))
    assert dispatch(["data", "check", str(lst), "--spec.frames_per_clip", "4", "--spec.frame_step", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{lst} (CsvVideoList, 7 entries): 2 readable, 5 failed" in out
    assert "  missing: 1\n  unreadable header: 2\n  too short for the clip spec: 2\n" in out
    assert f"{lst}:3: {videos['short']}: too short for the clip spec (6 frames decode, a clip needs 7)" in out
    assert f"{lst}:4: {bad_files['missing']}: missing" in out
    assert f"{lst}:6: {bad_files['truncated']}: too short" in out


def test_check_lists_the_first_50_failures_then_a_count(tmp_path, capsys):
    lst = tmp_path / "many.csv"
    lst.write_text("".join(f"{tmp_path}/gone{i}.mp4 0\n" for i in range(53)))
    assert dispatch(["data", "check", str(lst)]) == 0
    out = capsys.readouterr().out
    assert "0 readable, 53 failed" in out and "gone49.mp4: missing" in out and "gone50.mp4" not in out
    assert "  ... and 3 more" in out


def test_check_exit_status_for_unusable_annotations(tmp_path, videos, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{videos['a']} 1\n{videos['a']}\n")
    assert dispatch(["data", "check", str(bad)]) == 2
    assert f"{bad}:2: expected '<video path> <integer label>'" in capsys.readouterr().err
    assert dispatch(["data", "check", str(tmp_path / "absent.csv")]) == 2
    broken = tmp_path / "Diving48_V2_train.json"
    broken.write_text("[{")
    assert dispatch(["data", "check", str(broken), "--format", "diving48"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_check_infers_the_format_and_prints_one_clip(tmp_path, capsys):
    write_video(tmp_path / "d1.mp4", 24)
    ann = tmp_path / "Diving48_V2_test.json"
    ann.write_text(json.dumps([{"vid_name": "d1", "label": 4, "start_frame": 0, "end_frame": 24}]))
    assert dispatch(["data", "check", str(ann), "--spec.frames_per_clip", "4", "--spec.frame_step", "2",
                     "--clip"]) == 0
    out = capsys.readouterr().out
    assert "(Diving48, 1 entries): 1 readable, 0 failed" in out
    assert "frame_indices: [[8, 10, 12, 14]]" in out and "video: (1, 3, 4, 32, 48) uint8" in out
    assert "label: () int64 = 4" in out


def test_check_reads_every_clip_window_of_hard_real_world_encodings(tmp_path, capsys):
    """A packed B-frame AVI and an H.264 MP4 whose pts were rewritten to dts: every window decodes."""
    avi = write_packed_avi(tmp_path / "packed.avi", 48)
    h264 = write_video(tmp_path / "b.mp4", 40, (32, 32), 25, "libx264", b_frames=3, gop=12)
    lst = tmp_path / "list.csv"
    lst.write_text(f"{avi} 0\n{remux_pts_as_dts(h264, tmp_path / 'pts_as_dts.mp4')} 1\n")
    # span 29: 20 + 12 windows
    assert dispatch(["data", "check", str(lst), "--spec.frames_per_clip", "8", "--spec.frame_step", "4"]) == 0
    out = capsys.readouterr().out
    assert "(CsvVideoList, 2 entries): 2 readable, 0 failed" in out
    assert "  32 clip windows read (all): " in out and " ms per window (median)" in out


def test_check_finds_a_window_the_centred_clip_misses(tmp_path, monkeypatch, capsys):
    path = write_video(tmp_path / "a.mp4", 24)  # 4 frames at step 2: span 7, windows start 0..17
    read = PyAVReader._read

    def frame_5_lost(self, file, info, indices):
        if 5 in indices:
            raise SampleError(file, CORRUPT, "frame 5 of 24 did not decode")
        return read(self, file, info, indices)

    monkeypatch.setattr(PyAVReader, "_read", frame_5_lost)
    lst = tmp_path / "list.csv"
    lst.write_text(f"{path} 0\n")
    args = [str(lst), "--spec.frames_per_clip", "4", "--spec.frame_step", "2"]
    assert dispatch(["data", "check", *args, "--windows", "ends"]) == 0  # windows 0, 9 and 17 miss frame 5
    out = capsys.readouterr().out
    assert "1 readable, 0 failed" in out and "3 clip windows read (ends)" in out
    assert "all 18 windows of the readable entries: about" in out
    assert dispatch(["data", "check", *args]) == 0
    out = capsys.readouterr().out
    assert "0 readable, 1 failed" in out and "  corrupt: 1" in out
    assert f"{lst}:1: {path}: corrupt (frame 5 of 24 did not decode; window 2 of 18: frames 1..7)" in out
