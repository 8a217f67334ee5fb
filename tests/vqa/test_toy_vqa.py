"""ToyWorld VQA generation: JSONL + MP4 readable by the QA dataset, balanced, answer never given by the choices."""

import dataclasses
import json
from collections import Counter

import pytest

from lit_jepa.data.sampling import ClipSpec
from lit_jepa.data.vqa import VideoQADataset, ensure_toyvqa, read_jsonl, write_jsonl
from lit_jepa.data.vqa.toy import toy_question


def test_questions_are_balanced_and_choices_do_not_give_the_answer():
    items = [toy_question(0, "train", i)[1] for i in range(192)]
    kinds = Counter(i.kind for i in items)
    assert kinds["turns"] == kinds["next"] == 24 and kinds["action"] > 50
    for kind in ("turns", "next", "direction"):
        answers = Counter(i.answer for i in items if i.kind == kind)
        assert len(answers) == len(next(i.choices for i in items if i.kind == kind))  # every option is an answer
    for item in items:
        assert item.answer in item.choices and len(set(item.choices)) == len(item.choices)
        if item.kind != "action":  # same option set whatever the answer
            assert sorted(item.choices) == sorted(next(i.choices for i in items if i.kind == item.kind))
    assert toy_question(0, "train", 5)[1] == toy_question(0, "train", 5)[1]


def test_written_dataset_reads_back_through_the_clip_dataset(tmp_path):
    root = ensure_toyvqa(tmp_path, num=9, num_val=2)
    items = read_jsonl(root / "train.jsonl")
    assert len(items) == 9 and items[1].kind == "next" and (items[1].start_frame, items[1].end_frame) == (0, 16)
    ds = VideoQADataset(str(root / "train.jsonl"), spec=ClipSpec(frames_per_clip=16, frame_step=1), train=False)
    sample = ds[1]
    assert sample["video"].shape == (1, 3, 16, 64, 64) and sample["frame_indices"].max() == 15
    assert json.loads(sample["qa"])["answer"] == items[1].answer and json.loads(sample["qa"])["group"] == ""
    write_jsonl(root / "grouped.jsonl", [dataclasses.replace(i, group="pair7") for i in items])
    grouped = VideoQADataset(str(root / "grouped.jsonl"), spec=ClipSpec(frames_per_clip=16, frame_step=1),
                             train=False)
    assert json.loads(grouped[1]["qa"])["group"] == "pair7"  # batches carry the group to the scorer
    assert ensure_toyvqa(tmp_path, num=9, num_val=2) == root  # reused
    with pytest.raises(ValueError, match="other parameters"):
        ensure_toyvqa(tmp_path, num=10, num_val=2)
