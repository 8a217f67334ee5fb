"""The same seed gives byte-identical annotation files and identical decoded frames; another seed differs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lit_jepa.data.toyworld import ANNOTATIONS, ToyAnticipation, ToyClips, ToyTrajectories, generate
from lit_jepa.data.toyworld.video import read_mp4


def _annotation_bytes(root: Path, task: str) -> dict[str, bytes]:
    names = [*ANNOTATIONS[task].values(), "toyworld.json"]
    names += {"motion": ["classes.json"], "fine": ["Diving48_vocab.json"],
              "anticipation": ["EPIC_100_verb_classes.csv", "EPIC_100_noun_classes.csv"], "tabletop": []}[task]
    return {n: (root / n).read_bytes() for n in names}


@pytest.mark.parametrize("task", ["anticipation", "fine", "motion", "tabletop"])
def test_same_seed_same_bytes_and_frames(
    task: str, toy_root: dict[str, Path], toy_seed: int, toy_num: dict[str, int], tmp_path: Path
) -> None:
    first = toy_root[task]
    again = tmp_path / "again"
    shutil.copytree(first, again)
    before = _annotation_bytes(first, task)
    shutil.rmtree(first)
    generate(task, first, toy_num[task], toy_seed)  # regenerate in place: absolute paths inside match
    assert _annotation_bytes(first, task) == before
    videos = sorted(p.relative_to(first) for p in first.rglob("*") if p.suffix.lower() == ".mp4")
    assert videos
    for rel in videos[:4]:
        assert (first / rel).read_bytes() == (again / rel).read_bytes()  # single-threaded x264 is reproducible
        np.testing.assert_array_equal(read_mp4(first / rel), read_mp4(again / rel))
    for rel in sorted(p.relative_to(first) for p in first.rglob("trajectory.h5"))[:4]:
        assert (first / rel).read_bytes() == (again / rel).read_bytes()


def test_other_seed_differs(tmp_path: Path) -> None:
    a = generate("motion", tmp_path / "a", 4, 0, num_val=1)
    b = generate("motion", tmp_path / "b", 4, 1, num_val=1)
    assert not np.array_equal(read_mp4(a / "videos/train/toy_train_000000.mp4"),
                              read_mp4(b / "videos/train/toy_train_000000.mp4"))


@pytest.mark.parametrize("make", [lambda: ToyClips("motion", 4), lambda: ToyClips("fine", 4),
                                  lambda: ToyAnticipation(1), lambda: ToyTrajectories(4)])
def test_memory_datasets_repeat(make) -> None:
    a, b = make(), make()
    for i in (0, len(a) - 1):
        for key, value in a[i].items():
            assert torch.equal(value, b[i][key]), key
