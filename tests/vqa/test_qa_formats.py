"""The JSONL QA format and the public-format readers, on small files written here."""

import json

import pytest

from lit_jepa.data.datasets.base import AnnotationError
from lit_jepa.vqa.formats import QAItem, read_jsonl, read_perception_test, read_tempcompass, write_jsonl


def test_jsonl_round_trip_resolves_videos_against_the_file(tmp_path):
    items = [QAItem("v/a.mp4", "which way ?", "left", ["left", "right"], 0, 16, "direction"),
             QAItem("/abs/b.mp4", "what ?", "it stops")]
    path = write_jsonl(tmp_path / "qa.jsonl", items)
    back = read_jsonl(path)
    assert [b.video for b in back] == [str(tmp_path / "v/a.mp4"), "/abs/b.mp4"]
    assert (back[0].choices, back[0].start_frame, back[0].end_frame, back[0].kind) == (["left", "right"], 0, 16,
                                                                                          "direction")
    assert back[1].choices == [] and back[1].source == f"{path}:2"


@pytest.mark.parametrize("line, message", [
    ({"video": "a.mp4", "question": "q"}, "missing or non-string ['answer']"),
    ({"video": "a.mp4", "question": "q", "answer": "x", "choices": ["y", "z"]}, "is not one of choices"),
    ({"video": "a.mp4", "question": "q", "answer": "x", "clip": [0, 1]}, "unknown keys ['clip']"),
])
def test_jsonl_errors_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"video": "ok.mp4", "question": "q", "answer": "a"}) + "\n" + json.dumps(line) + "\n")
    with pytest.raises(AnnotationError, match=f"bad.jsonl:2: .*{message[:12]}"):
        read_jsonl(path)


def test_perception_test_reader(tmp_path):
    data = {"video_1": {"metadata": {"video_id": "video_1"}, "mc_question": [
        {"id": 0, "question": "What is the person doing?", "options": ["a", "b", "c"], "answer_id": 2,
         "area": "physics", "reasoning": "descriptive", "tag": ["motion"]}]}}
    path = tmp_path / "mc_question_valid.json"
    path.write_text(json.dumps(data))
    (item,) = read_perception_test(path, str(tmp_path / "videos"))
    assert item.video == str(tmp_path / "videos" / "video_1.mp4")
    assert (item.question, item.answer, item.choices, item.kind) == ("What is the person doing?", "c",
                                                                    ["a", "b", "c"], "physics")
    del data["video_1"]["mc_question"][0]["answer_id"]
    path.write_text(json.dumps(data))
    with pytest.raises(AnnotationError, match="answer_id"):
        read_perception_test(path, str(tmp_path))


def test_tempcompass_reader(tmp_path):
    data = {"1006": {"direction": [{"question": "Which way is the car moving?\nA. left\nB. right\nC. up",
                                    "answer": "B. right"}]}}
    path = tmp_path / "multi-choice.json"
    path.write_text(json.dumps(data))
    (item,) = read_tempcompass(path, str(tmp_path))
    assert (item.video, item.question, item.answer, item.choices, item.kind) == (
        str(tmp_path / "1006.mp4"), "Which way is the car moving?", "right", ["left", "right", "up"], "direction")
    data["1006"]["direction"][0]["answer"] = "D. down"
    path.write_text(json.dumps(data))
    with pytest.raises(AnnotationError, match="1006/direction/0"):
        read_tempcompass(path, str(tmp_path))
