"""``lit-jepa data check`` (the data layer's reader) reads every ToyWorld dataset without a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_jepa.cli import dispatch
from lit_jepa.data.toyworld import ANNOTATIONS

CLIP_ARGS = {
    "motion": ["--spec.frames_per_clip", "16", "--spec.frame_step", "1"],
    "fine": ["--spec.frames_per_clip", "16", "--spec.frame_step", "2"],
    "anticipation": ["--spec.frames_per_clip", "16", "--spec.frame_step", "null", "--spec.fps", "8"],
    "tabletop": ["--spec.frames_per_clip", "8", "--spec.frame_step", "2"],
}


@pytest.mark.parametrize("task", sorted(CLIP_ARGS))
@pytest.mark.parametrize("split", ["train", "val"])
def test_data_check_reads_everything(
    task: str, split: str, toy_root: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = toy_root[task] / ANNOTATIONS[task][split]
    assert dispatch(["data", "check", str(path), *CLIP_ARGS[task]]) == 0
    out = capsys.readouterr().out
    assert " 0 failed" in out and " 0 readable" not in out, out
