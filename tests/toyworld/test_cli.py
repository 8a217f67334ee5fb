"""``lit-jepa data toyworld`` and the generate-once cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lit_jepa.data.toyworld import ensure_generated
from lit_jepa.data.toyworld.cli import main


def test_cli_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--task", "fine", "--out", str(tmp_path / "fine"), "--num", "3", "--seed", "1"]) == 0
    manifest = json.loads((tmp_path / "fine" / "toyworld.json").read_text())
    assert manifest["num"] == {"train": 3, "val": 1} and manifest["seed"] == 1
    assert len(json.loads((tmp_path / "fine" / "Diving48_V2_train.json").read_text())) == 3
    assert "frames/s" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--task", "nope", "--out", str(tmp_path)])


def test_ensure_generated_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIT_JEPA_CACHE", str(tmp_path / "cache"))
    train = ensure_generated("motion", num=4, seed=3)
    assert train.name == "train.csv" and train.parent.parent == tmp_path / "cache" / "toyworld"
    assert train.parent.name.startswith("motion-")
    stamp = train.stat().st_mtime_ns
    assert ensure_generated("motion", num=4, seed=3, split="val") == train.parent / "val.csv"
    assert train.stat().st_mtime_ns == stamp  # reused, not regenerated
    assert ensure_generated("motion", num=4, seed=4).parent != train.parent
    with pytest.raises(ValueError, match="other parameters"):
        ensure_generated("motion", root=train.parent, num=5, seed=3)
