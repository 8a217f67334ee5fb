"""``lit-jepa data toyvqa``: writes ToyWorld VQA JSONL files that read back, and prints them with kind counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from lit_jepa.cli import main
from lit_jepa.data.vqa.formats import read_jsonl


def test_toyvqa_command_writes_readable_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "toyvqa"
    assert main(["data", "toyvqa", "--out", str(out), "--num", "3", "--num_val", "2", "--seed", "1"]) == 0
    train, val = read_jsonl(out / "train.jsonl"), read_jsonl(out / "val.jsonl")
    assert len(train) == 3 and len(val) == 2 and all(Path(i.video).is_file() for i in train + val)
    assert (out / "toyvqa.json").is_file()
    printed = capsys.readouterr().out
    assert f"train: {out / 'train.jsonl'} (3 questions: " in printed and f"val: {out / 'val.jsonl'}" in printed
    assert "turns 1" in printed and "next 1" in printed  # samples 0 and 1 of a split are turns and next


def test_toyvqa_help_and_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["data", "toyvqa", "--help"])
    assert exit_.value.code == 0 and "lit-jepa data toyvqa" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["data", "toyvqa", "--root", str(tmp_path), "--num", "0"])
    assert exit_.value.code == 2
