"""Tasks are balanced, and ``motion`` needs temporal order: one frame is at chance on its reversal pairs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from lit_jepa.data.toyworld.baselines import motion_baselines
from lit_jepa.data.toyworld.tasks.anticipation import AnticipationTask
from lit_jepa.data.toyworld.tasks.motion import PAIRS


def _within(counts: Counter, num_classes: int, tol: float = 0.1) -> bool:
    values = np.array([counts[c] for c in range(num_classes)])
    return bool(values.min() >= (1 - tol) * values.mean() and values.max() <= (1 + tol) * values.mean())


def test_class_balance(toy_root: dict[str, Path]) -> None:
    motion = Counter(int(line.split()[1]) for line in (toy_root["motion"] / "train.csv").read_text().splitlines())
    assert len(PAIRS) * 2 == 24 and _within(motion, 24)
    fine = Counter(r["label"] for r in json.loads((toy_root["fine"] / "Diving48_V2_train.json").read_text()))
    assert _within(fine, 24)
    task = AnticipationTask()
    segments = [s for i in range(300) for s in task.episode(0, "train", i).segments]
    assert _within(Counter(s.verb for s in segments), task.num_verbs)
    assert _within(Counter(s.noun for s in segments), task.num_nouns)


def test_single_frame_at_chance_frame_difference_above() -> None:
    result = motion_baselines(num_train=480, num_test=240, seed=0)
    assert abs(result["single_frame_pair_accuracy"] - 0.5) < 0.1, result
    assert result["frame_difference_pair_accuracy"] > result["single_frame_pair_accuracy"] + 0.15, result
    assert result["frame_difference_accuracy"] > 2 * result["chance"], result
