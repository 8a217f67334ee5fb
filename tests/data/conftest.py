"""Video fixtures for the data-layer tests (files written with :mod:`tests.data.videos`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .videos import write_video


@pytest.fixture
def videos(tmp_path: Path) -> dict[str, str]:
    """Three clips: 24 frames at 8 fps, 40 frames at 16 fps, 6 frames at 8 fps."""
    return {
        "a": write_video(tmp_path / "vids" / "a.mp4", 24),
        "b": write_video(tmp_path / "vids" / "b.mp4", 40, fps=16),
        "short": write_video(tmp_path / "vids" / "short.mp4", 6),
    }


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, str]:
    """A missing path, a zero-byte file, a truncated video and a text file renamed ``.mp4``."""
    d = tmp_path / "bad"
    d.mkdir()
    good = Path(write_video(d / "good.mp4", 40, faststart=True))  # header first: the cut leaves a readable header
    (d / "truncated.mp4").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n" * 20)
    return {"missing": str(d / "missing.mp4"), "empty": str(d / "empty.mp4"),
            "truncated": str(d / "truncated.mp4"), "text": str(d / "text.mp4")}


EK_HEADER = ("narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,"
             "start_frame,stop_frame,narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes\n")


def _ek_row(video, start, stop, verb, noun):
    pid = video.split("_")[0]
    return f"{video}_0,{pid},{video},00:00:00.00,x,y,{start},{stop},n,v{verb},{verb},n{noun},{noun},[],[]\n"


@pytest.fixture
def ek100(tmp_path):
    write_video(tmp_path / "P01" / "videos" / "P01_01.MP4", 40, fps=16)
    train = tmp_path / "EPIC_100_train.csv"
    train.write_text(EK_HEADER + _ek_row("P01_01", 30, 38, 3, 7) + _ek_row("P01_01", 30, 38, 1, 7)
                     + _ek_row("P01_01", 2, 20, 3, 2))
    val = tmp_path / "EPIC_100_validation.csv"
    val.write_text(EK_HEADER + _ek_row("P01_01", 30, 38, 3, 2) + _ek_row("P01_01", 30, 38, 1, 2))
    return train, val
