"""The JSONL QA format and the public-format readers, on small files written here."""

import json

import pytest

from lit_jepa.data.datasets.base import AnnotationError
from lit_jepa.data.vqa.formats import (
    READERS,
    QAItem,
    read_jsonl,
    read_mvp,
    read_perception_test,
    read_tempcompass,
    write_jsonl,
)


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
    ({"video": "a.mp4", "question": "q", "answer": "x", "group": 3}, "group must be a string"),
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


def test_jsonl_keeps_the_group(tmp_path):
    path = write_jsonl(tmp_path / "qa.jsonl", [QAItem("a.mp4", "q", "x", group="pair_7"), QAItem("b.mp4", "q", "y")])
    assert "group" not in QAItem("b.mp4", "q", "y").to_json()
    assert [i.group for i in read_jsonl(path)] == ["pair_7", ""]


def _mvp_row(video_id: str, answer: str, candidates="['it falls', 'it stays']", **extra) -> dict:
    return {"video_id": video_id, "video_path": f"/clevrer/{video_id}.mp4", "question": "What happens to the ball?",
            "answer": answer, "candidates": candidates, "source": "clevrer", **extra}


def test_mvp_reader_json_and_jsonl(tmp_path):
    rows = [_mvp_row("ip_12_0", "it falls"), _mvp_row("ip_12_1", "it stays", ["it falls", "it stays"]),
            _mvp_row("ip_13_0", "3", "['3', '4']"), _mvp_row("ip_13_1", 4, ["3", "4"])]
    json_path = tmp_path / "intuitive_physics_mini.json"
    json_path.write_text(json.dumps(rows))
    jsonl_path = tmp_path / "intuitive_physics_mini.jsonl"
    jsonl_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    items = read_mvp(json_path, str(tmp_path / "videos"))
    assert read_mvp(jsonl_path, str(tmp_path / "videos"))[1].choices == items[1].choices
    first = items[0]
    assert first.video == str(tmp_path / "videos" / "clevrer" / "ip_12_0.mp4")
    assert (first.question, first.answer, first.choices, first.kind, first.group) == (
        "What happens to the ball?", "it falls", ["it falls", "it stays"], "clevrer", "ip_12")
    assert [i.group for i in items] == ["ip_12", "ip_12", "ip_13", "ip_13"] and items[3].answer == "4"
    assert first.source == f"{json_path}: record 0 (ip_12_0)"
    assert READERS["mvp"] is read_mvp
    assert {i.kind for i in read_mvp(jsonl_path, str(tmp_path), kind="intuitive_physics")} == {"intuitive_physics"}


@pytest.mark.parametrize("bad, message", [
    (_mvp_row("ip_12_1", "it rolls"), r"record 1 \(ip_12_1\): answer 'it rolls' is not one of candidates"),
    (_mvp_row("ip_12_1", "it falls", "it falls or it stays"), r"record 1 \(ip_12_1\): candidates .* not a list"),
    (_mvp_row("ip_12_1", "it falls", "[1, 2]"), r"record 1 \(ip_12_1\): candidates must be a list of strings"),
    ({"video_id": "ip_12_1", "question": "q", "answer": "a"}, r"record 1: .*\['video_path', 'candidates'\]"),
    (_mvp_row("ip12", "it falls"), r"record 1 \(ip12\): video_id is not '<pair>_<n>'"),
    (_mvp_row("ip_99_1", "it falls"), r"minimal pair 'ip_12' has 1 records \['ip_12_0'\]; expected 2"),
    (["not", "an", "object"], r"record 1: expected an object"),
])
def test_mvp_reader_errors_name_the_file_and_record(tmp_path, bad, message):
    path = tmp_path / "mvp.json"
    path.write_text(json.dumps([_mvp_row("ip_12_0", "it falls"), bad]))
    with pytest.raises(AnnotationError, match=f"mvp.json: .*{message}"):
        read_mvp(path, str(tmp_path))


def test_mvp_reader_file_errors(tmp_path, monkeypatch):
    with pytest.raises(AnnotationError, match="missing.json: annotation file not found"):
        read_mvp(tmp_path / "missing.json", str(tmp_path))
    (tmp_path / "dict.json").write_text(json.dumps({"video_id": "a_1"}))
    with pytest.raises(AnnotationError, match="dict.json: expected a JSON list"):
        read_mvp(tmp_path / "dict.json", str(tmp_path))
    (tmp_path / "bad.jsonl").write_text(json.dumps(_mvp_row("a_0", "it falls")) + "\n{oops\n")
    with pytest.raises(AnnotationError, match="bad.jsonl:2: not valid JSON"):
        read_mvp(tmp_path / "bad.jsonl", str(tmp_path))
    monkeypatch.setitem(__import__("sys").modules, "pyarrow.parquet", None)  # as if pyarrow were not installed
    (tmp_path / "full.parquet").write_bytes(b"PAR1")
    with pytest.raises(AnnotationError, match="full.parquet: reading Parquet needs pyarrow"):
        read_mvp(tmp_path / "full.parquet", str(tmp_path))
